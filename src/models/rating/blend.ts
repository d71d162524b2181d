/**
 * Linear blend of rating models. Training holds out a seeded `holdout` fraction of every user's
 * ratings, fits each component on the rest, and fits ridge-regression weights (penalty `l2`, the
 * intercept unpenalised) mapping the components' predictions of the held-out ratings to the true
 * ratings; the components are then refitted on all the ratings (unless `refit` is false) and
 * combined with those weights. With p_m = r̂_m(u, i) − μ and support terms t = (s_u, s_i)
 * (`support: linear`, the default), (s_u, s_i, s_u², s_i², s_u s_i) (`quadratic`) or none:
 *
 *   r̂(u, i) = μ + w_0 + Σ_j w_j t_j + Σ_m p_m (w_m + Σ_j w_mj t_j),   clipped to the rating scale,
 *
 * where s_u = ln(1 + ratings of u) and s_i = ln(1 + ratings of i), centred on the held-out rows:
 * the weight of each component may depend on how much is known about the user and the item.
 * This is what lets the plain baseline help: where a user or item has few ratings, the blend
 * leans towards it.
 *
 * The components are independent fits (deterministic each), so `fitAsync` runs them on worker
 * threads, those on the held-out part and those on all ratings at once; the result is the same.
 *
 * Components are named in `models` (comma-separated: baseline, mf-sgd, svdpp, knn-baseline, each
 * optionally tagged as `name#tag` so that one family can appear twice); a component's own
 * parameters are given with its entry as prefix, e.g. `svdpp.factors` or `knn-baseline#user.based`.
 */
import { availableParallelism } from 'node:os';
import { interactionsFromIndices, type InteractionData } from '../../data/interactions.js';
import type { JsonObject, JsonValue } from '../../domain/types.js';
import { ValidationError } from '../../domain/errors.js';
import { Rng } from '../../ingest/prng.js';
import {
  ArtifactError,
  requireArray,
  type Artifact,
  type ArtifactArray,
  type SavableRecommender,
} from '../artifact.js';
import { expectModel, fittedInfo, secondsSince } from '../model-kit.js';
import type { ModelInfo, RatingPredictor, ScoringContext, TopK } from '../model.js';
import { ParamReader, type Params } from '../params.js';
import { fitComponents, fitComponentsParallel, type ComponentJob } from './component-fit.js';
import { BLEND_COMPONENTS, COMPONENTS, type RatingComponent } from './components.js';
import {
  clip,
  ratedHistory,
  ratingSet,
  scaleExtra,
  scaleFromArtifact,
  scaleOf,
  shuffleRange,
  shuffleState,
  solveSpd,
  supportCounts,
  type RatingScale,
} from './rating-kit.js';

const DEFAULT_MODELS = 'knn-baseline,svdpp,mf-sgd,baseline';

export type BlendSupport = 'none' | 'linear' | 'quadratic';

export interface RatingBlendParams {
  /** Component names, comma-separated. */
  models: string;
  /** Fraction of each user's ratings held out to fit the weights (with `folds` 1). */
  holdout: number;
  /**
   * 1: one held-out part. k > 1: cross-fitting, each of k folds of every user's ratings held out
   * in turn from components fitted on the rest (k times the fitting, every rating used).
   */
  folds: number;
  /** Ridge penalty of the blend weights. */
  l2: number;
  /** How the weights may depend on user and item support. */
  support: BlendSupport;
  /** Refit the components on all ratings once the weights are fitted. */
  refit: boolean;
  seed: number;
  /** Worker threads for `fitAsync`; 0 picks by data size and available cores. */
  threads: number;
  /**
   * What score() ranks by: `components`, the weighted sum of the components' ranking scores, each
   * standardised over the items for the user; `rating`, the blended predicted rating.
   */
  ranking: BlendRanking;
  /**
   * Weight of each component's standardised ranking score, comma-separated in the order of
   * `models`; empty: each family's default (RANK_WEIGHTS).
   */
  rankWeights: string;
}

export type BlendRanking = 'components' | 'rating';

