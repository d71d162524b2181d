/**
 * The head of a ranked candidate set: the `n` best slots by score, best first, ties by slot.
 * Only the shortlist is ordered; the rest of the candidates are passed over once.
 */
import { growFloat64, growInt32, sortSlotsDescending } from './ranking/source-ranks.js';
import type { CandidateSet } from './types.js';

export class BestSlots {
  private slots: Int32Array = new Int32Array(0);
  private keys: Float64Array = new Float64Array(0);
  private sorted: Float64Array = new Float64Array(0);
  private cursor: Int32Array = new Int32Array(0);
  private out: Int32Array = new Int32Array(0);

  /**
   * The `n` best candidate slots of `set` by score (removed ones and those scored -Infinity or
   * NaN left out), best first, ties by slot; all of them when n is NaN, none when n < 0.
   */
  select(set: CandidateSet, n: number): Int32Array {
    const limit = n >= 0 ? Math.floor(n) : n < 0 ? 0 : Infinity;
    this.grow(set.size);
    const slots = this.slots;
    const keys = this.keys;
    let m = 0;
    for (let s = 0; s < set.size; s++) {
      const v = set.score[s];
      if (set.removed[s] === 0 && v > -Infinity) {
        slots[m] = s;
        keys[m] = v;
        m++;
      }
    }
    const take = m > limit ? this.keepBest(m, limit) : m;
    sortSlotsDescending(set.score, slots, take, this.sorted, this.cursor, this.out);
    return this.out.slice(0, take);
  }

  /**
   * Moves the `limit` best of slots[0..m) to the front, in slot order: every slot scored above
   * the limit-th best score, then the first slots scored exactly that. Returns limit.
   */
  private keepBest(m: number, limit: number): number {
    if (limit === 0) return 0;
    const slots = this.slots;
    const keys = this.keys;
    const scratch = this.sorted;
    scratch.set(keys.subarray(0, m));
    const threshold = kthSmallest(scratch, m, m - limit);
    let above = 0;
    for (let i = 0; i < m; i++) if (keys[i] > threshold) above++;
    let ties = limit - above;
    let kept = 0;
    for (let i = 0; i < m; i++) {
      const v = keys[i];
      if (v > threshold || (v === threshold && ties-- > 0)) slots[kept++] = slots[i];
    }
    return kept;
  }

  private grow(n: number): void {
    if (this.slots.length >= n) return;
    this.slots = growInt32(this.slots, n);
    this.keys = growFloat64(this.keys, n);
    this.sorted = growFloat64(this.sorted, n);
    this.cursor = growInt32(this.cursor, n);
    this.out = growInt32(this.out, n);
  }
}

/**
 * The value that would be at position `k` of a[0..n) sorted ascending (Hoare's selection,
 * reordering `a`). Values must not be NaN; -0 and 0 count as equal.
 */
export function kthSmallest(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}
