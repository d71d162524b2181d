/**
 * Biased matrix factorisation fitted by stochastic gradient descent (Funk SVD):
 *
 *   r̂(u, i) = μ + b_u + b_i + p_u · q_i,   clipped to the rating scale seen in training.
 *
 * Every epoch visits all ratings once in a fresh seeded random order; for the rating r_ui with
 * error e = r_ui − r̂(u, i) (unclipped):
 *
 *   b_u += lrBias (e − regUserBias b_u)        b_i += lrBias (e − regItemBias b_i)
 *   p_u += lr (e q_i − regUserFactors p_u)     q_i += lr (e p_u − regItemFactors q_i)
 *
 * Both step sizes are multiplied by `decay` after each epoch. Factors start as N(0, initStd²)
 * draws from the seeded generator, so a seed fixes the model. Users and items without ratings
 * keep zero biases and zero factors.
 *
 * The epochs run in a WebAssembly SIMD kernel (wasm/sgd-kernel.as): the ratings are packed as
 * 16-byte (user, item, rating) records that are shuffled in place, so each epoch streams through
 * memory, and the factor rows are updated four lanes at a time. Where WebAssembly SIMD is missing,
 * the same epochs run in JavaScript in the same order.
 *
 * A user unknown to the model is folded in: (b_u, p_u) are solved with the item side fixed, as
 * the ridge problem whose optimum is the stationary point of the per-rating SGD updates. An item
 * unknown to the model is folded in the same way from the users who rated it, user side fixed
 * (foldInItem, see biased-factor-model.ts), into the rating head and the ranking head.
 */
import type { InteractionData } from '../../data/interactions.js';
import { Rng } from '../../ingest/prng.js';
import type { JsonObject } from '../../domain/types.js';
import { requireArray, type Artifact, type ArtifactArray } from '../artifact.js';
import { expectModel, fittedInfo, secondsSince } from '../model-kit.js';
import type { ModelInfo } from '../model.js';
import { ParamReader, type Params } from '../params.js';
import { BiasedFactorModel, type RankingHeadArrays } from './biased-factor-model.js';
import {
  foldInBiasedUser,
  normalFill,
  ratedHistory,
  ratingSet,
  scaleExtra,
  scaleFromArtifact,
  scaleOf,
  shuffleRange,
  shuffleState,
  type RatingScale,
  type RatingSet,
} from './rating-kit.js';
import {
  DEFAULT_MISSING_RATING,
  DEFAULT_MISSING_RATIO,
  headSampler,
  shuffleRecordsJs,
  writeRecords,
  type HeadSampler,
  type MissingSampling,
} from './ranking-head.js';
import { padRows, paddedWidth, SgdKernel, unpadRows } from './wasm/sgd-wasm.js';

export interface MfSgdParams {
  factors: number;
  epochs: number;
  /** Step size of the factors. */
  learningRate: number;
  /** Step size of the biases (default: learningRate). */
  lrBias: number;
  /** Step sizes are multiplied by this after every epoch (1: constant). */
  decay: number;
  /** Default for the four regularisation weights below. */
  reg: number;
  regUserBias: number;
  regItemBias: number;
  regUserFactors: number;
  regItemFactors: number;
  /** Standard deviation of the initial factors. */
  initStd: number;
  seed: number;
  /**
   * Imputed pairs per rating in each epoch of the ranking head (0: no ranking head; score()
   * then ranks by predicted rating). See ranking-head.ts.
   */
  missingRatio: number;
  /** Target of the imputed pairs of the ranking head. */
  missingRating: number;
}

/** Learned parameters of a biased factor model. */
export interface BiasedFactors {
  k: number;
  userBias: Float64Array;
  itemBias: Float64Array;
  /** users x k, row-major. */
  p: Float32Array;
  /** items x k, row-major. */
  q: Float32Array;
}

/** How an SGD fit runs. */
export interface SgdFitOptions {
  /** `auto` (default): the WebAssembly SIMD epochs when the runtime has them; `js`: plain JavaScript. */
  kernel?: 'auto' | 'js';
  /** Receives the training RMSE of every epoch (measured on the fly, before each update). */
  trace?: number[];
}

