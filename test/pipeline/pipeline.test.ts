import type { AlsModel } from '../../src/models/als/als.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { interactionsFromArrays, type InteractionData } from '../../src/data/interactions.js';
import { DEFAULT_EVENT_TYPES, type EventType, type Item } from '../../src/domain/types.js';
import { Rng } from '../../src/ingest/prng.js';
import type { Recommender } from '../../src/models/model.js';
import type { Params } from '../../src/models/params.js';
import { createModel } from '../../src/models/registry.js';
import { buildCatalog, type Catalog } from '../../src/pipeline/catalog.js';
import type { RankerModel } from '../../src/pipeline/ranking/learned-ranker.js';
import { buildPipelines, PLACEMENTS } from '../../src/pipeline/placements.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { requestContext, type RequestParams } from '../../src/pipeline/request-context.js';
import { compileRules } from '../../src/pipeline/rules/index.js';
import type { HistoryEntry } from '../../src/store/store.js';

/**
 * A hand-made shop: 12 items, shoes s0..s5 and hats h0..h5. Users like one of the two kinds.
 * s0 is the most popular item but out of stock; h5 is unavailable; s5 is for adults only.
 */
const NOW = Date.UTC(2026, 10, 1);
const ids = ['s0', 's1', 's2', 's3', 's4', 's5', 'h0', 'h1', 'h2', 'h3', 'h4', 'h5'];

function item(id: string): Item {
  const shoe = id.startsWith('s');
  const attributes: Item['attributes'] = { price: shoe ? 80 : 20, stock: id === 's0' ? 0 : 5 };
  if (id === 's5') attributes.minAge = 18;
  return {
    id,
    title: `${shoe ? 'Shoe' : 'Hat'} ${id}`,
    text: null,
    categories: [shoe ? 'shoes' : 'hats'],
    tags: [],
    attributes,
    available: id !== 'h5',
    publishedAt: NOW - (ids.indexOf(id) + 1) * 86_400_000,
    createdAt: NOW - 100 * 86_400_000,
    updatedAt: NOW,
  };
}

let catalog: Catalog;
let data: InteractionData;
let models: Map<string, Recommender>;
const types = new Map<string, EventType>(DEFAULT_EVENT_TYPES.map((t) => [t.name, t]));

beforeAll(async () => {
  const rng = new Rng(5);
  const users: string[] = [];
  const items: string[] = [];
  for (let u = 0; u < 60; u++) {
    const kind = u % 2 === 0 ? 's' : 'h';
    users.push(`u${u}`);
    items.push(`${kind}0`); // everyone of a kind has the first item
    for (let j = 0; j < 3; j++) {
      users.push(`u${u}`);
      items.push(`${kind}${1 + Math.floor(rng.next() * 5)}`);
    }
  }
  data = interactionsFromArrays({ userIds: users, itemIds: items, catalog: ids });
  catalog = buildCatalog(ids, ids.map(item));
  models = new Map();
  for (const name of ['popularity', 'trending', 'item-knn', 'ease', 'assoc']) {
    const params: Params = name === 'assoc' ? { minSupport: 1, sessionGapMinutes: 0 } : {};
    models.set(name, await createModel(name, params).fit(data));
  }
});

function history(...itemIds: string[]): HistoryEntry[] {
  return itemIds.map((itemId, r) => ({
    itemId,
    type: 'purchase',
    value: null,
    timestamp: NOW - (r + 1) * 60_000,
  }));
}

function run(
  pipelines: Map<string, Pipeline>,
  placement: string,
  h: HistoryEntry[],
  p: Partial<RequestParams> = {},
) {
  const ctx = requestContext(catalog, h, types, { userId: 'x', placement, k: 12, now: NOW, ...p });
  return pipelines.get(placement)!.run(ctx);
}

