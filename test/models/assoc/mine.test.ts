import { describe, expect, it } from 'vitest';
import { interactionsFromArrays } from '../../../src/data/interactions.js';
import {
  basketsFromInteractions,
  basketsFromLists,
  groupBaskets,
  itemBasketCounts,
  selectBaskets,
} from '../../../src/models/assoc/baskets.js';
import {
  minSupportCount,
  mineRules,
  rulesOf,
  topRules,
  type AssocRule,
  type RuleSet,
} from '../../../src/models/assoc/mine.js';
import { A, ALL, B, C, D, E, TOY } from './toy.js';

function find(rules: RuleSet, a: number, b: number): AssocRule | undefined {
  return rulesOf(rules, a).find((r) => r.consequent === b);
}

function pairs(rules: RuleSet): string[] {
  const out: string[] = [];
  for (let a = 0; a < rules.itemCounts.length; a++)
    for (const r of rulesOf(rules, a)) out.push(`${a}>${r.consequent}`);
  return out.sort();
}

describe('baskets', () => {
  it('sorts items, drops repeats and empty baskets', () => {
    const b = basketsFromLists([[2, 0, 2], [], [1]], 3);
    expect(b.count).toBe(2);
    expect(Array.from(b.ptr)).toEqual([0, 2, 3]);
    expect(Array.from(b.idx)).toEqual([0, 2, 1]);
  });

  it('counts the baskets holding each item', () => {
    expect(Array.from(itemBasketCounts(TOY))).toEqual([4, 4, 3, 2, 0]);
  });

  it('cuts a user’s events into sessions at gaps longer than the window', () => {
    const MIN = 60_000;
    const data = interactionsFromArrays({
      userIds: ['u1', 'u1', 'u2', 'u1', 'u2', 'u1'],
      itemIds: ['x', 'y', 'x', 'z', 'z', 'x'],
      // u1: x@0, y@10m | z@120m, x@125m; u2: x@0, z@20m
      timestamps: [0, 10 * MIN, 0, 120 * MIN, 20 * MIN, 125 * MIN],
    });
    const sessions = basketsFromInteractions(data, { sessionGapMs: 30 * MIN });
    const lists = (bs: typeof sessions): string[][] =>
      Array.from({ length: bs.count }, (_, r) =>
        Array.from(bs.idx.subarray(bs.ptr[r], bs.ptr[r + 1]), (i) => data.items.ids[i]),
      );
    expect(lists(sessions)).toEqual([
      ['x', 'y'],
      ['x', 'z'],
      ['x', 'z'],
    ]);
    expect(lists(basketsFromInteractions(data, { sessionGapMs: Infinity }))).toEqual([
      ['x', 'y', 'z'],
      ['x', 'z'],
    ]);
    // An explicit transaction id wins over users and times.
    const byId = basketsFromInteractions(data, { basketIds: [7, 9, 7, -1, 9, 9] });
    expect(lists(byId)).toEqual([['x'], ['x', 'y', 'z']]);
  });

  it('maps baskets to groups and selects baskets', () => {
    // a, b → group 0; c → group 1; d → none
    const g = groupBaskets(TOY, Int32Array.from([0, 0, 1, -1, 1]), 2);
    expect(g.count).toBe(5);
    expect(Array.from(g.idx)).toEqual([0, 1, 0, 0, 1, 0, 1, 0]);
    const s = selectBaskets(TOY, [3, 1]);
    expect(Array.from(s.ptr)).toEqual([0, 3, 5]);
    expect(Array.from(s.idx)).toEqual([B, C, D, A, B]);
  });
});

