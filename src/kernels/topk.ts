/**
 * Top-K selection over score arrays with a fixed-size min-heap on typed arrays.
 *
 * Order: higher score first; equal scores by lower index. -Infinity and NaN scores are never
 * selected, so a result may hold fewer than k entries.
 */

export interface TopKResult {
  /** Selected indices, best first. */
  indices: Int32Array;
  scores: Float32Array;
}

/**
 * A bounded heap keeping the best `k` (index, score) pairs pushed since the last reset.
 * Its root is the worst pair kept, so a candidate that cannot enter is rejected with one
 * comparison. Reusable: `reset` and `drainInto` allocate nothing.
 */
export class TopKHeap {
  private heapIndex: Int32Array;
  private heapScore: Float32Array;
  private k = 0;
  private count = 0;

  constructor(capacity: number) {
    const c = Math.max(1, capacity | 0);
    this.heapIndex = new Int32Array(c);
    this.heapScore = new Float32Array(c);
  }

  get size(): number {
    return this.count;
  }

  get capacity(): number {
    return this.heapIndex.length;
  }

  /** The worst score kept (meaningful once `size` reaches k): a candidate must beat it to enter. */
  get worst(): number {
    return this.heapScore[0];
  }

  /** Empties the heap and sets how many pairs it keeps (grows the buffers when needed). */
  reset(k: number): void {
    const kk = Math.max(0, k | 0);
    if (kk > this.heapIndex.length) {
      this.heapIndex = new Int32Array(kk);
      this.heapScore = new Float32Array(kk);
    }
    this.k = kk;
    this.count = 0;
  }

  /** Offers a pair; it is kept when it ranks among the best `k` seen so far. */
  push(index: number, score: number): void {
    if (!(score > -Infinity)) return;
    const hi = this.heapIndex;
    const hs = this.heapScore;
    // Compare in float32, as stored, so equal float32 scores tie-break on index.
    const s = Math.fround(score);
    if (this.count < this.k) {
      let pos = this.count++;
      while (pos > 0) {
        const parent = (pos - 1) >> 1;
        const ps = hs[parent];
        // Stop once the parent is worse than the new pair.
        if (ps < s || (ps === s && hi[parent] > index)) break;
        hi[pos] = hi[parent];
        hs[pos] = ps;
        pos = parent;
      }
      hi[pos] = index;
      hs[pos] = s;
      return;
    }
    if (this.k === 0) return;
    const rs = hs[0];
    if (s < rs || (s === rs && index > hi[0])) return;
    this.siftDown(index, s, this.count);
  }

  /**
   * Writes the kept pairs best first into `outIndex`/`outScore` from `offset`, empties the
   * heap and returns how many were written.
   */
  drainInto(outIndex: Int32Array, outScore: Float32Array, offset = 0): number {
    const n = this.count;
    const hi = this.heapIndex;
    const hs = this.heapScore;
    for (let last = n - 1; last >= 0; last--) {
      outIndex[offset + last] = hi[0];
      outScore[offset + last] = hs[0];
      if (last > 0) this.siftDown(hi[last], hs[last], last);
    }
    this.count = 0;
    return n;
  }

  /** Places (index, s) at the root of a heap of `size` entries and restores the heap order. */
  private siftDown(index: number, s: number, size: number): void {
    const hi = this.heapIndex;
    const hs = this.heapScore;
    let pos = 0;
    for (;;) {
      let child = 2 * pos + 1;
      if (child >= size) break;
      const right = child + 1;
      if (right < size) {
        const cs = hs[child];
        const rs = hs[right];
        // Pick the worse child.
        if (rs < cs || (rs === cs && hi[right] > hi[child])) child = right;
      }
      const cs = hs[child];
      if (s < cs || (s === cs && index > hi[child])) break;
      hi[pos] = hi[child];
      hs[pos] = cs;
      pos = child;
    }
    hi[pos] = index;
    hs[pos] = s;
  }
}

let shared = new TopKHeap(64);

function sharedHeap(k: number): TopKHeap {
  if (shared.capacity < k) shared = new TopKHeap(k);
  shared.reset(k);
  return shared;
}

function drain(heap: TopKHeap): TopKResult {
  const indices = new Int32Array(heap.size);
  const scores = new Float32Array(heap.size);
  heap.drainInto(indices, scores, 0);
  return { indices, scores };
}

/**
 * The best `k` entries of `scores`, skipping every index whose `exclude` byte is non-zero.
 * `exclude`, when given, must be at least as long as `scores`.
 */
export function topK(scores: Float32Array, k: number, exclude?: Uint8Array | null): TopKResult {
  const n = scores.length;
  const kk = Math.min(Math.max(0, Math.floor(k)), n);
  const heap = sharedHeap(kk);
  if (kk === 0) return drain(heap);
  if (exclude) {
    if (exclude.length < n) throw new RangeError(`exclusion mask has ${exclude.length} entries, scores ${n}`);
    for (let i = 0; i < n; i++) if (exclude[i] === 0) heap.push(i, scores[i]);
  } else {
    for (let i = 0; i < n; i++) heap.push(i, scores[i]);
  }
  return drain(heap);
}

/** The best `k` of the first `count` candidate indices, by `scores[candidate]`. */
export function topKOfCandidates(
  scores: Float32Array | Float64Array,
  candidates: Int32Array,
  count: number,
  k: number,
): TopKResult {
  const kk = Math.min(Math.max(0, Math.floor(k)), count);
  const heap = sharedHeap(kk);
  for (let p = 0; p < count; p++) {
    const i = candidates[p];
    heap.push(i, scores[i]);
  }
  return drain(heap);
}
