/** Ranking metrics for offline evaluation in tests. */

/**
 * NDCG@k with binary gains: DCG = Σ_{rank r ≤ k, item relevant} 1 / log2(r + 1) (ranks from 1),
 * divided by the ideal DCG over min(k, |relevant|) hits. 0 when nothing is relevant.
 */
export function ndcgAtK(ranked: ArrayLike<number>, relevant: ReadonlySet<number>, k: number): number {
  if (relevant.size === 0) return 0;
  let dcg = 0;
  const n = Math.min(k, ranked.length);
  for (let r = 0; r < n; r++) if (relevant.has(ranked[r])) dcg += 1 / Math.log2(r + 2);
  let ideal = 0;
  const m = Math.min(k, relevant.size);
  for (let r = 0; r < m; r++) ideal += 1 / Math.log2(r + 2);
  return dcg / ideal;
}