/** Fits biased MF by SGD. */
export function fitMfSgd(set: RatingSet, params: MfSgdParams, options: SgdFitOptions = {}): BiasedFactors {
  const k = params.factors;
  const rng = new Rng(params.seed);
  const p = new Float32Array(set.users * k);
  const q = new Float32Array(set.items * k);
  normalFill(p, params.initStd, rng);
  normalFill(q, params.initStd, rng);
  const userBias = new Float64Array(set.users);
  const itemBias = new Float64Array(set.items);
  const f: BiasedFactors = { k, userBias, itemBias, p, q };
  const wasm = options.kernel === 'js' ? false : mfEpochsWasm(set, params, f, rng, options.trace);
  if (!wasm) mfEpochsJs(set, params, f, rng, options.trace);
  zeroUnrated(set, p, q, k);
  return f;
}

function mfEpochsJs(
  set: RatingSet,
  params: MfSgdParams,
  fit: BiasedFactors,
  rng: Rng,
  trace?: number[],
): void {
  const { k, userBias, itemBias, p, q } = fit;
  const { n, userOf, itemOf, value, mean } = set;
  const order = new Int32Array(n);
  for (let t = 0; t < n; t++) order[t] = t;
  const state = shuffleState(rng);
  const rbu = params.regUserBias;
  const rbi = params.regItemBias;
  const rpu = params.regUserFactors;
  const rqi = params.regItemFactors;
  let lr = params.learningRate;
  let lrb = params.lrBias;
  for (let epoch = 0; epoch < params.epochs; epoch++) {
    shuffleRange(order, 0, n, state);
    let sse = 0;
    for (let t = 0; t < n; t++) {
      const pos = order[t];
      const u = userOf[pos];
      const i = itemOf[pos];
      const po = u * k;
      const qo = i * k;
      let dot = 0;
      for (let f = 0; f < k; f++) dot += p[po + f] * q[qo + f];
      const bu = userBias[u];
      const bi = itemBias[i];
      const e = value[pos] - mean - bu - bi - dot;
      sse += e * e;
      userBias[u] = bu + lrb * (e - rbu * bu);
      itemBias[i] = bi + lrb * (e - rbi * bi);
      for (let f = 0; f < k; f++) {
        const pf = p[po + f];
        const qf = q[qo + f];
        p[po + f] = pf + lr * (e * qf - rpu * pf);
        q[qo + f] = qf + lr * (e * pf - rqi * qf);
      }
    }
    trace?.push(Math.sqrt(sse / Math.max(1, n)));
    lr *= params.decay;
    lrb *= params.decay;
  }
}

/** The epochs on the SIMD kernel; false when the runtime has no WebAssembly SIMD. */
function mfEpochsWasm(
  set: RatingSet,
  params: MfSgdParams,
  fit: BiasedFactors,
  rng: Rng,
  trace?: number[],
): boolean {
  const { k, userBias, itemBias, p, q } = fit;
  const { n, users, items } = set;
  const kp = paddedWidth(k);
  const kernel = SgdKernel.create([16 * n, 4 * users * kp, 4 * items * kp, 8 * users, 8 * items, 4]);
  if (!kernel) return false;
  const [rec, po, qo, buo, bio, stateCell] = kernel.offsets;
  kernel.u32(5, 1).set(shuffleState(rng));
  // Records of (user, item, rating) in rating order; shuffling them in place each epoch visits
  // them in the same order as shuffling an index array would.
  const ri = kernel.i32(0, 4 * n);
  const rf = kernel.f32(0, 4 * n);
  for (let t = 0; t < n; t++) {
    ri[4 * t] = set.userOf[t];
    ri[4 * t + 1] = set.itemOf[t];
    rf[4 * t + 2] = set.value[t];
  }
  const pw = kernel.f32(1, users * kp);
  const qw = kernel.f32(2, items * kp);
  padRows(p, k, pw, kp);
  padRows(q, k, qw, kp);
  let lr = params.learningRate;
  let lrb = params.lrBias;
  for (let epoch = 0; epoch < params.epochs; epoch++) {
    kernel.fn.shuffleRecords(rec, 0, n, stateCell);
    const sse = kernel.fn.mfEpoch(
      n,
      rec,
      po,
      qo,
      buo,
      bio,
      kp,
      set.mean,
      lr,
      lrb,
      params.regUserBias,
      params.regItemBias,
      params.regUserFactors,
      params.regItemFactors,
    );
    trace?.push(Math.sqrt(sse / Math.max(1, n)));
    lr *= params.decay;
    lrb *= params.decay;
  }
  unpadRows(pw, kp, p, k);
  unpadRows(qw, kp, q, k);
  userBias.set(kernel.f64(3, users));
  itemBias.set(kernel.f64(4, items));
  return true;
}

