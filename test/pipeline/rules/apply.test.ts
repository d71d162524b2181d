import { describe, expect, it } from 'vitest';
import {
  applyRules,
  compileRules,
  type ExprItem,
  type RuleTraceEntry,
  type ScoredCandidate,
} from '../../../src/pipeline/rules/index.js';

const NOW = Date.parse('2025-06-15T12:00:00Z');

interface Candidate extends ScoredCandidate {
  source: string;
}

const CATALOGUE: Record<string, ExprItem> = {
  a: { id: 'a', categories: ['shoes'], tags: [], attributes: { brand: 'Kea', price: 120 } },
  b: { id: 'b', categories: ['shoes'], tags: ['sale'], attributes: { brand: 'Moa', price: 40 } },
  c: { id: 'c', categories: ['socks'], tags: ['adult'], attributes: { brand: 'Kea', price: 15 } },
  d: { id: 'd', categories: ['socks'], tags: [], attributes: { brand: 'Tui', price: 9 } },
  e: {
    id: 'e',
    categories: ['caps'],
    tags: ['sale'],
    attributes: { brand: 'Moa', price: 25, sponsored: true },
  },
};

/** Scores 5, 4, 3, 2, 1 for a..e. */
function candidates(): Candidate[] {
  return ['a', 'b', 'c', 'd', 'e'].map((itemId, i) => ({ itemId, score: 5 - i, source: 'als' }));
}

type RuleInput = Record<string, unknown>;

function run(
  rules: RuleInput[],
  opts: { now?: number; country?: string; placement?: string; list?: Candidate[] } = {},
): { ids: string[]; scores: number[]; trace: RuleTraceEntry[] } {
  const compiled = compileRules(rules.map((r) => ({ placement: 'home', enabled: true, ...r })));
  const out = applyRules(opts.list ?? candidates(), {
    rules: compiled,
    item: (c) => CATALOGUE[c.itemId],
    user: { id: 'u1', attributes: opts.country === undefined ? {} : { country: opts.country } },
    context: { placement: opts.placement ?? 'home', now: opts.now ?? NOW },
  });
  return {
    ids: out.candidates.map((c) => c.itemId),
    scores: out.candidates.map((c) => c.score),
    trace: out.trace,
  };
}