/**
 * Default ranking weight of each family (chosen by top-10 NDCG on a validation split carved out of
 * MovieLens 100K u1.base). The factor models' ranking heads rank best; the neighbourhood sum adds
 * a little; the baseline ranks every user's items alike (by its popularity-aware biases) and adds
 * nothing the others lack.
 */
export const RANK_WEIGHTS: Readonly<Record<string, number>> = {
  'mf-sgd': 1,
  svdpp: 1,
  'knn-baseline': 0.5,
  baseline: 0,
};

export interface ResolvedBlendParams extends RatingBlendParams {
  /** Names of the components, in order. */
  components: string[];
  /** Own parameters of each component (validated, as given). */
  componentParams: Params[];
}

export class RatingBlendModel implements SavableRecommender, RatingPredictor {
  static readonly modelName = 'rating-blend';

  static readonly searchSpace = {
    folds: [1, 3, 5],
    holdout: [0.2, 0.3],
    l2: [1, 10, 100],
    support: ['linear', 'quadratic'],
  } as const satisfies Record<string, readonly (number | string)[]>;

  private readonly seen: Uint8Array;
  private scratch: Float32Array[] | null = null;
  private readonly featureScratch: Float64Array;
  private readonly termScratch = new Float64Array(5);

  private constructor(
    /** Ranking weight of each component (null: rank by the blended rating). */
    private readonly rankWeights: Float64Array | null,
    readonly info: ModelInfo,
    readonly itemIds: readonly string[],
    private readonly scale: RatingScale,
    private readonly components: RatingComponent[],
    private readonly support: BlendSupport,
    /** Layout: see `features`. */
    private readonly weights: Float64Array,
    /** Centres of s_u and s_i. */
    private readonly centre: Float64Array,
    private readonly userCount: Int32Array,
    private readonly itemCount: Int32Array,
  ) {
    this.seen = new Uint8Array(itemIds.length);
    this.featureScratch = new Float64Array(weights.length);
  }

  static resolveParams(raw: Params = {}): ResolvedBlendParams {
    const own: Params = {};
    const prefixed = new Map<string, Params>();
    for (const [key, value] of Object.entries(raw)) {
      const dot = key.indexOf('.');
      if (dot < 0) {
        own[key] = value;
        continue;
      }
      const name = key.slice(0, dot);
      const p = prefixed.get(name) ?? {};
      p[key.slice(dot + 1)] = value;
      prefixed.set(name, p);
    }
    const models = own.models ?? DEFAULT_MODELS;
    delete own.models;
    if (typeof models !== 'string') {
      throw new ValidationError(`parameter 'models' of model 'rating-blend' must be a comma-separated list`);
    }
    const rankWeights = own.rankWeights ?? '';
    delete own.rankWeights;
    if (typeof rankWeights !== 'string') {
      throw new ValidationError(
        `parameter 'rankWeights' of model 'rating-blend' must be a comma-separated list`,
      );
    }
    const r = new ParamReader(RatingBlendModel.modelName, own);
    const params: RatingBlendParams = {
      models,
      holdout: r.number('holdout', 0.2, { min: 0.01, max: 0.9 }),
      folds: r.number('folds', 1, { min: 1, max: 20, integer: true }),
      l2: r.number('l2', 1, { min: 0 }),
      support: r.choice<BlendSupport>('support', 'linear', ['none', 'linear', 'quadratic']),
      refit: r.boolean('refit', true),
      seed: r.number('seed', 42, { integer: true }),
      threads: r.number('threads', 0, { min: 0, max: 256, integer: true }),
      ranking: r.choice<BlendRanking>('ranking', 'components', ['components', 'rating']),
      rankWeights,
    };
    r.done();
    const components = params.models
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    if (components.length === 0) throw new ValidationError(`rating-blend needs at least one model`);
    for (const name of components) {
      if (!COMPONENTS[familyOf(name)]) {
        throw new ValidationError(
          `rating-blend cannot combine '${name}' (known: ${BLEND_COMPONENTS.join(', ')}, each optionally tagged as name#tag)`,
        );
      }
    }
    if (new Set(components).size !== components.length) {
      throw new ValidationError(`rating-blend lists a model twice: ${params.models}`);
    }
    for (const name of prefixed.keys()) {
      if (!components.includes(name)) {
        throw new ValidationError(`rating-blend has parameters for '${name}', which is not in its models`);
      }
    }
    rankWeightsOf(params.rankWeights, components);
    const componentParams = components.map((name) => {
      const p = prefixed.get(name) ?? {};
      COMPONENTS[familyOf(name)].resolveParams(p);
      return p;
    });
    return { ...params, components, componentParams };
  }

