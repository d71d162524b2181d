/**
 * Offline evaluation metrics; docs/metrics.md gives every definition with a worked example.
 *
 * Per-user ranking metrics: `ranked` holds item indices best first; `relevant` the user's
 * relevant items. Definitions (binary relevance, ranks from 1):
 * - Precision@K = hits in the top K / K
 * - Recall@K    = hits in the top K / |relevant|
 * - NDCG@K      = Σ_{hit at rank r ≤ K} 1/log2(r+1), divided by the same sum over min(K, |relevant|) ranks
 * - MAP@K       = Σ_{hit at rank r ≤ K} (hits up to r / r), divided by min(K, |relevant|)
 * - MRR@K       = 1 / rank of the first hit (0 without one)
 * - HitRate@K   = 1 if any hit in the top K
 *
 * AUC comes from a user's full score vector; coverage, novelty, intra-list diversity and
 * popularity bias ("beyond accuracy") from the top-K lists of all users. Per-user values are
 * NaN where a metric is undefined for the user, and `finiteMean` skips them.
 */
import type { CsrMatrix } from '../data/csr.js';

export interface RankingMetrics {
  precision: number;
  recall: number;
  ndcg: number;
  map: number;
  mrr: number;
  hitRate: number;
}

export function rankingMetrics(
  ranked: ArrayLike<number>,
  relevant: ReadonlySet<number>,
  k: number,
): RankingMetrics {
  const n = Math.min(k, ranked.length);
  let hits = 0;
  let dcg = 0;
  let ap = 0;
  let mrr = 0;
  for (let r = 0; r < n; r++) {
    if (!relevant.has(ranked[r])) continue;
    hits++;
    dcg += 1 / Math.log2(r + 2);
    ap += hits / (r + 1);
    if (mrr === 0) mrr = 1 / (r + 1);
  }
  const m = Math.min(k, relevant.size);
  let ideal = 0;
  for (let r = 0; r < m; r++) ideal += 1 / Math.log2(r + 2);
  return {
    precision: hits / k,
    recall: relevant.size > 0 ? hits / relevant.size : 0,
    ndcg: ideal > 0 ? dcg / ideal : 0,
    map: m > 0 ? ap / m : 0,
    mrr,
    hitRate: hits > 0 ? 1 : 0,
  };
}

/** Mean of each metric over users. */
export function meanMetrics(perUser: readonly RankingMetrics[]): RankingMetrics {
  const out: RankingMetrics = { precision: 0, recall: 0, ndcg: 0, map: 0, mrr: 0, hitRate: 0 };
  if (perUser.length === 0) return out;
  for (const m of perUser) {
    out.precision += m.precision;
    out.recall += m.recall;
    out.ndcg += m.ndcg;
    out.map += m.map;
    out.mrr += m.mrr;
    out.hitRate += m.hitRate;
  }
  const n = perUser.length;
  return {
    precision: out.precision / n,
    recall: out.recall / n,
    ndcg: out.ndcg / n,
    map: out.map / n,
    mrr: out.mrr / n,
    hitRate: out.hitRate / n,
  };
}

/** Root mean squared error and mean absolute error of predictions against truth. */
export function ratingErrors(
  predicted: ArrayLike<number>,
  truth: ArrayLike<number>,
): { rmse: number; mae: number } {
  if (predicted.length !== truth.length) throw new Error('predictions and truth differ in length');
  let se = 0;
  let ae = 0;
  for (let i = 0; i < truth.length; i++) {
    const d = predicted[i] - truth[i];
    se += d * d;
    ae += Math.abs(d);
  }
  const n = Math.max(1, truth.length);
  return { rmse: Math.sqrt(se / n), mae: ae / n };
}

/** Mean of the finite values (NaN and ±Infinity are skipped); NaN when there is none. */
export function finiteMean(values: ArrayLike<number>): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) {
      sum += v;
      n++;
    }
  }
  return n > 0 ? sum / n : NaN;
}

// ---------------------------------------------------------------------------------------------
// AUC

let aucMark = new Uint8Array(0);
let aucPositives = new Float64Array(16);

/**
 * AUC of one user from the scores of every item: the probability that a random relevant
 * candidate outranks a random non-relevant candidate, ties counting 1/2.
 *
 * Candidates are the items whose `exclude` byte is 0 (all items without a mask). Relevant
 * items that are excluded are left out; relevant ids outside the score vector (negative, or
 * ≥ scores.length: items the model has never seen) count as candidates scored -Infinity, as do
 * NaN scores. NaN when there is no relevant or no non-relevant candidate.
 * O(n log P) for n items and P relevant ones.
 */
