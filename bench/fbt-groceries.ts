/**
 * "Frequently bought together" on the Groceries baskets (../shared/data/groceries):
 *
 *   npx tsx bench/fbt-groceries.ts [--seed N] [--min-support X] [--min-confidence X]
 *
 * Mines pairwise association rules on every basket and prints their count, the mining time and
 * the top 15 rules by lift (and the top category-level rules), then a held-out evaluation:
 * baskets split 80/20 (seeded); for each test basket of two or more items one item (seeded) is
 * hidden and ranked from the rest of the basket, the rest excluded; hit rate@10 of the rules
 * (alone, with the category back-off, with a popularity back-fill) against popularity and
 * item-kNN (cosine) fitted on the same training baskets.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { interactionsFromArrays } from '../src/data/interactions.js';
import { AssocModel } from '../src/models/assoc/assoc.js';
import { groupBaskets, itemBasketCounts } from '../src/models/assoc/baskets.js';
import { basketHoldout, hitRateAtK } from '../src/models/assoc/basket-eval.js';
import { readGroceries } from '../src/models/assoc/groceries.js';
import {
  minSupportCount,
  mineRules,
  topRules,
  type AssocRule,
  type MineOptions,
} from '../src/models/assoc/mine.js';
import { ItemKnnModel } from '../src/models/knn/item-knn.js';
import type { ScoringContext } from '../src/models/model.js';
import type { Params } from '../src/models/params.js';

const DIR = path.resolve(process.env.KINDRED_GROCERIES_DIR ?? '../shared/data/groceries');
const K = 10;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const f3 = (x: number): string => x.toFixed(3);
const f4 = (x: number): string => x.toFixed(4);

function printRules(rules: AssocRule[], names: readonly string[]): void {
  const width = Math.max(
    ...rules.map((r) => names[r.antecedent].length + names[r.consequent].length + 4),
    10,
  );
  console.log(`  ${'rule'.padEnd(width)}  count  support  confidence   lift  leverage  conviction`);
  for (const r of rules) {
    const label = `${names[r.antecedent]} -> ${names[r.consequent]}`;
    console.log(
      `  ${label.padEnd(width)}  ${String(r.count).padStart(5)}  ${f4(r.support)}  ${f3(r.confidence).padStart(10)}  ${r.lift
        .toFixed(2)
        .padStart(
          5,
        )}  ${f4(r.leverage).padStart(8)}  ${(Number.isFinite(r.conviction) ? r.conviction.toFixed(2) : 'inf').padStart(10)}`,
    );
  }
}

function main(): void {
  if (!existsSync(path.join(DIR, 'groceries.csv'))) {
    console.error(`Groceries not found at ${DIR} (set KINDRED_GROCERIES_DIR): nothing to measure`);
    process.exitCode = 1;
    return;
  }
  const seed = Number(arg('--seed') ?? 42);
  const g = readGroceries(DIR);
  const { baskets, itemIds } = g;
  const nnz = baskets.idx.length;
  console.log(`Groceries: ${baskets.count} baskets, ${baskets.items} items, ${nnz} item occurrences`);
  if (g.category) console.log(`  category tree: ${g.category.groupIds.length} categories`);

  // --- rules on every basket -------------------------------------------------------------------
  const mine: MineOptions = {
    minSupport: Number(arg('--min-support') ?? 0.001),
    minConfidence: Number(arg('--min-confidence') ?? 0.1),
    minLift: 1,
    maxRulesPerItem: 50,
    rankBy: 'lift',
  };
  const minCount = minSupportCount(mine.minSupport, baskets.count);
  const times: number[] = [];
  let rules = mineRules(baskets, mine);
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    rules = mineRules(baskets, mine);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(
    `\nPairwise rules, minSupport ${mine.minSupport} (>= ${minCount} baskets), minConfidence ${mine.minConfidence}, ` +
      `minLift ${mine.minLift}, maxRulesPerItem ${mine.maxRulesPerItem}`,
  );
  console.log(
    `  ${rules.rulesFound} rules found, ${rules.consequent.length} kept; ` +
      `mining time ${times[3].toFixed(2)} ms (median of 7, min ${times[0].toFixed(2)} ms)`,
  );
  console.log(`\nTop 15 rules by lift:`);
  printRules(topRules(rules, 15, 'lift'), itemIds);

  if (g.category) {
    const cb = groupBaskets(baskets, g.category.itemGroup, g.category.groupIds.length);
    const t0 = performance.now();
    const cr = mineRules(cb, { ...mine, minSupport: 0.01, minConfidence: 0.2 });
    const ms = performance.now() - t0;
    console.log(
      `\nCategory rules (${cb.count} baskets, ${cb.items} categories, minSupport 0.01, minConfidence 0.2): ` +
        `${cr.rulesFound} found, ${ms.toFixed(2)} ms; top 10 by lift:`,
    );
    printRules(topRules(cr, 10, 'lift'), g.category.groupIds);
  }

  // --- held-out evaluation ---------------------------------------------------------------------
  const { train, test, cases } = basketHoldout(baskets, 0.8, seed);
  const n = baskets.items;
  console.log(
    `\nHeld-out: ${train.count} training baskets, ${test.count} test baskets, ` +
      `${cases.length} with >= 2 items (one item hidden each, seed ${seed}); hit rate@${K}`,
  );

  const pop = Float32Array.from(itemBasketCounts(train));
  const maxPop = Math.max(...pop);
  const backfill = (out: Float32Array): void => {
    for (let i = 0; i < n; i++) if (out[i] === -Infinity) out[i] = -1 + pop[i] / maxPop / 2;
  };
  const weights = new Float32Array(n).fill(1);
  const ctx = (rest: Int32Array): ScoringContext => ({
    userIndex: -1,
    history: rest,
    historyWeights: weights.subarray(0, rest.length),
  });
  const rows: [string, number][] = [];
  rows.push(['popularity (baskets per item)', hitRateAtK(cases, n, K, (_rest, out) => out.set(pop))]);

  const assocRun = (label: string, params: Params, categories: boolean, fill: boolean): void => {
    const options = categories && g.category ? { categories: g.category } : {};
    const model = AssocModel.fitBaskets(train, itemIds, params, options);
    const hr = hitRateAtK(cases, n, K, (rest, out) => {
      model.score(ctx(rest), out);
      if (fill) backfill(out);
    });
    rows.push([`${label} [${model.ruleSet.consequent.length} rules]`, hr]);
  };
  const d = AssocModel.resolveParams();
  assocRun(
    `assoc (defaults: minSupport ${d.minSupport}, minConfidence ${d.minConfidence}, minLift ${d.minLift}, ${d.aggregate} ${d.scoreBy})`,
    {},
    false,
    false,
  );
  assocRun('assoc + category back-off', {}, true, false);
  assocRun('assoc + popularity back-fill', {}, false, true);
  assocRun('assoc + category back-off + popularity back-fill', {}, true, true);
  assocRun('assoc, minLift 0 + popularity back-fill', { minLift: 0 }, false, true);
  assocRun('assoc, sum of confidences + popularity back-fill', { aggregate: 'sum' }, false, true);
  assocRun('assoc, max lift + popularity back-fill', { scoreBy: 'lift' }, false, true);

  const userIds: string[] = [];
  const itemNames: string[] = [];
  for (let b = 0; b < train.count; b++) {
    for (let p = train.ptr[b]; p < train.ptr[b + 1]; p++) {
      userIds.push(`b${b}`);
      itemNames.push(itemIds[train.idx[p]]);
    }
  }
  const knnData = interactionsFromArrays({ userIds, itemIds: itemNames, catalog: itemIds });
  const knn = ItemKnnModel.fit(knnData, { similarity: 'cosine' });
  rows.push([
    'item-knn (cosine, k 100) + popularity back-fill',
    hitRateAtK(cases, n, K, (rest, out) => {
      knn.score(ctx(rest), out);
      backfill(out);
    }),
  ]);

  const width = Math.max(...rows.map((r) => r[0].length));
  for (const [label, hr] of rows) console.log(`  ${label.padEnd(width)}  ${hr.toFixed(4)}`);
}

main();
