import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/ingest/prng.js';
import {
  alignByUser,
  bootstrapCi,
  bootstrapRatioCi,
  comparePaired,
  holmAdjust,
  pairedBootstrapCi,
  pairedTTest,
  quantileSorted,
  signFlipTest,
  wilcoxonSignedRank,
} from '../../src/eval/statistics.js';

/**
 * Student's sleep data (Cushny & Peebles, as in R's `sleep`): extra hours of sleep of 10 patients
 * under two drugs. Differences g1 − g2: −1.2, −2.4, −1.3, −1.3, 0, −1.0, −1.8, −0.8, −4.6, −1.4.
 */
const g1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
const g2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];

function normalValues(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => 0.3 + 0.1 * rng.normal());
}

describe('bootstrap intervals', () => {
  it('contain the mean and narrow with more users', () => {
    const small = bootstrapCi(normalValues(50, 1));
    const large = bootstrapCi(normalValues(5000, 1));
    for (const s of [small, large]) {
      expect(s.low).toBeLessThan(s.mean);
      expect(s.high).toBeGreaterThan(s.mean);
    }
    // The width shrinks like 1/√n: 100 times the users, about a tenth of the width.
    const ratio = (large.high - large.low) / (small.high - small.low);
    expect(ratio).toBeGreaterThan(0.05);
    expect(ratio).toBeLessThan(0.2);
    // About ±1.96 · 0.1 / √5000 = ±0.0028 around the mean.
    expect(large.high - large.low).toBeCloseTo(2 * 1.96 * 0.1 * Math.sqrt(1 / 5000), 3);
  });

  it('is seeded and narrows with a lower confidence', () => {
    const x = normalValues(200, 2);
    expect(bootstrapCi(x, { seed: 5 })).toEqual(bootstrapCi(x, { seed: 5 }));
    const c95 = bootstrapCi(x);
    const c80 = bootstrapCi(x, { confidence: 0.8 });
    expect(c80.high - c80.low).toBeLessThan(c95.high - c95.low);
  });

  it('skips NaN, and degenerates to the value for one user or constant values', () => {
    expect(bootstrapCi([1, NaN, 3], { resamples: 50 }).mean).toBe(2);
    expect(bootstrapCi([0.4])).toEqual({ mean: 0.4, low: 0.4, high: 0.4 });
    expect(bootstrapCi([2, 2, 2])).toEqual({ mean: 2, low: 2, high: 2 });
    const none = bootstrapCi([]);
    expect(none.mean).toBeNaN();
    expect(() => bootstrapCi([1, 2], { confidence: 1 })).toThrow(RangeError);
  });

  it('quantiles interpolate between order statistics', () => {
    // [1, 2, 3, 4]: position (4 − 1) · 0.25 = 0.75 → 1.75; median 2.5.
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
  });

  it('ratio intervals resample users and recompute the pooled statistic', () => {
    // Squared-error sums and row counts of 3 users: pooled RMSE = √((4 + 9 + 1) / (2 + 3 + 1)).
    const s = bootstrapRatioCi([4, 9, 1], [2, 3, 1], { transform: Math.sqrt });
    expect(s.mean).toBeCloseTo(Math.sqrt(14 / 6), 12);
    // Every resample's ratio lies between the smallest and the largest per-user ratio (1 and 3).
    expect(s.low).toBeGreaterThanOrEqual(1);
    expect(s.high).toBeLessThanOrEqual(Math.sqrt(3));
    expect(s.low).toBeLessThan(s.mean);
  });

  it('the paired interval is the interval of the differences', () => {
    const p = pairedBootstrapCi(g1, g2);
    // Mean difference −15.8 / 10 = −1.58, entirely below 0.
    expect(p.meanDifference).toBeCloseTo(-1.58, 12);
    expect(p.pairs).toBe(10);
    expect(p.high).toBeLessThan(0);
    expect(p.low).toBeLessThan(p.meanDifference);
  });
});

describe('paired t-test', () => {
  it("matches Student's sleep data (R: t = -4.0621, df = 9, p-value = 0.002833)", () => {
    // d̄ = −1.58, sd(d) = 1.229995, t = −1.58 / (1.229995 / √10) = −4.062128.
    const r = pairedTTest(g1, g2);
    expect(r.statistic).toBeCloseTo(-4.062128, 5);
    expect(r.df).toBe(9);
    expect(r.pValue).toBeCloseTo(0.00283289, 7);
    expect(r.pairs).toBe(10);
  });

  it('handles constant differences and too few pairs', () => {
    expect(pairedTTest([1, 2, 3], [1, 2, 3]).pValue).toBe(1);
    expect(pairedTTest([2, 3, 4], [1, 2, 3]).pValue).toBe(0);
    expect(pairedTTest([1], [0]).pValue).toBeNaN();
    // NaN pairs are dropped: only (1, 0), (3, 1), (2, 2) remain.
    expect(pairedTTest([1, NaN, 3, 2], [0, 5, 1, 2]).pairs).toBe(3);
  });
});