/** Zeroes the factor rows of users and items that have no rating. */
export function zeroUnrated(set: RatingSet, p: Float32Array, q: Float32Array, k: number): void {
  for (let u = 0; u < set.users; u++) if (set.userPtr[u + 1] === set.userPtr[u]) p.fill(0, u * k, u * k + k);
  for (let i = 0; i < set.items; i++) if (set.itemPtr[i + 1] === set.itemPtr[i]) q.fill(0, i * k, i * k + k);
}

/** A fitted ranking head: biased factors and the mean target they are centred on. */
export interface RankingHeadFactors extends BiasedFactors {
  mean: number;
  /**
   * Ratings of every training user, which set how often the fit drew items as their imputed
   * pairs (item fold-in); null for a head loaded from an artifact saved without them.
   */
  userCount: Int32Array | null;
}

/**
 * Fits the ranking head of a biased MF model (ranking-head.ts): the SGD of `fitMfSgd` over the
 * ratings and, drawn afresh every epoch, `missingRatio` imputed pairs per rating with target
 * `missingRating`, all visited in one shuffled order. Draws from its own seeded stream.
 */
export function fitMfRankingHead(
  set: RatingSet,
  params: MfSgdParams,
  options: SgdFitOptions = {},
): RankingHeadFactors {
  const k = params.factors;
  const rng = new Rng(params.seed ^ HEAD_SEED);
  const p = new Float32Array(set.users * k);
  const q = new Float32Array(set.items * k);
  normalFill(p, params.initStd, rng);
  normalFill(q, params.initStd, rng);
  const userBias = new Float64Array(set.users);
  const itemBias = new Float64Array(set.items);
  const sampler = headSampler(set, params, rng);
  const userCount = new Int32Array(set.users);
  for (let u = 0; u < set.users; u++) userCount[u] = set.userPtr[u + 1] - set.userPtr[u];
  const f: RankingHeadFactors = { k, userBias, itemBias, p, q, mean: sampler.mean, userCount };
  const wasm = options.kernel === 'js' ? false : mfHeadEpochsWasm(set, params, f, sampler, options.trace);
  if (!wasm) mfHeadEpochsJs(set, params, f, sampler, options.trace);
  zeroUnrated(set, p, q, k);
  return f;
}

/** Seeds the ranking head's generator apart from the rating head's. */
export const HEAD_SEED = 0x52414e4b;

function mfHeadEpochsJs(
  set: RatingSet,
  params: MfSgdParams,
  fit: RankingHeadFactors,
  s: HeadSampler,
  trace?: number[],
): void {
  const { k, userBias, itemBias, p, q, mean } = fit;
  const buffer = new ArrayBuffer(16 * s.total);
  const ri = new Int32Array(buffer);
  const rf = new Float32Array(buffer);
  const rbu = params.regUserBias;
  const rbi = params.regItemBias;
  const rpu = params.regUserFactors;
  const rqi = params.regItemFactors;
  let lr = params.learningRate;
  let lrb = params.lrBias;
  for (let epoch = 0; epoch < params.epochs; epoch++) {
    writeRecords(set, s.counts, s.ptr, params.missingRating, s.drawState, ri, rf);
    shuffleRecordsJs(ri, 0, s.total, s.shuffleState);
    let sse = 0;
    for (let t = 0; t < s.total; t++) {
      const u = ri[4 * t];
      const i = ri[4 * t + 1];
      const po = u * k;
      const qo = i * k;
      let dot = 0;
      for (let f = 0; f < k; f++) dot += p[po + f] * q[qo + f];
      const bu = userBias[u];
      const bi = itemBias[i];
      const e = rf[4 * t + 2] - mean - bu - bi - dot;
      sse += e * e;
      userBias[u] = bu + lrb * (e - rbu * bu);
      itemBias[i] = bi + lrb * (e - rbi * bi);
      for (let f = 0; f < k; f++) {
        const pf = p[po + f];
        const qf = q[qo + f];
        p[po + f] = pf + lr * (e * qf - rpu * pf);
        q[qo + f] = qf + lr * (e * pf - rqi * qf);
      }
    }
    trace?.push(Math.sqrt(sse / Math.max(1, s.total)));
    lr *= params.decay;
    lrb *= params.decay;
  }
}

