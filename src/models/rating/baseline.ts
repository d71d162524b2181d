/**
 * Baseline rating predictor: r̂(u, i) = μ + b_u + b_i, the global mean plus regularised user
 * and item biases, clipped to the rating scale seen in training.
 *
 * - `als` (default): alternating exact solves, items first in every epoch:
 *     b_i = Σ_{u ∈ R(i)} (r_ui − μ − b_u) / (regItem + |R(i)|)
 *     b_u = Σ_{i ∈ R(u)} (r_ui − μ − b_i) / (regUser + |R(u)|)
 * - `sgd`: per-rating updates b ← b + lr (e − reg b), e = r_ui − r̂(u, i), in rating order.
 *
 * A user unknown to the model is folded in from their history (b_u solved with the item biases
 * fixed); with no history, b_u = 0.
 */
import type { InteractionData } from '../../data/interactions.js';
import { requireArray, type Artifact, type SavableRecommender } from '../artifact.js';
import { expectModel, fittedInfo, secondsSince } from '../model-kit.js';
import type { FoldIn, ModelInfo, RatingPredictor, ScoringContext, TopK } from '../model.js';
import { ParamReader, type Params } from '../params.js';
import {
  clip,
  ratedHistory,
  ratingSet,
  scaleExtra,
  scaleFromArtifact,
  scaleOf,
  type RatingScale,
  type RatingSet,
} from './rating-kit.js';
import { DEFAULT_MISSING_RATING, DEFAULT_MISSING_RATIO, missingCounts } from './ranking-head.js';

export type BaselineMethod = 'als' | 'sgd';

export interface BaselineParams {
  method: BaselineMethod;
  epochs: number;
  /** Regularisation of the user biases (ALS default 15, SGD default 0.02). */
  regUser: number;
  /** Regularisation of the item biases (ALS default 10, SGD default 0.02). */
  regItem: number;
  /** SGD step size. */
  learningRate: number;
}

export function resolveBaselineParams(r: ParamReader): BaselineParams {
  const method = r.choice<BaselineMethod>('method', 'als', ['als', 'sgd']);
  const als = method === 'als';
  return {
    method,
    epochs: r.number('epochs', als ? 10 : 20, { min: 0, max: 10_000, integer: true }),
    regUser: r.number('regUser', als ? 15 : 0.02, { min: 0 }),
    regItem: r.number('regItem', als ? 10 : 0.02, { min: 0 }),
    learningRate: r.number('learningRate', 0.005, { min: 0, max: 1 }),
  };
}

export interface Biases {
  user: Float64Array;
  item: Float64Array;
}

/** Fits the user and item biases around the global mean. */
export function fitBiases(set: RatingSet, p: BaselineParams): Biases {
  const user = new Float64Array(set.users);
  const item = new Float64Array(set.items);
  const { userPtr, itemOf, userOf, value, itemPtr, itemPos, mean } = set;
  if (p.method === 'als') {
    for (let epoch = 0; epoch < p.epochs; epoch++) {
      for (let i = 0; i < set.items; i++) {
        let s = 0;
        const start = itemPtr[i];
        const end = itemPtr[i + 1];
        for (let q = start; q < end; q++) {
          const pos = itemPos[q];
          s += value[pos] - mean - user[userOf[pos]];
        }
        item[i] = s / (p.regItem + (end - start));
      }
      for (let u = 0; u < set.users; u++) {
        let s = 0;
        const start = userPtr[u];
        const end = userPtr[u + 1];
        for (let q = start; q < end; q++) s += value[q] - mean - item[itemOf[q]];
        user[u] = s / (p.regUser + (end - start));
      }
    }
  } else {
    const lr = p.learningRate;
    for (let epoch = 0; epoch < p.epochs; epoch++) {
      for (let q = 0; q < set.n; q++) {
        const u = userOf[q];
        const i = itemOf[q];
        const bu = user[u];
        const bi = item[i];
        const e = value[q] - mean - bu - bi;
        user[u] = bu + lr * (e - p.regUser * bu);
        item[i] = bi + lr * (e - p.regItem * bi);
      }
    }
  }
  return { user, item };
}

