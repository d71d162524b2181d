import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BlendRanker } from '../../../src/pipeline/ranking/blend-ranker.js';
import { FeatureExtractor } from '../../../src/pipeline/ranking/features.js';
import {
  LearnedRanker,
  binaryAuc,
  examplesFromImpressions,
  loadRankerModel,
  rankerModelFromJson,
  rankerModelToJson,
  saveRankerModel,
  scoreRows,
  trainRanker,
  type LoggedImpression,
  type RankerModel,
  type RankingObjective,
} from '../../../src/pipeline/ranking/learned-ranker.js';
import type { CandidateSet, RequestContext } from '../../../src/pipeline/types.js';
import { DAY, T0, makeCatalog, makeContext, makeSet, rng } from './fixtures.js';

const sigmoid = (t: number): number => 1 / (1 + Math.exp(-t));

describe('binaryAuc', () => {
  it('counts ordered pairs, ties as half', () => {
    expect(binaryAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75);
    expect(binaryAuc([1, 1, 2], [1, 0, 1])).toBeCloseTo(0.75);
    expect(binaryAuc([1, 2], [1, 1])).toBeNaN();
    // Within groups only: group 0 ordered right, group 1 wrong.
    expect(binaryAuc([1, 2, 100, 50], [0, 1, 0, 1], Int32Array.from([0, 0, 1, 1]))).toBeCloseTo(0.5);
  });
});

