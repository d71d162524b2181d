/**
 * Sparse item-item cosine neighbourhoods.
 *
 * sim(i, j) = dot(i, j) / (|i| |j| + shrink), with dot and norms over the item columns of a
 * users x items matrix. Row i of X^T X is accumulated by merging, for every user of i, the
 * part of the user's (item-sorted) row that lies after i into a dense accumulator; touched
 * entries are tracked so nothing is cleared between items. Each pair is therefore computed
 * once, and its similarity is offered to the bounded heaps of both items, which keep the
 * best `k` neighbours per item (ties: lower index).
 */

/** Compressed rows on typed arrays (structurally a CSR matrix without its shape). */
export interface SparseRows {
  indptr: Int32Array;
  indices: Int32Array;
  data: Float32Array;
}

export interface NeighbourProblem {
  /** users x items interaction weights; item indices ascending within each user. */
  userItems: SparseRows;
  /** items x users, the transpose of `userItems`. */
  itemUsers: SparseRows;
  /** Euclidean norm of every item column. */
  norms: Float64Array;
  items: number;
  /** Neighbours kept per item. */
  k: number;
  /** Added to the cosine denominator; damps similarities backed by few users. */
  shrink: number;
}

/** Neighbour lists of all items as compressed rows, best first within each row. */
export interface NeighbourLists {
  indptr: Int32Array;
  indices: Int32Array;
  scores: Float32Array;
}

/**
 * One bounded min-heap of capacity `k` per item, in flat typed arrays: heap `r` lives at
 * `[r * k, r * k + size[r])`, its root (the worst entry kept) first.
 */
export class NeighbourHeaps {
  readonly index: Int32Array;
  readonly score: Float32Array;
  readonly size: Int32Array;
  /** Root score of every full heap, -Infinity while a heap has room: a cache-friendly reject test. */
  private readonly floor: Float32Array;

  constructor(
    readonly items: number,
    readonly k: number,
    buffers?: { index: Int32Array; score: Float32Array; size: Int32Array },
  ) {
    this.index = buffers?.index ?? new Int32Array(items * k);
    this.score = buffers?.score ?? new Float32Array(items * k);
    this.size = buffers?.size ?? new Int32Array(items);
    this.floor = new Float32Array(items).fill(-Infinity);
    for (let r = 0; r < items; r++) if (this.size[r] === k && k > 0) this.floor[r] = this.score[r * k];
  }

  /** Offers neighbour `j` with similarity `s` to item `row`. */
  push(row: number, j: number, s: number): void {
    const sf = Math.fround(s);
    if (sf < this.floor[row]) return;
    const k = this.k;
    if (k === 0) return;
    const hi = this.index;
    const hs = this.score;
    const base = row * k;
    const n = this.size[row];
    if (n < k) {
      let pos = n;
      this.size[row] = n + 1;
      while (pos > 0) {
        const parent = (pos - 1) >> 1;
        const ps = hs[base + parent];
        if (ps < sf || (ps === sf && hi[base + parent] > j)) break;
        hi[base + pos] = hi[base + parent];
        hs[base + pos] = ps;
        pos = parent;
      }
      hi[base + pos] = j;
      hs[base + pos] = sf;
      if (n + 1 === k) this.floor[row] = hs[base];
      return;
    }
    const rs = hs[base];
    if (sf < rs || (sf === rs && j > hi[base])) return;
    this.siftDown(base, n, j, sf);
    this.floor[row] = hs[base];
  }

  /** Offers every entry of `other` (same shape) to these heaps. */
  mergeFrom(other: NeighbourHeaps): void {
    if (other.items !== this.items || other.k !== this.k) throw new RangeError('heap sets differ in shape');
    const k = this.k;
    for (let r = 0; r < this.items; r++) {
      const base = r * k;
      for (let p = base, end = base + other.size[r]; p < end; p++)
        this.push(r, other.index[p], other.score[p]);
    }
  }

  /** Sorts every heap best first and packs them into rows; the heaps are spent afterwards. */
  toLists(): NeighbourLists {
    const { items, k, index: hi, score: hs, size } = this;
    const indptr = new Int32Array(items + 1);
    for (let r = 0; r < items; r++) indptr[r + 1] = indptr[r] + size[r];
    const indices = new Int32Array(indptr[items]);
    const scores = new Float32Array(indptr[items]);
    for (let r = 0; r < items; r++) {
      const base = r * k;
      // Heap sort: moving the root (worst) to the end leaves the row best first.
      for (let last = size[r] - 1; last > 0; last--) {
        const j = hi[base + last];
        const s = hs[base + last];
        hi[base + last] = hi[base];
        hs[base + last] = hs[base];
        this.siftDown(base, last, j, s);
      }
      indices.set(hi.subarray(base, base + size[r]), indptr[r]);
      scores.set(hs.subarray(base, base + size[r]), indptr[r]);
    }
    return { indptr, indices, scores };
  }

