import { describe, expect, it } from 'vitest';
import { CumulativeSampler, Rng } from '../../src/ingest/prng.js';

describe('Rng', () => {
  it('repeats a sequence for a seed and stays in [0, 1)', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(new Rng(43).next()).not.toBe(xs[0]);
  });

  it('has a plausible mean, variance and normal distribution', () => {
    const rng = new Rng(1);
    const n = 100_000;
    let sum = 0;
    let sq = 0;
    let normalSum = 0;
    let normalSq = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.next();
      sum += x;
      sq += x * x;
      const z = rng.normal();
      normalSum += z;
      normalSq += z * z;
    }
    expect(sum / n).toBeCloseTo(0.5, 2);
    expect(sq / n - (sum / n) ** 2).toBeCloseTo(1 / 12, 2);
    expect(normalSum / n).toBeCloseTo(0, 1);
    expect(normalSq / n).toBeCloseTo(1, 1);
  });

  it('draws integers, samples and shuffles', () => {
    const rng = new Rng(9);
    const ints = new Set(Array.from({ length: 500 }, () => rng.range(3, 6)));
    expect([...ints].sort()).toEqual([3, 4, 5, 6]);
    const sample = rng.sample(10, 4);
    expect(sample.length).toBe(4);
    expect(new Set(sample).size).toBe(4);
    const shuffled = rng.shuffle([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...shuffled].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('draws weighted indices in proportion', () => {
    const rng = new Rng(5);
    const sampler = new CumulativeSampler([1, 0, 3]);
    const counts = [0, 0, 0];
    for (let i = 0; i < 40_000; i++) counts[sampler.draw(rng)]++;
    expect(counts[1]).toBe(0);
    expect(counts[2] / counts[0]).toBeCloseTo(3, 0);
    const direct = [0, 0, 0];
    for (let i = 0; i < 40_000; i++) direct[rng.weighted([1, 0, 3])]++;
    expect(direct[1]).toBe(0);
    expect(direct[2] / direct[0]).toBeCloseTo(3, 0);
  });
});
