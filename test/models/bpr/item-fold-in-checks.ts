/** Item fold-in checks shared by the BPR and WARP tests. */
import { expect } from 'vitest';
import type { InteractionData } from '../../../src/data/interactions.js';
import type { RankingFactorModel } from '../../../src/models/bpr/factor-model.js';
import type { RatingRows } from '../../../src/eval/rating-file.js';
import { auc, correlation, cosine, holdOutItem, userMap, userScores } from '../rating/item-fold-in-kit.js';

/** The users of an item in the data, ascending, with their strengths. */
export function itemUsers(data: InteractionData, item: number): { users: Int32Array; weights: Float32Array } {
  const { indptr, indices, data: values, rows } = data.matrix;
  const users: number[] = [];
  const weights: number[] = [];
  for (let u = 0; u < rows; u++) {
    for (let p = indptr[u]; p < indptr[u + 1]; p++) {
      if (indices[p] !== item) continue;
      users.push(u);
      weights.push(values[p]);
    }
  }
  return { users: Int32Array.from(users), weights: Float32Array.from(weights) };
}

function userFactors(model: RankingFactorModel): Float32Array {
  return model.toArtifact().arrays.userFactors as Float32Array;
}

/**
 * On the two-cluster toy data: item a0 folded in from its users is deterministic in the set of
 * users and summed weights, scores higher for every one of its users than for any other user,
 * and points the way of its fitted vector.
 */
export function expectToyItemFoldIn(model: RankingFactorModel, data: InteractionData): void {
  const { users, weights } = itemUsers(data, 0);
  const v = model.foldInItem(users, weights);
  expect(v).toHaveLength(model.factors + 1);
  const shuffled = Int32Array.from([...users].reverse().concat([users[0], 9999, -1]));
  const split = Float32Array.from([...weights].reverse().concat([0, 1, 1]));
  expect(model.foldInItem(shuffled, split)).toEqual(v);
  const scores = userScores(userFactors(model), model.factors, v.subarray(1));
  expect(auc(scores, users)).toBe(1);
  expect(cosine(v.subarray(1), model.itemVector(0) ?? [])).toBeGreaterThan(0.7);
  expect(model.foldInItem(new Int32Array(0), new Float32Array(0)).every((x) => x === 0)).toBe(true);
}

/** Figures of an item fold-in on MovieLens, with film `itemId` left out of training. */
export interface HeldOutFigures {
  /** AUC of the folded item's scores separating its users from the others. */
  auc: number;
  /** AUC of the fitted vector of a model trained with the film. */
  trainedAuc: number;
  /** Correlation over users of the folded item's scores and the trained model's. */
  correlation: number;
  /** Cosine of the trained model's vector and its own fold-in of the film. */
  cosine: number;
}

export function heldOutFigures(
  rows: RatingRows,
  itemId: string,
  fit: (data: InteractionData) => RankingFactorModel,
): HeldOutFigures {
  const h = holdOutItem(rows, itemId);
  const model = fit(h.without);
  const v = model.foldInItem(h.users, h.weights);
  const k = model.factors;
  const scores = userScores(userFactors(model), k, v.subarray(1));
  const full = fit(h.full);
  const fitted = full.itemVector(h.fullItem) ?? new Float32Array(k);
  const trained = userScores(userFactors(full), k, fitted);
  return {
    auc: auc(scores, h.users),
    trainedAuc: auc(trained, h.fullUsers),
    correlation: correlation(scores, trained, userMap(h.without, h.full)),
    cosine: cosine(full.foldInItem(h.fullUsers, h.weights).subarray(1), fitted),
  };
}