function mfHeadEpochsWasm(
  set: RatingSet,
  params: MfSgdParams,
  fit: RankingHeadFactors,
  s: HeadSampler,
  trace?: number[],
): boolean {
  const { k, userBias, itemBias, p, q, mean } = fit;
  const { users, items } = set;
  const kp = paddedWidth(k);
  const kernel = SgdKernel.create([16 * s.total, 4 * users * kp, 4 * items * kp, 8 * users, 8 * items, 4]);
  if (!kernel) return false;
  const [rec, po, qo, buo, bio, stateCell] = kernel.offsets;
  const state = kernel.u32(5, 1);
  const ri = kernel.i32(0, 4 * s.total);
  const rf = kernel.f32(0, 4 * s.total);
  const pw = kernel.f32(1, users * kp);
  const qw = kernel.f32(2, items * kp);
  padRows(p, k, pw, kp);
  padRows(q, k, qw, kp);
  let lr = params.learningRate;
  let lrb = params.lrBias;
  for (let epoch = 0; epoch < params.epochs; epoch++) {
    writeRecords(set, s.counts, s.ptr, params.missingRating, s.drawState, ri, rf);
    state[0] = s.shuffleState[0];
    kernel.fn.shuffleRecords(rec, 0, s.total, stateCell);
    s.shuffleState[0] = state[0];
    const sse = kernel.fn.mfEpoch(
      s.total,
      rec,
      po,
      qo,
      buo,
      bio,
      kp,
      mean,
      lr,
      lrb,
      params.regUserBias,
      params.regItemBias,
      params.regUserFactors,
      params.regItemFactors,
    );
    trace?.push(Math.sqrt(sse / Math.max(1, s.total)));
    lr *= params.decay;
    lrb *= params.decay;
  }
  unpadRows(pw, kp, p, k);
  unpadRows(qw, kp, q, k);
  userBias.set(kernel.f64(3, users));
  itemBias.set(kernel.f64(4, items));
  return true;
}

export class MfSgdModel extends BiasedFactorModel {
  static readonly modelName = 'mf-sgd';

  static readonly searchSpace = {
    factors: [25, 50, 100, 200],
    epochs: [30, 60, 100],
    learningRate: [0.007, 0.01, 0.015],
    reg: [0.08, 0.12, 0.16, 0.2],
    decay: [0.95, 1],
    missingRatio: [1, 2, 4],
    missingRating: [0, 1],
  } as const satisfies Record<string, readonly number[]>;

  private constructor(
    info: ModelInfo,
    itemIds: readonly string[],
    scale: RatingScale,
    private readonly params: MfSgdParams,
    private readonly f: BiasedFactors,
    private readonly head: RankingHeadFactors | null,
  ) {
    super(
      info,
      itemIds,
      scale,
      {
        k: f.k,
        userBias: f.userBias,
        itemBias: f.itemBias,
        userVectors: f.p,
        q: f.q,
        regItemBias: params.regItemBias,
        regItemFactors: params.regItemFactors,
      },
      head && rankingHeadArrays(head, params),
    );
  }

  static resolveParams(raw?: Params): MfSgdParams {
    const r = new ParamReader(MfSgdModel.modelName, raw);
    const learningRate = r.number('learningRate', 0.01, { min: 0, max: 1 });
    const reg = r.number('reg', 0.12, { min: 0 });
    const params: MfSgdParams = {
      factors: r.number('factors', 50, { min: 1, max: 4096, integer: true }),
      epochs: r.number('epochs', 60, { min: 0, max: 10_000, integer: true }),
      learningRate,
      lrBias: r.number('lrBias', learningRate, { min: 0, max: 1 }),
      decay: r.number('decay', 1, { min: 0, max: 1 }),
      reg,
      regUserBias: r.number('regUserBias', reg, { min: 0 }),
      regItemBias: r.number('regItemBias', reg, { min: 0 }),
      regUserFactors: r.number('regUserFactors', reg, { min: 0 }),
      regItemFactors: r.number('regItemFactors', reg, { min: 0 }),
      initStd: r.number('initStd', 0.1, { min: 0 }),
      seed: r.number('seed', 42, { integer: true }),
      missingRatio: r.number('missingRatio', DEFAULT_MISSING_RATIO, { min: 0, max: 100 }),
      missingRating: r.number('missingRating', DEFAULT_MISSING_RATING),
    };
    r.done();
    return params;
  }

  static fit(data: InteractionData, raw?: Params): MfSgdModel {
    const start = performance.now();
    const params = MfSgdModel.resolveParams(raw);
    const set = ratingSet(data);
    const factors = fitMfSgd(set, params);
    const head = params.missingRatio > 0 ? fitMfRankingHead(set, params) : null;
    const info = fittedInfo(MfSgdModel.modelName, { ...params }, data, secondsSince(start));
    return new MfSgdModel(info, data.items.ids.slice(), scaleOf(set), params, factors, head);
  }

