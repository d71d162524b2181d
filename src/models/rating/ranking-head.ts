/**
 * The ranking head of the factor rating models: a second biased factor model fitted on the
 * observed ratings *and* on unobserved (user, item) pairs imputed with a low rating, the SGD form
 * of Steck's AllRank (Training and testing of recommender systems on data missing not at random,
 * KDD 2010).
 *
 * A rating model fitted on the observed ratings alone learns what a user would think of an item
 * *if* they rated it; ranking by that favours obscure items with a few enthusiastic ratings. The
 * missing entries are not missing at random (people mostly rate what they chose to watch), so
 * imputing them with a low value `missingRating` at a small weight lets the model learn which
 * items a user is likely to choose as well as how they would rate them. Every epoch, each user u
 * with m_u ratings gets round(missingRatio · m_u) items drawn uniformly among those u has not
 * rated (drawn afresh every epoch), and those pairs are visited along with the ratings, in one
 * shuffled order, with the rating updates of the model. In expectation this is AllRank with the
 * missing entries of user u weighted w_u = round(missingRatio · m_u) / (items − m_u).
 *
 * The records are (user, item, target, flag) quadruples, flag 1 for an imputed pair, laid out
 * user by user (each user's ratings, then their imputed pairs), as the SIMD kernel reads them.
 */
import type { Rng } from '../../ingest/prng.js';
import { shuffleState, solveSpd, type RatingSet } from './rating-kit.js';

/**
 * Default imputed pairs per rating, and their rating (below the scale), chosen by top-10 NDCG on
 * a validation split carved out of MovieLens 100K u1.base (20% of each user's ratings).
 */
export const DEFAULT_MISSING_RATIO = 2;
export const DEFAULT_MISSING_RATING = 0;

/** How the imputed pairs are drawn. */
export interface MissingSampling {
  /** Imputed pairs per rating of each user (0: no ranking head). */
  missingRatio: number;
  /** Target of an imputed pair. */
  missingRating: number;
}

/** The imputed pairs of every user in every epoch: round(ratio · ratings of the user). */
export function missingCounts(set: RatingSet, ratio: number): Int32Array {
  const out = new Int32Array(set.users);
  for (let u = 0; u < set.users; u++) {
    const m = set.userPtr[u + 1] - set.userPtr[u];
    out[u] = Math.min(set.items - m, Math.round(ratio * m));
  }
  return out;
}

/** Start of every user's block of records (ratings, then imputed pairs); length users + 1. */
export function recordPointers(set: RatingSet, counts: Int32Array): Int32Array {
  const ptr = new Int32Array(set.users + 1);
  for (let u = 0; u < set.users; u++) {
    ptr[u + 1] = ptr[u] + set.userPtr[u + 1] - set.userPtr[u] + counts[u];
  }
  return ptr;
}

