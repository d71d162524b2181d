/**
 * Confidence intervals and paired significance tests over per-user metric values.
 *
 * - Intervals: seeded percentile bootstrap over users (resample users with replacement, take the
 *   mean of each resample, read the α/2 and 1 − α/2 quantiles of those means).
 * - Paired tests between two models measured on the same users: paired t-test, Wilcoxon
 *   signed-rank (normal approximation, tie and zero handling) and a sign-flip permutation test.
 *
 * Non-finite values (NaN: metric undefined for a user) are left out; in paired functions the pair
 * is left out when either side is not finite. docs/metrics.md describes every method.
 */
import jStat from 'jstat';
import { Rng } from '../ingest/prng.js';
import type { Comparison, MetricSummary } from './experiment-result.js';

export interface BootstrapOptions {
  /** Number of bootstrap resamples (default 1000). */
  resamples?: number;
  /** Confidence level of the interval, in (0, 1) (default 0.95). */
  confidence?: number;
  /** Seed of the resampling (default 1): the same inputs and seed give the same interval. */
  seed?: number;
}

const DEFAULT_RESAMPLES = 1000;
const DEFAULT_CONFIDENCE = 0.95;
const DEFAULT_SEED = 1;

function resolve(options: BootstrapOptions): { resamples: number; confidence: number; seed: number } {
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const confidence = options.confidence ?? DEFAULT_CONFIDENCE;
  if (!Number.isInteger(resamples) || resamples < 1) throw new RangeError(`resamples must be an integer ≥ 1`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must lie in (0, 1)`);
  return { resamples, confidence, seed: options.seed ?? DEFAULT_SEED };
}

/** The finite values, in order. */
function finite(values: ArrayLike<number>): Float64Array {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) n++;
  const out = new Float64Array(n);
  let o = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) out[o++] = values[i];
  return out;
}

function meanOf(values: Float64Array): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return values.length > 0 ? s / values.length : NaN;
}

/** Quantile of ascending `sorted` with linear interpolation between order statistics (type 7). */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** A summary whose interval is the value itself (for figures that cannot be resampled). */
export function pointSummary(value: number): MetricSummary {
  return { mean: value, low: value, high: value };
}

/**
 * Percentile bootstrap confidence interval of the mean of `values` (one value per user).
 * With no finite value every field is NaN; with one, the interval is the value.
 */
export function bootstrapCi(values: ArrayLike<number>, options: BootstrapOptions = {}): MetricSummary {
  const { resamples, confidence, seed } = resolve(options);
  const x = finite(values);
  const n = x.length;
  const mean = meanOf(x);
  if (n < 2) return pointSummary(mean);
  const rng = new Rng(seed);
  const means = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[rng.int(n)];
    means[b] = s / n;
  }
  return percentileInterval(mean, means, confidence);
}

function percentileInterval(mean: number, stats: Float64Array, confidence: number): MetricSummary {
  stats.sort();
  const alpha = 1 - confidence;
  return { mean, low: quantileSorted(stats, alpha / 2), high: quantileSorted(stats, 1 - alpha / 2) };
}

export interface RatioOptions extends BootstrapOptions {
  /** Applied to the ratio (e.g. Math.sqrt for an RMSE from squared-error sums). */
  transform?: (x: number) => number;
}

/**
 * Bootstrap interval of transform(Σ numerators / Σ denominators) resampling users, i.e. entries
 * (e.g. RMSE over rows from per-user squared-error sums and row counts: all of a user's rows stay
 * together). Entries with a non-finite numerator or denominator, or a zero denominator, are left out.
 */
export function bootstrapRatioCi(
  numerators: ArrayLike<number>,
  denominators: ArrayLike<number>,
  options: RatioOptions = {},
): MetricSummary {
  if (numerators.length !== denominators.length)
    throw new RangeError('numerators and denominators differ in length');
  const { resamples, confidence, seed } = resolve(options);
  const f = options.transform ?? ((x: number) => x);
  const num: number[] = [];
  const den: number[] = [];
  for (let i = 0; i < numerators.length; i++) {
    if (Number.isFinite(numerators[i]) && Number.isFinite(denominators[i]) && denominators[i] !== 0) {
      num.push(numerators[i]);
      den.push(denominators[i]);
    }
  }
  const n = num.length;
  let sn = 0;
  let sd = 0;
  for (let i = 0; i < n; i++) {
    sn += num[i];
    sd += den[i];
  }
  const value = n > 0 ? f(sn / sd) : NaN;
  if (n < 2) return pointSummary(value);
  const rng = new Rng(seed);
  const stats = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let a = 0;
    let c = 0;
    for (let i = 0; i < n; i++) {
      const j = rng.int(n);
      a += num[j];
      c += den[j];
    }
    stats[b] = f(a / c);
  }
  return percentileInterval(value, stats, confidence);
}

/** a − b for the pairs where both are finite. */
export function pairedDifferences(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  if (a.length !== b.length)
    throw new RangeError(`paired values differ in length (${a.length} and ${b.length})`);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i]) && Number.isFinite(b[i])) n++;
  const d = new Float64Array(n);
  let o = 0;
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i]) && Number.isFinite(b[i])) d[o++] = a[i] - b[i];
  return d;
}

export interface PairedInterval {
  /** Mean of a − b over the pairs. */
  meanDifference: number;
  low: number;
  high: number;
  pairs: number;
}

/** Paired percentile bootstrap interval of the mean difference a − b (users resampled as pairs). */
export function pairedBootstrapCi(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: BootstrapOptions = {},
): PairedInterval {
  const d = pairedDifferences(a, b);
  const s = bootstrapCi(d, options);
  return { meanDifference: s.mean, low: s.low, high: s.high, pairs: d.length };
}

export interface TestResult {
  /** Test name as it appears in Comparison.test. */
  test: string;
  /** The test statistic (t, z, or the observed sum of differences for the sign-flip test). */
  statistic: number;
  /** Two-sided p-value; NaN when the test cannot be computed (fewer than two pairs). */
  pValue: number;
  /** Pairs used (finite on both sides). */
  pairs: number;
}

/**
 * Paired t-test of mean(a − b) = 0: t = mean(d) / (sd(d) / √n) with n − 1 degrees of freedom,
 * two-sided p from Student's t distribution. All differences equal: p = 1 if they are 0, else 0.
 */
export function pairedTTest(a: ArrayLike<number>, b: ArrayLike<number>): TestResult & { df: number } {
  const d = pairedDifferences(a, b);
  const n = d.length;
  const df = n - 1;
  if (n < 2) return { test: 'paired t-test', statistic: NaN, pValue: NaN, pairs: n, df };
  const m = meanOf(d);
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (d[i] - m) * (d[i] - m);
  const sd = Math.sqrt(ss / df);
  if (!(sd > 1e-15 * Math.max(1, Math.abs(m)))) {
    const same = m === 0;
    return {
      test: 'paired t-test',
      statistic: same ? 0 : Math.sign(m) * Infinity,
      pValue: same ? 1 : 0,
      pairs: n,
      df,
    };
  }
  const t = m / (sd / Math.sqrt(n));
  const p = Math.min(1, 2 * jStat.studentt.cdf(-Math.abs(t), df));
  return { test: 'paired t-test', statistic: t, pValue: p, pairs: n, df };
}

export interface WilcoxonOptions {
  /**
   * Zero differences: `wilcox` (default) drops them before ranking; `pratt` ranks them with the
   * others, then gives their ranks to neither side (Cureton's adjusted normal approximation).
   */
  zeroMethod?: 'wilcox' | 'pratt';
  /** Continuity correction of 1/2 towards the mean (default true, as R's wilcox.test). */
  continuity?: boolean;
}

/** Relative tolerance under which absolute differences are tied, or a difference is zero. */
const TIE_TOLERANCE = 1e-10;

/**
 * Wilcoxon signed-rank test with the normal approximation: ranks of |a − b| (ties get their mean
 * rank), W+ the sum of ranks of positive differences, z = (W+ − E) / sd with the tie correction
 * Σ(t³ − t)/48 on the variance, two-sided p = 2 Φ(−|z|). Differences within floating-point noise
 * (relative 1e-10) are tied, or zero.
 */
export function wilcoxonSignedRank(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: WilcoxonOptions = {},
): TestResult & { z: number; wPlus: number } {
  const zeroMethod = options.zeroMethod ?? 'wilcox';
  const continuity = options.continuity ?? true;
  const test = `Wilcoxon signed-rank (${zeroMethod}${continuity ? ', continuity' : ''})`;
  if (a.length !== b.length)
    throw new RangeError(`paired values differ in length (${a.length} and ${b.length})`);
  const diffs: number[] = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    const d = x - y;
    diffs.push(Math.abs(d) <= TIE_TOLERANCE * Math.max(Math.abs(x), Math.abs(y)) ? 0 : d);
  }
  const pairs = diffs.length;
  const d = zeroMethod === 'wilcox' ? diffs.filter((v) => v !== 0) : diffs;
  const n = d.length;
  const zeros = zeroMethod === 'pratt' ? d.reduce((c, v) => c + (v === 0 ? 1 : 0), 0) : 0;
  if (pairs < 2) return { test, statistic: NaN, z: NaN, wPlus: 0, pValue: NaN, pairs };
  // Every difference zero: no evidence either way.
  if (n - zeros < 1) return { test, statistic: 0, z: 0, wPlus: 0, pValue: 1, pairs };

  // Mean ranks of |d|, ascending; values within the tolerance form one tie group.
  const order = Array.from(d.keys()).sort((i, j) => Math.abs(d[i]) - Math.abs(d[j]));
  let wPlus = 0;
  let tieTerm = 0;
  for (let start = 0; start < n;) {
    let end = start + 1;
    const base = Math.abs(d[order[start]]);
    while (end < n && Math.abs(d[order[end]]) - base <= TIE_TOLERANCE * Math.abs(d[order[end]])) end++;
    const rank = (start + 1 + end) / 2;
    const t = end - start;
    const zeroGroup = base === 0;
    if (!zeroGroup && t > 1) tieTerm += t * t * t - t;
    for (let p = start; p < end; p++) if (d[order[p]] > 0) wPlus += rank;
    start = end;
  }
  let mean = (n * (n + 1)) / 4;
  let variance = (n * (n + 1) * (2 * n + 1)) / 24;
  if (zeros > 0) {
    mean -= (zeros * (zeros + 1)) / 4;
    variance -= (zeros * (zeros + 1) * (2 * zeros + 1)) / 24;
  }
  variance -= tieTerm / 48;
  const sd = Math.sqrt(variance);
  const gap = wPlus - mean;
  const corrected = continuity ? gap - 0.5 * Math.sign(gap) : gap;
  const z = sd > 0 ? corrected / sd : 0;
  const p = Math.min(1, 2 * normalUpperTail(Math.abs(z)));
  return { test, statistic: z, z, wPlus, pValue: p, pairs };
}

/**
 * P(Z > z) for a standard normal Z. jStat's cdf underflows to 0 beyond z ≈ 8; past z = 5 the
 * tail comes from the Chebyshev fit of erfc (Numerical Recipes' erfcc, relative error < 1.2e-7).
 */
function normalUpperTail(z: number): number {
  if (z < 5) return jStat.normal.cdf(-z, 0, 1);
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const poly =
    -x * x -
    1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return 0.5 * t * Math.exp(poly);
}

export interface SignFlipOptions {
  /** Random sign flips when the pairs are too many to enumerate (default 10,000). */
  permutations?: number;
  /** Largest number of non-zero differences whose 2^n sign patterns are all enumerated (default 16). */
  exactUpTo?: number;
  seed?: number;
}

/**
 * Sign-flip permutation test of mean(a − b) = 0: under the null every difference is as likely
 * positive as negative, so the p-value is the share of sign patterns whose |Σ ±dᵢ| reaches the
 * observed |Σ dᵢ|. Exact over all 2^n patterns for small n (zero differences change nothing and
 * are not enumerated); otherwise Monte Carlo, p = (1 + hits) / (1 + permutations).
 */
export function signFlipTest(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: SignFlipOptions = {},
): TestResult & { exact: boolean } {
  const all = pairedDifferences(a, b);
  const pairs = all.length;
  const d = all.filter((v) => v !== 0);
  const n = d.length;
  let observed = 0;
  let scale = 0;
  for (let i = 0; i < n; i++) {
    observed += d[i];
    scale += Math.abs(d[i]);
  }
  const target = Math.abs(observed) - 1e-12 * scale;
  if (pairs < 2)
    return { test: 'sign-flip permutation', statistic: observed, pValue: NaN, pairs, exact: true };
  if (n === 0) return { test: 'sign-flip permutation', statistic: 0, pValue: 1, pairs, exact: true };
  const exactUpTo = Math.min(options.exactUpTo ?? 16, 24);
  if (n <= exactUpTo) {
    let hits = 0;
    const total = 2 ** n;
    for (let mask = 0; mask < total; mask++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += mask & (1 << i) ? -d[i] : d[i];
      if (Math.abs(s) >= target) hits++;
    }
    return {
      test: 'sign-flip permutation (exact)',
      statistic: observed,
      pValue: hits / total,
      pairs,
      exact: true,
    };
  }
  const permutations = options.permutations ?? 10_000;
  const rng = new Rng(options.seed ?? DEFAULT_SEED);
  let hits = 0;
  for (let p = 0; p < permutations; p++) {
    let s = 0;
    let bits = 0;
    for (let i = 0; i < n; i++) {
      if ((i & 31) === 0) bits = (rng.next() * 4294967296) >>> 0;
      s += bits & 1 ? -d[i] : d[i];
      bits >>>= 1;
    }
    if (Math.abs(s) >= target) hits++;
  }
  return {
    test: `sign-flip permutation (${permutations} draws)`,
    statistic: observed,
    pValue: (1 + hits) / (1 + permutations),
    pairs,
    exact: false,
  };
}

export type PairedTestName = 't' | 'wilcoxon' | 'permutation';

export interface CompareOptions extends BootstrapOptions {
  /** Which test gives the p-value (default `t`). */
  test?: PairedTestName;
  wilcoxon?: WilcoxonOptions;
  permutations?: number;
}

/**
 * Everything a Comparison needs about models a and b on the same users: the mean difference
 * a − b, its paired bootstrap interval and the p-value of the chosen test.
 */
export function comparePaired(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: CompareOptions = {},
): Omit<Comparison, 'a' | 'b' | 'metric' | 'k'> {
  const interval = pairedBootstrapCi(a, b, options);
  const which = options.test ?? 't';
  const result =
    which === 't'
      ? pairedTTest(a, b)
      : which === 'wilcoxon'
        ? wilcoxonSignedRank(a, b, options.wilcoxon)
        : signFlipTest(a, b, { permutations: options.permutations, seed: options.seed });
  return {
    meanDifference: interval.meanDifference,
    low: interval.low,
    high: interval.high,
    pValue: result.pValue,
    test: result.test,
    pairs: interval.pairs,
  };
}

/**
 * Holm's step-down adjustment of p-values for testing several hypotheses at once (controls the
 * family-wise error rate); NaN entries stay NaN and do not count as hypotheses.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const idx = pValues.map((_, i) => i).filter((i) => !Number.isNaN(pValues[i]));
  idx.sort((i, j) => pValues[i] - pValues[j]);
  const out = pValues.slice();
  const m = idx.length;
  let running = 0;
  for (let r = 0; r < m; r++) {
    running = Math.max(running, Math.min(1, (m - r) * pValues[idx[r]]));
    out[idx[r]] = running;
  }
  return out;
}

/**
 * Aligns two per-user arrays by user id for pairing: the k-th occurrence of a user in `usersA`
 * is matched with the k-th occurrence in `usersB` (a user appears once per fold); unmatched
 * users are dropped. Returns the paired values in the order of `usersA`.
 */
export function alignByUser(
  usersA: readonly string[],
  valuesA: ArrayLike<number>,
  usersB: readonly string[],
  valuesB: ArrayLike<number>,
): { users: string[]; a: Float64Array; b: Float64Array } {
  const positions = new Map<string, number[]>();
  for (let i = 0; i < usersB.length; i++) {
    const list = positions.get(usersB[i]);
    if (list) list.push(i);
    else positions.set(usersB[i], [i]);
  }
  const used = new Map<string, number>();
  const users: string[] = [];
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < usersA.length; i++) {
    const u = usersA[i];
    const k = used.get(u) ?? 0;
    const list = positions.get(u);
    if (!list || k >= list.length) continue;
    used.set(u, k + 1);
    users.push(u);
    a.push(valuesA[i]);
    b.push(valuesB[list[k]]);
  }
  return { users, a: Float64Array.from(a), b: Float64Array.from(b) };
}
