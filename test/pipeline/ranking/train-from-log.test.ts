import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  defaultRankerModelPath,
  formatRankerReport,
  recommendationLogOf,
  trainRankerCommand,
} from '../../../src/cli/train-ranker.js';
import { FeatureExtractor } from '../../../src/pipeline/ranking/features.js';
import {
  LearnedRanker,
  loadRankerModel,
  saveRankerModel,
  scoreRows,
  type RankerModel,
  type RankingObjective,
} from '../../../src/pipeline/ranking/learned-ranker.js';
import {
  InsufficientLogError,
  impressionsFromServed,
  trainRankerFromLog,
  type TrainFromLogResult,
} from '../../../src/pipeline/ranking/train-from-log.js';
import type { CandidateSet, RequestContext } from '../../../src/pipeline/types.js';
import { MemoryRecommendationLog } from '../../../src/serving/memory-recommendation-log.js';
import type { ServedRecommendation } from '../../../src/serving/recommendation-log.js';
import { DAY, T0, makeCatalog, makeContext, makeSet, orderByScore, rng } from './fixtures.js';

const sigmoid = (t: number): number => 1 / (1 + Math.exp(-t));

function served(id: string, servedAt: number, items: string[], placement = 'home'): ServedRecommendation {
  return {
    id,
    userId: 'u1',
    placement,
    servedAt,
    items,
    scores: items.map((_, j) => items.length - j),
    features: { names: ['a', 'b'], rows: Float32Array.from(items.flatMap((_, j) => [j, 10 * j])) },
  };
}

describe('MemoryRecommendationLog', () => {
  it('keeps served lists in serving order and scans them by time and placement', async () => {
    const log = new MemoryRecommendationLog();
    await log.record(served('r2', 2000, ['x', 'y']));
    await log.record(served('r3', 3000, ['y'], 'similar'));
    await log.record(served('r1', 1000, ['z'])); // recorded late, served first
    const ids = async (o?: { since?: number; placement?: string }): Promise<string[]> => {
      const out: string[] = [];
      for await (const { served: s } of log.scan(o)) out.push(s.id);
      return out;
    };
    expect(await ids()).toEqual(['r1', 'r2', 'r3']);
    expect(await ids({ since: 2000 })).toEqual(['r2', 'r3']);
    expect(await ids({ placement: 'home' })).toEqual(['r1', 'r2']);
    await expect(log.record(served('r1', 5000, ['q']))).rejects.toThrow(/r1/);
    const bad = { ...served('r9', 1, ['a']), features: { names: ['a'], rows: new Float32Array(3) } };
    await expect(log.record(bad)).rejects.toThrow(/feature values/);
    expect(await log.get('nope')).toBeNull();
    expect(await log.outcomes('nope')).toEqual([]);
    const got = await log.get('r2');
    expect(got?.items).toEqual(['x', 'y']);
    expect(Array.from(got?.features?.rows ?? [])).toEqual([0, 0, 1, 10]);
  });

  it('counts events against the served item, revenue from the event or price × quantity', async () => {
    const prices: Record<string, number> = { x: 12.5 };
    const log = new MemoryRecommendationLog({ priceOf: (id) => prices[id] });
    await log.record(served('r', 0, ['x', 'y']));
    expect(log.attribute('r', 'x', 'impression')).toBe(true);
    expect(log.attribute('r', 'x', 'click')).toBe(true);
    expect(log.attribute('r', 'x', 'purchase', 2)).toBe(true); // 2 × 12.5
    expect(log.attribute('r', 'y', 'purchase', 1, 40)).toBe(true); // revenue given
    expect(log.attribute('r', 'y', 'purchase')).toBe(true); // no price known: no revenue
    expect(log.attribute('r', 'y', 'cart')).toBe(true);
    expect(log.attribute('r', 'y', 'view')).toBe(false);
    expect(log.attribute('r', 'z', 'click')).toBe(false);
    expect(log.attribute('other', 'x', 'click')).toBe(false);
    expect(await log.outcomes('r')).toEqual([
      { itemId: 'x', rank: 1, impressions: 1, clicks: 1, carts: 0, purchases: 1, revenue: 25 },
      { itemId: 'y', rank: 2, impressions: 0, clicks: 0, carts: 1, purchases: 2, revenue: 40 },
    ]);
    const scanned = [];
    for await (const entry of log.scan()) scanned.push(entry);
    expect(scanned[0].outcomes[0].revenue).toBe(25);
  });
});

