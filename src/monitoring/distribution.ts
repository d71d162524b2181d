/**
 * Distribution statistics for drift checks: population stability index over binned counts,
 * quantile and log2 binning, and concentration (Gini coefficient, top-share) of counts.
 */

/** Floor of a bin's share in `psi`, so that an empty bin costs a bounded amount. */
export const PSI_EPSILON = 1e-4;

/**
 * Population stability index between two binned distributions given as counts (or shares):
 * PSI = Σ (a_i - e_i) · ln(a_i / e_i) over the shares e (expected, reference) and a (actual,
 * live), each share floored at `epsilon`. 0 means identical; by convention < 0.1 is stable,
 * 0.1 .. 0.25 a moderate shift, > 0.25 a major shift. Returns 0 when either side is empty.
 */
export function psi(expected: ArrayLike<number>, actual: ArrayLike<number>, epsilon = PSI_EPSILON): number {
  if (expected.length !== actual.length) {
    throw new RangeError(`psi: ${expected.length} expected bins but ${actual.length} actual bins`);
  }
  let te = 0;
  let ta = 0;
  for (let i = 0; i < expected.length; i++) {
    te += expected[i];
    ta += actual[i];
  }
  if (!(te > 0) || !(ta > 0)) return 0;
  let sum = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i] / te, epsilon);
    const a = Math.max(actual[i] / ta, epsilon);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}

/**
 * Cut points splitting `values` into `bins` bins of about equal counts (the reference's
 * quantiles), strictly increasing: ties collapse bins, so fewer cuts may come back.
 * Bin b of x is the number of cuts <= x (see `binOf`), so there are cuts.length + 1 bins.
 */
export function quantileCuts(values: ArrayLike<number>, bins: number): Float64Array {
  const sorted = Float64Array.from(values).filter((v) => Number.isFinite(v));
  sorted.sort();
  const n = sorted.length;
  if (n === 0 || bins < 2) return new Float64Array(0);
  const cuts: number[] = [];
  for (let b = 1; b < bins; b++) {
    const c = sorted[Math.min(n - 1, Math.floor((b * n) / bins))];
    if (c > sorted[0] && (cuts.length === 0 || c > cuts[cuts.length - 1])) cuts.push(c);
  }
  return Float64Array.from(cuts);
}

/** Bin of `x` under ascending `cuts`: how many cuts are <= x (0 .. cuts.length). */
export function binOf(cuts: Float64Array, x: number): number {
  let lo = 0;
  let hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cuts[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Histogram of `values` over `cuts` (cuts.length + 1 bins). */
export function histogram(cuts: Float64Array, values: ArrayLike<number>): Float64Array {
  const h = new Float64Array(cuts.length + 1);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) h[binOf(cuts, v)]++;
  }
  return h;
}

/** Bins of `log2Bin`: 0 for counts <= 0, then 1 + floor(log2(count)), capped. */
export const LOG2_BINS = 32;

/** Log-scale bin of a count: 0 → 0, 1 → 1, 2..3 → 2, 4..7 → 3, ..., capped at LOG2_BINS - 1. */
export function log2Bin(count: number): number {
  if (!(count >= 1)) return 0;
  return Math.min(LOG2_BINS - 1, 1 + Math.floor(Math.log2(count)));
}

/**
 * Gini coefficient of non-negative counts, padded with zeros up to `size` entries (items
 * never interacted with count as zeros): 0 when all are equal, → 1 when one entry holds all.
 */
export function gini(counts: ArrayLike<number>, size = counts.length): number {
  const m = Math.max(size, counts.length);
  const sorted = Float64Array.from(counts);
  sorted.sort();
  const zeros = m - sorted.length;
  let total = 0;
  let weighted = 0;
  for (let i = 0; i < sorted.length; i++) {
    total += sorted[i];
    weighted += (zeros + i + 1) * sorted[i];
  }
  if (!(total > 0) || m === 0) return 0;
  return (2 * weighted) / (m * total) - (m + 1) / m;
}

/** Share of the total held by the largest ceil(fraction · size) entries (zeros padded to size). */
export function topShare(counts: ArrayLike<number>, fraction: number, size = counts.length): number {
  const m = Math.max(size, counts.length);
  const k = Math.max(1, Math.ceil(fraction * m));
  const sorted = Float64Array.from(counts);
  sorted.sort();
  let total = 0;
  for (let i = 0; i < sorted.length; i++) total += sorted[i];
  if (!(total > 0)) return 0;
  let top = 0;
  for (let i = sorted.length - 1; i >= 0 && i >= sorted.length - k; i--) top += sorted[i];
  return top / total;
}
