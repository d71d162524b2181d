import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { interactionsFromArrays } from '../../../src/data/interactions.js';
import { readArtifact, writeArtifact } from '../../../src/models/artifact.js';
import { AssocModel, assocFamily } from '../../../src/models/assoc/assoc.js';
import type { ScoringContext } from '../../../src/models/model.js';
import { A, ALL, B, C, D, E, ITEMS, TOY } from './toy.js';

function ctx(history: number[]): ScoringContext {
  return {
    userIndex: -1,
    history: Int32Array.from(history),
    historyWeights: new Float32Array(history.length).fill(1),
  };
}

function scores(model: AssocModel, history: number[]): number[] {
  const out = new Float32Array(ITEMS.length);
  model.score(ctx(history), out);
  return Array.from(out);
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'kindred-assoc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('AssocModel on the 5-basket toy', () => {
  const model = AssocModel.fitBaskets(TOY, ITEMS, ALL);

  it('scores items by the best confidence of a rule from the history', () => {
    // history c, d: a ← max(c→a 2/3, d→a 1/2); b ← max(c→b 2/3, d→b 1); c ← d→c 1/2; d ← c→d 1/3
    const s = scores(model, [C, D]);
    expect(s[A]).toBeCloseTo(2 / 3, 6);
    expect(s[B]).toBeCloseTo(1, 6);
    expect(s[C]).toBeCloseTo(1 / 2, 6);
    expect(s[D]).toBeCloseTo(1 / 3, 6);
    expect(s[E]).toBe(-Infinity);
  });

  it('sums confidences with aggregate sum and scores by lift with scoreBy lift', () => {
    const sum = scores(AssocModel.fitBaskets(TOY, ITEMS, { ...ALL, aggregate: 'sum' }), [C, D]);
    expect(sum[A]).toBeCloseTo(2 / 3 + 1 / 2, 6);
    expect(sum[B]).toBeCloseTo(2 / 3 + 1, 6);
    const lift = scores(AssocModel.fitBaskets(TOY, ITEMS, { ...ALL, scoreBy: 'lift' }), [C, D]);
    expect(lift[B]).toBeCloseTo(1.25, 6); // max(c→b 10/12, d→b 1.25)
    expect(lift[A]).toBeCloseTo(10 / 12, 6); // max(c→a 10/12, d→a 5/8)
  });

  it('uses only the most recent historyLength distinct items', () => {
    const recent = AssocModel.fitBaskets(TOY, ITEMS, { ...ALL, historyLength: 1 });
    // d (most recent, repeated) alone: d→b 1, d→a 1/2, d→c 1/2
    const s = scores(recent, [D, D, C]);
    expect(s[B]).toBeCloseTo(1, 6);
    expect(s[A]).toBeCloseTo(0.5, 6);
    expect(s[D]).toBe(-Infinity);
  });

  it('orders similarItems by lift or by confidence', () => {
    const byLift = model.similarItems(B, 10)!;
    expect(Array.from(byLift.indices)).toEqual([D, A, C]);
    expect(byLift.scores[0]).toBeCloseTo(1.25, 6);
    expect(byLift.scores[1]).toBeCloseTo(15 / 16, 6);
    const byConf = AssocModel.fitBaskets(TOY, ITEMS, { ...ALL, rankBy: 'confidence' }).similarItems(B, 2)!;
    expect(Array.from(byConf.indices)).toEqual([A, D]);
    expect(byConf.scores[0]).toBeCloseTo(0.75, 6);
    expect(Array.from(model.similarItems(E, 5)!.indices)).toEqual([]);
    expect(model.similarItems(99, 5)).toBeNull();
  });

  it('explains rules with their measures', () => {
    const rules = model.rulesFor(A);
    expect(rules.map((r) => r.consequent)).toEqual([B, C, D]); // lift 15/16, 10/12, 5/8
    expect(rules[0]).toMatchObject({ antecedent: A, consequent: B, count: 3 });
    expect(rules[0].support).toBeCloseTo(0.6, 12);
    expect(rules[0].confidence).toBeCloseTo(0.75, 12);
    expect(model.rulesFor(A, 'confidence').map((r) => r.consequent)).toEqual([B, C, D]);
    const why = model.explain(ctx([C, D]), B, 5);
    expect(why.map((w) => w.itemIndex)).toEqual([D, C]);
    expect(why[0].weight).toBeCloseTo(1, 6);
    expect(why[1].weight).toBeCloseTo(2 / 3, 6);
  });

  it('recommends for a cart, the cart excluded', () => {
    const top = model.cartRecommendations([C, D], 2);
    expect(Array.from(top.indices)).toEqual([B, A]);
    expect(top.scores[0]).toBeCloseTo(1, 6);
    expect(Array.from(model.cartRecommendations([A, B, C, D], 3).indices)).toEqual([]);
  });

  it('backs off to category rules for items without item-level rules', () => {
    // categories: x = {a, b}, y = {c, d}, e none. Category baskets: B1 {x,y} B2 {x} B3 {x,y} B4 {x,y} B5 {x,y}
    const categories = { itemGroup: Int32Array.from([0, 0, 1, 1, -1]), groupIds: ['x', 'y'] };
    // Item-level: only b ↔ d pass minLift 1. History a has no item rule; category x → y has confidence 4/5.
    const m = AssocModel.fitBaskets(TOY, ITEMS, { ...ALL, minLift: 0.99 }, { categories });
    expect(m.categoryRulesFor(0).map((r) => [r.consequent, r.count])).toEqual([[1, 4]]);
    const s = scores(m, [A]);
    // c: 4/5 · P(c | y) = 4/5 · 3/4; d: 4/5 · 2/4; b (same category as a) gets nothing
    expect(s[C]).toBeCloseTo(0.8 * 0.75, 6);
    expect(s[D]).toBeCloseTo(0.8 * 0.5, 6);
    expect(s[B]).toBe(-Infinity);
    expect(scores(m, [B])[D]).toBeCloseTo(0.5, 6); // the item rule b → d wins over the back-off
    const off = AssocModel.fitBaskets(
      TOY,
      ITEMS,
      { ...ALL, minLift: 0.99, categoryWeight: 0 },
      { categories },
    );
    expect(scores(off, [A])[C]).toBe(-Infinity);
  });

  it('round-trips through an artifact file unchanged', async () => {
    const categories = { itemGroup: Int32Array.from([0, 0, 1, 1, -1]), groupIds: ['x', 'y'] };
    const original = AssocModel.fitBaskets(TOY, ITEMS, { ...ALL, aggregate: 'sum' }, { categories });
    const file = path.join(dir, 'assoc.kdrm');
    const { header, arrays } = original.toArtifact();
    await writeArtifact(file, header, arrays);
    const loaded = assocFamily.fromArtifact(await readArtifact(file));
    expect(loaded).toBeInstanceOf(AssocModel);
    const back = loaded as AssocModel;
    expect(back.info).toEqual(original.info);
    expect(back.itemIds).toEqual(original.itemIds);
    for (let i = 0; i < ITEMS.length; i++) {
      expect(back.rulesFor(i)).toEqual(original.rulesFor(i));
      expect(back.similarItems(i, 10)).toEqual(original.similarItems(i, 10));
    }
    expect(back.categoryRulesFor(0)).toEqual(original.categoryRulesFor(0));
    expect(back.ruleSet.rulesFound).toBe(original.ruleSet.rulesFound);
    for (const h of [[A], [C, D], [A, B, C, D]]) expect(scores(back, h)).toEqual(scores(original, h));
  });

  it('rejects unknown and invalid parameters', () => {
    expect(() => AssocModel.resolveParams({ minConfidence: 2 })).toThrow(/minConfidence/);
    expect(() => AssocModel.resolveParams({ rankBy: 'support' })).toThrow(/rankBy/);
    expect(() => AssocModel.resolveParams({ support: 3 })).toThrow(/unknown parameter/);
  });
});

