/**
 * The last ordering stage: picks the final top K from the ranked candidates, trading relevance
 * for variety.
 *
 * - Maximal marginal relevance over the top N by score: each next item maximises
 *   λ · relevance − (1 − λ) · (largest similarity to an item already picked), relevance being the
 *   score min-max scaled to [0, 1] over those N. λ = 1 is the score order.
 * - Per-category caps: at most `maxPerCategory` picked items in any one category (an item in
 *   several categories counts in each, and is skipped when any of them is full).
 *
 * When the caps leave fewer than K among the top N, the next candidates by score that fit are
 * taken; `fillBeyondCaps` then fills what is still missing by score, caps or not. Candidates
 * removed by a filter are never picked; ties in score keep slot order.
 */
import type { ItemSimilarity } from '../../eval/metrics.js';
import type { Catalog } from '../catalog.js';
import type { CandidateSet } from '../types.js';
import { growFloat64, growInt32, sortSlotsDescending } from './source-ranks.js';

export type { ItemSimilarity } from '../../eval/metrics.js';

export interface DiversityOptions {
  /** MMR trade-off in [0, 1]; 1 (default) keeps the score order. */
  lambda?: number;
  /** How many of the best-scored candidates MMR chooses from (default 200). */
  topN?: number;
  /** Similarity of two items (by index); needed when lambda < 1. */
  similarity?: ItemSimilarity | null;
  /** At most this many items of one category in the result (default: no cap). */
  maxPerCategory?: number;
  /** Fill up to K by score ignoring the caps when they leave too few (default false). */
  fillBeyondCaps?: boolean;
}

export class Diversifier {
  readonly lambda: number;
  readonly topN: number;
  readonly maxPerCategory: number;
  private readonly similarity: ItemSimilarity | null;
  private readonly fillBeyondCaps: boolean;

  private order: Int32Array = new Int32Array(0);
  private live: Int32Array = new Int32Array(0);
  private cursor: Int32Array = new Int32Array(0);
  private sorted: Float64Array = new Float64Array(0);
  private picked: Uint8Array = new Uint8Array(0);
  private rel: Float64Array = new Float64Array(0);
  private maxSim: Float64Array = new Float64Array(0);
  private perCategory: Int32Array;

  constructor(
    readonly catalog: Catalog,
    options: DiversityOptions = {},
  ) {
    this.lambda = options.lambda ?? 1;
    if (!(this.lambda >= 0 && this.lambda <= 1)) throw new RangeError('lambda must be in [0, 1]');
    this.topN = options.topN ?? 200;
    this.similarity = options.similarity ?? null;
    if (this.lambda < 1 && !this.similarity) throw new Error('MMR with lambda < 1 needs a similarity');
    this.maxPerCategory = options.maxPerCategory ?? Infinity;
    if (!(this.maxPerCategory >= 1)) throw new RangeError('maxPerCategory must be at least 1');
    this.fillBeyondCaps = options.fillBeyondCaps ?? false;
    this.perCategory = new Int32Array(catalog.categories.length);
  }

  /**
   * The final list: up to `k` candidate slots, best first. Writes into `out` (returning a view
   * of its first entries) when given, else into a new array.
   */
  select(set: CandidateSet, k: number, out?: Int32Array): Int32Array {
    const n = set.size;
    this.order = growInt32(this.order, n);
    this.live = growInt32(this.live, n);
    this.cursor = growInt32(this.cursor, n);
    this.sorted = growFloat64(this.sorted, n);
    const order = this.order;
    let m = 0;
    for (let j = 0; j < n; j++) {
      if (set.removed[j] !== 0) continue;
      const s = set.score[j];
      if (s !== s) continue;
      this.live[m++] = j;
    }
    sortSlotsDescending(set.score, this.live, m, this.sorted, this.cursor, order);

    const want = Math.min(k, m);
    const result = out ? out : new Int32Array(want);
    if (result.length < want) throw new RangeError(`output holds ${result.length} slots, need ${want}`);
    if (this.picked.length < m) this.picked = new Uint8Array(Math.max(m, this.picked.length * 2));
    const picked = this.picked;
    picked.fill(0, 0, m);
    const caps = this.maxPerCategory !== Infinity;
    if (caps && this.perCategory.length < this.catalog.categories.length)
      this.perCategory = new Int32Array(this.catalog.categories.length);

    const pool = Math.min(m, this.topN);
    let count = 0;
    if (this.lambda < 1 && pool > 0) count = this.mmr(set, pool, want, result);
    // Score order (λ = 1), and beyond the pool when caps left the list short.
    for (let i = 0; i < m && count < want; i++) {
      if (picked[i] !== 0) continue;
      if (caps && !this.fits(set.items[order[i]])) continue;
      this.take(set, i, result, count++);
    }
    if (count < want && this.fillBeyondCaps) {
      for (let i = 0; i < m && count < want; i++) {
        if (picked[i] === 0) this.take(set, i, result, count++);
      }
    }
    if (caps) this.resetCategories(set, result, count);
    return out ? result.subarray(0, count) : count === result.length ? result : result.slice(0, count);
  }

