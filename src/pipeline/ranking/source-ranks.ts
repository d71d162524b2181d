/**
 * Per-source views of a candidate set: how many sources it holds, and where each candidate
 * stands within a source's own proposals (ranks, min-max and z-scores), computed on scratch
 * buffers without allocating per request.
 *
 * `CandidateSet.sourceScores` is sourceCount x capacity, row-major by source, where capacity is
 * the length of `items`; the score of source s for slot j is `sourceScores[s * capacity + j]`,
 * NaN when s did not propose the candidate.
 */
import type { CandidateSet } from '../types.js';

/** Slots the set's per-candidate arrays have room for. */
export function setCapacity(set: CandidateSet): number {
  return set.items.length;
}

/** Number of source columns in `set.sourceScores`. */
export function setSourceCount(set: CandidateSet): number {
  const cap = set.items.length;
  return cap === 0 ? 0 : Math.floor(set.sourceScores.length / cap);
}

/** Score of source `s` for slot `slot` (NaN when it did not propose the candidate). */
export function sourceScore(set: CandidateSet, s: number, slot: number): number {
  return set.sourceScores[s * set.items.length + slot];
}

/** First position in ascending a[0..n) whose value is > x. */
function upperBound(a: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Grows a Float64Array scratch to at least n entries. */
export function growFloat64(a: Float64Array, n: number): Float64Array {
  return a.length >= n ? a : new Float64Array(Math.max(n, a.length * 2));
}

/** Grows an Int32Array scratch to at least n entries. */
export function growInt32(a: Int32Array, n: number): Int32Array {
  return a.length >= n ? a : new Int32Array(Math.max(n, a.length * 2));
}

/** Grows a Float32Array scratch to at least n entries. */
export function growFloat32(a: Float32Array, n: number): Float32Array {
  return a.length >= n ? a : new Float32Array(Math.max(n, a.length * 2));
}

/** Slots a packed sort key has room for (see sourceRanks). */
const SLOT_SCALE = 2 ** 21;
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float32 `v` as an unsigned integer of the same order (-0 as 0; v not NaN). */
function orderedBits(v: number): number {
  f32[0] = v === 0 ? 0 : v;
  const b = u32[0];
  return b >= 0x80000000 ? 0xffffffff - b : b + 0x80000000;
}

/**
 * Rank of every slot within source `s`: 0 for its best-scored candidate, ties sharing the
 * smaller rank (the number of candidates of the source scored strictly higher); -1 where the
 * source did not propose the candidate or it was removed. Returns the number of candidates the
 * source proposed (not removed). `sorted` is scratch of at least `set.size` entries.
 *
 * Each score is sorted together with its slot, packed in one exact double (the score's order
 * above the slot's 21 bits), so one pass down the sorted keys hands out the ranks.
 */
export function sourceRanks(set: CandidateSet, s: number, rank: Int32Array, sorted: Float64Array): number {
  if (set.size > SLOT_SCALE) return sourceRanksBySearch(set, s, rank, sorted);
  const base = s * set.items.length;
  const scores = set.sourceScores;
  let n = 0;
  for (let j = 0; j < set.size; j++) {
    const v = scores[base + j];
    if (v === v && set.removed[j] === 0) sorted[n++] = orderedBits(v) * SLOT_SCALE + j;
    else rank[j] = -1;
  }
  if (n > 1) sorted.subarray(0, n).sort();
  let groupBits = -1;
  let groupRank = 0;
  for (let i = n - 1; i >= 0; i--) {
    const key = sorted[i];
    const bits = Math.floor(key / SLOT_SCALE);
    if (bits !== groupBits) {
      groupBits = bits;
      groupRank = n - 1 - i;
    }
    rank[key - bits * SLOT_SCALE] = groupRank;
  }
  return n;
}

/** sourceRanks by a sort of the scores and a binary search per candidate (any number of slots). */
function sourceRanksBySearch(set: CandidateSet, s: number, rank: Int32Array, sorted: Float64Array): number {
  const cap = set.items.length;
  const base = s * cap;
  const scores = set.sourceScores;
  let n = 0;
  for (let j = 0; j < set.size; j++) {
    const v = scores[base + j];
    if (v === v && set.removed[j] === 0) sorted[n++] = v;
  }
  if (n > 1) sorted.subarray(0, n).sort();
  for (let j = 0; j < set.size; j++) {
    const v = scores[base + j];
    rank[j] = v === v && set.removed[j] === 0 ? n - upperBound(sorted, n, v) : -1;
  }
  return n;
}

/** Mean and standard deviation of source `s`'s scores over candidates not removed; [0, 0] when none. */
export function sourceMoments(set: CandidateSet, s: number, out: Float64Array): void {
  const cap = set.items.length;
  const base = s * cap;
  let n = 0;
  let sum = 0;
  let sq = 0;
  for (let j = 0; j < set.size; j++) {
    const v = set.sourceScores[base + j];
    if (v === v && set.removed[j] === 0) {
      n++;
      sum += v;
      sq += v * v;
    }
  }
  const mean = n > 0 ? sum / n : 0;
  out[0] = mean;
  out[1] = n > 1 ? Math.sqrt(Math.max(0, sq / n - mean * mean)) : 0;
}

/** Smallest and largest score of source `s` over candidates not removed; [NaN, NaN] when none. */
export function sourceRange(set: CandidateSet, s: number, out: Float64Array): void {
  const base = s * set.items.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (let j = 0; j < set.size; j++) {
    const v = set.sourceScores[base + j];
    if (v === v && set.removed[j] === 0) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  out[0] = lo === Infinity ? NaN : lo;
  out[1] = hi === -Infinity ? NaN : hi;
}

/**
 * Writes `slots[0..m)` into `out` ordered by `keys[slot]` descending, ties keeping their order
 * in `slots`. Keys must not be NaN. Uses a native numeric sort of the keys (`sorted`, scratch of
 * m) and a counting placement (`cursor`, scratch of m), several times faster than sorting the
 * slots with a comparator.
 */
export function sortSlotsDescending(
  keys: ArrayLike<number>,
  slots: Int32Array,
  m: number,
  sorted: Float64Array,
  cursor: Int32Array,
  out: Int32Array,
): void {
  for (let i = 0; i < m; i++) sorted[i] = keys[slots[i]];
  if (m > 1) sorted.subarray(0, m).sort();
  cursor.fill(0, 0, m);
  for (let i = 0; i < m; i++) {
    const r = m - upperBound(sorted, m, keys[slots[i]]);
    out[r + cursor[r]++] = slots[i];
  }
}
