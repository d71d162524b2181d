/**
 * SVD++: biased matrix factorisation with an implicit-feedback term (Koren 2008),
 *
 *   r̂(u, i) = μ + b_u + b_i + q_i · (p_u + |N(u)|^-½ Σ_{j ∈ N(u)} y_j),
 *
 * N(u) being the items u rated in training. Fitted by SGD with the per-rating updates of the
 * classic formulation (e = r_ui − r̂(u, i), z_u = |N(u)|^-½ Σ y_j):
 *
 *   b_u += lrBias (e − regUserBias b_u)          b_i += lrBias (e − regItemBias b_i)
 *   p_u += lr (e q_i − regUserFactors p_u)       q_i += lr (e (p_u + z_u) − regItemFactors q_i)
 *   y_j += lrImplicit (e |N(u)|^-½ q_i − regImplicit y_j)   for every j ∈ N(u)
 *
 * Ratings are visited user by user (users in a fresh seeded order every epoch, each user's
 * ratings shuffled too). Within a user every y_j receives the same additive term, so instead
 * of touching all of N(u) for every rating, z_u is updated exactly in O(k) per rating and the
 * y_j are brought up to date once per user: y_j ← a·y_j + c, with a the product of the decay
 * factors (1 − lrImplicit·regImplicit) and c their accumulated additive term. An epoch costs
 * O(k · ratings) instead of O(k · Σ_u |N(u)|²). The epochs run in the WebAssembly SIMD kernel
 * (see mf-sgd), or in JavaScript where that is missing.
 *
 * Training users are scored from the stored p_u + z_u. A user unknown to the model is folded in:
 * z from their history's items, then (b_u, p_u) by the ridge solve with the item side fixed. An
 * item unknown to the model is folded in from the users who rated it by the ridge solve of
 * (b_i, q_i) with their full vectors p_u + z_u fixed (foldInItem, see biased-factor-model.ts);
 * its implicit factor y_i stays unknown, so it does not enter those users' z_u.
 */
import type { InteractionData } from '../../data/interactions.js';
import { Rng } from '../../ingest/prng.js';
import { requireArray, type Artifact } from '../artifact.js';
import { expectModel, fittedInfo, secondsSince } from '../model-kit.js';
import type { ModelInfo } from '../model.js';
import { ParamReader, type Params } from '../params.js';
import { BiasedFactorModel } from './biased-factor-model.js';
import {
  fitMfRankingHead,
  headArrays,
  headExtra,
  headFromArtifact,
  rankingHeadArrays,
  zeroUnrated,
  type RankingHeadFactors,
  type SgdFitOptions,
} from './mf-sgd.js';
import { DEFAULT_MISSING_RATING, DEFAULT_MISSING_RATIO } from './ranking-head.js';
import {
  foldInBiasedUser,
  normalFill,
  ratedHistory,
  ratingSet,
  scaleFromArtifact,
  scaleOf,
  shuffleRange,
  shuffleState,
  type RatingScale,
  type RatingSet,
} from './rating-kit.js';
import { padRows, paddedWidth, SgdKernel, unpadRows } from './wasm/sgd-wasm.js';

export interface SvdppParams {
  factors: number;
  epochs: number;
  learningRate: number;
  /** Step size of the biases (default: learningRate). */
  lrBias: number;
  /** Step size of the implicit factors y (default: learningRate). */
  lrImplicit: number;
  /** Step sizes are multiplied by this after every epoch. */
  decay: number;
  /** Default for the five regularisation weights below. */
  reg: number;
  regUserBias: number;
  regItemBias: number;
  regUserFactors: number;
  regItemFactors: number;
  regImplicit: number;
  initStd: number;
  seed: number;
  /**
   * Imputed pairs per rating in each epoch of the ranking head (0: no ranking head; score() then
   * ranks by predicted rating). The ranking head is a biased MF fitted as mf-sgd's (ranking-head.ts)
   * with this model's factors, epochs, step sizes and regularisation.
   */
  missingRatio: number;
  /** Target of the imputed pairs of the ranking head. */
  missingRating: number;
}

export interface SvdppFactors {
  k: number;
  userBias: Float64Array;
  itemBias: Float64Array;
  /** users x k: p_u + z_u of every training user. */
  userVec: Float32Array;
  /** items x k. */
  q: Float32Array;
  /** items x k, implicit factors. */
  y: Float32Array;
}