export function aucFromScores(
  scores: ArrayLike<number>,
  relevant: ReadonlySet<number>,
  exclude?: Uint8Array | null,
): number {
  const n = scores.length;
  if (exclude && exclude.length < n)
    throw new RangeError(`exclusion mask has ${exclude.length} entries, scores ${n}`);
  if (aucMark.length < n) aucMark = new Uint8Array(n);
  if (aucPositives.length < relevant.size) aucPositives = new Float64Array(relevant.size);
  const mark = aucMark;
  const pos = aucPositives;
  let p = 0;
  for (const item of relevant) {
    if (item >= 0 && item < n) {
      if (exclude && exclude[item] !== 0) continue;
      if (mark[item] !== 0) continue;
      mark[item] = 1;
      pos[p++] = scoreOrFloor(scores[item]);
    } else {
      pos[p++] = -Infinity;
    }
  }
  const sorted = pos.subarray(0, p).sort();
  let wins = 0;
  let negatives = 0;
  for (let i = 0; i < n; i++) {
    if (exclude && exclude[i] !== 0) continue;
    if (mark[i] !== 0) {
      mark[i] = 0;
      continue;
    }
    negatives++;
    const s = scoreOrFloor(scores[i]);
    const below = lowerBound(sorted, s);
    const notAbove = upperBound(sorted, s);
    wins += p - notAbove + 0.5 * (notAbove - below);
  }
  return p > 0 && negatives > 0 ? wins / (p * negatives) : NaN;
}

function scoreOrFloor(s: number): number {
  return Number.isNaN(s) ? -Infinity : s;
}

/** First position in ascending `a` whose value is ≥ x. */
function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First position in ascending `a` whose value is > x. */
function upperBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------
// Beyond accuracy, over the top-K lists of all users

/** Training popularity of every item: the number of users with a stored interaction. */
export function itemPopularity(matrix: CsrMatrix): Int32Array {
  const out = new Int32Array(matrix.cols);
  const { indices } = matrix;
  for (let p = 0, nnz = matrix.indptr[matrix.rows]; p < nnz; p++) out[indices[p]]++;
  return out;
}

/** Share of the `catalogSize` recommendable items that appear in at least one list. */
export function catalogCoverage(lists: readonly ArrayLike<number>[], catalogSize: number): number {
  if (catalogSize <= 0) return NaN;
  const seen = new Uint8Array(catalogSize);
  let distinct = 0;
  for (const list of lists) {
    for (let r = 0; r < list.length; r++) {
      const i = list[r];
      if (i >= 0 && i < catalogSize && seen[i] === 0) {
        seen[i] = 1;
        distinct++;
      }
    }
  }
  return distinct / catalogSize;
}

/**
 * Gini coefficient of how often each of the `catalogSize` items is recommended (items never
 * recommended count with 0): 0 when every item appears equally often, towards 1 when a few items
 * fill every list. Sorted ascending counts c_1..c_n: Σ (2i − n − 1) c_i / (n Σ c_i). 0 without
 * recommendations.
 */
export function recommendationGini(lists: readonly ArrayLike<number>[], catalogSize: number): number {
  if (catalogSize <= 0) return NaN;
  const counts = new Float64Array(catalogSize);
  for (const list of lists) {
    for (let r = 0; r < list.length; r++) {
      const i = list[r];
      if (i >= 0 && i < catalogSize) counts[i]++;
    }
  }
  counts.sort();
  let total = 0;
  let weighted = 0;
  const n = catalogSize;
  for (let i = 0; i < n; i++) {
    total += counts[i];
    weighted += (2 * (i + 1) - n - 1) * counts[i];
  }
  return total > 0 ? weighted / (n * total) : 0;
}

/**
 * Mean self-information of a list's items, −log2(pop(i) / users), in bits: high when the list
 * holds items few training users know. An item no training user has counts as if one had.
 * NaN for an empty list.
 */
export function novelty(list: ArrayLike<number>, popularity: ArrayLike<number>, users: number): number {
  if (list.length === 0 || users <= 0) return NaN;
  let bits = 0;
  for (let r = 0; r < list.length; r++) {
    const pop = Math.max(1, popularity[list[r]]);
    bits -= Math.log2(pop / users);
  }
  return bits / list.length;
}

/** Mean training popularity of a list's items (the list's share of ARP); NaN for an empty list. */
export function averagePopularity(list: ArrayLike<number>, popularity: ArrayLike<number>): number {
  if (list.length === 0) return NaN;
  let sum = 0;
  for (let r = 0; r < list.length; r++) sum += popularity[list[r]];
  return sum / list.length;
}