  /** Fits on the calling thread. */
  static fit(data: InteractionData, raw?: Params): RatingBlendModel {
    const start = performance.now();
    const plan = blendPlan(data, RatingBlendModel.resolveParams(raw));
    return RatingBlendModel.fitted(plan, fitComponents(plan.datasets, plan.jobs), start);
  }

  /**
   * Fits the components on worker threads (`threads`; 0 picks by data size and available cores),
   * keeping the caller responsive. The result equals `fit`'s.
   */
  static async fitAsync(data: InteractionData, raw?: Params): Promise<RatingBlendModel> {
    const start = performance.now();
    const plan = blendPlan(data, RatingBlendModel.resolveParams(raw));
    let threads = plan.params.threads;
    if (threads === 0) {
      const big = data.matrix.indptr[data.matrix.rows] >= PARALLEL_MIN_RATINGS;
      threads = big ? Math.min(availableParallelism(), MAX_AUTO_THREADS, plan.jobs.length) : 1;
    }
    const models =
      threads <= 1
        ? fitComponents(plan.datasets, plan.jobs)
        : await fitComponentsParallel(plan.datasets, plan.jobs, threads);
    return RatingBlendModel.fitted(plan, models, start);
  }

  /** Fits the weights on the held-out ratings and assembles the model. */
  private static fitted(plan: BlendPlan, models: RatingComponent[], start: number): RatingBlendModel {
    const { params, data, parts } = plan;
    const { components, componentParams } = params;
    const m = components.length;
    const d = featureCount(m, params.support);
    // Every part's components, and the support counts of the data they were fitted on.
    const fittedParts = parts.map((part, k) => ({
      ...part,
      models: models.slice(k * m, (k + 1) * m),
      support: supportCounts(ratingSet(part.train)),
    }));
    const set = params.refit ? ratingSet(data) : ratingSet(parts[0].train);
    const mean = set.mean;
    const centre = new Float64Array(2);
    let rows = 0;
    for (const part of fittedParts) {
      const { heldOut: ho, support } = part;
      for (let e = 0; e < ho.length; e++) {
        centre[0] += Math.log1p(support.userCount[ho.user[e]]);
        centre[1] += Math.log1p(support.itemCount[ho.item[e]]);
      }
      rows += ho.length;
    }
    if (rows > 0) {
      centre[0] /= rows;
      centre[1] /= rows;
    }
    // Normal equations of the ridge regression of r − μ on the features of every held-out rating.
    const a = new Float64Array(d * d);
    const b = new Float64Array(d);
    const x = new Float64Array(d);
    const preds = new Float64Array(m);
    const terms = new Float64Array(5);
    for (const part of fittedParts) {
      const { heldOut: ho, support } = part;
      for (let e = 0; e < ho.length; e++) {
        const u = ho.user[e];
        const i = ho.item[e];
        for (let c = 0; c < m; c++) preds[c] = part.models[c].predict(u, i) - mean;
        const su = Math.log1p(support.userCount[u]) - centre[0];
        const si = Math.log1p(support.itemCount[i]) - centre[1];
        features(preds, m, su, si, params.support, terms, x);
        const t = ho.rating[e] - mean;
        for (let r = 0; r < d; r++) {
          b[r] += x[r] * t;
          for (let c = 0; c <= r; c++) a[r * d + c] += x[r] * x[c];
        }
      }
    }
    for (let r = 0; r < d; r++) for (let c = r + 1; c < d; c++) a[r * d + c] = a[c * d + r];
    // The intercept (feature 0) is not penalised.
    for (let r = 1; r < d; r++) a[r * d + r] += params.l2;
    a[0] += 1e-9;
    const weights = b;
    if (!solveSpd(a, weights, d)) {
      // Degenerate (e.g. no held-out rows): the plain average of the components.
      const t = supportTerms(params.support);
      weights.fill(0);
      for (let c = 0; c < m; c++) weights[1 + t + c * (1 + t)] = 1 / m;
    }
    const final = params.refit ? models.slice(parts.length * m) : fittedParts[0].models;
    const support = params.refit ? supportCounts(set) : fittedParts[0].support;
    const own: Params = {
      models: components.join(','),
      holdout: params.holdout,
      folds: params.folds,
      l2: params.l2,
      support: params.support,
      refit: params.refit,
      seed: params.seed,
      threads: params.threads,
      ranking: params.ranking,
      rankWeights: params.rankWeights,
    };
    components.forEach((name, c) => {
      for (const [k, v] of Object.entries(componentParams[c])) own[`${name}.${k}`] = v;
    });
    const info = fittedInfo(RatingBlendModel.modelName, own, data, secondsSince(start));
    return new RatingBlendModel(
      params.ranking === 'components' ? rankWeightsOf(params.rankWeights, components) : null,
      info,
      data.items.ids.slice(),
      scaleOf(set),
      final,
      params.support,
      weights,
      centre,
      support.userCount,
      support.itemCount,
    );
  }