/**
 * The user bias that fits a history with the item biases fixed: the ALS user step, or for SGD
 * the stationary point of its per-rating regularisation.
 */
export function foldInUserBias(
  items: Int32Array,
  ratings: Float64Array,
  count: number,
  mean: number,
  itemBias: Float64Array,
  p: Pick<BaselineParams, 'method' | 'regUser'>,
): number {
  if (count === 0) return 0;
  let s = 0;
  for (let h = 0; h < count; h++) s += ratings[h] - mean - itemBias[items[h]];
  return p.method === 'als' ? s / (p.regUser + count) : s / (count * (1 + p.regUser));
}

/** Sampling of the imputed missing entries behind the baseline's ranking (see ranking-head.ts). */
export interface BaselineRankingParams {
  /** Imputed entries per rating of each user (0: rank by predicted rating). */
  missingRatio: number;
  missingRating: number;
}

/**
 * Item biases for ranking: the ALS biases of `fitBiases` fitted on the ratings and on every
 * missing entry imputed with `missingRating`, those of user u weighted w_u = c_u / (items − m_u)
 * with c_u = round(missingRatio · m_u): the expectation of the ranking head's sampled pairs
 * (ranking-head.ts), solved exactly. Sums over a user's or item's missing entries are the sums
 * over all minus those over the rated ones, so an epoch costs O(ratings).
 */
export function fitRankingItemBias(
  set: RatingSet,
  p: BaselineParams,
  r: BaselineRankingParams,
): Float64Array {
  const { userPtr, itemOf, userOf, value, itemPtr, itemPos, users, items } = set;
  const counts = missingCounts(set, r.missingRatio);
  const w = new Float64Array(users);
  let wSum = 0;
  let total = 0;
  let weight = 0;
  for (let u = 0; u < users; u++) {
    const m = userPtr[u + 1] - userPtr[u];
    w[u] = counts[u] > 0 ? counts[u] / (items - m) : 0;
    wSum += w[u];
    weight += m + w[u] * (items - m);
    total += w[u] * (items - m) * r.missingRating;
  }
  for (let q = 0; q < set.n; q++) total += value[q];
  const mean = weight > 0 ? total / weight : 0;
  const tm = r.missingRating - mean;
  const user = new Float64Array(users);
  const item = new Float64Array(items);
  for (let epoch = 0; epoch < Math.max(1, p.epochs); epoch++) {
    // Σ_u w_u b_u over every user, for the items' missing entries.
    let wbu = 0;
    for (let u = 0; u < users; u++) wbu += w[u] * user[u];
    for (let i = 0; i < items; i++) {
      let s = 0;
      let wIn = 0;
      let wbIn = 0;
      for (let q = itemPtr[i]; q < itemPtr[i + 1]; q++) {
        const pos = itemPos[q];
        const u = userOf[pos];
        s += value[pos] - mean - user[u];
        wIn += w[u];
        wbIn += w[u] * user[u];
      }
      const wOut = wSum - wIn;
      s += wOut * tm - (wbu - wbIn);
      item[i] = s / (p.regItem + (itemPtr[i + 1] - itemPtr[i]) + wOut);
    }
    let biSum = 0;
    for (let i = 0; i < items; i++) biSum += item[i];
    for (let u = 0; u < users; u++) {
      let s = 0;
      let biIn = 0;
      const m = userPtr[u + 1] - userPtr[u];
      for (let q = userPtr[u]; q < userPtr[u + 1]; q++) {
        s += value[q] - mean - item[itemOf[q]];
        biIn += item[itemOf[q]];
      }
      s += w[u] * ((items - m) * tm - (biSum - biIn));
      user[u] = s / (p.regUser + m + w[u] * (items - m));
    }
  }
  return item;
}

export class BaselineModel implements SavableRecommender, RatingPredictor, FoldIn {
  static readonly modelName = 'baseline';

  static readonly searchSpace = {
    method: ['als'],
    epochs: [10, 25],
    regUser: [1, 2, 3, 5, 10],
    regItem: [0.5, 1, 2, 5],
  } as const satisfies Record<string, readonly (string | number)[]>;

  private readonly seen: Uint8Array;