describe('pipeline on a hand-made catalogue', () => {
  it('never shows an out-of-stock, unavailable or consumed item, whatever proposes it', () => {
    const pipelines = buildPipelines({ catalog, models, now: NOW });
    for (const placement of PLACEMENTS) {
      const r = run(pipelines, placement, history('s1', 'h2'), { itemId: 's2', cart: ['s3'] });
      const shown = r.items.map((i) => i.itemId);
      expect(shown).not.toContain('s0');
      expect(shown).not.toContain('h5');
      expect(shown).not.toContain('s1');
      expect(shown).not.toContain('h2');
    }
    // s0 was proposed (it is the most popular item) and then filtered.
    const r = run(pipelines, 'home', history('s1'), { debug: true });
    expect(r.contributed.popular).toBeGreaterThan(0);
    expect(r.trace.map((t) => t.stage)).toEqual(['candidates', 'filters', 'rank', 'explain']);
  });

  it('shows re-consumable categories again', () => {
    const pipelines = buildPipelines({
      catalog,
      models,
      now: NOW,
      settings: { home: { seen: { reconsumableCategories: ['hats'] } } },
    });
    const shown = run(pipelines, 'home', history('h1', 'h2')).items.map((i) => i.itemId);
    expect(shown).toEqual(expect.arrayContaining(['h1', 'h2']));
  });

  it('hides adult items from users without a known adult age', () => {
    const pipelines = buildPipelines({ catalog, models, now: NOW });
    const minor = run(pipelines, 'home', history('s1'), { user: { age: 15 } }).items.map((i) => i.itemId);
    const unknown = run(pipelines, 'home', history('s1')).items.map((i) => i.itemId);
    const adult = run(pipelines, 'home', history('s1'), { user: { age: 30 } }).items.map((i) => i.itemId);
    expect(minor).not.toContain('s5');
    expect(unknown).not.toContain('s5');
    expect(adult).toContain('s5');
  });

  it('a ban holds against every source: request exclusions, category exclusions and filter rules', () => {
    const rules = compileRules([
      { id: 'no-s3', placement: '*', action: 'filter', where: 'item.id == "s3"', enabled: true },
    ]);
    const pipelines = buildPipelines({ catalog, models, now: NOW, rules: () => rules });
    for (const placement of PLACEMENTS) {
      const r = run(pipelines, placement, history('s1', 's2'), {
        itemId: 's4',
        cart: ['s2'],
        exclude: ['s4', 'h1'],
      });
      const shown = r.items.map((i) => i.itemId);
      expect(shown).not.toContain('s3');
      expect(shown).not.toContain('h1');
    }
    const noHats = run(pipelines, 'home', history('h1'), { excludeCategories: ['hats'] }).items;
    expect(noHats.length).toBeGreaterThan(0);
    expect(noHats.every((i) => i.itemId.startsWith('s'))).toBe(true);
    const onlyHats = run(pipelines, 'home', history('s1'), { includeCategories: ['hats'] }).items;
    expect(onlyHats.length).toBeGreaterThan(0);
    expect(onlyHats.every((i) => i.itemId.startsWith('h'))).toBe(true);
  });

  it('a pin rule puts the right item in the right slot', () => {
    const rules = compileRules([
      { id: 'pin-h4', placement: 'home', action: 'pin', where: 'item.id == "h4"', slot: 2, enabled: true },
    ]);
    const pipelines = buildPipelines({ catalog, models, now: NOW, rules: () => rules });
    const r = run(pipelines, 'home', history('s1', 's2'), { k: 5 });
    expect(r.items).toHaveLength(5);
    expect(r.items[1].itemId).toBe('h4');
    // A shoe lover's list is otherwise led by shoes.
    expect(r.items[0].itemId.startsWith('s')).toBe(true);
  });

  it('ranks what the user likes first and explains every item', () => {
    const pipelines = buildPipelines({ catalog, models, now: NOW });
    const r = run(pipelines, 'home', history('h1', 'h2'), { k: 4 });
    expect(r.items.map((i) => i.itemId.charAt(0))).toEqual(['h', 'h', 'h', expect.any(String)]);
    for (const it of r.items) {
      expect(it.explanations.length).toBeGreaterThan(0);
      expect(it.sources.length).toBeGreaterThan(0);
    }
    const liked = r.items[0].explanations.find((e) => e.kind === 'because-you-interacted');
    expect(liked?.itemId === 'h1' || liked?.itemId === 'h2').toBe(true);
  });

  it('similar items follow the anchor, the cart placement completes the basket', () => {
    const pipelines = buildPipelines({ catalog, models, now: NOW });
    const similar = run(pipelines, 'similar', [], { itemId: 'h3', k: 3 }).items;
    expect(similar.map((i) => i.itemId.charAt(0))).toEqual(['h', 'h', 'h']);
    expect(similar.map((i) => i.itemId)).not.toContain('h3');
    expect(similar[0].explanations[0].kind).toBe('similar-item');
    const cart = run(pipelines, 'cart', [], { cart: ['s2', 's3'], k: 3 }).items;
    expect(cart.map((i) => i.itemId)).not.toEqual(expect.arrayContaining(['s2']));
    expect(cart[0].itemId.charAt(0)).toBe('s');
  });
});

describe('placement settings', () => {
  it('switches sources off, limits what counts as seen, and caps categories', () => {
    const pipelines = buildPipelines({
      catalog,
      models,
      now: NOW,
      settings: {
        home: { sources: { fresh: { enabled: false }, popular: { limit: 3 } } },
        // Only purchases in the last day count as seen: an older purchase may come back.
        email: { seen: { types: ['purchase'], windowDays: 1 } },
        digest: { diversity: { maxPerCategory: 2 } },
      },
    });
    const home = run(pipelines, 'home', history('s1'), { debug: true });
    expect(home.contributed.fresh).toBeUndefined();
    expect(home.contributed.popular).toBe(3);

    const old: HistoryEntry[] = [
      { itemId: 's1', type: 'purchase', value: null, timestamp: NOW - 60_000 },
      { itemId: 's2', type: 'purchase', value: null, timestamp: NOW - 3 * 86_400_000 },
    ];
    const email = run(pipelines, 'email', old).items.map((i) => i.itemId);
    expect(email).not.toContain('s1');
    expect(email).toContain('s2');

    // A custom placement runs the home sources with its own settings: two shoes at most.
    // With two categories and a cap of two, the list ends at four items rather than break the cap.
    const digest = run(pipelines, 'digest', history('s1'), { k: 6 }).items.map((i) => i.itemId);
    expect(digest).toHaveLength(4);
    expect(digest.filter((id) => id.startsWith('s'))).toHaveLength(2);
    expect(digest.filter((id) => id.startsWith('h'))).toHaveLength(2);
    const plain = run(pipelines, 'home', history('s1'), { k: 6 }).items.map((i) => i.itemId);
    expect(plain.filter((id) => id.startsWith('s')).length).toBeGreaterThan(2);
  });
});