  static fromArtifact(artifact: Artifact): RatingBlendModel {
    const { info, itemIds, extra } = artifact.header;
    expectModel(info, RatingBlendModel.modelName);
    const params = RatingBlendModel.resolveParams(info.params);
    const list = extra?.components;
    if (!Array.isArray(list) || list.length !== params.components.length) {
      throw new ArtifactError('rating-blend artifact: component headers are missing');
    }
    const components = params.components.map((name, c) => {
      const header = list[c];
      if (!isObject(header))
        throw new ArtifactError(`rating-blend artifact: component ${c} header is missing`);
      const arrays: Record<string, ArtifactArray> = {};
      const prefix = `c${c}.`;
      for (const [key, a] of Object.entries(artifact.arrays)) {
        if (key.startsWith(prefix)) arrays[key.slice(prefix.length)] = a;
      }
      const sub: Artifact = {
        header: {
          info: modelInfoFromJson(header.info),
          itemIds,
          ...(isObject(header.extra) ? { extra: header.extra } : {}),
        },
        arrays,
      };
      const family = familyOf(name);
      if (sub.header.info.name !== family) {
        throw new ArtifactError(
          `rating-blend artifact: component ${c} is '${sub.header.info.name}', expected '${family}'`,
        );
      }
      return COMPONENTS[family].fromArtifact(sub);
    });
    const d = featureCount(components.length, params.support);
    return new RatingBlendModel(
      params.ranking === 'components' ? rankWeightsOf(params.rankWeights, params.components) : null,
      info,
      itemIds,
      scaleFromArtifact(artifact),
      components,
      params.support,
      requireArray(artifact, 'weights', Float64Array, d),
      requireArray(artifact, 'centre', Float64Array, 2),
      requireArray(artifact, 'userCount', Int32Array, info.users),
      requireArray(artifact, 'itemCount', Int32Array, itemIds.length),
    );
  }

  /** The fitted components, in order. */
  get models(): readonly RatingComponent[] {
    return this.components;
  }

  /** Blend weights: intercept, then per component (and support terms, see the module comment). */
  get blendWeights(): Float64Array {
    return this.weights;
  }

  private combine(preds: Float64Array, nu: number, ni: number): number {
    const su = Math.log1p(nu) - this.centre[0];
    const si = Math.log1p(ni) - this.centre[1];
    const x = this.featureScratch;
    features(preds, this.components.length, su, si, this.support, this.termScratch, x);
    const w = this.weights;
    let y = 0;
    for (let j = 0; j < w.length; j++) y += w[j] * x[j];
    return this.scale.mean + y;
  }

