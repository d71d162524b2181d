import { describe, expect, it } from 'vitest';
import { interactionsFromArrays } from '../../src/data/interactions.js';
import type { ScoringContext } from '../../src/models/model.js';
import { PopularityModel } from '../../src/models/popularity/popularity.js';
import { TrendingModel } from '../../src/models/popularity/trending.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2024, 0, 15);
const ANY: ScoringContext = {
  userIndex: 3,
  history: Int32Array.from([0]),
  historyWeights: Float32Array.from([1]),
};

function scores(model: {
  score(ctx: ScoringContext, out: Float32Array): void;
  itemIds: readonly string[];
}): number[] {
  const out = new Float32Array(model.itemIds.length);
  model.score(ANY, out);
  return Array.from(out);
}

describe('PopularityModel', () => {
  // a: u1 (1 + 1 = 2), u2 (1)   → users 2, strength 3, log1p ln3 + ln2
  // b: u1 (8)                   → users 1, strength 8, log1p ln9
  // c: no events (catalog only) → 0
  const data = interactionsFromArrays({
    userIds: ['u1', 'u1', 'u2', 'u1'],
    itemIds: ['a', 'a', 'a', 'b'],
    strengths: [1, 1, 1, 8],
    catalog: ['a', 'b', 'c'],
  });

  it('counts distinct users per item', () => {
    expect(scores(PopularityModel.fit(data, { mode: 'users' }))).toEqual([2, 1, 0]);
  });

  it('sums strength per item', () => {
    expect(scores(PopularityModel.fit(data, { mode: 'strength' }))).toEqual([3, 8, 0]);
  });

  it('sums log1p of each user strength by default', () => {
    const s = scores(PopularityModel.fit(data));
    expect(s[0]).toBeCloseTo(Math.log(3) + Math.log(2), 5);
    expect(s[1]).toBeCloseTo(Math.log(9), 5);
    expect(s[2]).toBe(0);
  });

  it('ignores the user and has no similar items', () => {
    const m = PopularityModel.fit(data);
    const a = new Float32Array(3);
    const b = new Float32Array(3);
    m.score(ANY, a);
    m.score({ userIndex: -1, history: new Int32Array(0), historyWeights: new Float32Array(0) }, b);
    expect(a).toEqual(b);
    expect(m.similarItems()).toBeNull();
    expect(m.info).toMatchObject({
      name: 'popularity',
      params: { mode: 'log1p' },
      users: 2,
      items: 3,
      interactions: 3,
    });
  });
});

describe('TrendingModel', () => {
  // Half-life 7 days, reference = latest event (NOW):
  //   a: 2 at NOW                      → 2·2^0 = 2
  //   b: 4 at NOW-7d, 1 at NOW-14d     → 4·2^-1 + 1·2^-2 = 2.25
  //   c: 1 at NOW-3.5d                 → 2^-0.5 = 0.707107
  //   d: no events                     → 0
  const data = interactionsFromArrays({
    userIds: ['u1', 'u2', 'u3', 'u1'],
    itemIds: ['a', 'b', 'b', 'c'],
    strengths: [2, 4, 1, 1],
    timestamps: [NOW, NOW - 7 * DAY, NOW - 14 * DAY, NOW - 3.5 * DAY],
    catalog: ['a', 'b', 'c', 'd'],
    now: NOW + 7 * DAY,
  });

  it('decays each event by 2^(-age / halfLife) from the latest event', () => {
    const m = TrendingModel.fit(data);
    const s = scores(m);
    expect(s[0]).toBeCloseTo(2, 6);
    expect(s[1]).toBeCloseTo(2.25, 6);
    expect(s[2]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(s[3]).toBe(0);
    expect(m.referenceTime).toBe(NOW);
    expect(m.info.params).toEqual({ halfLifeDays: 7, reference: 'last-event' });
  });

  it('anchors at the snapshot time on request: one more half-life halves everything', () => {
    const s = scores(TrendingModel.fit(data, { reference: 'now' }));
    expect(s[0]).toBeCloseTo(1, 6);
    expect(s[1]).toBeCloseTo(1.125, 6);
    expect(s[2]).toBeCloseTo(Math.SQRT1_2 / 2, 6);
  });

  it('follows the half-life parameter', () => {
    // Half-life 14 days: a = 2, b = 4·2^-0.5 + 2^-1 = 3.328427, c = 2^-0.25 = 0.840896
    const s = scores(TrendingModel.fit(data, { halfLifeDays: 14 }));
    expect(s[0]).toBeCloseTo(2, 6);
    expect(s[1]).toBeCloseTo(4 * Math.SQRT1_2 + 0.5, 5);
    expect(s[2]).toBeCloseTo(Math.pow(2, -0.25), 6);
  });

  it('counts events after the reference time at full strength', () => {
    const future = interactionsFromArrays({
      userIds: ['u'],
      itemIds: ['x'],
      strengths: [3],
      timestamps: [NOW + DAY],
      now: NOW,
    });
    expect(scores(TrendingModel.fit(future, { reference: 'now' }))).toEqual([3]);
  });

  it('rejects a non-positive half-life', () => {
    expect(() => TrendingModel.fit(data, { halfLifeDays: 0 })).toThrow(/halfLifeDays/);
  });
});