  private constructor(
    readonly info: ModelInfo,
    readonly itemIds: readonly string[],
    private readonly scale: RatingScale,
    private readonly params: BaselineParams,
    /** b_u by user index. */
    readonly userBias: Float64Array,
    /** b_i by item index. */
    readonly itemBias: Float64Array,
    /** Item biases with the imputed missing entries, what score() ranks by (null: predicted ratings). */
    readonly rankItemBias: Float64Array | null,
  ) {
    this.seen = new Uint8Array(itemIds.length);
  }

  static resolveParams(raw?: Params): BaselineParams & BaselineRankingParams {
    const r = new ParamReader(BaselineModel.modelName, raw);
    const params = {
      ...resolveBaselineParams(r),
      missingRatio: r.number('missingRatio', DEFAULT_MISSING_RATIO, { min: 0, max: 100 }),
      missingRating: r.number('missingRating', DEFAULT_MISSING_RATING),
    };
    r.done();
    return params;
  }

  static fit(data: InteractionData, raw?: Params): BaselineModel {
    const start = performance.now();
    const params = BaselineModel.resolveParams(raw);
    const set = ratingSet(data);
    const biases = fitBiases(set, params);
    const rank = params.missingRatio > 0 ? fitRankingItemBias(set, params, params) : null;
    const info = fittedInfo(BaselineModel.modelName, { ...params }, data, secondsSince(start));
    return new BaselineModel(
      info,
      data.items.ids.slice(),
      scaleOf(set),
      params,
      biases.user,
      biases.item,
      rank,
    );
  }

  static fromArtifact(artifact: Artifact): BaselineModel {
    const { info, itemIds } = artifact.header;
    expectModel(info, BaselineModel.modelName);
    const params = BaselineModel.resolveParams(info.params);
    return new BaselineModel(
      info,
      itemIds,
      scaleFromArtifact(artifact),
      params,
      requireArray(artifact, 'userBias', Float64Array, info.users),
      requireArray(artifact, 'itemBias', Float64Array, itemIds.length),
      artifact.arrays.rankItemBias
        ? requireArray(artifact, 'rankItemBias', Float64Array, itemIds.length)
        : null,
    );
  }

  /** Global mean of the training ratings. */
  get mean(): number {
    return this.scale.mean;
  }

  predict(userIndex: number, itemIndex: number): number {
    let x = this.scale.mean;
    if (userIndex >= 0 && userIndex < this.userBias.length) x += this.userBias[userIndex];
    if (itemIndex >= 0 && itemIndex < this.itemBias.length) x += this.itemBias[itemIndex];
    return clip(x, this.scale);
  }

  /** Returns [b_u]. */
  foldInUser(history: Int32Array, weights: Float32Array): Float32Array {
    return Float32Array.of(this.foldInBias(history, weights));
  }

  private foldInBias(history: Int32Array, weights: Float32Array): number {
    const h = ratedHistory(history, weights, this.seen);
    return foldInUserBias(h.items, h.ratings, h.count, this.scale.mean, this.itemBias, this.params);
  }

  /**
   * Ranking scores: the ranking item biases when fitted (the same order for every user, see the
   * class comment), else the predicted rating of every item.
   */
  score(ctx: ScoringContext, out: Float32Array): void {
    if (this.rankItemBias) {
      const rb = this.rankItemBias;
      for (let i = 0; i < rb.length; i++) out[i] = rb[i];
      return;
    }
    const u = ctx.userIndex;
    const known = u >= 0 && u < this.userBias.length;
    const base =
      this.scale.mean + (known ? this.userBias[u] : this.foldInBias(ctx.history, ctx.historyWeights));
    const bi = this.itemBias;
    const { min, max } = this.scale;
    for (let i = 0; i < bi.length; i++) {
      const x = base + bi[i];
      out[i] = x < min ? min : x > max ? max : x;
    }
  }

  similarItems(): TopK | null {
    return null;
  }

  toArtifact(): Artifact {
    return {
      header: { info: this.info, itemIds: this.itemIds, extra: scaleExtra(this.scale) },
      arrays: {
        userBias: this.userBias,
        itemBias: this.itemBias,
        ...(this.rankItemBias ? { rankItemBias: this.rankItemBias } : {}),
      },
    };
  }
}
