import type { Artifact, SavableRecommender } from '../artifact.js';
import type { FoldIn, ModelInfo, RatingPredictor, ScoringContext, TopK } from '../model.js';
import {
  allItemsGram,
  allUsersGram,
  foldInAllRankItem,
  foldInAllRankUser,
  missingWeights,
  type AllItemsGram,
  type AllUsersGram,
  type MissingSampling,
} from './ranking-head.js';
import {
  clip,
  factorNorms,
  foldInBiasedUser,
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
  /** Regularisation of an item's bias and factors (item fold-in). */
  regItemBias: number;
  regItemFactors: number;
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
  /**
   * Ratings of every training user, which set how often the head's fit drew an item as an
   * imputed pair of that user (item fold-in); null when unknown (every user then counts as
   * having the mean number of ratings).
   */
  userCount: Int32Array | null;
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
  private rankUserGram: { gram: AllUsersGram; weights: Float64Array } | null = null;
  private seenUsers: Uint8Array | null = null;

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

  /**
   * The latent description of an item from the users who rated it (users[e] rated it
   * weights[e]; for a user listed twice the first entry counts), user side fixed:
   *
   * - entries 0 .. k: [b_i, q_0 .. q_{k−1}] of the rating head (foldInRatingItem), so that
   *   predict() of a training user u would give μ + b_u + b_i + v_u · q_i;
   * - when the model has a ranking head, entries k+1 .. 2k+1: [b_i, q_0 .. q_{k−1}] of the
   *   ranking head (foldInRankingItem), so that score() of a training user u would give
   *   mean + b_u + b_i + v_u · q_i of the head.
   *
   * Length k + 1 without a ranking head, 2(k + 1) with one.
   */
  foldInItem(users: Int32Array, weights: Float32Array): Float32Array {
    const rating = this.foldInRatingItem(users, weights);
    const ranking = this.foldInRankingItem(users, weights);
    if (!ranking) return rating;
    const out = new Float32Array(rating.length + ranking.length);
    out.set(rating);
    out.set(ranking, rating.length);
    return out;
  }

  /**
   * [b_i, q_0 .. q_{k−1}] of the rating head for an item rated by `users`: the ridge problem
   *
   *   Σ_u (r_ui − μ − b_u − b − v_u·q)² + (regItemBias b² + regItemFactors |q|²) n,
   *
   * n the number of distinct in-range users with a positive rating, v_u the vectors predict()
   * multiplies item factors with (SVD++: p_u + |N(u)|^-½ Σ y_j), the stationary point of the
   * per-rating SGD updates of one item.
   */
  foldInRatingItem(users: Int32Array, weights: Float32Array): Float32Array {
    const { k, userBias, userVectors, regItemBias, regItemFactors } = this.arrays;
    const r = ratedHistory(users, weights, this.userMask(userBias.length));
    const targets = new Float64Array(r.count);
    for (let e = 0; e < r.count; e++) targets[e] = r.ratings[e] - this.scale.mean - userBias[r.items[e]];
    return foldInBiasedUser(r.items, targets, r.count, userVectors, k, regItemBias, regItemFactors);
  }

  /**
   * [b_i, q_0 .. q_{k−1}] of the ranking head for an item rated by `users` (null without a
   * ranking head): the AllRank ridge problem of foldInAllRankItem, where the ratings count as in
   * the rating head and every other training user's imputed pairs as often as the head's fit
   * would have drawn the item for them.
   */
  foldInRankingItem(users: Int32Array, weights: Float32Array): Float32Array | null {
    const h = this.rank;
    if (!h) return null;
    const nUsers = h.userBias.length;
    if (!this.rankUserGram) {
      const counts =
        h.userCount ?? new Float64Array(nUsers).fill(this.info.interactions / Math.max(1, nUsers));
      const w = missingWeights(counts, h.itemBias.length, h.sampling.missingRatio);
      const gram = allUsersGram(h.userVectors, h.k, h.userBias, h.mean, h.sampling.missingRating, w);
      this.rankUserGram = { gram, weights: w };
    }
    const { gram, weights: w } = this.rankUserGram;
    const r = ratedHistory(users, weights, this.userMask(nUsers));
    const targets = new Float64Array(r.count);
    const missing = new Float64Array(r.count);
    for (let e = 0; e < r.count; e++) {
      const o = h.mean + h.userBias[r.items[e]];
      targets[e] = r.ratings[e] - o;
      missing[e] = h.sampling.missingRating - o;
    }
    return foldInAllRankItem(
      r.items,
      targets,
      missing,
      r.count,
      h.userVectors,
      h.k,
      gram,
      w,
      h.regItemBias,
      h.regItemFactors,
    );
  }

  private userMask(users: number): Uint8Array {
    this.seenUsers ??= new Uint8Array(users);
    return this.seenUsers;
  }

  /** Items with the most cosine-similar factors. */
  similarItems(itemIndex: number, k: number): TopK | null {
    this.norms ??= factorNorms(this.arrays.q, this.arrays.k);
    return similarByFactors(this.arrays.q, this.arrays.k, this.norms, itemIndex, k);
  }
}
