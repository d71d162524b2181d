/** Recall of approximate search results against exact ones. */
import type { IndexSearchResult } from './vector-index.js';

/**
 * Mean over queries of |approx ∩ exact| / |exact| for the first `k` items of each (queries
 * whose exact result is empty are skipped). Both lists must be in the same query order.
 */
export function recallAtK(
  exact: readonly IndexSearchResult[],
  approx: readonly IndexSearchResult[],
  k: number,
): number {
  if (exact.length !== approx.length) {
    throw new RangeError(`approx has ${approx.length} results, exact ${exact.length}`);
  }
  let sum = 0;
  let counted = 0;
  const want = new Set<number>();
  for (let q = 0; q < exact.length; q++) {
    const e = exact[q].indices;
    const n = Math.min(k, e.length);
    if (n === 0) continue;
    want.clear();
    for (let p = 0; p < n; p++) want.add(e[p]);
    const a = approx[q].indices;
    let hit = 0;
    for (let p = 0; p < Math.min(k, a.length); p++) if (want.has(a[p])) hit++;
    sum += hit / n;
    counted++;
  }
  return counted === 0 ? 1 : sum / counted;
}
