/**
 * Pieces shared by the ranking-loss SGD kernels (BPR, WARP): the factor arrays they update,
 * seeding of the inline xorshift32 generator, row membership tests and factor initialisation.
 *
 * The kernels draw random numbers with an inline xorshift32 step (`s ^= s << 13; s ^= s >>> 17;
 * s ^= s << 5`) and map the 32-bit state to [0, n) by a multiply-high, which uses the well-mixed
 * high bits. Keeping the state in a local variable keeps the hot loops free of calls.
 */
import { Rng } from '../ingest/prng.js';

/** 2^-32: maps an unsigned 32-bit integer to [0, 1). */
export const INV_2_32 = 2.3283064365386963e-10;

/** The trained parameters of a ranking factor model; rows are contiguous `factors`-long vectors. */
export interface FactorArrays {
  users: number;
  items: number;
  factors: number;
  /** users x factors. */
  userFactors: Float32Array;
  /** items x factors. */
  itemFactors: Float32Array;
  /** One bias per item (all zero when biases are off). */
  itemBias: Float32Array;
}

/** The positive interactions the kernels learn from: users x items CSR with ascending columns. */
export interface PositiveRows {
  indptr: Int32Array;
  indices: Int32Array;
}

/** A non-zero xorshift32 state for generator `stream` of `seed` (streams are unrelated). */
export function xorshiftSeed(seed: number, stream: number): number {
  const rng = new Rng((seed >>> 0) ^ Math.imul(stream + 1, 0x9e3779b1));
  for (;;) {
    const s = (rng.next() * 4294967296) | 0;
    if (s !== 0) return s;
  }
}

/**
 * Σ_f a[ao + f] · b[bo + f] over f < k, with four independent partial sums (about twice as
 * fast as one running sum, which serialises on the add latency).
 */
export function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, k: number): number {
  let x0 = 0;
  let x1 = 0;
  let x2 = 0;
  let x3 = 0;
  let f = 0;
  for (; f + 3 < k; f += 4) {
    x0 += a[ao + f] * b[bo + f];
    x1 += a[ao + f + 1] * b[bo + f + 1];
    x2 += a[ao + f + 2] * b[bo + f + 2];
    x3 += a[ao + f + 3] * b[bo + f + 3];
  }
  for (; f < k; f++) x0 += a[ao + f] * b[bo + f];
  return x0 + x1 + (x2 + x3);
}

/** Whether `item` occurs in the ascending run indices[start..end) (binary search). */
export function rowContains(indices: Int32Array, start: number, end: number, item: number): boolean {
  let lo = start;
  let hi = end - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = indices[mid];
    if (v < item) lo = mid + 1;
    else if (v > item) hi = mid - 1;
    else return true;
  }
  return false;
}

/**
 * Fills `a` with uniform values in [-scale/2, scale/2) from a generator seeded with
 * (`seed`, `stream`).
 */
export function fillUniform(a: Float32Array, scale: number, seed: number, stream: number): void {
  let s = xorshiftSeed(seed, stream);
  for (let i = 0; i < a.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    a[i] = ((s >>> 0) * INV_2_32 - 0.5) * scale;
  }
}

/**
 * Sorted distinct items of a history, with their summed weights, written into `items` and
 * `weights` (both at least as long as the history); returns how many. Entries outside
 * [0, itemCount) and non-positive weights are skipped. `mark` (itemCount long, all zero)
 * is left all zero.
 */
export function distinctHistory(
  history: Int32Array,
  historyWeights: Float32Array,
  itemCount: number,
  mark: Float32Array,
  items: Int32Array,
  weights: Float32Array,
): number {
  let n = 0;
  for (let e = 0; e < history.length; e++) {
    const h = history[e];
    const w = historyWeights[e];
    if (!(h >= 0 && h < itemCount) || !(w > 0)) continue;
    if (mark[h] === 0) items[n++] = h;
    mark[h] += w;
  }
  const sorted = items.subarray(0, n).sort();
  for (let p = 0; p < n; p++) {
    const h = sorted[p];
    weights[p] = mark[h];
    mark[h] = 0;
  }
  return n;
}
