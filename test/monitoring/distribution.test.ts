import { describe, expect, it } from 'vitest';
import {
  binOf,
  gini,
  histogram,
  log2Bin,
  psi,
  quantileCuts,
  topShare,
} from '../../src/monitoring/distribution.js';

describe('psi', () => {
  it('matches the hand-computed value on two bins', () => {
    // shares e = (0.5, 0.5), a = (0.25, 0.75):
    // (0.25 - 0.5) ln(0.5) + (0.75 - 0.5) ln(1.5) = 0.25 (0.693147 + 0.405465) = 0.274653
    expect(psi([50, 50], [25, 75])).toBeCloseTo(0.274653, 5);
  });

  it('floors empty bins at epsilon', () => {
    // e = (1, 1e-4), a = (0.5, 0.5): (0.5 - 1) ln(0.5) + (0.5 - 1e-4) ln(5000) = 0.346574 + 4.257745
    expect(psi([100, 0], [50, 50])).toBeCloseTo(4.604319, 4);
  });

  it('is zero for proportional counts and for an empty side', () => {
    expect(psi([1, 2, 3], [10, 20, 30])).toBeCloseTo(0, 12);
    expect(psi([1, 2, 3], [0, 0, 0])).toBe(0);
    expect(() => psi([1, 2], [1, 2, 3])).toThrow(RangeError);
  });
});

describe('binning', () => {
  it('cuts at the reference quantiles and bins by cuts <= x', () => {
    const cuts = quantileCuts([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], 4);
    expect([...cuts]).toEqual([3, 6, 8]);
    expect([2, 3, 7, 8, 100].map((x) => binOf(cuts, x))).toEqual([0, 1, 2, 3, 3]);
    expect([...histogram(cuts, [1, 2, 3, 4, 9])]).toEqual([2, 2, 0, 1]);
  });

  it('collapses tied quantiles', () => {
    expect([...quantileCuts([0, 0, 0, 0, 0, 0, 0, 0, 1, 2], 5)]).toEqual([1]);
  });

  it('bins counts on a log2 scale', () => {
    expect([0, 1, 2, 3, 4, 7, 8, 1024].map(log2Bin)).toEqual([0, 1, 2, 2, 3, 3, 4, 11]);
  });
});

describe('concentration', () => {
  it('Gini is 0 for equal counts and (m-1)/m when one entry holds all', () => {
    expect(gini([5, 5, 5, 5])).toBeCloseTo(0, 12);
    expect(gini([0, 0, 0, 4])).toBeCloseTo(0.75, 12);
    // zeros padded up to the catalogue size
    expect(gini([4], 4)).toBeCloseTo(0.75, 12);
    // [1, 3]: 2 (1·1 + 2·3) / (2 · 4) - 3/2 = 0.25
    expect(gini([3, 1])).toBeCloseTo(0.25, 12);
  });

  it('top share takes the largest ceil(fraction · size) entries', () => {
    expect(topShare([1, 2, 3, 94], 0.25)).toBeCloseTo(0.94, 12);
    expect(topShare([1, 2, 3, 94], 0.5)).toBeCloseTo(0.97, 12);
    expect(topShare([20, 50, 30], 0.01, 100)).toBeCloseTo(0.5, 12);
    expect(topShare([20, 50, 30], 0.01, 200)).toBeCloseTo(0.8, 12);
  });
});