describe('trainRanker', () => {
  it('recovers the weights of a known logistic model', () => {
    const r = rng(11);
    const rows = 20_000;
    const cols = 3;
    const features = new Float32Array(rows * cols);
    const labels = new Float32Array(rows);
    for (let i = 0; i < rows; i++) {
      const x0 = r() * 2 - 1;
      const x1 = r() * 4;
      const x2 = r();
      features.set([x0, x1, x2], i * cols);
      labels[i] = r() < sigmoid(-1 + 1.5 * x0 - 0.5 * x1) ? 1 : 0;
    }
    const model = trainRanker(
      { features, rows, cols, labels },
      { featureNames: ['x0', 'x1', 'x2'], l2: 1e-6 },
    );
    expect(model.weights[0]).toBeCloseTo(1.5, 0);
    expect(Math.abs(model.weights[0] - 1.5)).toBeLessThan(0.15);
    expect(Math.abs(model.weights[1] + 0.5)).toBeLessThan(0.06);
    expect(Math.abs(model.weights[2])).toBeLessThan(0.15);
    expect(Math.abs(model.bias + 1)).toBeLessThan(0.15);
    expect(model.training.iterations).toBeLessThan(15);
  });

  it('ignores constant columns and survives separable data', () => {
    const features = Float32Array.from([0, 1, 1, 1, 2, 1, 3, 1]);
    const labels = Float32Array.from([0, 0, 1, 1]);
    const model = trainRanker({ features, rows: 4, cols: 2, labels }, { l2: 1e-3 });
    expect(model.weights[1]).toBe(0);
    expect(model.weights[0]).toBeGreaterThan(0);
    const scores = scoreRows(model, features, 4);
    expect(binaryAuc(scores, labels)).toBe(1);
    expect(scores.every(Number.isFinite)).toBe(true);
  });

  it('uses weights and drops lists without a positive when asked', () => {
    const features = Float32Array.from([0, 1, 0, 1]);
    const labels = Float32Array.from([0, 1, 1, 0]);
    const weights = Float32Array.from([1, 3, 1, 1]);
    const m = trainRanker({ features, rows: 4, cols: 1, labels, weights }, { l2: 0 });
    // Weighted: x = 1 → 3 positive of 4; x = 0 → 1 of 2: log-odds ln 3 − 0.
    expect(m.weights[0]).toBeCloseTo(Math.log(3), 3);
    const groups = Int32Array.from([0, 0, 1, 1]);
    const noPos = Float32Array.from([0, 1, 0, 0]);
    const d = trainRanker(
      { features, rows: 4, cols: 1, labels: noPos, groups },
      { l2: 1e-3, dropGroupsWithoutPositives: true },
    );
    expect(d.training.rows).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------------
// A synthetic shop whose users click what the collaborative source likes (appeal) and buy what
// is in their favourite category, less so when it is expensive. Clicks and purchases are drawn
// independently so that each objective has one known driver.

const ITEMS = 300;
const CATS = 10;
const world = (() => {
  const r = rng(2024);
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

interface Request {
  ctx: RequestContext;
  set: CandidateSet;
  favourite: number;
}

function makeRequests(count: number, seed: number): Request[] {
  const r = rng(seed);
  const out: Request[] = [];
  for (let q = 0; q < count; q++) {
    const favourite = Math.floor(r() * CATS);
    const history = Int32Array.from({ length: 6 }, (_, h) =>
      h < 4 ? favourite + CATS * Math.floor(r() * (ITEMS / CATS)) : Math.floor(r() * ITEMS),
    );
    const chosen = new Set<number>();
    while (chosen.size < 30) chosen.add(Math.floor(r() * ITEMS));
    const entries = [...chosen].map((i) => ({
      item: i,
      scores: [world.appeal[i] + 0.15 * (r() - 0.5), r() < 0.5 ? world.count[i] : null],
    }));
    out.push({ ctx: makeContext({ history, userId: `u${q}` }), set: makeSet(ITEMS, 2, entries), favourite });
  }
  return out;
}

const extractor = new FeatureExtractor(world.catalog, {
  sources: ['cf', 'pop'],
  stats: { count: world.count },
  context: [{ key: 'device', values: ['mobile', 'desktop'] }],
});
const affinityCol = extractor.column('affinity:category');

/** True click and purchase probabilities of slot j. */
function truth(
  req: Request,
  j: number,
  affinity: number,
): { click: number; purchase: number; price: number } {
  const item = req.set.items[j];
  return {
    click: sigmoid(-2 + 5 * (world.appeal[item] - 0.5)),
    purchase: sigmoid(-4 + 6 * affinity - 0.7 * (Math.log(world.price[item]) - Math.log(30))),
    price: world.price[item],
  };
}

function logImpressions(requests: Request[], seed: number): LoggedImpression[] {
  const r = rng(seed);
  const log: LoggedImpression[] = [];
  requests.forEach((req, q) => {
    extractor.extract(req.ctx, req.set);
    for (let j = 0; j < req.set.size; j++) {
      const row = extractor.copyRow(j);
      const t = truth(req, j, row[affinityCol]);
      const purchased = r() < t.purchase;
      log.push({
        recommendationId: `rec${seed}-${q}`,
        userId: req.ctx.userId,
        itemIndex: req.set.items[j],
        position: j,
        featureRow: row,
        clicked: r() < t.click,
        purchased,
        revenue: purchased ? t.price : 0,
        time: T0,
      });
    }
  });
  return log;
}

const trainLog = logImpressions(makeRequests(1500, 1), 101);
const testRequests = makeRequests(500, 2);
const testLog = logImpressions(testRequests, 202);
const models = new Map<RankingObjective, RankerModel>();
for (const objective of ['click', 'purchase', 'revenue'] as const) {
  const ex = examplesFromImpressions(trainLog, objective);
  models.set(objective, trainRanker(ex, { objective, featureNames: extractor.featureNames }));
}
const model = (o: RankingObjective): RankerModel => models.get(o) as RankerModel;
const weightOf = (o: RankingObjective, name: string): number =>
  model(o).standardisedWeights[model(o).featureNames.indexOf(name)];
const strongest = (o: RankingObjective): string => {
  const w = model(o).standardisedWeights;
  let best = 0;
  for (let f = 1; f < w.length; f++) if (Math.abs(w[f]) > Math.abs(w[best])) best = f;
  return model(o).featureNames[best];
};
/** Raw-space effect of multiplying the price: both price features move by the same amount. */
const priceSlope = (o: RankingObjective): number => {
  const m = model(o);
  return (
    m.weights[m.featureNames.indexOf('price:log')] + m.weights[m.featureNames.indexOf('price:log_rel_user')]
  );
};

describe('learned ranker on a synthetic log', () => {
  it('builds examples per objective', () => {
    const click = examplesFromImpressions(trainLog, 'click');
    const revenue = examplesFromImpressions(trainLog, 'revenue');
    expect(click.rows).toBe(trainLog.length);
    expect(click.cols).toBe(extractor.featureCount);
    expect(click.groups[29]).toBe(0);
    expect(click.groups[30]).toBe(1);
    const i = trainLog.findIndex((imp) => imp.purchased);
    const j = trainLog.findIndex((imp) => !imp.purchased);
    expect(revenue.labels[i]).toBe(1);
    expect(revenue.weights?.[j]).toBe(1);
    const mean =
      trainLog.filter((imp) => imp.purchased).reduce((s, imp) => s + imp.revenue, 0) /
      trainLog.filter((imp) => imp.purchased).length;
    expect(revenue.weights?.[i]).toBeCloseTo(Math.min(20, trainLog[i].revenue / mean), 4);
    const partial = examplesFromImpressions([{ ...trainLog[0], featureRow: null }, trainLog[1]], 'purchase');
    expect(partial.rows).toBe(1);
    expect(partial.skipped).toBe(1);
  });

  it('learns the click driver for clicks and the purchase driver for purchases', () => {
    expect(strongest('click')).toBe('source:cf');
    expect(strongest('purchase')).toBe('affinity:category');
    expect(Math.abs(weightOf('click', 'affinity:category'))).toBeLessThan(
      Math.abs(weightOf('click', 'source:cf')) / 3,
    );
    // Purchases are price-sensitive; revenue prefers the expensive ones that still sell.
    expect(priceSlope('purchase')).toBeLessThan(-0.3);
    expect(priceSlope('revenue')).toBeGreaterThan(0);
  });

  it('revenue ranks an expensive purchasable item above a cheap one, but not an unpurchasable one', () => {
    const cols = extractor.featureCount;
    const rowFor = (affinity: number, price: number): Float32Array => {
      const row = new Float32Array(cols);
      row[extractor.column('affinity:category')] = affinity;
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
    expect(pur[1]).toBeGreaterThan(pur[0]);
    expect(rev[1]).toBeGreaterThan(rev[2]);
  });

  it('beats the blend on held-out impressions', () => {
    const blend = new BlendRanker(world.catalog, { sources: ['cf', 'pop'], primary: 'cf' });
    const n = testLog.length;
    const blendScores = new Float32Array(n);
    const learned = new Map<RankingObjective, Float32Array>();
    for (const o of ['click', 'purchase', 'revenue'] as const) learned.set(o, new Float32Array(n));
    const groups = new Int32Array(n);
    const clicks = new Float32Array(n);
    const purchases = new Float32Array(n);
    const expectedRevenue = new Float64Array(n);
    let at = 0;
    testRequests.forEach((req, q) => {
      blend.rank(req.ctx, req.set);
      for (let j = 0; j < req.set.size; j++) blendScores[at + j] = req.set.score[j];
      for (const o of ['click', 'purchase', 'revenue'] as const) {
        new LearnedRanker(extractor, model(o)).rank(req.ctx, req.set);
        const out = learned.get(o) as Float32Array;
        for (let j = 0; j < req.set.size; j++) out[at + j] = req.set.score[j];
      }
      extractor.extract(req.ctx, req.set);
      for (let j = 0; j < req.set.size; j++) {
        const imp = testLog[at + j];
        groups[at + j] = q;
        clicks[at + j] = imp.clicked ? 1 : 0;
        purchases[at + j] = imp.purchased ? 1 : 0;
        const t = truth(req, j, extractor.copyRow(j)[affinityCol]);
        expectedRevenue[at + j] = t.purchase * t.price;
      }
      at += req.set.size;
    });
    const aucBlend = binaryAuc(blendScores, purchases, groups);
    const aucPurchase = binaryAuc(learned.get('purchase') as Float32Array, purchases, groups);
    expect(aucPurchase).toBeGreaterThan(aucBlend + 0.15);
    // The blend follows the click driver; the click model is at least as good at clicks.
    const aucClickBlend = binaryAuc(blendScores, clicks, groups);
    const aucClick = binaryAuc(learned.get('click') as Float32Array, clicks, groups);
    expect(aucClick).toBeGreaterThan(aucClickBlend - 0.01);
    expect(aucClick).toBeGreaterThan(binaryAuc(learned.get('purchase') as Float32Array, clicks, groups));

    // Expected revenue of each request's top 5 under each ranking.
    const top5Revenue = (scores: Float32Array): number => {
      let sum = 0;
      for (let q = 0; q < testRequests.length; q++) {
        const idx = Array.from({ length: 30 }, (_, j) => q * 30 + j).sort((a, b) => scores[b] - scores[a]);
        for (let k = 0; k < 5; k++) sum += expectedRevenue[idx[k]];
      }
      return sum / testRequests.length;
    };
    const rev = top5Revenue(learned.get('revenue') as Float32Array);
    expect(rev).toBeGreaterThan(top5Revenue(learned.get('purchase') as Float32Array));
    expect(rev).toBeGreaterThan(1.5 * top5Revenue(learned.get('click') as Float32Array));
    expect(rev).toBeGreaterThan(1.5 * top5Revenue(blendScores));
  });
});

describe('LearnedRanker', () => {
  const catalog = makeCatalog([{ id: 'a', price: 10 }, { id: 'b', price: 100 }, { id: 'c' }]);

  it('maps model features by name onto a wider extractor and scores only live candidates', () => {
    const fx = new FeatureExtractor(catalog, { sources: ['s'] });
    const m: RankerModel = {
      kind: 'logistic',
      objective: 'revenue',
      featureNames: ['price:log', 'source:s'],
      weights: Float64Array.from([1, 0.5]),
      bias: -1,
      standardisedWeights: Float64Array.from([1, 0.5]),
      training: { rows: 0, positives: 0, iterations: 0, objective: 0, l2: 0 },
    };
    const ranker = new LearnedRanker(fx, m);
    expect(ranker.name).toBe('learned-revenue');
    const set = makeSet(3, 1, [
      { item: 0, scores: [2] },
      { item: 1, scores: [1] },
      { item: 2, scores: [0] },
    ]);
    set.removed[2] = 1;
    ranker.rank(makeContext(), set);
    expect(set.score[0]).toBeCloseTo(-1 + Math.log(11) + 0.5, 5);
    expect(set.score[1]).toBeCloseTo(-1 + Math.log(101) + 0.5 * 0.5, 5);
    expect(Number.isNaN(set.score[2])).toBe(true);
    expect(() => new LearnedRanker(fx, { ...m, featureNames: ['price:log', 'source:other'] })).toThrow(
      /source:other/,
    );
  });

  const dir = mkdtempSync(path.join(os.tmpdir(), 'kindred-ranker-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('saves and loads a model as JSON', () => {
    const m = model('purchase');
    const file = path.join(dir, 'ranker.json');
    saveRankerModel(file, m);
    const back = loadRankerModel(file);
    expect(back.featureNames).toEqual(m.featureNames);
    expect(Array.from(back.weights)).toEqual(Array.from(m.weights));
    expect(back.bias).toBe(m.bias);
    expect(back.objective).toBe('purchase');
    const json = rankerModelToJson(m);
    expect(() => rankerModelFromJson({ ...json, weights: [1] })).toThrow(/weights/);
    expect(() => rankerModelFromJson({ ...json, objective: 'views' })).toThrow(/objective/);
    expect(() => rankerModelFromJson({ ...json, format: 'x' })).toThrow(/format/);
  });
});
