import type { Artifact, SavableRecommender } from '../artifact.js';
import type { FoldIn, ModelInfo, RatingPredictor, ScoringContext, TopK } from '../model.js';
import { allItemsGram, foldInAllRankUser, type AllItemsGram, type MissingSampling } from './ranking-head.js';
import {
  clip,
  factorNorms,
  ratedHistory,
  scoreBiasedFactors,
  similarByFactors,
  type RatingScale,
} from './rating-kit.js';

/** The arrays every biased factor model predicts from: r̂(u, i) = μ + b_u + b_i + v_u · q_i. */
export interface BiasedFactorArrays {
  k: number;
  userBias: Float64Array;
  itemBias: Float64Array;
  /** users x k, row-major: the vector each q_i is multiplied with. */
  userVectors: Float32Array;
  /** items x k, row-major. */
  q: Float32Array;
}

/**
 * The ranking head (see ranking-head.ts): biased factors fitted with imputed missing entries,
 * scoring s(u, i) = mean + b_u + b_i + v_u · q_i, unclipped.
 */
export interface RankingHeadArrays extends BiasedFactorArrays {
  /** Mean target of the head's fit. */
  mean: number;
  sampling: MissingSampling;
  /** Regularisation of the fold-in (the head's user-side weights). */
  regUserBias: number;
  regUserFactors: number;
}

/**
 * Prediction, scoring and similar items shared by the biased factor models (SGD MF, SVD++):
 * they differ in how they fit and fold in a user, not in how they score one.
 *
 * predict() is the rating head's prediction. score(), which ranks the items, uses the ranking head
 * when the model has one (fitted with `missingRatio` > 0) and the predicted ratings otherwise.
 */
export abstract class BiasedFactorModel implements SavableRecommender, RatingPredictor, FoldIn {
  protected readonly seen: Uint8Array;
  private readonly scratchVec: Float32Array;
  private norms: Float64Array | null = null;
  private rankGram: AllItemsGram | null = null;

  protected constructor(
    readonly info: ModelInfo,
    readonly itemIds: readonly string[],
    protected readonly scale: RatingScale,
    private readonly arrays: BiasedFactorArrays,
    protected readonly rank: RankingHeadArrays | null = null,
  ) {
    this.seen = new Uint8Array(itemIds.length);
    this.scratchVec = new Float32Array(Math.max(arrays.k, rank?.k ?? 0));
  }

  /** Returns [b_u, v_0 .. v_{k−1}] for a user known only by their history. */
  abstract foldInUser(history: Int32Array, weights: Float32Array): Float32Array;

  abstract toArtifact(): Artifact;

  /** Whether score() ranks with a ranking head rather than by predicted rating. */
  get hasRankingHead(): boolean {
    return this.rank !== null;
  }

  predict(userIndex: number, itemIndex: number): number {
    const { k, userBias, itemBias, userVectors, q } = this.arrays;
    let x = this.scale.mean;
    const knownUser = userIndex >= 0 && userIndex < userBias.length;
    const knownItem = itemIndex >= 0 && itemIndex < itemBias.length;
    if (knownUser) x += userBias[userIndex];
    if (knownItem) x += itemBias[itemIndex];
    if (knownUser && knownItem) {
      const uo = userIndex * k;
      const qo = itemIndex * k;
      for (let f = 0; f < k; f++) x += userVectors[uo + f] * q[qo + f];
    }
    return clip(x, this.scale);
  }

  /**
   * Ranking scores of every item: the ranking head's when the model has one, else the predicted
   * ratings. Users unknown to the model are folded in from their history.
   */
  score(ctx: ScoringContext, out: Float32Array): void {
    if (this.rank) {
      this.scoreRanking(this.rank, ctx, out);
      return;
    }
    const { k, userBias, itemBias, userVectors, q } = this.arrays;
    const u = ctx.userIndex;
    if (u >= 0 && u < userBias.length) {
      scoreBiasedFactors(this.scale.mean + userBias[u], itemBias, q, k, userVectors, u * k, this.scale, out);
      return;
    }
    const v = this.foldInUser(ctx.history, ctx.historyWeights);
    this.scratchVec.set(v.subarray(1));
    scoreBiasedFactors(this.scale.mean + v[0], itemBias, q, k, this.scratchVec, 0, this.scale, out);
  }

  private scoreRanking(h: RankingHeadArrays, ctx: ScoringContext, out: Float32Array): void {
    const u = ctx.userIndex;
    const open = { mean: 0, min: -Infinity, max: Infinity };
    if (u >= 0 && u < h.userBias.length) {
      scoreBiasedFactors(h.mean + h.userBias[u], h.itemBias, h.q, h.k, h.userVectors, u * h.k, open, out);
      return;
    }
    const v = this.foldInRankingUser(ctx.history, ctx.historyWeights);
    this.scratchVec.set(v.subarray(1));
    scoreBiasedFactors(h.mean + v[0], h.itemBias, h.q, h.k, this.scratchVec, 0, open, out);
  }

  /**
   * [b_u, v_0 .. v_{k−1}] of the ranking head for a user known only by their history. With `z`
   * (the implicit term of SVD++, fixed), v = p + z and only p is solved for.
   */
  protected foldInRankingUser(history: Int32Array, weights: Float32Array, z?: Float64Array): Float32Array {
    const h = this.rank;
    if (!h) return new Float32Array(1 + this.arrays.k);
    this.rankGram ??= allItemsGram(h.q, h.k, h.itemBias, h.mean, h.sampling.missingRating);
    const r = ratedHistory(history, weights, this.seen);
    const targets = new Float64Array(r.count);
    const missing = new Float64Array(r.count);
    for (let e = 0; e < r.count; e++) {
      const i = r.items[e];
      let o = h.mean + h.itemBias[i];
      if (z) for (let f = 0, qo = i * h.k; f < h.k; f++) o += h.q[qo + f] * z[f];
      targets[e] = r.ratings[e] - o;
      missing[e] = h.sampling.missingRating - o;
    }
    const v = foldInAllRankUser(
      r.items,
      targets,
      missing,
      r.count,
      h.q,
      h.k,
      this.rankGram,
      h.sampling,
      h.regUserBias,
      h.regUserFactors,
      z,
    );
    if (z) for (let f = 0; f < h.k; f++) v[f + 1] += z[f];
    return v;
  }

  /** Items with the most cosine-similar factors. */
  similarItems(itemIndex: number, k: number): TopK | null {
    this.norms ??= factorNorms(this.arrays.q, this.arrays.k);
    return similarByFactors(this.arrays.q, this.arrays.k, this.norms, itemIndex, k);
  }
}