  predict(userIndex: number, itemIndex: number): number {
    const m = this.components.length;
    const preds = new Float64Array(m);
    for (let c = 0; c < m; c++) preds[c] = this.components[c].predict(userIndex, itemIndex) - this.scale.mean;
    const nu = userIndex >= 0 && userIndex < this.userCount.length ? this.userCount[userIndex] : 0;
    const ni = itemIndex >= 0 && itemIndex < this.itemCount.length ? this.itemCount[itemIndex] : 0;
    return clip(this.combine(preds, nu, ni), this.scale);
  }

  score(ctx: ScoringContext, out: Float32Array): void {
    const m = this.components.length;
    const n = this.itemIds.length;
    if (!this.scratch) this.scratch = this.components.map(() => new Float32Array(n));
    const scratch = this.scratch;
    for (let c = 0; c < m; c++) this.components[c].score(ctx, scratch[c]);
    if (this.rankWeights) {
      blendRankingScores(scratch, this.rankWeights, out);
      return;
    }
    const u = ctx.userIndex;
    const nu =
      u >= 0 && u < this.userCount.length
        ? this.userCount[u]
        : ratedHistory(ctx.history, ctx.historyWeights, this.seen).count;
    const preds = new Float64Array(m);
    const mean = this.scale.mean;
    const { min, max } = this.scale;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < m; c++) preds[c] = scratch[c][i] - mean;
      const x = this.combine(preds, nu, this.itemCount[i]);
      out[i] = x < min ? min : x > max ? max : x;
    }
  }

  /** Similar items from the first component that has a notion of them. */
  similarItems(itemIndex: number, k: number): TopK | null {
    for (const c of this.components) {
      const top = c.similarItems(itemIndex, k);
      if (top) return top;
    }
    return null;
  }

  toArtifact(): Artifact {
    const arrays: Record<string, ArtifactArray> = {
      weights: this.weights,
      centre: this.centre,
      userCount: this.userCount,
      itemCount: this.itemCount,
    };
    const headers: JsonValue[] = this.components.map((comp, c) => {
      const a = comp.toArtifact();
      for (const [key, arr] of Object.entries(a.arrays)) arrays[`c${c}.${key}`] = arr;
      const h: JsonObject = { info: modelInfoJson(a.header.info) };
      if (a.header.extra) h.extra = a.header.extra;
      return h;
    });
    return {
      header: {
        info: this.info,
        itemIds: this.itemIds,
        extra: { ...scaleExtra(this.scale), components: headers },
      },
      arrays,
    };
  }
}

/** Below this many ratings, worker start-up costs more than fitting the components in turn saves. */
const PARALLEL_MIN_RATINGS = 50_000;
const MAX_AUTO_THREADS = 4;

interface BlendPart {
  train: InteractionData;
  heldOut: HeldOut;
}

interface BlendPlan {
  params: ResolvedBlendParams;
  data: InteractionData;
  /** The held-out part (or, with `folds`, one part per fold) and the ratings the components learn from. */
  parts: BlendPart[];
  /** Every part's training data, then all ratings. */
  datasets: InteractionData[];
  /** The components on every part's training data, then (with `refit`) on all ratings. */
  jobs: ComponentJob[];
}

function blendPlan(data: InteractionData, params: ResolvedBlendParams): BlendPlan {
  const parts =
    params.folds > 1
      ? crossFitParts(data, params.folds, params.seed)
      : [splitPerUser(data, params.holdout, params.seed)];
  const datasets = [...parts.map((p) => p.train), data];
  const jobs: ComponentJob[] = [];
  const phases = params.refit ? datasets.length : parts.length;
  for (let k = 0; k < phases; k++) {
    // The components fitted on a part only predict held-out ratings: they need no ranking head.
    const predictOnly = k < parts.length;
    params.components.forEach((name, c) => {
      const family = familyOf(name);
      const own = params.componentParams[c];
      const p = predictOnly && HEADED.has(family) ? { ...own, missingRatio: 0 } : own;
      jobs.push({ data: k, family, params: p });
    });
  }
  return { params, data, parts, datasets, jobs };
}