export function fitSvdpp(set: RatingSet, params: SvdppParams, options: SgdFitOptions = {}): SvdppFactors {
  const k = params.factors;
  const rng = new Rng(params.seed);
  const p = new Float32Array(set.users * k);
  const q = new Float32Array(set.items * k);
  const y = new Float32Array(set.items * k);
  normalFill(p, params.initStd, rng);
  normalFill(q, params.initStd, rng);
  normalFill(y, params.initStd, rng);
  const userBias = new Float64Array(set.users);
  const itemBias = new Float64Array(set.items);
  const state: SvdppState = { k, userBias, itemBias, p, q, y };
  const wasm = options.kernel === 'js' ? false : svdppEpochsWasm(set, params, state, rng, options.trace);
  if (!wasm) svdppEpochsJs(set, params, state, rng, options.trace);
  zeroUnrated(set, p, q, k);
  zeroUnrated(set, p, y, k);
  // p_u + z_u with the final y.
  const { userPtr, itemOf } = set;
  const z = new Float64Array(k);
  const userVec = new Float32Array(set.users * k);
  for (let u = 0; u < set.users; u++) {
    const start = userPtr[u];
    const end = userPtr[u + 1];
    if (end === start) continue;
    z.fill(0);
    for (let t = start; t < end; t++) {
      const yo = itemOf[t] * k;
      for (let f = 0; f < k; f++) z[f] += y[yo + f];
    }
    const norm = 1 / Math.sqrt(end - start);
    for (let f = 0, o = u * k; f < k; f++) userVec[o + f] = p[o + f] + norm * z[f];
  }
  return { k, userBias, itemBias, userVec, q, y };
}

interface SvdppState {
  k: number;
  userBias: Float64Array;
  itemBias: Float64Array;
  p: Float32Array;
  q: Float32Array;
  y: Float32Array;
}

function svdppEpochsJs(
  set: RatingSet,
  params: SvdppParams,
  st: SvdppState,
  rng: Rng,
  trace?: number[],
): void {
  const { k, userBias, itemBias, p, q, y } = st;
  const { userPtr, itemOf, value, mean } = set;
  const userOrder = new Int32Array(set.users);
  for (let u = 0; u < set.users; u++) userOrder[u] = u;
  const order = new Int32Array(set.n);
  for (let t = 0; t < set.n; t++) order[t] = t;
  const z = new Float64Array(k);
  const c = new Float64Array(k);
  const state = shuffleState(rng);
  const rbu = params.regUserBias;
  const rbi = params.regItemBias;
  const rpu = params.regUserFactors;
  const rqi = params.regItemFactors;
  const ry = params.regImplicit;
  let lr = params.learningRate;
  let lrb = params.lrBias;
  let lry = params.lrImplicit;
  for (let epoch = 0; epoch < params.epochs; epoch++) {
    shuffleUserMajor(userOrder, order, userPtr, state);
    const shrinkY = 1 - lry * ry;
    let sse = 0;
    for (let s = 0; s < set.users; s++) {
      const u = userOrder[s];
      const start = userPtr[u];
      const end = userPtr[u + 1];
      const m = end - start;
      if (m === 0) continue;
      const norm = 1 / Math.sqrt(m);
      z.fill(0);
      c.fill(0);
      for (let t = start; t < end; t++) {
        const yo = itemOf[t] * k;
        for (let f = 0; f < k; f++) z[f] += y[yo + f];
      }
      for (let f = 0; f < k; f++) z[f] *= norm;
      let a = 1;
      const po = u * k;
      for (let t = start; t < end; t++) {
        const pos = order[t];
        const i = itemOf[pos];
        const qo = i * k;
        let dot = 0;
        for (let f = 0; f < k; f++) dot += q[qo + f] * (p[po + f] + z[f]);
        const bu = userBias[u];
        const bi = itemBias[i];
        const e = value[pos] - mean - bu - bi - dot;
        sse += e * e;
        userBias[u] = bu + lrb * (e - rbu * bu);
        itemBias[i] = bi + lrb * (e - rbi * bi);
        const ey = lry * e;
        for (let f = 0; f < k; f++) {
          const pf = p[po + f];
          const qf = q[qo + f];
          const zf = z[f];
          p[po + f] = pf + lr * (e * qf - rpu * pf);
          q[qo + f] = qf + lr * (e * (pf + zf) - rqi * qf);
          z[f] = zf * shrinkY + ey * qf;
          c[f] = c[f] * shrinkY + ey * norm * qf;
        }
        a *= shrinkY;
      }
      for (let t = start; t < end; t++) {
        const yo = itemOf[t] * k;
        for (let f = 0; f < k; f++) y[yo + f] = a * y[yo + f] + c[f];
      }
    }
    trace?.push(Math.sqrt(sse / Math.max(1, set.n)));
    lr *= params.decay;
    lrb *= params.decay;
    lry *= params.decay;
  }
}