describe('mineRules on the 5-basket toy', () => {
  const all = mineRules(TOY, { ...ALL, rankBy: 'lift' });

  it('computes support, confidence, lift, leverage and conviction by hand', () => {
    // a → b: n_ab 3, n_a 4, n_b 4, N 5
    const ab = find(all, A, B)!;
    expect(ab.count).toBe(3);
    expect(ab.support).toBeCloseTo(3 / 5, 12);
    expect(ab.confidence).toBeCloseTo(3 / 4, 12);
    expect(ab.lift).toBeCloseTo(15 / 16, 12);
    expect(ab.leverage).toBeCloseTo(0.6 - 0.8 * 0.8, 12);
    expect(ab.conviction).toBeCloseTo((1 - 0.8) / (1 - 0.75), 12);
    // d → b: n_bd 2, n_d 2 → confidence 1, lift 2·5/(2·4) = 1.25, conviction infinite
    const db = find(all, D, B)!;
    expect(db.confidence).toBe(1);
    expect(db.lift).toBeCloseTo(1.25, 12);
    expect(db.conviction).toBe(Infinity);
    // b → d: confidence 2/4, same lift
    const bd = find(all, B, D)!;
    expect(bd.confidence).toBeCloseTo(0.5, 12);
    expect(bd.lift).toBeCloseTo(1.25, 12);
    // c → a: 2/3, lift 2·5/(3·4)
    const ca = find(all, C, A)!;
    expect(ca.confidence).toBeCloseTo(2 / 3, 12);
    expect(ca.lift).toBeCloseTo(10 / 12, 12);
    // a → d: 1/4, lift 5/8
    expect(find(all, A, D)!.lift).toBeCloseTo(5 / 8, 12);
  });

  it('finds every co-occurring pair in both directions, never an item with itself', () => {
    expect(all.rulesFound).toBe(12);
    expect(pairs(all)).toEqual(
      ['0>1', '0>2', '0>3', '1>0', '1>2', '1>3', '2>0', '2>1', '2>3', '3>0', '3>1', '3>2'].sort(),
    );
    expect(rulesOf(all, E)).toEqual([]);
    expect(Array.from(all.itemCounts)).toEqual([4, 4, 3, 2, 0]);
    expect(all.baskets).toBe(5);
  });

  it('respects minSupport as a count or a fraction', () => {
    const byCount = mineRules(TOY, { ...ALL, minSupport: 2, rankBy: 'lift' });
    expect(pairs(byCount)).toEqual(['0>1', '0>2', '1>0', '1>2', '1>3', '2>0', '2>1', '3>1'].sort());
    const byFraction = mineRules(TOY, { ...ALL, minSupport: 0.4, rankBy: 'lift' });
    expect(pairs(byFraction)).toEqual(pairs(byCount));
    expect(minSupportCount(0.4, 5)).toBe(2);
    expect(minSupportCount(0.001, 9835)).toBe(10);
    expect(minSupportCount(3, 100)).toBe(3);
    expect(minSupportCount(0, 100)).toBe(1);
  });

  it('respects minConfidence and minLift', () => {
    const conf = mineRules(TOY, { ...ALL, minSupport: 2, minConfidence: 0.6, rankBy: 'lift' });
    // a→b .75, b→a .75, c→a 2/3, c→b 2/3, d→b 1; a→c, b→c, b→d are 0.5
    expect(pairs(conf)).toEqual(['0>1', '1>0', '2>0', '2>1', '3>1'].sort());
    const lift = mineRules(TOY, { ...ALL, minLift: 1, rankBy: 'lift' });
    expect(pairs(lift)).toEqual(['1>3', '3>1']);
    for (let a = 0; a < 5; a++) {
      for (const r of rulesOf(conf, a)) expect(r.confidence).toBeGreaterThanOrEqual(0.6);
      for (const r of rulesOf(lift, a)) expect(r.lift).toBeGreaterThanOrEqual(1);
    }
  });

  it('keeps the best maxRulesPerItem rules per antecedent, in rankBy order', () => {
    const byLift = rulesOf(mineRules(TOY, { ...ALL, rankBy: 'lift' }), B).map((r) => r.consequent);
    expect(byLift).toEqual([D, A, C]); // lift 1.25, 0.9375, 0.833
    // confidence: a .75, then c and d at .5, d first on its higher lift
    const byConf = rulesOf(mineRules(TOY, { ...ALL, rankBy: 'confidence' }), B).map((r) => r.consequent);
    expect(byConf).toEqual([A, D, C]);
    const one = mineRules(TOY, { ...ALL, maxRulesPerItem: 1, rankBy: 'confidence' });
    // c → a and c → b tie on every measure: the lower index wins
    expect([A, B, C, D].map((a) => rulesOf(one, a).map((r) => r.consequent))).toEqual([[B], [A], [A], [B]]);
    expect(one.rulesFound).toBe(12);
    expect(one.consequent.length).toBe(4);
  });

  it('lists the strongest rules of the whole set', () => {
    const top = topRules(all, 3, 'lift');
    // b↔d (1.25) first, d → b on its higher confidence; then a ↔ b (0.9375)
    expect(top.map((r) => [r.antecedent, r.consequent])).toEqual([
      [D, B],
      [B, D],
      [A, B],
    ]);
  });
});