/**
 * The ranking weights of the components: those given (one number per component), else each
 * family's default. Throws ValidationError on a malformed list.
 */
function rankWeightsOf(list: string, components: readonly string[]): Float64Array {
  const out = new Float64Array(components.length);
  if (list.trim() === '') {
    components.forEach((name, c) => (out[c] = RANK_WEIGHTS[familyOf(name)] ?? 1));
  } else {
    const parts = list.split(',').map((x) => Number(x.trim()));
    if (parts.length !== components.length || parts.some((x) => !Number.isFinite(x) || x < 0)) {
      throw new ValidationError(
        `parameter 'rankWeights' of model 'rating-blend' must list ${components.length} non-negative numbers`,
      );
    }
    out.set(parts);
  }
  // All zero: rank by every component alike.
  if (out.every((x) => x === 0)) out.fill(1);
  return out;
}

/**
 * out[i] = Σ_c weights[c] · (s_c[i] − mean_c) / sd_c: each component's scores standardised over
 * the items (finite scores only; a non-finite score contributes nothing), then weighted.
 */
export function blendRankingScores(
  scores: readonly Float32Array[],
  weights: Float64Array,
  out: Float32Array,
): void {
  out.fill(0);
  for (let c = 0; c < scores.length; c++) {
    const w = weights[c];
    if (w === 0) continue;
    const s = scores[c];
    let count = 0;
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < s.length; i++) {
      const x = s[i];
      if (!Number.isFinite(x)) continue;
      count++;
      s1 += x;
      s2 += x * x;
    }
    if (count === 0) continue;
    const mean = s1 / count;
    const sd = Math.sqrt(Math.max(0, s2 / count - mean * mean));
    if (!(sd > 0)) continue;
    const scale = w / sd;
    for (let i = 0; i < s.length; i++) {
      const x = s[i];
      if (Number.isFinite(x)) out[i] += scale * (x - mean);
    }
  }
}

/** Families whose `missingRatio` adds a ranking head to the fit. */
const HEADED = new Set(['baseline', 'mf-sgd', 'svdpp']);

/** The model family of a component entry `family` or `family#tag`. */
function familyOf(entry: string): string {
  const hash = entry.indexOf('#');
  return hash < 0 ? entry : entry.slice(0, hash);
}

/** Number of support terms t_1..t_T of each mode. */
function supportTerms(mode: BlendSupport): number {
  return mode === 'none' ? 0 : mode === 'linear' ? 2 : 5;
}

function featureCount(m: number, mode: BlendSupport): number {
  const t = supportTerms(mode);
  return 1 + t + m * (1 + t);
}

/**
 * Feature vector: [1, t_1..t_T, then per component p, p t_1 .. p t_T], with the support terms
 * t = (s_u, s_i) (`linear`) or (s_u, s_i, s_u², s_i², s_u s_i) (`quadratic`).
 */
function features(
  preds: Float64Array,
  m: number,
  su: number,
  si: number,
  mode: BlendSupport,
  terms: Float64Array,
  x: Float64Array,
): void {
  const t = supportTerms(mode);
  if (t > 0) {
    terms[0] = su;
    terms[1] = si;
  }
  if (t > 2) {
    terms[2] = su * su;
    terms[3] = si * si;
    terms[4] = su * si;
  }
  x[0] = 1;
  for (let j = 0; j < t; j++) x[1 + j] = terms[j];
  let o = 1 + t;
  for (let c = 0; c < m; c++) {
    const p = preds[c];
    x[o++] = p;
    for (let j = 0; j < t; j++) x[o++] = p * terms[j];
  }
}

/** Held-out ratings as columns. */
interface HeldOut {
  user: Int32Array;
  item: Int32Array;
  rating: Float32Array;
  length: number;
}

/**
 * Holds out floor(fraction · m) of each user's m ratings (at least one kept), chosen by a seeded
 * shuffle; the rest becomes InteractionData on the same user and item indices.
 */