/** A fresh user order, and a fresh order of every user's own ratings. */
function shuffleUserMajor(
  userOrder: Int32Array,
  order: Int32Array,
  userPtr: Int32Array,
  state: Uint32Array,
): void {
  shuffleRange(userOrder, 0, userOrder.length, state);
  for (let s = 0; s < userOrder.length; s++) {
    const u = userOrder[s];
    shuffleRange(order, userPtr[u], userPtr[u + 1], state);
  }
}

function svdppEpochsWasm(
  set: RatingSet,
  params: SvdppParams,
  st: SvdppState,
  rng: Rng,
  trace?: number[],
): boolean {
  const { k, userBias, itemBias, p, q, y } = st;
  const { n, users, items } = set;
  const kp = paddedWidth(k);
  const kernel = SgdKernel.create([
    4 * users,
    4 * (users + 1),
    16 * n,
    4 * users * kp,
    4 * items * kp,
    4 * items * kp,
    4 * kp,
    4 * kp,
    8 * users,
    8 * items,
    4,
  ]);
  if (!kernel) return false;
  const o = kernel.offsets;
  kernel.u32(10, 1).set(shuffleState(rng));
  const userOrder = kernel.i32(0, users);
  for (let u = 0; u < users; u++) userOrder[u] = u;
  kernel.i32(1, users + 1).set(set.userPtr.subarray(0, users + 1));
  // (user, item, rating) records in user-major order, shuffled in place (see mf-sgd).
  const ri = kernel.i32(2, 4 * n);
  const rf = kernel.f32(2, 4 * n);
  for (let t = 0; t < n; t++) {
    ri[4 * t] = set.userOf[t];
    ri[4 * t + 1] = set.itemOf[t];
    rf[4 * t + 2] = set.value[t];
  }
  const pw = kernel.f32(3, users * kp);
  const qw = kernel.f32(4, items * kp);
  const yw = kernel.f32(5, items * kp);
  padRows(p, k, pw, kp);
  padRows(q, k, qw, kp);
  padRows(y, k, yw, kp);
  let lr = params.learningRate;
  let lrb = params.lrBias;
  let lry = params.lrImplicit;
  for (let epoch = 0; epoch < params.epochs; epoch++) {
    kernel.fn.shuffleUserMajor(o[0], users, o[1], o[2], o[10]);
    const sse = kernel.fn.svdppEpoch(
      users,
      o[0],
      o[1],
      o[2],
      o[3],
      o[4],
      o[5],
      o[6],
      o[7],
      o[8],
      o[9],
      kp,
      set.mean,
      lr,
      lrb,
      lry,
      params.regUserBias,
      params.regItemBias,
      params.regUserFactors,
      params.regItemFactors,
      params.regImplicit,
    );
    trace?.push(Math.sqrt(sse / Math.max(1, n)));
    lr *= params.decay;
    lrb *= params.decay;
    lry *= params.decay;
  }
  unpadRows(pw, kp, p, k);
  unpadRows(qw, kp, q, k);
  unpadRows(yw, kp, y, k);
  userBias.set(kernel.f64(8, users));
  itemBias.set(kernel.f64(9, items));
  return true;
}

export class SvdppModel extends BiasedFactorModel {
  static readonly modelName = 'svdpp';

  static readonly searchSpace = {
    factors: [10, 20, 50, 100],
    epochs: [30, 50, 80],
    learningRate: [0.005, 0.01],
    reg: [0.05, 0.08, 0.12, 0.16],
    decay: [0.93, 0.97],
    missingRatio: [1, 2, 4],
    missingRating: [0, 1],
  } as const satisfies Record<string, readonly number[]>;

