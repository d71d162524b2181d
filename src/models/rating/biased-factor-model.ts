import type { Artifact, SavableRecommender } from '../artifact.js';
import type { FoldIn, ModelInfo, RatingPredictor, ScoringContext, TopK } from '../model.js';
import { clip, factorNorms, scoreBiasedFactors, similarByFactors, type RatingScale } from './rating-kit.js';

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
 * Prediction, scoring and similar items shared by the biased factor models (SGD MF, SVD++):
 * they differ in how they fit and fold in a user, not in how they score one.
 */
export abstract class BiasedFactorModel implements SavableRecommender, RatingPredictor, FoldIn {
  protected readonly seen: Uint8Array;
  private readonly scratchVec: Float32Array;
  private norms: Float64Array | null = null;

  protected constructor(
    readonly info: ModelInfo,
    readonly itemIds: readonly string[],
    protected readonly scale: RatingScale,
    private readonly arrays: BiasedFactorArrays,
  ) {
    this.seen = new Uint8Array(itemIds.length);
    this.scratchVec = new Float32Array(arrays.k);
  }

  /** Returns [b_u, v_0 .. v_{k−1}] for a user known only by their history. */
  abstract foldInUser(history: Int32Array, weights: Float32Array): Float32Array;

  abstract toArtifact(): Artifact;

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

  /** Predicted rating of every item; users unknown to the model are folded in from their history. */
  score(ctx: ScoringContext, out: Float32Array): void {
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

  /** Items with the most cosine-similar factors. */
  similarItems(itemIndex: number, k: number): TopK | null {
    this.norms ??= factorNorms(this.arrays.q, this.arrays.k);
    return similarByFactors(this.arrays.q, this.arrays.k, this.norms, itemIndex, k);
  }
}
