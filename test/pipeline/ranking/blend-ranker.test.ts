import { describe, expect, it } from 'vitest';
import { BlendRanker } from '../../../src/pipeline/ranking/blend-ranker.js';
import { DAY, T0, makeCatalog, makeContext, makeSet, orderByScore, rng } from './fixtures.js';

const N = 40;
const catalog = makeCatalog(
  Array.from({ length: N }, (_, i) => ({ id: `i${i}`, categories: [`c${i % 4}`] })),
);
const ctx = makeContext();

/** Source 0 ("als") scores items 0..29 descending; source 1 ("knn") proposes 10..39 in reverse. */
function twoSources() {
  const entries = [];
  for (let i = 0; i < N; i++) {
    entries.push({ item: i, scores: [i < 30 ? 100 - i : null, i >= 10 ? i : null] });
  }
  return makeSet(N, 2, entries);
}

describe('BlendRanker', () => {
  it('keeps the primary source order and slots the others in below its head', () => {
    const set = twoSources();
    new BlendRanker(catalog, { sources: ['als', 'knn'], primary: 'als' }).rank(ctx, set);
    const order = orderByScore(set).map((j) => set.items[j]);
    const primaryItems = order.filter((i) => i < 30);
    expect(primaryItems).toEqual(Array.from({ length: 30 }, (_, i) => i));
    // The head of the list is the primary's head.
    expect(order.slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    // knn-only items (30..39) follow knn's order among themselves.
    expect(order.filter((i) => i >= 30)).toEqual([39, 38, 37, 36, 35, 34, 33, 32, 31, 30]);
  });

  it('keeps the primary order even when another source weighs far more', () => {
    const set = twoSources();
    new BlendRanker(catalog, { sources: ['als', 'knn'], primary: 'als', weights: { knn: 10 } }).rank(
      ctx,
      set,
    );
    const order = orderByScore(set).map((j) => set.items[j]);
    expect(order.filter((i) => i < 30)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    // ... and then the heavy source's own items come first.
    expect(order[0]).toBe(39);
  });

  it('fuses freely without a primary or when told not to keep its order', () => {
    const set = twoSources();
    new BlendRanker(catalog, {
      sources: ['als', 'knn'],
      primary: 'als',
      keepPrimaryOrder: false,
      weights: { knn: 10 },
    }).rank(ctx, set);
    const order = orderByScore(set).map((j) => set.items[j]);
    expect(order[0]).toBe(39);
    expect(order.indexOf(29)).toBeLessThan(order.indexOf(0));
  });

  it('computes reciprocal-rank fusion by hand', () => {
    // a: ranks 0, 1; b: item 1 rank 0, item 2 rank 1.
    const set = makeSet(N, 2, [
      { item: 0, scores: [2, null] },
      { item: 1, scores: [1, 5] },
      { item: 2, scores: [null, 4] },
    ]);
    new BlendRanker(catalog, { sources: ['a', 'b'], weights: { b: 2 }, recencyWeight: 0 }).rank(ctx, set);
    expect(set.score[0]).toBeCloseTo(1, 6);
    expect(set.score[1]).toBeCloseTo(61 / 62 + 2, 6);
    expect(set.score[2]).toBeCloseTo((2 * 61) / 62, 6);
  });

  it('computes min-max fusion by hand and skips removed candidates', () => {
    const set = makeSet(N, 1, [
      { item: 0, scores: [10] },
      { item: 1, scores: [4] },
      { item: 2, scores: [0] },
      { item: 3, scores: [100] },
    ]);
    set.removed[3] = 1;
    new BlendRanker(catalog, { sources: ['a'], method: 'minmax', recencyWeight: 0 }).rank(ctx, set);
    expect(set.score[0]).toBeCloseTo(1);
    expect(set.score[1]).toBeCloseTo(0.4);
    expect(set.score[2]).toBeCloseTo(0);
    expect(Number.isNaN(set.score[3])).toBe(true);
  });

  it('breaks ties with the popularity and recency priors', () => {
    const cat = makeCatalog([
      { id: 'old', publishedAt: T0 - 300 * DAY },
      { id: 'new', publishedAt: T0 - DAY },
      { id: 'x' },
    ]);
    const set = makeSet(3, 2, [
      { item: 0, scores: [1, null] },
      { item: 1, scores: [null, 1] },
    ]);
    new BlendRanker(cat, { sources: ['a', 'b'], popularityWeight: 0 }).rank(makeContext(), set);
    expect(set.score[1]).toBeGreaterThan(set.score[0]);
    // Recency term: 0.01 · 2^(−1/30) for the new item.
    expect(set.score[1] - 1).toBeCloseTo(0.01 * Math.pow(2, -1 / 30), 6);
    const stats = { count: Float32Array.from([100, 1, 0]) };
    new BlendRanker(cat, { sources: ['a', 'b'], recencyWeight: 0, stats }).rank(makeContext(), set);
    expect(set.score[0]).toBeCloseTo(1.02, 6);
    expect(set.score[1]).toBeCloseTo(1 + (0.02 * Math.log(2)) / Math.log(101), 6);
  });

  it('keeps strict primary order among random scores', () => {
    const r = rng(7);
    const entries = Array.from({ length: 30 }, (_, i) => ({
      item: i,
      scores: [r() < 0.8 ? Math.round(r() * 5) : null, r() < 0.6 ? r() : null, r() < 0.5 ? r() * 100 : null],
    }));
    const set = makeSet(N, 3, entries);
    new BlendRanker(catalog, { sources: ['a', 'b', 'c'], primary: 'a', weights: { b: 3, c: 2 } }).rank(
      ctx,
      set,
    );
    const primary = orderByScore(set).filter((j) => entries[j].scores[0] !== null);
    for (let i = 1; i < primary.length; i++) {
      const [p, q] = [entries[primary[i - 1]].scores[0] as number, entries[primary[i]].scores[0] as number];
      expect(p > q || (p === q && primary[i - 1] < primary[i])).toBe(true);
      expect(set.score[primary[i - 1]]).toBeGreaterThan(set.score[primary[i]]);
    }
  });

  it('rejects unknown sources', () => {
    expect(() => new BlendRanker(catalog, { sources: ['a'], primary: 'b' })).toThrow(/primary/);
    expect(() => new BlendRanker(catalog, { sources: ['a'], weights: { b: 1 } })).toThrow(/unknown/);
  });
});