describe('Wilcoxon signed-rank test', () => {
  // Zeros dropped (wilcox): |d| of the 9 non-zero differences ascending: 0.8, 1.0, 1.2, 1.3, 1.3,
  // 1.4, 1.8, 2.4, 4.6 → ranks 1, 2, 3, 4.5, 4.5, 6, 7, 8, 9; all differences negative: W+ = 0.
  // E[W+] = 9 · 10 / 4 = 22.5; Var = 9 · 10 · 19 / 24 − (2³ − 2) / 48 = 71.125 (sd 8.433564).
  // With continuity: z = (0 − 22.5 + 0.5) / 8.433564 = −2.608624, p = 2 Φ(−|z|) = 0.009091
  // (R: wilcox.test(g1, g2, paired = TRUE) gives V = 0, p-value = 0.009091).
  it('on the sleep data with continuity correction', () => {
    const r = wilcoxonSignedRank(g1, g2);
    expect(r.wPlus).toBe(0);
    expect(r.z).toBeCloseTo(-2.608624, 5);
    expect(r.pValue).toBeCloseTo(0.0090907, 6);
  });

  it('without continuity correction, and with zeros ranked (Pratt)', () => {
    // z = −22.5 / 8.433564 = −2.667911, p = 0.007632 (scipy.stats.wilcoxon, correction=False).
    expect(wilcoxonSignedRank(g1, g2, { continuity: false }).pValue).toBeCloseTo(0.0076324, 6);
    // Pratt: n = 10 with the zero ranked 1; E = 10·11/4 − 1·2/4 = 27;
    // Var = (10·11·21 − 1·2·3)/24 − (2³ − 2)/48 = 95.875; z = −27 / 9.791578 = −2.757472, p = 0.005825.
    const pratt = wilcoxonSignedRank(g1, g2, { zeroMethod: 'pratt', continuity: false });
    expect(pratt.z).toBeCloseTo(-2.757472, 5);
    expect(pratt.pValue).toBeCloseTo(0.005825, 6);
  });

  it('keeps p-values far in the tail (no underflow to 0)', () => {
    // 400 positive differences 1, 1.01, ..., 4.99: W+ = 400 · 401 / 2 = 80200, z = 17.331100,
    // p = 2.740347e-67 (scipy.stats.wilcoxon(a, 0, correction=True, method='approx')).
    const a = Array.from({ length: 400 }, (_, i) => 1 + i * 0.01);
    const r = wilcoxonSignedRank(a, new Array<number>(400).fill(0));
    expect(r.wPlus).toBe(80200);
    expect(r.pValue / 2.740347e-67).toBeCloseTo(1, 5);
  });

  it('is symmetric in a and b, and gives 1 when nothing differs', () => {
    expect(wilcoxonSignedRank(g2, g1).pValue).toBeCloseTo(wilcoxonSignedRank(g1, g2).pValue, 12);
    expect(wilcoxonSignedRank([1, 2, 3], [1, 2, 3]).pValue).toBe(1);
  });
});

describe('sign-flip permutation test', () => {
  it('exact on the sleep data: only the two all-same-sign patterns reach |Σd| = 15.8', () => {
    // 9 non-zero differences, all negative: |Σ ±dᵢ| = 15.8 only when every sign agrees, 2 of 2⁹.
    const r = signFlipTest(g1, g2);
    expect(r.exact).toBe(true);
    expect(r.pValue).toBe(2 / 512);
    expect(r.statistic).toBeCloseTo(-15.8, 12);
  });

  it('a small exact case by hand', () => {
    // d = (1, 2, −3): sums of the 8 sign patterns ±1 ±2 ±3 are 6, 0, 2, −4, 4, −2, 0, −6; the
    // observed sum is 0, so every pattern reaches it: p = 1. With d = (1, 2, 3): |Σ| ≥ 6 in 2 of 8.
    expect(signFlipTest([1, 2, -3], [0, 0, 0]).pValue).toBe(1);
    expect(signFlipTest([1, 2, 3], [0, 0, 0]).pValue).toBe(0.25);
  });

  it('Monte Carlo agrees with the exact value', () => {
    const r = signFlipTest(g1, g2, { exactUpTo: 0, permutations: 20_000, seed: 3 });
    expect(r.exact).toBe(false);
    expect(Math.abs(r.pValue - 2 / 512)).toBeLessThan(0.0015);
  });
});

describe('comparisons', () => {
  it('comparePaired fills a Comparison', () => {
    const c = comparePaired(g1, g2, { test: 'wilcoxon' });
    expect(c.meanDifference).toBeCloseTo(-1.58, 12);
    expect(c.pairs).toBe(10);
    expect(c.test).toMatch(/Wilcoxon/);
    expect(c.pValue).toBeCloseTo(0.0090907, 6);
    expect(c.low).toBeLessThan(c.high);
    expect(comparePaired(g1, g2).pValue).toBeCloseTo(0.00283289, 7);
    expect(comparePaired(g1, g2, { test: 'permutation' }).pValue).toBe(2 / 512);
  });

  it('on equal models the t-test p-value is spread, not small', () => {
    // Two noisy measurements of the same model: p-values of 200 trials are roughly uniform.
    let below = 0;
    for (let t = 0; t < 200; t++) {
      const a = normalValues(100, 1000 + t);
      const b = normalValues(100, 5000 + t);
      if (pairedTTest(a, b).pValue < 0.05) below++;
    }
    expect(below).toBeLessThan(25); // expected 10
  });

  it("Holm's adjustment", () => {
    // Sorted 0.01, 0.03, 0.04: 3 · 0.01 = 0.03; 2 · 0.03 = 0.06; max(0.06, 1 · 0.04) = 0.06.
    const adj = holmAdjust([0.01, 0.04, 0.03, NaN]);
    expect(adj[0]).toBeCloseTo(0.03, 12);
    expect(adj[1]).toBeCloseTo(0.06, 12);
    expect(adj[2]).toBeCloseTo(0.06, 12);
    expect(adj[3]).toBeNaN();
  });

  it('alignByUser pairs the k-th occurrence of each user', () => {
    const r = alignByUser(['u1', 'u2', 'u1', 'u3'], [1, 2, 3, 4], ['u2', 'u1', 'u1'], [20, 10, 30]);
    expect(r.users).toEqual(['u1', 'u2', 'u1']);
    expect(Array.from(r.a)).toEqual([1, 2, 3]);
    expect(Array.from(r.b)).toEqual([10, 20, 30]);
  });
});