  static fromArtifact(artifact: Artifact): MfSgdModel {
    const { info, itemIds } = artifact.header;
    expectModel(info, MfSgdModel.modelName);
    const params = MfSgdModel.resolveParams(info.params);
    const k = params.factors;
    const f: BiasedFactors = {
      k,
      userBias: requireArray(artifact, 'userBias', Float64Array, info.users),
      itemBias: requireArray(artifact, 'itemBias', Float64Array, itemIds.length),
      p: requireArray(artifact, 'p', Float32Array, info.users * k),
      q: requireArray(artifact, 'q', Float32Array, itemIds.length * k),
    };
    return new MfSgdModel(
      info,
      itemIds,
      scaleFromArtifact(artifact),
      params,
      f,
      headFromArtifact(artifact, k),
    );
  }

  /** The learned biases and factors (do not modify). */
  get factors(): Readonly<BiasedFactors> {
    return this.f;
  }

  /** Returns [b_u, p_u(0) .. p_u(k−1)] fitted to the history's ratings. */
  foldInUser(history: Int32Array, weights: Float32Array): Float32Array {
    const h = ratedHistory(history, weights, this.seen);
    const targets = new Float64Array(h.count);
    const mean = this.scale.mean;
    for (let e = 0; e < h.count; e++) targets[e] = h.ratings[e] - mean - this.f.itemBias[h.items[e]];
    return foldInBiasedUser(
      h.items,
      targets,
      h.count,
      this.f.q,
      this.f.k,
      this.params.regUserBias,
      this.params.regUserFactors,
    );
  }

  /** The ranking head, when fitted (do not modify). */
  get rankingHead(): Readonly<RankingHeadFactors> | null {
    return this.head;
  }

  toArtifact(): Artifact {
    const { userBias, itemBias, p, q } = this.f;
    return {
      header: { info: this.info, itemIds: this.itemIds, extra: headExtra(this.scale, this.head) },
      arrays: { userBias, itemBias, p, q, ...headArrays(this.head) },
    };
  }
}

/** The arrays BiasedFactorModel scores and folds in with, for a fitted ranking head. */
export function rankingHeadArrays(
  head: RankingHeadFactors,
  params: MissingSampling & {
    regUserBias: number;
    regUserFactors: number;
    regItemBias: number;
    regItemFactors: number;
  },
): RankingHeadArrays {
  return {
    k: head.k,
    userBias: head.userBias,
    itemBias: head.itemBias,
    userVectors: head.p,
    q: head.q,
    mean: head.mean,
    sampling: { missingRatio: params.missingRatio, missingRating: params.missingRating },
    regUserBias: params.regUserBias,
    regUserFactors: params.regUserFactors,
    regItemBias: params.regItemBias,
    regItemFactors: params.regItemFactors,
    userCount: head.userCount,
  };
}

/** The rating scale and, with a ranking head, its mean target, as an artifact `extra` object. */
export function headExtra(scale: RatingScale, head: { mean: number } | null): JsonObject {
  const extra = scaleExtra(scale);
  if (head) extra.rankMean = head.mean;
  return extra;
}

/** The ranking head's arrays under `rank.` names (none without a head). */
export function headArrays(head: RankingHeadFactors | null): Record<string, ArtifactArray> {
  if (!head) return {};
  return {
    'rank.userBias': head.userBias,
    'rank.itemBias': head.itemBias,
    'rank.p': head.p,
    'rank.q': head.q,
    ...(head.userCount ? { 'rank.userCount': head.userCount } : {}),
  };
}

/**
 * The ranking head stored by `headArrays`, or null when the artifact has none (saved without one,
 * or by a version that had none: such a model ranks by predicted rating).
 */
export function headFromArtifact(artifact: Artifact, k: number): RankingHeadFactors | null {
  const mean = artifact.header.extra?.rankMean;
  if (typeof mean !== 'number' || !artifact.arrays['rank.q']) return null;
  const users = artifact.header.info.users;
  const items = artifact.header.itemIds.length;
  return {
    k,
    mean,
    userBias: requireArray(artifact, 'rank.userBias', Float64Array, users),
    itemBias: requireArray(artifact, 'rank.itemBias', Float64Array, items),
    p: requireArray(artifact, 'rank.p', Float32Array, users * k),
    q: requireArray(artifact, 'rank.q', Float32Array, items * k),
    userCount: artifact.arrays['rank.userCount']
      ? requireArray(artifact, 'rank.userCount', Int32Array, users)
      : null,
  };
}