  /** Greedy MMR over order[0..pool); returns how many it picked. */
  private mmr(set: CandidateSet, pool: number, want: number, result: Int32Array): number {
    const order = this.order;
    const picked = this.picked;
    const sim = this.similarity as ItemSimilarity;
    const lambda = this.lambda;
    const caps = this.maxPerCategory !== Infinity;
    this.rel = growFloat64(this.rel, pool);
    this.maxSim = growFloat64(this.maxSim, pool);
    const rel = this.rel;
    const maxSim = this.maxSim;
    const hi = set.score[order[0]];
    const lo = set.score[order[pool - 1]];
    const span = hi - lo;
    for (let i = 0; i < pool; i++) {
      rel[i] = span > 0 ? (set.score[order[i]] - lo) / span : 1;
      maxSim[i] = 0;
    }
    let count = 0;
    let any = false;
    while (count < want) {
      let best = -1;
      let bestValue = -Infinity;
      for (let i = 0; i < pool; i++) {
        if (picked[i] !== 0) continue;
        if (caps && !this.fits(set.items[order[i]])) continue;
        const v = lambda * rel[i] - (any ? (1 - lambda) * maxSim[i] : 0);
        if (v > bestValue) {
          bestValue = v;
          best = i;
        }
      }
      if (best < 0) break;
      this.take(set, best, result, count++);
      any = true;
      const chosen = set.items[order[best]];
      for (let i = 0; i < pool; i++) {
        if (picked[i] !== 0) continue;
        const s = sim(set.items[order[i]], chosen);
        if (s > maxSim[i]) maxSim[i] = s;
      }
    }
    return count;
  }

  private take(set: CandidateSet, i: number, result: Int32Array, at: number): void {
    this.picked[i] = 1;
    const slot = this.order[i];
    result[at] = slot;
    if (this.maxPerCategory === Infinity) return;
    const item = set.items[slot];
    const cat = this.catalog;
    if (item < 0 || item >= cat.size) return;
    for (let q = cat.categoryPtr[item]; q < cat.categoryPtr[item + 1]; q++)
      this.perCategory[cat.categoryIdx[q]]++;
  }

  private fits(item: number): boolean {
    const cat = this.catalog;
    if (item < 0 || item >= cat.size) return true;
    for (let q = cat.categoryPtr[item]; q < cat.categoryPtr[item + 1]; q++)
      if (this.perCategory[cat.categoryIdx[q]] >= this.maxPerCategory) return false;
    return true;
  }

  private resetCategories(set: CandidateSet, result: Int32Array, count: number): void {
    const cat = this.catalog;
    for (let r = 0; r < count; r++) {
      const item = set.items[result[r]];
      if (item < 0 || item >= cat.size) continue;
      for (let q = cat.categoryPtr[item]; q < cat.categoryPtr[item + 1]; q++)
        this.perCategory[cat.categoryIdx[q]] = 0;
    }
  }
}

/** Jaccard similarity of two items' category sets (0 when either has none). */
export function categoryJaccard(catalog: Catalog): ItemSimilarity {
  const { categoryPtr: ptr, categoryIdx: idx } = catalog;
  return (a, b) => {
    if (a < 0 || b < 0 || a >= catalog.size || b >= catalog.size) return 0;
    const na = ptr[a + 1] - ptr[a];
    const nb = ptr[b + 1] - ptr[b];
    if (na === 0 || nb === 0) return 0;
    let shared = 0;
    for (let p = ptr[a]; p < ptr[a + 1]; p++) {
      for (let q = ptr[b]; q < ptr[b + 1]; q++) {
        if (idx[p] === idx[q]) {
          shared++;
          break;
        }
      }
    }
    return shared / (na + nb - shared);
  };
}

/**
 * Cosine similarity of item factor rows (items x dim, row-major), clipped below at 0 so it stays
 * in [0, 1]. Norms are computed once, here.
 */
export function factorCosine(factors: Float32Array, dim: number): ItemSimilarity {
  const items = Math.floor(factors.length / dim);
  const norms = new Float64Array(items);
  for (let i = 0; i < items; i++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += factors[i * dim + d] * factors[i * dim + d];
    norms[i] = Math.sqrt(s);
  }
  return (a, b) => {
    if (a < 0 || b < 0 || a >= items || b >= items) return 0;
    const na = norms[a];
    const nb = norms[b];
    if (!(na > 0) || !(nb > 0)) return 0;
    let dot = 0;
    for (let d = 0; d < dim; d++) dot += factors[a * dim + d] * factors[b * dim + d];
    return Math.max(0, dot / (na * nb));
  };
}