/** Whether user u rated item i (a binary search of the user's ascending items). */
function rated(set: RatingSet, u: number, i: number): boolean {
  let lo = set.userPtr[u];
  let hi = set.userPtr[u + 1] - 1;
  const itemOf = set.itemOf;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const x = itemOf[mid];
    if (x === i) return true;
    if (x < i) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** Next uniform draw in [0, 1) of the mulberry32 state cell state[0] (as rating-kit's shuffles). */
function uniform(state: Uint32Array): number {
  const a = (state[0] = (state[0] + 0x6d2b79f5) >>> 0);
  let t = a;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/**
 * Writes one epoch's records at ri / rf (four 32-bit lanes each: user, item, target, flag), user
 * by user at `ptr[u]`: the ratings of u in stored order, then counts[u] imputed pairs of items u
 * has not rated, drawn from `state`.
 */
export function writeRecords(
  set: RatingSet,
  counts: Int32Array,
  ptr: Int32Array,
  missingRating: number,
  state: Uint32Array,
  ri: Int32Array,
  rf: Float32Array,
): void {
  const { userPtr, itemOf, value, items } = set;
  for (let u = 0; u < set.users; u++) {
    let at = 4 * ptr[u];
    for (let p = userPtr[u], end = userPtr[u + 1]; p < end; p++, at += 4) {
      ri[at] = u;
      ri[at + 1] = itemOf[p];
      rf[at + 2] = value[p];
      ri[at + 3] = 0;
    }
    for (let c = 0; c < counts[u]; c++, at += 4) {
      let i = Math.floor(uniform(state) * items);
      // Rejection sampling; counts keep at least half the items unrated for heavy raters in practice,
      // and a bounded number of redraws keeps the rare dense user cheap.
      for (let tries = 0; tries < 64 && rated(set, u, i); tries++) i = Math.floor(uniform(state) * items);
      ri[at] = u;
      ri[at + 1] = i;
      rf[at + 2] = missingRating;
      ri[at + 3] = 1;
    }
  }
}

/** The sampler of a fit: its own generator stream, so the rating head's draws are untouched. */
export interface HeadSampler {
  counts: Int32Array;
  ptr: Int32Array;
  /** Records per epoch. */
  total: number;
  /** Mean target over the records of an epoch (the head's global offset). */
  mean: number;
  /** Draws of the imputed items. */
  drawState: Uint32Array;
  /** Draws of the shuffles. */
  shuffleState: Uint32Array;
}

export function headSampler(set: RatingSet, sampling: MissingSampling, rng: Rng): HeadSampler {
  const counts = missingCounts(set, sampling.missingRatio);
  const ptr = recordPointers(set, counts);
  const total = ptr[set.users];
  let sum = 0;
  for (let p = 0; p < set.n; p++) sum += set.value[p];
  const missing = total - set.n;
  sum += missing * sampling.missingRating;
  return {
    counts,
    ptr,
    total,
    mean: total > 0 ? sum / total : 0,
    drawState: shuffleState(rng),
    shuffleState: shuffleState(rng),
  };
}

/**
 * Fisher-Yates shuffle of the 16-byte records [from, to) (four lanes each in `ri`), with the
 * draws of rating-kit's shuffleRange: the SIMD kernel's shuffleRecords in JavaScript.
 */
export function shuffleRecordsJs(ri: Int32Array, from: number, to: number, state: Uint32Array): void {
  for (let i = to - 1; i > from; i--) {
    const j = from + Math.floor(uniform(state) * (i - from + 1));
    const a = 4 * i;
    const b = 4 * j;
    for (let l = 0; l < 4; l++) {
      const x = ri[a + l];
      ri[a + l] = ri[b + l];
      ri[b + l] = x;
    }
  }
}

/**
 * Gram matrix and right-hand side of every item for the AllRank fold-in:
 * G = Σ_i x_i x_iᵀ and g = Σ_i x_i (missingRating − mean − b_i), with x_i = [1, q_i].
 */
export interface AllItemsGram {
  gram: Float64Array;
  rhs: Float64Array;
}

export function allItemsGram(
  q: Float32Array,
  k: number,
  itemBias: Float64Array,
  mean: number,
  missingRating: number,
): AllItemsGram {
  const d = k + 1;
  const gram = new Float64Array(d * d);
  const rhs = new Float64Array(d);
  const x = new Float64Array(d);
  x[0] = 1;
  for (let i = 0; i < itemBias.length; i++) {
    for (let f = 0; f < k; f++) x[f + 1] = q[i * k + f];
    const t = missingRating - mean - itemBias[i];
    for (let r = 0; r < d; r++) {
      rhs[r] += x[r] * t;
      for (let c = 0; c <= r; c++) gram[r * d + c] += x[r] * x[c];
    }
  }
  for (let r = 0; r < d; r++) for (let c = r + 1; c < d; c++) gram[r * d + c] = gram[c * d + r];
  return { gram, rhs };
}

/**
 * Fold-in of a user into a ranking head: with the item side fixed, the (b, p) minimising
 *
 *   Σ_{h rated} (t_h − b − q_h·p)² + w Σ_{i not rated} (t^m_i − b − q_i·p)²
 *     + (regBias b² + regFactor |p|²) (m + c),
 *
 * the stationary point of the head's SGD for one user with m ratings and c = round(ratio · m)
 * imputed pairs per epoch, w = c / (items − m). `targets[h]` is the rating minus the head's mean,
 * item bias and anything else not learned here; `missingTargets[h]` is the same for the imputed
 * rating. With `z`, every item's imputed target also loses q_i · z (the imputed targets of the
 * rated items in `missingTargets` must already include it). Returns [b, p_0 .. p_{k−1}].
 */
export function foldInAllRankUser(
  items: Int32Array,
  targets: Float64Array,
  missingTargets: Float64Array,
  count: number,
  q: Float32Array,
  k: number,
  all: AllItemsGram,
  sampling: MissingSampling,
  regBias: number,
  regFactor: number,
  z?: Float64Array,
): Float32Array {
  const d = k + 1;
  const out = new Float32Array(d);
  if (count === 0) return out;
  const nItems = q.length / k;
  const c = Math.min(nItems - count, Math.round(sampling.missingRatio * count));
  const w = c > 0 ? c / Math.max(1, nItems - count) : 0;
  const a = new Float64Array(d * d);
  const b = new Float64Array(d);
  for (let j = 0; j < d * d; j++) a[j] = w * all.gram[j];
  for (let j = 0; j < d; j++) {
    let s = all.rhs[j];
    if (z) for (let f = 0; f < k; f++) s -= all.gram[j * d + f + 1] * z[f];
    b[j] = w * s;
  }
  const x = new Float64Array(d);
  x[0] = 1;
  for (let h = 0; h < count; h++) {
    const off = items[h] * k;
    for (let f = 0; f < k; f++) x[f + 1] = q[off + f];
    const t = targets[h];
    const tm = missingTargets[h];
    for (let r = 0; r < d; r++) {
      const xr = x[r];
      if (xr === 0) continue;
      b[r] += xr * (t - w * tm);
      const row = r * d;
      for (let col = 0; col < d; col++) a[row + col] += (1 - w) * xr * x[col];
    }
  }
  const visits = count + c;
  a[0] += Math.max(regBias * visits, 1e-9);
  for (let f = 1; f < d; f++) a[f * d + f] += Math.max(regFactor * visits, 1e-9);
  if (!solveSpd(a, b, d)) return out;
  for (let f = 0; f < d; f++) out[f] = b[f];
  return out;
}

/**
 * Imputed-pair weight of every training user with `userCount[u]` ratings among `items` items:
 * w_u = c_u / (items − m_u), c_u = min(items − m_u, round(ratio · m_u)), the expected number of
 * times per epoch that user u draws any given item they have not rated.
 */
export function missingWeights(userCount: ArrayLike<number>, items: number, ratio: number): Float64Array {
  const out = new Float64Array(userCount.length);
  for (let u = 0; u < userCount.length; u++) {
    const m = userCount[u];
    if (!(m > 0) || m >= items) continue;
    out[u] = Math.min(items - m, Math.round(ratio * m)) / (items - m);
  }
  return out;
}

/**
 * Weighted Gram matrix and right-hand side over every training user for the AllRank fold-in of
 * an item: G = Σ_u w_u x_u x_uᵀ, g = Σ_u w_u x_u (missingRating − mean − b_u), with
 * x_u = [1, v_u], and W = Σ_u w_u.
 */
export interface AllUsersGram extends AllItemsGram {
  weightSum: number;
}

export function allUsersGram(
  v: Float32Array,
  k: number,
  userBias: Float64Array,
  mean: number,
  missingRating: number,
  userWeight: Float64Array,
): AllUsersGram {
  const d = k + 1;
  const gram = new Float64Array(d * d);
  const rhs = new Float64Array(d);
  const x = new Float64Array(d);
  x[0] = 1;
  let weightSum = 0;
  for (let u = 0; u < userBias.length; u++) {
    const w = userWeight[u];
    if (!(w > 0)) continue;
    weightSum += w;
    for (let f = 0; f < k; f++) x[f + 1] = v[u * k + f];
    const t = w * (missingRating - mean - userBias[u]);
    for (let r = 0; r < d; r++) {
      rhs[r] += x[r] * t;
      const wr = w * x[r];
      for (let c = 0; c <= r; c++) gram[r * d + c] += wr * x[c];
    }
  }
  for (let r = 0; r < d; r++) for (let c = r + 1; c < d; c++) gram[r * d + c] = gram[c * d + r];
  return { gram, rhs, weightSum };
}

/**
 * Fold-in of an item into a ranking head, the mirror of foldInAllRankUser: with the user side
 * fixed, the (b, q) minimising
 *
 *   Σ_{u rated} (t_u − b − v_u·q)² + Σ_{u not rated} w_u (t^m_u − b − v_u·q)²
 *     + (regBias b² + regFactor |q|²) (n + Σ_{u not rated} w_u),
 *
 * the stationary point of the head's SGD for an item rated by n users, where the training user u
 * would have drawn it as an imputed pair w_u times per epoch (see missingWeights). `targets[h]`
 * is the rating of user users[h] minus the head's mean and that user's bias;
 * `missingTargets[h]` the same for the imputed rating. Returns [b, q_0 .. q_{k−1}].
 */
export function foldInAllRankItem(
  users: Int32Array,
  targets: Float64Array,
  missingTargets: Float64Array,
  count: number,
  v: Float32Array,
  k: number,
  all: AllUsersGram,
  userWeight: Float64Array,
  regBias: number,
  regFactor: number,
): Float32Array {
  const d = k + 1;
  const out = new Float32Array(d);
  if (count === 0) return out;
  const a = Float64Array.from(all.gram);
  const b = Float64Array.from(all.rhs);
  let visits = count + all.weightSum;
  const x = new Float64Array(d);
  x[0] = 1;
  for (let h = 0; h < count; h++) {
    const u = users[h];
    const w = userWeight[u];
    visits -= w;
    for (let f = 0; f < k; f++) x[f + 1] = v[u * k + f];
    const rhs = targets[h] - w * missingTargets[h];
    for (let r = 0; r < d; r++) {
      const xr = x[r];
      if (xr === 0) continue;
      b[r] += xr * rhs;
      const row = r * d;
      for (let col = 0; col < d; col++) a[row + col] += (1 - w) * xr * x[col];
    }
  }
  a[0] += Math.max(regBias * visits, 1e-9);
  for (let f = 1; f < d; f++) a[f * d + f] += Math.max(regFactor * visits, 1e-9);
  if (!solveSpd(a, b, d)) return out;
  for (let f = 0; f < d; f++) out[f] = b[f];
  return out;
}