describe('ANN retrieval in the pipeline', () => {
  it('retrieves through an HNSW index over the embedding model and agrees with exact scoring', async () => {
    const { annIndexes } = await import('../../src/serving/pipeline-service.js');
    const als = await createModel('als', { factors: 8, iterations: 10 }).fit(data);
    const withAls = new Map(models);
    withAls.delete('ease');
    withAls.set('als', als);
    const indexes = await annIndexes(withAls, 1);
    expect([...indexes.keys()]).toEqual(['als']);
    expect(indexes.get('als')!.kind).toBe('hnsw');
    const ann = buildPipelines({ catalog, models: withAls, indexes, now: NOW });
    const exact = buildPipelines({ catalog, models: withAls, now: NOW });
    const h = history('h1', 'h2');
    const a = run(ann, 'home', h, { k: 5, userIndex: data.users.index('u1') });
    const e = run(exact, 'home', h, { k: 5, userIndex: data.users.index('u1') });
    expect(a.contributed.als).toBeGreaterThan(0);
    expect(a.items.map((i) => i.itemId)).toEqual(e.items.map((i) => i.itemId));
    // Below the threshold, no index is built.
    expect((await annIndexes(withAls)).size).toBe(0);
  });

  it('keeps the index beside the model for the next process, and rebuilds one that does not fit', async () => {
    const { annIndexes } = await import('../../src/serving/pipeline-service.js');
    const { mkdtempSync, rmSync, statSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(tmpdir(), 'kindred-ann-file-'));
    try {
      const als = await createModel('als', { factors: 8, iterations: 10 }).fit(data);
      const withAls = new Map([['als', als]]);
      const file = path.join(dir, 'v1.hnsw.kdvi');
      const built = (await annIndexes(withAls, 1, () => file)).get('als')!;
      const written = statSync(file).mtimeMs;
      const loaded = (await annIndexes(withAls, 1, () => file)).get('als')!;
      expect(statSync(file).mtimeMs).toBe(written);
      const q = (als as unknown as AlsModel).foldInUser(Int32Array.of(0, 1), Float32Array.of(1, 1));
      expect(Array.from(loaded.search(q, 5).indices)).toEqual(Array.from(built.search(q, 5).indices));
      writeFileSync(file, 'not an index');
      const rebuilt = (await annIndexes(withAls, 1, () => file)).get('als')!;
      expect(rebuilt.size).toBe(als.itemIds.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('learned ranker in the pipeline', () => {
  it('logs the features of served items, and ranks with a learned model whose features it has', () => {
    const logging = buildPipelines({ catalog, models, now: NOW, logFeatures: true });
    const served = run(logging, 'home', history('s1'), { k: 4 });
    expect(served.features).not.toBeNull();
    const { names, rows } = served.features!;
    expect(rows.length).toBe(4 * names.length);
    expect(names).toContain('price:log');

    // A hand-made model that only likes cheap items: hats (20) before shoes (80).
    const weights = new Float64Array(names.length);
    weights[names.indexOf('price:log')] = -5;
    const model: RankerModel = {
      kind: 'logistic',
      objective: 'purchase',
      featureNames: names,
      weights,
      bias: 0,
      standardisedWeights: weights,
      training: { rows: 0, positives: 0, iterations: 0, objective: 0, l2: 0 },
    };
    const learned = buildPipelines({ catalog, models, now: NOW, rankers: () => model });
    const r = run(learned, 'home', history('s1'), { k: 4, debug: true });
    expect(r.trace.find((t) => t.stage === 'rank')!.detail).toEqual({ ranker: 'learned-purchase' });
    expect(r.items.map((i) => i.itemId.charAt(0))).toEqual(['h', 'h', 'h', 'h']);

    // A model over features this placement does not have falls back to the blend.
    const foreign: RankerModel = {
      ...model,
      featureNames: ['source:elsewhere'],
      weights: Float64Array.of(1),
    };
    const fallback = buildPipelines({ catalog, models, now: NOW, rankers: () => foreign });
    expect(
      run(fallback, 'home', history('s1'), { debug: true }).trace.find((t) => t.stage === 'rank')!.detail,
    ).toEqual({
      ranker: 'blend',
    });
  });
});
