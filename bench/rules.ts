/**
 * Speed of business-rule expressions and of `applyRules` on 1,000 candidates.
 *
 *   npx tsx bench/rules.ts            (or: npm run build && node dist/bench/rules.js)
 *
 * Prints ns per evaluation of typical `where` conditions, and µs per request for a rule set of
 * five rules over 1,000 candidates, with and without the trace.
 */
import {
  applyRules,
  compileExpression,
  compileRules,
  type ExprEnv,
  type ExprItem,
} from '../src/pipeline/rules/index.js';

const N = 1000;
const NOW = Date.parse('2025-06-15T12:00:00Z');
const DAY = 86_400_000;
const CATEGORIES = ['shoes', 'socks', 'caps', 'bags', 'shirts'];
const BRANDS = ['Kea', 'Moa', 'Tui', 'Weka', 'Kaka', 'Ruru'];
const TAGS = ['sale', 'new', 'adult', 'eco', 'bestseller'];

let seed = 42;
function random(): number {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 2 ** 32;
}

const items: ExprItem[] = [];
for (let i = 0; i < N; i++) {
  items.push({
    id: `sku-${i}`,
    title: `Item ${i}`,
    categories: [CATEGORIES[i % CATEGORIES.length]],
    tags: TAGS.filter(() => random() < 0.3),
    available: random() < 0.95,
    createdAt: NOW - Math.floor(random() * 30 * DAY),
    attributes: { price: Math.round(random() * 200), brand: BRANDS[i % BRANDS.length] },
  });
}
const user = { id: 'u1', attributes: { country: 'DE', age: 34, favouriteBrand: 'Kea' } };
const context = { placement: 'home', attributes: { device: 'mobile' } };

const EXPRESSIONS = [
  'item.category == "shoes" and item.price < 50',
  'not item.tags contains "adult" or user.age >= 18',
  'context.placement == "home" and item.brand != user.attributes.favouriteBrand',
  'item.createdAt > now - days(7)',
  'item.brand in ["Kea", "Moa", "Tui"] and item.available and lower(item.title) startsWith "item 1"',
];

function nsPerEval(source: string): { ns: number; matches: number } {
  const { test } = compileExpression(source);
  const env: ExprEnv = { item: null, user, context, now: NOW };
  let matches = 0;
  const pass = (): void => {
    for (let i = 0; i < N; i++) {
      env.item = items[i];
      if (test(env)) matches++;
    }
  };
  for (let w = 0; w < 200; w++) pass();
  const reps = 2000;
  matches = 0;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < reps; r++) pass();
  const ns = Number(process.hrtime.bigint() - t0) / (reps * N);
  return { ns, matches: matches / reps };
}

console.log(`expression evaluation over ${N} items (ns/eval, items matched)`);
for (const source of EXPRESSIONS) {
  const { ns, matches } = nsPerEval(source);
  console.log(`  ${ns.toFixed(1).padStart(6)} ns  ${String(matches).padStart(4)}  ${source}`);
}

const rules = compileRules([
  {
    id: 'no-adult',
    placement: '*',
    action: 'filter',
    enabled: true,
    where: 'item.tags contains "adult"',
    when: 'not (user.age >= 18)',
  },
  { id: 'gone', placement: 'home', action: 'filter', enabled: true, where: 'not item.available' },
  {
    id: 'sale',
    placement: 'home',
    action: 'boost',
    enabled: true,
    where: 'item.tags contains "sale"',
    weight: 1.5,
  },
  { id: 'fresh', placement: 'home', action: 'boost', enabled: true, where: 'item.createdAt > now - days(7)' },
  { id: 'dearest', placement: 'home', action: 'bury', enabled: true, where: 'item.price > 150', weight: 3 },
  {
    id: 'hero',
    placement: 'home',
    action: 'pin',
    enabled: true,
    where: 'item.category == "shoes" and item.price < 50',
    slot: 2,
  },
]);
const candidates = items.map((it, i) => ({ itemId: it.id ?? String(i), score: 1 - i / N, index: i }));

function usPerRequest(trace: boolean): number {
  const run = (): number =>
    applyRules(candidates, {
      rules,
      item: (c) => items[c.index],
      user,
      context: { placement: 'home', now: NOW, attributes: context.attributes },
      trace,
    }).candidates.length;
  for (let w = 0; w < 300; w++) run();
  const reps = 2000;
  const t0 = process.hrtime.bigint();
  let kept = 0;
  for (let r = 0; r < reps; r++) kept += run();
  const us = Number(process.hrtime.bigint() - t0) / reps / 1000;
  if (kept === 0) console.log('(no candidates kept)');
  return us;
}

console.log(`\napplyRules: ${rules.length} rules over ${N} candidates`);
console.log(`  ${usPerRequest(false).toFixed(1).padStart(6)} µs/request without trace`);
console.log(`  ${usPerRequest(true).toFixed(1).padStart(6)} µs/request with trace`);