export function splitPerUser(data: InteractionData, fraction: number, seed: number): BlendPart {
  return partsOf(data, seed, 2, 1, (rank, m) =>
    rank < Math.min(m - 1, Math.floor(m * fraction)) ? 0 : 1,
  )[0];
}

/**
 * Cuts each user's ratings (in a seeded random order) into `folds` parts of sizes as equal as
 * possible; part k holds out fold k and trains on the others, so every rating is held out once.
 */
export function crossFitParts(data: InteractionData, folds: number, seed: number): BlendPart[] {
  return partsOf(data, seed, folds, folds, (rank) => rank % folds);
}

/**
 * Parts 0 .. parts − 1 of the folds given by `foldOf(rank, m)`, the fold of the rating at `rank`
 * in its user's shuffled ratings (of m): part k holds out fold k and trains on the rest.
 */
function partsOf(
  data: InteractionData,
  seed: number,
  folds: number,
  parts: number,
  foldOf: (rank: number, m: number) => number,
): BlendPart[] {
  const { indptr, indices, data: values } = data.matrix;
  const users = data.matrix.rows;
  const n = indptr[users];
  const state = shuffleState(new Rng(seed));
  const order = new Int32Array(n);
  for (let p = 0; p < n; p++) order[p] = p;
  const fold = new Uint8Array(n);
  const size = new Int32Array(folds);
  for (let u = 0; u < users; u++) {
    const start = indptr[u];
    const end = indptr[u + 1];
    shuffleRange(order, start, end, state);
    for (let q = start; q < end; q++) {
      const f = foldOf(q - start, end - start);
      fold[order[q]] = f;
      size[f]++;
    }
  }
  const out: BlendPart[] = [];
  for (let k = 0; k < parts; k++) {
    const held = size[k];
    const ho: HeldOut = {
      user: new Int32Array(held),
      item: new Int32Array(held),
      rating: new Float32Array(held),
      length: held,
    };
    const tu = new Int32Array(n - held);
    const ti = new Int32Array(n - held);
    const tr = new Float32Array(n - held);
    let h = 0;
    let t = 0;
    for (let u = 0; u < users; u++) {
      for (let p = indptr[u]; p < indptr[u + 1]; p++) {
        if (fold[p] === k) {
          ho.user[h] = u;
          ho.item[h] = indices[p];
          ho.rating[h++] = values[p];
        } else {
          tu[t] = u;
          ti[t] = indices[p];
          tr[t++] = values[p];
        }
      }
    }
    const train = interactionsFromIndices({
      users: data.users,
      items: data.items,
      events: { user: tu, item: ti, strength: tr, time: new Float64Array(t), length: t },
      itemAvailable: data.itemAvailable,
      now: data.now,
    });
    out.push({ train, heldOut: ho });
  }
  return out;
}

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function modelInfoJson(info: ModelInfo): JsonObject {
  return {
    name: info.name,
    params: { ...info.params },
    trainedAt: info.trainedAt,
    users: info.users,
    items: info.items,
    interactions: info.interactions,
    fitSeconds: info.fitSeconds,
  };
}

function modelInfoFromJson(v: JsonValue | undefined): ModelInfo {
  if (!isObject(v) || typeof v.name !== 'string' || !isObject(v.params)) {
    throw new ArtifactError('rating-blend artifact: a component header is malformed');
  }
  const params: Record<string, number | string | boolean> = {};
  for (const [k, p] of Object.entries(v.params)) {
    if (typeof p !== 'number' && typeof p !== 'string' && typeof p !== 'boolean') {
      throw new ArtifactError(`rating-blend artifact: component parameter '${k}' is malformed`);
    }
    params[k] = p;
  }
  const num = (x: JsonValue | undefined): number => (typeof x === 'number' ? x : 0);
  return {
    name: v.name,
    params,
    trainedAt: num(v.trainedAt),
    users: num(v.users),
    items: num(v.items),
    interactions: num(v.interactions),
    fitSeconds: num(v.fitSeconds),
  };
}