/** Similarity of two items by index, symmetric, in [0, 1] for the diversity to stay in [0, 1]. */
export type ItemSimilarity = (a: number, b: number) => number;

/**
 * Cosine similarity between rows of an item x feature matrix (column indices ascending within
 * rows, as csrFromCoo and transposeCsr make them). A row without features is similar to nothing
 * (similarity 0).
 */
export function cosineSimilarity(features: CsrMatrix): ItemSimilarity {
  const { indptr, indices, data } = features;
  const norms = new Float64Array(features.rows);
  for (let r = 0; r < features.rows; r++) {
    let s = 0;
    for (let p = indptr[r], end = indptr[r + 1]; p < end; p++) s += data[p] * data[p];
    norms[r] = Math.sqrt(s);
  }
  return (a, b) => {
    const na = norms[a];
    const nb = norms[b];
    if (!(na > 0) || !(nb > 0)) return 0;
    let p = indptr[a];
    const pe = indptr[a + 1];
    let q = indptr[b];
    const qe = indptr[b + 1];
    let dot = 0;
    while (p < pe && q < qe) {
      const ca = indices[p];
      const cb = indices[q];
      if (ca === cb) dot += data[p++] * data[q++];
      else if (ca < cb) p++;
      else q++;
    }
    return dot / (na * nb);
  };
}

/**
 * Intra-list diversity: mean over the unordered pairs of a list's items of 1 − similarity.
 * NaN for a list of fewer than two items.
 */
export function intraListDiversity(list: ArrayLike<number>, similarity: ItemSimilarity): number {
  const n = list.length;
  if (n < 2) return NaN;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) sum += 1 - similarity(list[i], list[j]);
  }
  return sum / ((n * (n - 1)) / 2);
}

export interface BeyondAccuracyInput {
  /** Items that could be recommended (coverage and Gini denominators). */
  catalogSize: number;
  /** Training users per item (see itemPopularity). */
  popularity: ArrayLike<number>;
  /** Number of training users (novelty's denominator). */
  users: number;
  /** Item similarity for the diversity, or an item x feature matrix compared by cosine; none: no diversity. */
  similarity?: ItemSimilarity | CsrMatrix;
}

export interface BeyondAccuracy {
  /** Distinct recommended items / catalogSize (one value for the whole set of lists). */
  coverage: number;
  /** Gini coefficient of recommendation counts over the catalogue (one value for the set). */
  gini: number;
  /** Per list: mean self-information of its items (bits). */
  novelty: Float64Array;
  /** Per list: intra-list diversity; null without a similarity. */
  diversity: Float64Array | null;
  /** Per list: mean training popularity of its items; their mean is the ARP. */
  popularityBias: Float64Array;
}

/** Every beyond-accuracy metric of a set of lists (one list per user). */
export function beyondAccuracy(
  lists: readonly ArrayLike<number>[],
  input: BeyondAccuracyInput,
): BeyondAccuracy {
  const n = lists.length;
  const nov = new Float64Array(n);
  const arp = new Float64Array(n);
  const sim = input.similarity;
  const similarity = sim === undefined ? null : typeof sim === 'function' ? sim : cosineSimilarity(sim);
  const div = similarity ? new Float64Array(n) : null;
  for (let u = 0; u < n; u++) {
    nov[u] = novelty(lists[u], input.popularity, input.users);
    arp[u] = averagePopularity(lists[u], input.popularity);
    if (div && similarity) div[u] = intraListDiversity(lists[u], similarity);
  }
  return {
    coverage: catalogCoverage(lists, input.catalogSize),
    gini: recommendationGini(lists, input.catalogSize),
    novelty: nov,
    diversity: div,
    popularityBias: arp,
  };
}

// ---------------------------------------------------------------------------------------------
// Rating prediction, per row and per user

export interface RatingErrorColumns {
  /** (prediction − truth)² of every row. */
  squared: Float64Array;
  /** |prediction − truth| of every row. */
  absolute: Float64Array;
}

/** Squared and absolute error of every prediction; ratingErrors is their pooled RMSE and MAE. */
export function ratingErrorColumns(
  predicted: ArrayLike<number>,
  truth: ArrayLike<number>,
): RatingErrorColumns {
  if (predicted.length !== truth.length) throw new Error('predictions and truth differ in length');
  const squared = new Float64Array(truth.length);
  const absolute = new Float64Array(truth.length);
  for (let i = 0; i < truth.length; i++) {
    const d = predicted[i] - truth[i];
    squared[i] = d * d;
    absolute[i] = Math.abs(d);
  }
  return { squared, absolute };
}