describe('AssocModel from events', () => {
  it('mines the same rules from sessions of events as from the baskets themselves', async () => {
    const lists = [
      ['a', 'b', 'c'],
      ['a', 'b'],
      ['a', 'c'],
      ['b', 'c', 'd'],
      ['a', 'b', 'd'],
    ];
    const userIds: string[] = [];
    const itemIds: string[] = [];
    const timestamps: number[] = [];
    // One shopper; each basket two hours after the previous, its items a minute apart.
    lists.forEach((l, b) =>
      l.forEach((item, j) => {
        userIds.push('shopper');
        itemIds.push(item);
        timestamps.push(b * 7_200_000 + j * 60_000);
      }),
    );
    const data = interactionsFromArrays({ userIds, itemIds, timestamps, catalog: ITEMS });
    const fromEvents = await assocFamily.fit(data, { ...ALL });
    const fromBaskets = AssocModel.fitBaskets(TOY, ITEMS, ALL);
    expect(fromEvents.info.interactions).toBe(13);
    for (let i = 0; i < ITEMS.length; i++) {
      expect((fromEvents as AssocModel).rulesFor(i)).toEqual(fromBaskets.rulesFor(i));
    }
    // With no session cut, the shopper's whole history is one basket: no pair stands out.
    const oneBasket = AssocModel.fit(data, { ...ALL, sessionGapMinutes: 0 });
    expect(oneBasket.ruleSet.baskets).toBe(1);
  });
});