  private constructor(
    info: ModelInfo,
    itemIds: readonly string[],
    scale: RatingScale,
    private readonly params: SvdppParams,
    private readonly f: SvdppFactors,
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
        userVectors: f.userVec,
        q: f.q,
        regItemBias: params.regItemBias,
        regItemFactors: params.regItemFactors,
      },
      head && rankingHeadArrays(head, params),
    );
  }

  static resolveParams(raw?: Params): SvdppParams {
    const r = new ParamReader(SvdppModel.modelName, raw);
    const learningRate = r.number('learningRate', 0.01, { min: 0, max: 1 });
    const reg = r.number('reg', 0.08, { min: 0 });
    const params: SvdppParams = {
      factors: r.number('factors', 50, { min: 1, max: 4096, integer: true }),
      epochs: r.number('epochs', 30, { min: 0, max: 10_000, integer: true }),
      learningRate,
      lrBias: r.number('lrBias', learningRate, { min: 0, max: 1 }),
      lrImplicit: r.number('lrImplicit', learningRate, { min: 0, max: 1 }),
      decay: r.number('decay', 0.97, { min: 0, max: 1 }),
      reg,
      regUserBias: r.number('regUserBias', reg, { min: 0 }),
      regItemBias: r.number('regItemBias', reg, { min: 0 }),
      regUserFactors: r.number('regUserFactors', reg, { min: 0 }),
      regItemFactors: r.number('regItemFactors', reg, { min: 0 }),
      regImplicit: r.number('regImplicit', reg, { min: 0 }),
      initStd: r.number('initStd', 0.1, { min: 0 }),
      seed: r.number('seed', 42, { integer: true }),
      missingRatio: r.number('missingRatio', DEFAULT_MISSING_RATIO, { min: 0, max: 100 }),
      missingRating: r.number('missingRating', DEFAULT_MISSING_RATING),
    };
    r.done();
    return params;
  }

  static fit(data: InteractionData, raw?: Params): SvdppModel {
    const start = performance.now();
    const params = SvdppModel.resolveParams(raw);
    const set = ratingSet(data);
    const factors = fitSvdpp(set, params);
    const head = params.missingRatio > 0 ? fitMfRankingHead(set, { ...params }) : null;
    const info = fittedInfo(SvdppModel.modelName, { ...params }, data, secondsSince(start));
    return new SvdppModel(info, data.items.ids.slice(), scaleOf(set), params, factors, head);
  }

  static fromArtifact(artifact: Artifact): SvdppModel {
    const { info, itemIds } = artifact.header;
    expectModel(info, SvdppModel.modelName);
    const params = SvdppModel.resolveParams(info.params);
    const k = params.factors;
    const f: SvdppFactors = {
      k,
      userBias: requireArray(artifact, 'userBias', Float64Array, info.users),
      itemBias: requireArray(artifact, 'itemBias', Float64Array, itemIds.length),
      userVec: requireArray(artifact, 'userVec', Float32Array, info.users * k),
      q: requireArray(artifact, 'q', Float32Array, itemIds.length * k),
      y: requireArray(artifact, 'y', Float32Array, itemIds.length * k),
    };
    return new SvdppModel(
      info,
      itemIds,
      scaleFromArtifact(artifact),
      params,
      f,
      headFromArtifact(artifact, k),
    );
  }

  get factors(): Readonly<SvdppFactors> {
    return this.f;
  }

  /** Returns [b_u, v_0 .. v_{k−1}] with v = p_u + z_u, the vector every q_i is multiplied with. */
  foldInUser(history: Int32Array, weights: Float32Array): Float32Array {
    const { k, itemBias, q, y } = this.f;
    const h = ratedHistory(history, weights, this.seen);
    const z = new Float64Array(k);
    for (let e = 0; e < h.count; e++) {
      const yo = h.items[e] * k;
      for (let f = 0; f < k; f++) z[f] += y[yo + f];
    }
    if (h.count > 0) {
      const norm = 1 / Math.sqrt(h.count);
      for (let f = 0; f < k; f++) z[f] *= norm;
    }
    const targets = new Float64Array(h.count);
    for (let e = 0; e < h.count; e++) {
      const i = h.items[e];
      let dz = 0;
      for (let f = 0, qo = i * k; f < k; f++) dz += q[qo + f] * z[f];
      targets[e] = h.ratings[e] - this.scale.mean - itemBias[i] - dz;
    }
    const v = foldInBiasedUser(
      h.items,
      targets,
      h.count,
      q,
      k,
      this.params.regUserBias,
      this.params.regUserFactors,
    );
    for (let f = 0; f < k; f++) v[f + 1] += z[f];
    return v;
  }

  /** The ranking head, when fitted (do not modify). */
  get rankingHead(): Readonly<RankingHeadFactors> | null {
    return this.head;
  }

  toArtifact(): Artifact {
    const { userBias, itemBias, userVec, q, y } = this.f;
    return {
      header: { info: this.info, itemIds: this.itemIds, extra: headExtra(this.scale, this.head) },
      arrays: { userBias, itemBias, userVec, q, y, ...headArrays(this.head) },
    };
  }
}
