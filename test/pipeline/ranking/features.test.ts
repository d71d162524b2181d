import { describe, expect, it } from 'vitest';
import { FeatureExtractor } from '../../../src/pipeline/ranking/features.js';
import { DAY, T0, makeCatalog, makeContext, makeSet } from './fixtures.js';

// i0 [a] 10, i1 [a, b] 20, i2 [b] 40 published 9 days before now, i3 [c] 30, i4 not stored.
const catalog = makeCatalog([
  { id: 'i0', categories: ['a'], price: 10, publishedAt: T0 },
  { id: 'i1', categories: ['a', 'b'], price: 20, publishedAt: T0 },
  { id: 'i2', categories: ['b'], price: 40, publishedAt: T0 - 9 * DAY },
  { id: 'i3', categories: ['c'], price: 30, publishedAt: T0 + 3 * DAY },
  { id: 'i4', stored: false },
]);

const stats = {
  count: Float32Array.from([0, 3, 7, 1]),
  windows: [{ name: '24h', counts: Float32Array.from([0, 1, 0, 0]) }],
  ctr: Float32Array.from([NaN, 0.25, 0.1, 0]),
};

function extractor(sourceNormalisation: 'rank' | 'zscore' = 'rank'): FeatureExtractor {
  return new FeatureExtractor(catalog, {
    sources: ['cf', 'pop'],
    sourceNormalisation,
    stats,
    context: [{ key: 'device', values: ['mobile', 'desktop'] }],
    hourOfDay: { buckets: 4 },
  });
}

// History: i0, i1, i3 → category a in 2 of 3 entries, b in 1, c in 1; mean price 20.
const ctx = makeContext({
  history: Int32Array.from([0, 1, 3]),
  anchorItem: 0,
  now: T0 + 13 * 3_600_000,
  context: { device: 'desktop' },
});

// Slots: i1 (cf 5), i2 (cf 3, pop 9), i4 (cf 3), i3 (pop 1).
const entries = [
  { item: 1, scores: [5, null] },
  { item: 2, scores: [3, 9] },
  { item: 4, scores: [3, null] },
  { item: 3, scores: [null, 1] },
];

