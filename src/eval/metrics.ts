/**
 * Per-user ranking and rating metrics. `ranked` holds item indices best first; `relevant` the
 * user's relevant items. Definitions (binary relevance, ranks from 1):
 * - Precision@K = hits in the top K / K
 * - Recall@K    = hits in the top K / |relevant|
 * - NDCG@K      = Σ_{hit at rank r ≤ K} 1/log2(r+1), divided by the same sum over min(K, |relevant|) ranks
 * - MAP@K       = Σ_{hit at rank r ≤ K} (hits up to r / r), divided by min(K, |relevant|)
 * - MRR@K       = 1 / rank of the first hit (0 without one)
 * - HitRate@K   = 1 if any hit in the top K
 */
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
