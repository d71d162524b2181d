import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { interactionsFromArrays } from '../../../src/data/interactions.js';
import { AssocModel } from '../../../src/models/assoc/assoc.js';
import { itemBasketCounts } from '../../../src/models/assoc/baskets.js';
import { basketHoldout, hitRateAtK } from '../../../src/models/assoc/basket-eval.js';
import { readGroceries } from '../../../src/models/assoc/groceries.js';
import { topRules } from '../../../src/models/assoc/mine.js';
import type { ScoringContext } from '../../../src/models/model.js';

const DIR = path.resolve('../shared/data/groceries');
const available = existsSync(path.join(DIR, 'groceries.csv'));
if (!available)
  console.warn(`Groceries not found at ${DIR}: skipping the association-rule tests on real baskets`);

describe.skipIf(!available)('association rules on Groceries', () => {
  // Independent reference: the raw lines as sets of names.
  const lines = available
    ? readFileSync(path.join(DIR, 'groceries.csv'), 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => new Set(l.split(',')))
    : [];
  const count = (...names: string[]): number => lines.filter((s) => names.every((n) => s.has(n))).length;
  const g = available ? readGroceries(DIR) : null;
  const params = { minSupport: 0.001, minConfidence: 0.1, minLift: 1, maxRulesPerItem: 50 };

  it('reads the documented baskets, items and category tree', () => {
    const { baskets, itemIds, category, department } = g!;
    expect(baskets.count).toBe(9835);
    expect(baskets.items).toBe(169);
    expect(baskets.idx.length).toBe(43367);
    const counts = itemBasketCounts(baskets);
    expect(counts[itemIds.indexOf('whole milk')]).toBe(2513);
    expect(counts[itemIds.indexOf('rolls/buns')]).toBe(1809);
    expect(category!.groupIds.length).toBe(55);
    expect(department!.groupIds.length).toBe(10);
    expect(category!.groupIds[category!.itemGroup[itemIds.indexOf('whole milk')]]).toBe('dairy produce');
    expect(Array.from(category!.itemGroup).every((c) => c >= 0)).toBe(true);
  });

  it('finds the known strong rules with the measures of a direct count', () => {
    const { baskets, itemIds } = g!;
    const model = AssocModel.fitBaskets(baskets, itemIds, params);
    const N = lines.length;
    const rule = (a: string, b: string) =>
      model.rulesFor(itemIds.indexOf(a)).find((r) => itemIds[r.consequent] === b);
    for (const [a, b] of [
      ['mayonnaise', 'mustard'],
      ['flour', 'sugar'],
      ['Instant food products', 'hamburger meat'],
      ['liquor', 'bottled beer'],
      ['butter', 'whole milk'],
      ['root vegetables', 'other vegetables'],
    ]) {
      const r = rule(a, b);
      expect(r, `${a} -> ${b}`).toBeDefined();
      const nAB = count(a, b);
      expect(r!.count).toBe(nAB);
      expect(r!.support).toBeCloseTo(nAB / N, 12);
      expect(r!.confidence).toBeCloseTo(nAB / count(a), 12);
      expect(r!.lift).toBeCloseTo((nAB * N) / (count(a) * count(b)), 12);
    }
    // The strongest pairs by lift are the classic complements, each over 6.
    const top = topRules(model.ruleSet, 15, 'lift').map(
      (r) => `${itemIds[r.antecedent]} -> ${itemIds[r.consequent]}`,
    );
    expect(top).toContain('mayonnaise -> mustard');
    expect(top).toContain('flour -> sugar');
    expect(top).toContain('popcorn -> salty snack');
    // Every rule passes the thresholds.
    const minCount = Math.ceil(0.001 * N);
    for (let a = 0; a < itemIds.length; a++) {
      for (const r of model.rulesFor(a)) {
        expect(r.count).toBeGreaterThanOrEqual(minCount);
        expect(r.confidence).toBeGreaterThanOrEqual(0.1);
        expect(r.lift).toBeGreaterThanOrEqual(1);
      }
    }
    // "Bought together with" butter, by lift: each next one no stronger than the previous.
    const similar = model.similarItems(itemIds.indexOf('butter'), 10)!;
    for (let i = 1; i < similar.scores.length; i++)
      expect(similar.scores[i]).toBeLessThanOrEqual(similar.scores[i - 1]);
  });

  it('mines category rules that match a direct count over categories', () => {
    const { baskets, itemIds, category } = g!;
    const model = AssocModel.fitBaskets(baskets, itemIds, params, { categories: category });
    const cat = model.categoryRules!;
    const beer = cat.categoryIds.indexOf('beer');
    const hard = cat.categoryIds.indexOf('hard drinks');
    const inCategory = (s: Set<string>, c: number): boolean =>
      [...s].some((name) => cat.itemCategory[itemIds.indexOf(name)] === c);
    const nHard = lines.filter((s) => inCategory(s, hard)).length;
    const nBoth = lines.filter((s) => inCategory(s, hard) && inCategory(s, beer)).length;
    const r = model.categoryRulesFor(hard).find((x) => x.consequent === beer);
    expect(r).toBeDefined();
    expect(r!.count).toBe(nBoth);
    expect(r!.confidence).toBeCloseTo(nBoth / nHard, 12);
  });

  it('completes held-out baskets better than popularity (hit rate@10)', () => {
    const { baskets, itemIds, category } = g!;
    const { train, cases } = basketHoldout(baskets, 0.8, 42);
    expect(cases.length).toBeGreaterThan(1000);
    const n = itemIds.length;
    const pop = Float32Array.from(itemBasketCounts(train));
    const popularity = hitRateAtK(cases, n, 10, (_rest, out) => out.set(pop));
    const model = AssocModel.fitBaskets(train, itemIds, {}, { categories: category });
    const weights = new Float32Array(n).fill(1);
    const assoc = hitRateAtK(cases, n, 10, (rest, out) => {
      const ctx: ScoringContext = {
        userIndex: -1,
        history: rest,
        historyWeights: weights.subarray(0, rest.length),
      };
      model.score(ctx, out);
    });
    expect(popularity).toBeGreaterThan(0.3);
    expect(assoc).toBeGreaterThan(popularity + 0.01);
  });

  it('gives the same rules when the baskets arrive as events with transaction ids as users', () => {
    const { baskets, itemIds } = g!;
    const userIds: string[] = [];
    const items: string[] = [];
    for (let b = 0; b < baskets.count; b++) {
      for (let p = baskets.ptr[b]; p < baskets.ptr[b + 1]; p++) {
        userIds.push(`t${b}`);
        items.push(itemIds[baskets.idx[p]]);
      }
    }
    const data = interactionsFromArrays({ userIds, itemIds: items, catalog: itemIds });
    const fromEvents = AssocModel.fit(data, params);
    const direct = AssocModel.fitBaskets(baskets, itemIds, params);
    expect(fromEvents.ruleSet.consequent.length).toBe(direct.ruleSet.consequent.length);
    for (const a of [0, 50, itemIds.indexOf('whole milk')])
      expect(fromEvents.rulesFor(a)).toEqual(direct.rulesFor(a));
  });
});
