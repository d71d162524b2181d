/**
 * Shared pieces of the explicit-rating models: the training ratings laid out for SGD and
 * neighbourhood passes, the rating scale, histories of unknown users, and the small dense
 * ridge solve behind fold-in.
 *
 * Ratings are the values of the interaction matrix: with one event per (user, item) pair whose
 * strength is the rating (MovieLens loaded through `interactionsFromArrays`), each stored value
 * is that rating.
 */
import { solveSpdInPlace } from '../../kernels/dense.js';
import type { CsrMatrix } from '../../data/csr.js';
import type { InteractionData } from '../../data/interactions.js';
import type { JsonObject } from '../../domain/types.js';
import type { Rng } from '../../ingest/prng.js';
import { TopKHeap } from '../../kernels/topk.js';
import { ArtifactError, type Artifact } from '../artifact.js';
import type { TopK } from '../model.js';

/** Training ratings in user-major (CSR) order, with an item-major index over the same positions. */
export interface RatingSet {
  users: number;
  items: number;
  /** Number of ratings. */
  n: number;
  /** Ratings of user u are at positions userPtr[u] .. userPtr[u+1]. */
  userPtr: Int32Array;
  /** User of each position. */
  userOf: Int32Array;
  /** Item of each position (ascending within a user). */
  itemOf: Int32Array;
  /** Rating at each position. */
  value: Float32Array;
  /** Ratings of item i are at itemPos[itemPtr[i] .. itemPtr[i+1]] (ascending user). */
  itemPtr: Int32Array;
  /** Positions (into userOf / itemOf / value), grouped by item. */
  itemPos: Int32Array;
  /** Mean, smallest and largest rating (0 when there is none). */
  mean: number;
  min: number;
  max: number;
}

/** The ratings of `data.matrix` as a RatingSet (index arrays shared with the matrix). */
export function ratingSet(data: InteractionData): RatingSet {
  return ratingSetOf(data.matrix);
}

/**
 * A RatingSet over the rows and columns of any CSR matrix (rows play the users, columns the
 * items); index arrays are shared with the matrix.
 */
export function ratingSetOf(m: CsrMatrix): RatingSet {
  const users = m.rows;
  const items = m.cols;
  const n = m.indptr[users];
  const userPtr = m.indptr;
  const itemOf = m.indices;
  const value = m.data;
  const userOf = new Int32Array(n);
  const itemPtr = new Int32Array(items + 1);
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let u = 0; u < users; u++) {
    for (let p = userPtr[u], end = userPtr[u + 1]; p < end; p++) {
      userOf[p] = u;
      itemPtr[itemOf[p] + 1]++;
      const r = value[p];
      sum += r;
      if (r < min) min = r;
      if (r > max) max = r;
    }
  }
  for (let i = 0; i < items; i++) itemPtr[i + 1] += itemPtr[i];
  const next = itemPtr.slice(0, items);
  const itemPos = new Int32Array(n);
  for (let p = 0; p < n; p++) itemPos[next[itemOf[p]]++] = p;
  return {
    users,
    items,
    n,
    userPtr,
    userOf,
    itemOf,
    value,
    itemPtr,
    itemPos,
    mean: n > 0 ? sum / n : 0,
    min: n > 0 ? min : 0,
    max: n > 0 ? max : 0,
  };
}

/** Global statistics every rating model keeps. */
export interface RatingScale {
  mean: number;
  min: number;
  max: number;
}

export function scaleOf(set: RatingSet): RatingScale {
  return { mean: set.mean, min: set.min, max: set.max };
}

export function clip(x: number, scale: RatingScale): number {
  return x < scale.min ? scale.min : x > scale.max ? scale.max : x;
}

/** The scale as an artifact `extra` object. */
export function scaleExtra(scale: RatingScale): JsonObject {
  return { mean: scale.mean, min: scale.min, max: scale.max };
}

/** The scale stored by `scaleExtra`; throws ArtifactError when it is missing. */
export function scaleFromArtifact(artifact: Artifact): RatingScale {
  const e = artifact.header.extra ?? {};
  const { mean, min, max } = e;
  if (typeof mean !== 'number' || typeof min !== 'number' || typeof max !== 'number') {
    throw new ArtifactError(`${artifact.header.info.name} artifact: rating scale is missing`);
  }
  return { mean, min, max };
}

/** Ratings per user (by user index) and per item (by item index). */
export function supportCounts(set: RatingSet): { userCount: Int32Array; itemCount: Int32Array } {
  const userCount = new Int32Array(set.users);
  const itemCount = new Int32Array(set.items);
  for (let u = 0; u < set.users; u++) userCount[u] = set.userPtr[u + 1] - set.userPtr[u];
  for (let i = 0; i < set.items; i++) itemCount[i] = set.itemPtr[i + 1] - set.itemPtr[i];
  return { userCount, itemCount };
}

/** Distinct rated items of a history and their ratings. */
export interface RatedHistory {
  items: Int32Array;
  ratings: Float64Array;
  count: number;
}

/**
 * The distinct in-range items of a history with positive weight, each with its first (most
 * recent) weight as the rating. `seen` is an all-zero scratch mask over the items, left all-zero.
 */