  /** Places (j, s) at the root of the heap at `base` holding `n` entries and restores order. */
  private siftDown(base: number, n: number, j: number, s: number): void {
    const hi = this.index;
    const hs = this.score;
    let pos = 0;
    for (;;) {
      let child = 2 * pos + 1;
      if (child >= n) break;
      if (child + 1 < n) {
        const cs = hs[base + child];
        const rs = hs[base + child + 1];
        if (rs < cs || (rs === cs && hi[base + child + 1] > hi[base + child])) child++;
      }
      const cs = hs[base + child];
      if (s < cs || (s === cs && j > hi[base + child])) break;
      hi[base + pos] = hi[base + child];
      hs[base + pos] = cs;
      pos = child;
    }
    hi[base + pos] = j;
    hs[base + pos] = s;
  }
}

/** Neighbours kept per item for a problem: k, at most items - 1. */
export function neighbourCount(problem: NeighbourProblem): number {
  return Math.max(0, Math.min(problem.k, problem.items - 1));
}

/**
 * Computes the pairs (i, j) with i in [start, end) and j > i, offering each similarity to
 * the heaps of i and j. Ranges covering 0..items-1, run into one heap set or into several
 * merged afterwards, give every item its complete neighbour list.
 */
export class NeighbourAccumulator {
  private readonly acc: Float32Array;
  private readonly candidates: Int32Array;
  /** Per user: position of the item being processed in the user's row. */
  private readonly cursor: Int32Array;
  /** Per user: the run that last positioned its cursor (cursors are set lazily). */
  private readonly cursorRun: Int32Array;
  private runs = 0;

  constructor(private readonly problem: NeighbourProblem) {
    this.acc = new Float32Array(problem.items);
    this.candidates = new Int32Array(problem.items);
    const users = problem.userItems.indptr.length - 1;
    this.cursor = new Int32Array(users);
    this.cursorRun = new Int32Array(users);
  }

  run(start: number, end: number, heaps: NeighbourHeaps): void {
    const { userItems, itemUsers, norms, shrink } = this.problem;
    const { acc, candidates, cursor, cursorRun } = this;
    const run = ++this.runs;
    const uiPtr = userItems.indptr;
    const uiIdx = userItems.indices;
    const uiVal = userItems.data;
    const iuPtr = itemUsers.indptr;
    const iuIdx = itemUsers.indices;
    const iuVal = itemUsers.data;
    for (let i = start; i < end; i++) {
      let nc = 0;
      for (let p = iuPtr[i], pEnd = iuPtr[i + 1]; p < pEnd; p++) {
        const u = iuIdx[p];
        const a = iuVal[p];
        // Put cursor[u] on item i in the user's row; merge what follows it.
        let at: number;
        if (cursorRun[u] === run) {
          at = ++cursor[u];
        } else {
          cursorRun[u] = run;
          at = cursor[u] = lowerBound(uiIdx, uiPtr[u], uiPtr[u + 1], i);
        }
        for (let q = at + 1, qEnd = uiPtr[u + 1]; q < qEnd; q++) {
          const j = uiIdx[q];
          const prev = acc[j];
          if (prev === 0) candidates[nc++] = j;
          acc[j] = prev + a * uiVal[q];
        }
      }
      const ni = norms[i];
      for (let c = 0; c < nc; c++) {
        const j = candidates[c];
        const s = acc[j] / (ni * norms[j] + shrink);
        acc[j] = 0;
        // A zero here is an underflowed product listed twice; it carries no evidence.
        if (!(s > 0)) continue;
        heaps.push(i, j, s);
        heaps.push(j, i, s);
      }
    }
  }
}

/** First position in indices[lo, hi) holding a value >= target (sorted ascending). */
function lowerBound(indices: Int32Array, lo: number, hi: number, target: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (indices[mid] < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const POSTING_COST = 16;

/**
 * Cumulative work estimate per item: accumulator updates plus POSTING_COST per posting
 * (a user row visit) plus one per item. Entry i is the work of items 0..i-1, entry `items`
 * the total.
 */
export function workPrefix(problem: NeighbourProblem): Float64Array {
  const { userItems, itemUsers, items } = problem;
  const rowEnd = userItems.indptr;
  const next = userItems.indptr.slice(0, rowEnd.length - 1);
  const iuPtr = itemUsers.indptr;
  const iuIdx = itemUsers.indices;
  const prefix = new Float64Array(items + 1);
  for (let i = 0; i < items; i++) {
    let c = 1;
    for (let p = iuPtr[i], end = iuPtr[i + 1]; p < end; p++) {
      const u = iuIdx[p];
      c += POSTING_COST + rowEnd[u + 1] - next[u];
      next[u]++;
    }
    prefix[i + 1] = prefix[i] + c;
  }
  return prefix;
}

/**
 * Splits items into `parts` contiguous ranges of about equal estimated work (an item is never
 * split, so a heavy item can make its range larger); returns parts + 1 boundaries.
 */
export function balancedRanges(prefix: Float64Array, parts: number): Int32Array {
  const items = prefix.length - 1;
  const bounds = new Int32Array(parts + 1);
  bounds[parts] = items;
  let i = 0;
  for (let part = 1; part < parts; part++) {
    const target = (prefix[items] * part) / parts;
    while (i < items && prefix[i] < target) i++;
    bounds[part] = i;
  }
  return bounds;
}