describe('applyRules', () => {
  it('keeps the order and the candidates themselves when no rule applies', () => {
    const list = candidates();
    const out = applyRules(list, {
      rules: [],
      item: (c) => CATALOGUE[c.itemId],
      context: { placement: 'home', now: NOW },
    });
    expect(out.candidates.map((c) => c.itemId)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(out.candidates[0]).toBe(list[0]);
    expect(out.trace).toEqual([]);
  });

  it('puts the best-scored matching item of a pin rule in slot 2', () => {
    const r = run([{ id: 'pin-moa', action: 'pin', where: 'item.brand == "Moa"', slot: 2 }]);
    // b (score 4) is the best Moa item; it already is at 2. Pin the socks instead:
    expect(r.ids).toEqual(['a', 'b', 'c', 'd', 'e']);
    const s = run([{ id: 'pin-socks', action: 'pin', where: 'item.category == "socks"', slot: 1 }]);
    expect(s.ids).toEqual(['c', 'a', 'b', 'd', 'e']);
    const t = run([{ id: 'pin-sponsored', action: 'pin', where: 'item.sponsored == true', slot: 2 }]);
    expect(t.ids).toEqual(['a', 'e', 'b', 'c', 'd']);
    expect(t.trace).toEqual([{ ruleId: 'pin-sponsored', action: 'pin', itemId: 'e', slot: 2, position: 2 }]);
  });

  it('places several pins by priority and moves a pin whose slot is taken to the next free one', () => {
    const r = run([
      { id: 'low', action: 'pin', where: 'item.brand == "Tui"', slot: 1, priority: 1 },
      { id: 'high', action: 'pin', where: 'item.brand == "Moa"', slot: 1, priority: 5 },
      { id: 'same-item', action: 'pin', where: 'item.id == "b"', slot: 4, priority: 0 },
    ]);
    // high takes b (best Moa) to slot 1; low takes d to slot 2 (1 is taken); same-item finds b pinned.
    expect(r.ids).toEqual(['b', 'd', 'a', 'c', 'e']);
    expect(r.trace).toContainEqual({ ruleId: 'low', action: 'pin', itemId: 'd', slot: 1, position: 2 });
    expect(r.trace).toContainEqual({ ruleId: 'same-item', action: 'skip', reason: 'no-match' });
  });

  it('puts pins beyond the end of the list last', () => {
    const r = run([{ id: 'far', action: 'pin', where: 'item.id == "a"', slot: 50 }]);
    expect(r.ids).toEqual(['b', 'c', 'd', 'e', 'a']);
    expect(r.trace).toEqual([{ ruleId: 'far', action: 'pin', itemId: 'a', slot: 50, position: 5 }]);
  });

  it('removes a filtered item whatever its score, before pins and boosts see it', () => {
    const list = candidates();
    list[2] = { ...list[2], score: 1e9 };
    const r = run(
      [
        { id: 'no-adult', action: 'filter', where: 'item.tags contains "adult"' },
        { id: 'pin-c', action: 'pin', where: 'item.id == "c"', slot: 1 },
        { id: 'boost-c', action: 'boost', where: 'item.id == "c"', weight: 10 },
      ],
      { list },
    );
    expect(r.ids).toEqual(['a', 'b', 'd', 'e']);
    expect(r.trace).toContainEqual({ ruleId: 'no-adult', action: 'filter', itemId: 'c' });
    expect(r.trace).toContainEqual({ ruleId: 'pin-c', action: 'skip', reason: 'no-match' });
  });

  it('reorders by boosted and buried scores', () => {
    const r = run([
      { id: 'boost-sale', action: 'boost', where: 'item.tags contains "sale"', weight: 3 },
      { id: 'bury-kea', action: 'bury', where: 'item.brand == "Kea"' },
    ]);
    // a 5/2=2.5, b 4*3=12, c 3/2=1.5, d 2, e 1*3=3
    expect(r.ids).toEqual(['b', 'e', 'a', 'd', 'c']);
    expect(r.scores).toEqual([12, 3, 2.5, 2, 1.5]);
    expect(r.trace).toContainEqual({
      ruleId: 'boost-sale',
      action: 'boost',
      itemId: 'b',
      scoreBefore: 4,
      scoreAfter: 12,
    });
  });

  it('moves negative scores the right way and supports additive weights', () => {
    const list: Candidate[] = [
      { itemId: 'a', score: -1, source: 'x' },
      { itemId: 'b', score: -2, source: 'x' },
      { itemId: 'd', score: -3, source: 'x' },
    ];
    const boosted = run([{ id: 'up', action: 'boost', where: 'item.id == "b"', weight: 4 }], { list });
    expect(boosted.ids).toEqual(['b', 'a', 'd']); // -2 / 4 = -0.5
    const added = run(
      [{ id: 'down', action: 'bury', where: 'item.id == "a"', weight: 1.5, weightMode: 'add' }],
      {
        list,
      },
    );
    expect(added.ids).toEqual(['b', 'a', 'd']); // -1 - 1.5 = -2.5
    expect(added.scores[1]).toBe(-2.5);
  });

  it('keeps the caller candidates unchanged and copies only re-scored ones', () => {
    const list = candidates();
    const compiled = compileRules([
      { id: 'x', placement: 'home', enabled: true, action: 'boost', where: 'item.id == "e"', weight: 10 },
    ]);
    const out = applyRules(list, {
      rules: compiled,
      item: (c) => CATALOGUE[c.itemId],
      context: { placement: 'home', now: NOW },
    });
    expect(list[4].score).toBe(1);
    expect(out.candidates[0]).toEqual({ itemId: 'e', score: 10, source: 'als' });
    expect(out.candidates[1]).toBe(list[0]);
  });

  it('respects a campaign window on a fixed clock', () => {
    const rule = {
      id: 'summer',
      action: 'pin',
      where: 'item.id == "e"',
      slot: 1,
      startsAt: '2025-06-01T00:00:00Z',
      endsAt: '2025-07-01T00:00:00Z',
    };
    expect(run([rule], { now: Date.parse('2025-05-31T23:59:59.999Z') }).ids[0]).toBe('a');
    expect(run([rule], { now: Date.parse('2025-06-01T00:00:00Z') }).ids[0]).toBe('e');
    expect(run([rule], { now: Date.parse('2025-06-30T23:59:59.999Z') }).ids[0]).toBe('e');
    expect(run([rule], { now: Date.parse('2025-07-01T00:00:00Z') }).ids[0]).toBe('a');
    expect(run([rule], { now: Date.parse('2025-05-01T00:00:00Z') }).trace).toEqual([
      { ruleId: 'summer', action: 'skip', reason: 'not-started' },
    ]);
    expect(run([rule], { now: Date.parse('2025-08-01T00:00:00Z') }).trace).toEqual([
      { ruleId: 'summer', action: 'skip', reason: 'ended' },
    ]);
  });

  it('applies a rule only when its when condition on the user country holds', () => {
    const rule = {
      id: 'dach',
      action: 'filter',
      when: 'user.country in ["DE", "AT"]',
      where: 'item.brand == "Kea"',
    };
    expect(run([rule], { country: 'DE' }).ids).toEqual(['b', 'd', 'e']);
    expect(run([rule], { country: 'FR' }).ids).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(run([rule], { country: 'FR' }).trace).toEqual([
      { ruleId: 'dach', action: 'skip', reason: 'when-false' },
    ]);
    expect(run([rule]).ids).toEqual(['a', 'b', 'c', 'd', 'e']); // no country: comparisons with null are false
  });

  it('does nothing for a disabled rule or a rule of another placement, and applies * rules everywhere', () => {
    const off = run([{ id: 'off', action: 'filter', where: 'true', enabled: false }]);
    expect(off.ids).toHaveLength(5);
    expect(off.trace).toEqual([{ ruleId: 'off', action: 'skip', reason: 'disabled' }]);
    const other = run([{ id: 'pdp-only', action: 'filter', where: 'true' }], { placement: 'pdp' });
    expect(other.ids).toHaveLength(5);
    const everywhere = run([{ id: 'all', placement: '*', action: 'filter', where: 'item.id == "a"' }], {
      placement: 'pdp',
    });
    expect(everywhere.ids).toEqual(['b', 'c', 'd', 'e']);
  });

  it('reads the request context and treats unknown items as having no attributes', () => {
    const compiled = compileRules([
      {
        id: 'mobile',
        placement: 'home',
        enabled: true,
        action: 'filter',
        when: 'context.device == "mobile"',
        where: 'item.price > 100 or item.price == null',
      },
    ]);
    const list = [...candidates(), { itemId: 'ghost', score: 99, source: 'x' }];
    const out = applyRules(list, {
      rules: compiled,
      item: (c) => CATALOGUE[c.itemId],
      context: { placement: 'home', now: NOW, attributes: { device: 'mobile' } },
      trace: false,
    });
    expect(out.candidates.map((c) => c.itemId)).toEqual(['b', 'c', 'd', 'e']);
    expect(out.trace).toEqual([]);
  });

  it('breaks score ties by input order', () => {
    const list: Candidate[] = ['a', 'b', 'c'].map((itemId) => ({ itemId, score: 1, source: 'x' }));
    const r = run([{ id: 'b', action: 'boost', where: 'item.id == "d"' }], { list });
    expect(r.ids).toEqual(['a', 'b', 'c']);
  });
  it('keeps the input order when no score changed, and sorts by score when one did', () => {
    const list: Candidate[] = [
      { itemId: 'd', score: 1, source: 'x' },
      { itemId: 'a', score: 3, source: 'x' },
      { itemId: 'b', score: 2, source: 'x' },
    ];
    expect(run([{ id: 'f', action: 'filter', where: 'item.id == "b"' }], { list }).ids).toEqual(['d', 'a']);
    expect(run([{ id: 'up', action: 'boost', where: 'item.id == "b"', weight: 1 }], { list }).ids).toEqual([
      'a',
      'b',
      'd',
    ]);
  });

  it('orders like a full sort of the changed scores, on sorted and unsorted inputs', () => {
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    const ids = Object.keys(CATALOGUE);
    for (let round = 0; round < 50; round++) {
      const list: Candidate[] = Array.from({ length: 40 }, (_, i) => ({
        itemId: ids[i % ids.length],
        score: Math.round(random() * 20) - 5,
        source: String(i),
      }));
      if (round % 2 === 0) list.sort((x, y) => y.score - x.score);
      const weight = 1 + Math.round(random() * 3);
      const r = run([{ id: 'up', action: 'boost', where: 'item.tags contains "sale"', weight }], { list });
      const expected = list
        .map((c, i) => {
          const sale = CATALOGUE[c.itemId].tags?.includes('sale') === true;
          const score = !sale ? c.score : c.score >= 0 ? c.score * weight : c.score / weight;
          return { i, score };
        })
        .sort((x, y) => y.score - x.score || x.i - y.i);
      expect(r.scores).toEqual(expected.map((e) => e.score));
    }
  });
});