export function ratedHistory(history: Int32Array, weights: Float32Array, seen: Uint8Array): RatedHistory {
  const n = Math.min(history.length, weights.length);
  const items = new Int32Array(n);
  const ratings = new Float64Array(n);
  const nItems = seen.length;
  let count = 0;
  for (let e = 0; e < n; e++) {
    const i = history[e];
    const r = weights[e];
    if (!(i >= 0 && i < nItems) || !(r > 0) || seen[i] !== 0) continue;
    seen[i] = 1;
    items[count] = i;
    ratings[count++] = r;
  }
  for (let e = 0; e < count; e++) seen[items[e]] = 0;
  return { items, ratings, count };
}

/** Solves A x = b in place for a symmetric positive definite A (A is overwritten). */
export const solveSpd = solveSpdInPlace;

/**
 * Fold-in of a biased factor user: with the item side fixed, the (b, p) minimising
 *
 *   Σ_h (t_h − b − q_h·p)² + regBias·c·b² + regFactor·c·|p|²,   c = number of ratings,
 *
 * the stationary point of per-rating regularised SGD for one user. `targets[h]` is the rating
 * minus everything not learned here; q_h is row items[h] of `q` (k wide). Returns [b, p_0..p_{k-1}].
 */
export function foldInBiasedUser(
  items: Int32Array,
  targets: Float64Array,
  count: number,
  q: Float32Array,
  k: number,
  regBias: number,
  regFactor: number,
): Float32Array {
  const d = k + 1;
  const out = new Float32Array(d);
  if (count === 0) return out;
  const a = new Float64Array(d * d);
  const b = new Float64Array(d);
  const x = new Float64Array(d);
  x[0] = 1;
  for (let h = 0; h < count; h++) {
    const off = items[h] * k;
    for (let f = 0; f < k; f++) x[f + 1] = q[off + f];
    const t = targets[h];
    for (let r = 0; r < d; r++) {
      const xr = x[r];
      if (xr === 0) continue;
      b[r] += xr * t;
      const row = r * d;
      for (let c = 0; c <= r; c++) a[row + c] += xr * x[c];
    }
  }
  for (let r = 0; r < d; r++) for (let c = r + 1; c < d; c++) a[r * d + c] = a[c * d + r];
  // A tiny ridge keeps the system definite when the regularisation is zero.
  a[0] += Math.max(regBias * count, 1e-9);
  for (let f = 1; f < d; f++) a[f * d + f] += Math.max(regFactor * count, 1e-9);
  if (!solveSpd(a, b, d)) return out;
  for (let f = 0; f < d; f++) out[f] = b[f];
  return out;
}

/** Fills `out` with N(0, std²) draws from a seeded generator. */
export function normalFill(out: Float32Array, std: number, rng: Rng): void {
  for (let p = 0; p < out.length; p++) out[p] = std * rng.normal();
}

/**
 * Fisher-Yates shuffle of out[from .. to) drawing from a mulberry32 generator whose state is
 * state[0] (advanced in place). The SIMD kernel implements the same sequence, so both give the
 * same order for the same state.
 */
export function shuffleRange(out: Int32Array, from: number, to: number, state: Uint32Array): void {
  let a = state[0];
  for (let i = to - 1; i > from; i--) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const j = from + Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * (i - from + 1));
    const x = out[i];
    out[i] = out[j];
    out[j] = x;
  }
  state[0] = a;
}

/** A shuffle state cell seeded from the generator. */
export function shuffleState(rng: Rng): Uint32Array {
  return Uint32Array.of(rng.int(0x100000000));
}

/**
 * Predicted ratings of every item for a biased factor user:
 * out[i] = clip(base + itemBias[i] + u·q_i), with u = uvec[uoff .. uoff + k).
 */
export function scoreBiasedFactors(
  base: number,
  itemBias: Float64Array,
  q: Float32Array,
  k: number,
  uvec: Float32Array,
  uoff: number,
  scale: RatingScale,
  out: Float32Array,
): void {
  const { min, max } = scale;
  for (let i = 0, qo = 0; i < itemBias.length; i++, qo += k) {
    let x = base + itemBias[i];
    for (let f = 0; f < k; f++) x += uvec[uoff + f] * q[qo + f];
    out[i] = x < min ? min : x > max ? max : x;
  }
}

/** Euclidean norm of every k-wide row of `q`. */
export function factorNorms(q: Float32Array, k: number): Float64Array {
  const rows = k > 0 ? q.length / k : 0;
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let f = 0, o = i * k; f < k; f++) s += q[o + f] * q[o + f];
    out[i] = Math.sqrt(s);
  }
  return out;
}

/** The `count` items whose factor rows are most cosine-similar to row `itemIndex` (itself excluded). */
export function similarByFactors(
  q: Float32Array,
  k: number,
  norms: Float64Array,
  itemIndex: number,
  count: number,
): TopK | null {
  const n = norms.length;
  if (!Number.isInteger(itemIndex) || itemIndex < 0 || itemIndex >= n || !(norms[itemIndex] > 0)) return null;
  const heap = new TopKHeap(Math.max(1, Math.min(n, Math.floor(count))));
  heap.reset(Math.max(0, Math.min(n, Math.floor(count))));
  const o = itemIndex * k;
  const ni = norms[itemIndex];
  for (let j = 0; j < n; j++) {
    if (j === itemIndex || !(norms[j] > 0)) continue;
    let s = 0;
    for (let f = 0, p = j * k; f < k; f++) s += q[o + f] * q[p + f];
    heap.push(j, s / (ni * norms[j]));
  }
  const indices = new Int32Array(heap.size);
  const scores = new Float32Array(heap.size);
  heap.drainInto(indices, scores);
  return { indices, scores };
}