describe('FeatureExtractor', () => {
  it('names its features in a fixed order', () => {
    expect(extractor().featureNames).toEqual([
      'source:cf',
      'source:cf:proposed',
      'source:pop',
      'source:pop:proposed',
      'sources:share',
      'popularity:log_count',
      'popularity:log_count_24h',
      'popularity:ctr',
      'recency:log_age_days',
      'recency:unknown',
      'price:log',
      'price:log_rel_user',
      'price:unknown',
      'affinity:category',
      'anchor:same_category',
      'context:device=mobile',
      'context:device=desktop',
      'hour:00-06',
      'hour:06-12',
      'hour:12-18',
      'hour:18-24',
    ]);
  });

  it('computes hand-checked values', () => {
    const fx = extractor();
    const set = makeSet(catalog.size, 2, entries);
    fx.extract(ctx, set);
    const i1 = fx.describeRow(0);
    const i2 = fx.describeRow(1);
    const i4 = fx.describeRow(2);
    const i3 = fx.describeRow(3);
    // Rank-normalised source scores: cf ranks 0, 1, 1 of 3 (ties share the better rank).
    expect(i1['source:cf']).toBeCloseTo(1);
    expect(i2['source:cf']).toBeCloseTo(2 / 3);
    expect(i4['source:cf']).toBeCloseTo(2 / 3);
    expect(i3['source:cf']).toBe(0);
    expect(i3['source:cf:proposed']).toBe(0);
    expect(i2['source:pop']).toBeCloseTo(1);
    expect(i3['source:pop']).toBeCloseTo(0.5);
    expect(i2['sources:share']).toBe(1);
    expect(i1['sources:share']).toBe(0.5);
    // Popularity.
    expect(i2['popularity:log_count']).toBeCloseTo(Math.log(8), 6);
    expect(i1['popularity:log_count_24h']).toBeCloseTo(Math.log(2), 6);
    expect(i1['popularity:ctr']).toBeCloseTo(0.25);
    expect(i4['popularity:log_count']).toBe(0);
    // Recency: i2 is 9 days and 13 hours old; i3 is published in the future (age 0).
    expect(i2['recency:log_age_days']).toBeCloseTo(Math.log1p(9 + 13 / 24), 5);
    expect(i3['recency:log_age_days']).toBe(0);
    expect(i4['recency:unknown']).toBe(1);
    expect(i2['recency:unknown']).toBe(0);
    // Price: mean history price (10 + 20 + 30) / 3 = 20.
    expect(i2['price:log']).toBeCloseTo(Math.log(41), 5);
    expect(i2['price:log_rel_user']).toBeCloseTo(Math.log(41) - Math.log(21), 5);
    expect(i4['price:unknown']).toBe(1);
    expect(i4['price:log']).toBe(0);
    // Affinity: the largest share over the item's categories.
    expect(i1['affinity:category']).toBeCloseTo(2 / 3);
    expect(i2['affinity:category']).toBeCloseTo(1 / 3);
    expect(i3['affinity:category']).toBeCloseTo(1 / 3);
    expect(i4['affinity:category']).toBe(0);
    // Anchor i0 is in category a.
    expect(i1['anchor:same_category']).toBe(1);
    expect(i2['anchor:same_category']).toBe(0);
    // Context one-hots: desktop, 13:00 UTC.
    for (const row of [i1, i2, i3, i4]) {
      expect(row['context:device=desktop']).toBe(1);
      expect(row['context:device=mobile']).toBe(0);
      expect(row['hour:12-18']).toBe(1);
      expect(row['hour:06-12']).toBe(0);
    }
  });

  it('z-scores source scores within the request', () => {
    const fx = extractor('zscore');
    const set = makeSet(catalog.size, 2, entries);
    fx.extract(ctx, set);
    // cf scores 5, 3, 3: mean 11/3, population sd √8 / 3.
    expect(fx.describeRow(0)['source:cf']).toBeCloseTo(Math.SQRT2, 5);
    expect(fx.describeRow(1)['source:cf']).toBeCloseTo(-1 / Math.SQRT2, 5);
    expect(fx.describeRow(3)['source:cf']).toBe(0);
  });

  it('ranks sources among the candidates not removed', () => {
    const fx = extractor();
    const set = makeSet(catalog.size, 2, entries);
    set.removed[0] = 1;
    fx.extract(ctx, set);
    expect(fx.describeRow(1)['source:cf']).toBeCloseTo(1);
    expect(fx.describeRow(0)['source:cf']).toBe(0);
  });

  it('forgets the previous request and grows its buffers', () => {
    const fx = extractor();
    fx.extract(ctx, makeSet(catalog.size, 2, entries));
    const other = makeContext({ history: Int32Array.from([2]), now: T0, context: { hour: 7 } });
    const big = makeSet(catalog.size, 2, [...entries, { item: 0, scores: [1, 1] }], 8);
    const x = fx.extract(other, big);
    expect(x.length).toBeGreaterThanOrEqual(5 * fx.featureCount);
    // Only category b now: i0 [a] has no affinity, i1 [a, b] has 1.
    expect(fx.describeRow(4)['affinity:category']).toBe(0);
    expect(fx.describeRow(0)['affinity:category']).toBe(1);
    expect(fx.describeRow(0)['context:device=desktop']).toBe(0);
    expect(fx.describeRow(0)['hour:06-12']).toBe(1);
    // No anchor, history price 40.
    expect(fx.describeRow(0)['anchor:same_category']).toBe(0);
    expect(fx.describeRow(0)['price:log_rel_user']).toBeCloseTo(Math.log(21) - Math.log(41), 5);
    const row = fx.copyRow(1);
    expect(row.length).toBe(fx.featureCount);
    expect(row[fx.column('source:pop')]).toBeCloseTo(1);
  });

  it('rejects statistics of another shape', () => {
    const fx = extractor();
    expect(() => fx.setStats({ count: new Float32Array(5) })).toThrow(/shape/);
    fx.setStats({ ...stats, count: Float32Array.from([5, 5, 5, 5]) });
  });
});