describe('impressionsFromServed', () => {
  const s = served('r', 7, ['x', 'y', 'z']);
  const outcomes = [
    { itemId: 'x', rank: 1, impressions: 0, clicks: 0, carts: 0, purchases: 0, revenue: 0 },
    { itemId: 'y', rank: 2, impressions: 0, clicks: 2, carts: 0, purchases: 1, revenue: 9 },
    { itemId: 'z', rank: 3, impressions: 1, clicks: 0, carts: 0, purchases: 0, revenue: 0 },
  ];

  it('turns each served item into an impression, shown or not', () => {
    const imps = impressionsFromServed(s, outcomes);
    expect(imps.map((i) => [i.position, i.clicked, i.purchased, i.revenue])).toEqual([
      [0, false, false, 0],
      [1, true, true, 9],
      [2, false, false, 0],
    ]);
    expect(Array.from(imps[2].featureRow ?? [])).toEqual([2, 20]);
    expect(imps[0].time).toBe(7);
    expect(impressionsFromServed(s, []).every((i) => !i.clicked && !i.purchased)).toBe(true);
  });

  it('keeps only items with an event under requireImpression and maps features by name', () => {
    const imps = impressionsFromServed(s, outcomes, { requireImpression: true, featureNames: ['b'] });
    expect(imps.map((i) => i.position)).toEqual([1, 2]);
    expect(Array.from(imps[0].featureRow ?? [])).toEqual([10]);
    expect(impressionsFromServed(s, outcomes, { featureNames: ['a', 'c'] })[0].featureRow).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// A synthetic shop served by a blend of a collaborative source and popularity. Users click what
// the collaborative source likes (appeal), regardless of popularity, and buy what is in their
// favourite category, less so when it is expensive. Clicks and purchases are drawn
// independently so that each objective has one known driver.

const ITEMS = 200;
const CATS = 8;
const LIST = 20;
const world = (() => {
  const r = rng(7);
  const specs = [];
  const appeal = new Float64Array(ITEMS);
  const price = new Float64Array(ITEMS);
  const count = new Float32Array(ITEMS);
  for (let i = 0; i < ITEMS; i++) {
    appeal[i] = r();
    price[i] = Math.exp(Math.log(5) + r() * Math.log(40));
    count[i] = Math.floor(r() * 500);
    specs.push({
      id: `p${i}`,
      categories: [`c${i % CATS}`],
      price: price[i],
      publishedAt: T0 - Math.floor(r() * 200) * DAY,
    });
  }
  return { catalog: makeCatalog(specs), appeal, price, count };
})();

const extractorOptions = { sources: ['cf', 'pop'], stats: { count: world.count } };
const extractor = new FeatureExtractor(world.catalog, extractorOptions);
const affinityCol = extractor.column('affinity:category');
const cfCol = extractor.column('source:cf');
const popCol = extractor.column('source:pop');

interface Request {
  ctx: RequestContext;
  set: CandidateSet;
}

function makeRequest(r: () => number, userId: string, favourite: number): Request {
  const history = Int32Array.from({ length: 6 }, (_, h) =>
    h < 4 ? favourite + CATS * Math.floor(r() * (ITEMS / CATS)) : Math.floor(r() * ITEMS),
  );
  const chosen = new Set<number>();
  while (chosen.size < LIST) chosen.add(Math.floor(r() * ITEMS));
  const entries = [...chosen].map((i) => ({
    item: i,
    scores: [world.appeal[i] + 0.15 * (r() - 0.5), world.count[i]],
  }));
  return { ctx: makeContext({ history, userId }), set: makeSet(ITEMS, 2, entries) };
}

/** Serves `lists` lists into a log, the order a blend of both sources, with drawn outcomes. */
async function servedLog(
  lists: number,
  seed: number,
  opts: { withImpressions?: boolean } = {},
): Promise<MemoryRecommendationLog> {
  const r = rng(seed);
  const log = new MemoryRecommendationLog({ priceOf: (id) => world.price[Number(id.slice(1))] });
  const F = extractor.featureCount;
  for (let q = 0; q < lists; q++) {
    const req = makeRequest(r, `u${q % 300}`, Math.floor(r() * CATS));
    const x = extractor.extract(req.ctx, req.set);
    for (let j = 0; j < req.set.size; j++) req.set.score[j] = x[j * F + cfCol] + x[j * F + popCol];
    const order = orderByScore(req.set);
    const rows = new Float32Array(order.length * F);
    order.forEach((slot, k) => rows.set(extractor.copyRow(slot), k * F));
    const id = `rec-${seed}-${q}`;
    await log.record({
      id,
      userId: req.ctx.userId,
      placement: q % 10 === 9 ? 'similar' : 'home',
      servedAt: T0 + q * 1000,
      items: order.map((slot) => `p${req.set.items[slot]}`),
      scores: order.map((slot) => req.set.score[slot]),
      features: { names: [...extractor.featureNames], rows },
    });
    order.forEach((slot, k) => {
      const item = req.set.items[slot];
      const itemId = `p${item}`;
      if (opts.withImpressions && k < 10) log.attribute(id, itemId, 'impression');
      if (r() < sigmoid(-2 + 5 * (world.appeal[item] - 0.5))) log.attribute(id, itemId, 'click');
      const affinity = rows[k * F + affinityCol];
      const p = sigmoid(-4 + 6 * affinity - 0.7 * (Math.log(world.price[item]) - Math.log(30)));
      if (r() < p) log.attribute(id, itemId, 'purchase', 1);
    });
  }
  return log;
}

const log = await servedLog(1500, 42);
const results = new Map<RankingObjective, TrainFromLogResult>();
for (const objective of ['click', 'purchase', 'revenue'] as const)
  results.set(objective, await trainRankerFromLog(log, { objective, seed: 3 }));
const result = (o: RankingObjective): TrainFromLogResult => results.get(o) as TrainFromLogResult;
const model = (o: RankingObjective): RankerModel => result(o).model;
const strongest = (o: RankingObjective): string => {
  const m = model(o);
  let best = 0;
  for (let f = 1; f < m.featureNames.length; f++)
    if (Math.abs(m.standardisedWeights[f]) > Math.abs(m.standardisedWeights[best])) best = f;
  return m.featureNames[best];
};
const priceSlope = (o: RankingObjective): number => {
  const m = model(o);
  return (
    m.weights[m.featureNames.indexOf('price:log')] + m.weights[m.featureNames.indexOf('price:log_rel_user')]
  );
};

describe('trainRankerFromLog on a synthetic served log', () => {
  it('holds out whole lists, seeded, and counts every served item as an impression', async () => {
    const rep = result('click').report;
    expect(rep.lists).toBe(1500);
    expect(rep.impressions).toBe(1500 * LIST);
    expect(rep.holdoutImpressions).toBe(rep.holdoutLists * LIST);
    expect(rep.holdoutLists / rep.lists).toBeGreaterThan(0.15);
    expect(rep.holdoutLists / rep.lists).toBeLessThan(0.25);
    expect(rep.featureNames).toEqual(extractor.featureNames);
    expect(rep.skipped).toEqual({
      listsWithoutFeatures: 0,
      listsWithOtherFeatures: 0,
      listsMalformed: 0,
      itemsNotShown: 0,
    });
    expect(model('click').training.rows).toBe(rep.impressions - rep.holdoutImpressions);
    // Same seed, same split; another seed, another split.
    expect(result('purchase').report.holdoutLists).toBe(rep.holdoutLists);
    const other = await trainRankerFromLog(log, { objective: 'click', seed: 4 });
    expect(other.report.holdoutLists).not.toBe(rep.holdoutLists);
    // Revenue counts purchases as its positives.
    expect(result('revenue').report.positives).toBe(result('purchase').report.positives);
  });

  it('the click model weighs the click driver and beats the served order on held-out lists', () => {
    const rep = result('click').report;
    expect(strongest('click')).toBe('source:cf');
    const w = (name: string): number =>
      model('click').standardisedWeights[model('click').featureNames.indexOf(name)];
    expect(Math.abs(w('source:pop'))).toBeLessThan(Math.abs(w('source:cf')) / 3);
    expect(rep.holdoutAuc).toBeGreaterThan(rep.blendHoldoutAuc + 0.05);
    expect(rep.trainAuc).toBeGreaterThan(0.6);
  });

  it('the purchase model weighs the purchase driver and is price-sensitive', () => {
    const rep = result('purchase').report;
    expect(strongest('purchase')).toBe('affinity:category');
    expect(priceSlope('purchase')).toBeLessThan(-0.3);
    expect(rep.holdoutAuc).toBeGreaterThan(rep.blendHoldoutAuc + 0.15);
  });

  it('the revenue model prefers expensive items that still sell', () => {
    expect(priceSlope('revenue')).toBeGreaterThan(0);
    const cols = extractor.featureCount;
    const rowFor = (affinity: number, price: number): Float32Array => {
      const row = new Float32Array(cols);
      row[affinityCol] = affinity;
      row[extractor.column('price:log')] = Math.log1p(price);
      row[extractor.column('price:log_rel_user')] = Math.log1p(price) - Math.log1p(30);
      return row;
    };
    const rows = new Float32Array(3 * cols);
    rows.set(rowFor(0.67, 150), 0); // likely purchase, expensive
    rows.set(rowFor(0.67, 10), cols); // likely purchase, cheap
    rows.set(rowFor(0, 150), 2 * cols); // unlikely purchase, expensive
    const rev = scoreRows(model('revenue'), rows, 3);
    const pur = scoreRows(model('purchase'), rows, 3);
    expect(rev[0]).toBeGreaterThan(rev[1]);
    expect(rev[1]).toBeGreaterThan(rev[2]);
    expect(pur[1]).toBeGreaterThan(pur[0]);
  });

  it('filters by placement and time', async () => {
    const home = await trainRankerFromLog(log, { objective: 'click', placement: 'home' });
    expect(home.report.lists).toBe(1350);
    expect(home.report.placement).toBe('home');
    const late = await trainRankerFromLog(log, { objective: 'click', since: T0 + 1000 * 1000 });
    expect(late.report.lists).toBe(500);
  });

  it('counts only reported impressions under requireImpression', async () => {
    const small = await servedLog(300, 9, { withImpressions: true });
    const all = await trainRankerFromLog(small, { objective: 'click' });
    const shown = await trainRankerFromLog(small, { objective: 'click', requireImpression: true });
    expect(all.report.impressions).toBe(300 * LIST);
    // The top 10 of each list, plus clicked or bought items below them.
    expect(shown.report.impressions).toBeGreaterThanOrEqual(300 * 10);
    expect(shown.report.impressions).toBeLessThan(300 * 16);
    expect(shown.report.skipped.itemsNotShown).toBe(all.report.impressions - shown.report.impressions);
    expect(shown.report.positives).toBe(all.report.positives);
  });

  it('skips lists without the trained features', async () => {
    const mixed = new MemoryRecommendationLog();
    for await (const { served: s, outcomes } of log.scan({ placement: 'similar' })) {
      await mixed.record(s);
      for (const o of outcomes) for (let c = 0; c < o.clicks; c++) mixed.attribute(s.id, o.itemId, 'click');
    }
    await mixed.record({ ...served('bare', T0 + 1e9, ['p1', 'p2']), features: null });
    await mixed.record(served('other', T0 + 1e9 + 1, ['p1', 'p2']));
    const res = await trainRankerFromLog(mixed, { objective: 'click', holdoutFraction: 0 });
    expect(res.report.lists).toBe(150);
    expect(res.report.skipped.listsWithoutFeatures).toBe(1);
    expect(res.report.skipped.listsWithOtherFeatures).toBe(1);
    expect(res.report.holdoutLists).toBe(0);
    expect(res.report.holdoutAuc).toBeNaN();
    const sub = await trainRankerFromLog(mixed, {
      objective: 'click',
      featureNames: ['source:cf', 'popularity:log_count'],
    });
    expect(sub.model.featureNames).toEqual(['source:cf', 'popularity:log_count']);
    expect(sub.report.skipped.listsWithOtherFeatures).toBe(1);
  });

  it('refuses with too few positives, naming the objective and the counts', async () => {
    // 40 lists of the log with only their first 12 purchases.
    const few = new MemoryRecommendationLog();
    let purchases = 0;
    for await (const { served: s, outcomes } of log.scan({ since: T0 + 1000 * 1000 })) {
      if (few.size >= 40) break;
      await few.record(s);
      for (const o of outcomes)
        if (o.purchases > 0 && purchases < 12) {
          few.attribute(s.id, o.itemId, 'purchase', 1);
          purchases++;
        }
    }
    expect(purchases).toBe(12);
    const attempt = trainRankerFromLog(few, { objective: 'purchase', holdoutFraction: 0 });
    await expect(attempt).rejects.toThrow(InsufficientLogError);
    await expect(attempt).rejects.toThrow(
      new RegExp(
        `too few purchases to train a purchase ranker: ${purchases} purchases in the 800 training impressions`,
      ),
    );
    await expect(trainRankerFromLog(few, { objective: 'revenue', holdoutFraction: 0 })).rejects.toThrow(
      /revenue ranker/,
    );
    await expect(trainRankerFromLog(few, { objective: 'click' })).rejects.toThrow(/0 clicks/);
    await expect(trainRankerFromLog(new MemoryRecommendationLog(), { objective: 'click' })).rejects.toThrow(
      /no served lists.*score blend/,
    );
    await expect(trainRankerFromLog(few, { objective: 'click', holdoutFraction: 1 })).rejects.toThrow(
      RangeError,
    );
  });
});

describe('a ranking model trained from the log', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kindred-train-ranker-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('saves and loads', () => {
    const file = defaultRankerModelPath(dir, 'home');
    expect(file).toBe(path.join(dir, 'rankers', 'home.json'));
    expect(defaultRankerModelPath(dir)).toBe(path.join(dir, 'rankers', 'all.json'));
    expect(path.dirname(defaultRankerModelPath(dir, '../x'))).toBe(path.join(dir, 'rankers'));
    const m = model('revenue');
    saveRankerModel(file, m);
    const back = loadRankerModel(file);
    expect(back.objective).toBe('revenue');
    expect(back.featureNames).toEqual(m.featureNames);
    expect(Array.from(back.weights)).toEqual(Array.from(m.weights));
    expect(back.bias).toBe(m.bias);
  });

  it('ranks candidates through a LearnedRanker over an extractor with the same features', () => {
    const file = path.join(dir, 'click.json');
    saveRankerModel(file, model('click'));
    saveRankerModel(path.join(dir, 'purchase.json'), model('purchase'));
    const fx = new FeatureExtractor(world.catalog, extractorOptions);
    const click = new LearnedRanker(fx, loadRankerModel(file));
    const purchase = new LearnedRanker(fx, loadRankerModel(path.join(dir, 'purchase.json')));
    // A user of category 0; the candidates: an appealing item elsewhere, a cheap unappealing
    // item of category 0, and an expensive unappealing one of category 0.
    const cheap0 = [...Array(ITEMS).keys()]
      .filter((i) => i % CATS === 0)
      .sort((a, b) => world.price[a] - world.price[b]);
    const [cheap, dear] = [cheap0[0], cheap0[cheap0.length - 1]];
    const appealing = [...Array(ITEMS).keys()]
      .filter((i) => i % CATS === 3)
      .sort((a, b) => world.appeal[b] - world.appeal[a])[0];
    const ctx = makeContext({ history: Int32Array.from([8, 16, 24, 32]) });
    const entries = [
      { item: appealing, scores: [1, 100] },
      { item: cheap, scores: [0, 100] },
      { item: dear, scores: [0.5, 100] },
    ];
    const setC = makeSet(ITEMS, 2, entries);
    click.rank(ctx, setC);
    expect(orderByScore(setC)[0]).toBe(0);
    const setP = makeSet(ITEMS, 2, entries);
    purchase.rank(ctx, setP);
    expect(orderByScore(setP)).toEqual([1, 2, 0]);
  });

  it('reports as a table and finds the engine log', () => {
    const text = formatRankerReport(result('purchase').report, model('purchase'));
    expect(text).toContain(
      `| held out | ${result('purchase').report.holdoutLists.toLocaleString('en-US')} |`,
    );
    expect(text).toContain(result('purchase').report.holdoutAuc.toFixed(4));
    expect(text).toContain('| affinity:category | +');
    expect(() => recommendationLogOf({})).toThrow(/no recommendation log/);
    expect(recommendationLogOf({ recommendationLog: log })).toBe(log);
  });

  it('the command refuses an engine without served lists and writes no model', async () => {
    const dataDir = path.join(dir, 'data');
    const parse = (args: string[]): Promise<unknown> =>
      trainRankerCommand()
        .exitOverride()
        .configureOutput({ writeErr: () => undefined })
        .parseAsync(['--data-dir', dataDir, '--store', 'sqlite', ...args], { from: 'user' });
    await expect(parse(['--objective', 'views'])).rejects.toThrow(/views/);
    await expect(parse(['--objective', 'purchase', '--since', 'yesterday'])).rejects.toThrow(/--since/);
    await expect(parse(['--objective', 'purchase', '--placement', 'home'])).rejects.toThrow(
      /recommendation log/,
    );
    expect(existsSync(defaultRankerModelPath(path.join(dataDir, 'models'), 'home'))).toBe(false);
  });
});
