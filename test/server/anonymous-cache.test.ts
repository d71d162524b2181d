/**
 * Visitors the engine knows nothing about share the list of their request's shape for a second;
 * anything that changes what the lists are made of clears it, and a visitor's first event makes
 * them known at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/server/app.js';
import { AnonymousListCache } from '../../src/serving/anonymous-list-cache.js';
import type { PipelineResult } from '../../src/pipeline/pipeline.js';
import type { Engine } from '../../src/serving/engine.js';
import { closeTestApp, openTestApp } from '../helpers/test-app.js';

interface Rec {
  recommendationId: string;
  items: { itemId: string }[];
}

let dir: string;
let engine: Engine;
let app: App;

const ITEMS = Array.from({ length: 10 }, (_, i) => ({
  id: `i${i}`,
  title: `Item ${i}`,
  categories: [i % 2 ? 'odd' : 'even'],
}));

beforeAll(async () => {
  ({ dir, engine, app } = await openTestApp('kindred-anon-'));
  await app.inject({ method: 'POST', url: '/items', payload: ITEMS });
  const events = [];
  let t = 1_700_000_000_000;
  for (let u = 0; u < 15; u++)
    for (let j = 0; j < 3; j++)
      events.push({
        userId: `u${u}`,
        itemId: `i${(u + j * j) % 10}`,
        type: 'purchase',
        timestamp: (t += 1000),
      });
  await app.inject({ method: 'POST', url: '/events', payload: events });
  expect((await app.inject({ method: 'POST', url: '/models/train', payload: {} })).statusCode).toBe(200);
});

afterAll(async () => {
  await closeTestApp({ dir, engine, app });
});

async function lookups(): Promise<{ hit: number; miss: number }> {
  const text = (await app.inject('/metrics')).body;
  const count = (result: string): number => {
    const m = new RegExp(
      `^cache_requests_total\\{cache="anonymous-lists",result="${result}"\\} (\\d+)`,
      'm',
    ).exec(text);
    return m ? Number(m[1]) : 0;
  };
  return { hit: count('hit'), miss: count('miss') };
}

const rec = async (url: string): Promise<Rec> => (await app.inject(url)).json<Rec>();

describe('lists for visitors the engine knows nothing about', () => {
  it('are computed once per request shape, each served under its own id', async () => {
    const before = await lookups();
    const a = await rec('/recommend/visitor-a?k=4');
    const b = await rec('/recommend/visitor-b?k=4');
    expect(b.items).toEqual(a.items);
    expect(b.recommendationId).not.toBe(a.recommendationId);
    // Another shape is another list.
    await rec('/recommend/visitor-c?k=4&excludeCategories=odd');
    const after = await lookups();
    expect(after.miss - before.miss).toBe(2);
    expect(after.hit - before.hit).toBe(1);
    // Known users never go through the cache.
    await rec('/recommend/u1?k=4');
    expect(await lookups()).toEqual(after);
  });

  it('are recomputed once an item goes out of the catalogue or a rule changes', async () => {
    const first = (await rec('/recommend/visitor-d?k=3')).items.map((i) => i.itemId);
    await app.inject({ method: 'PATCH', url: `/items/${first[0]}`, payload: { available: false } });
    expect((await rec('/recommend/visitor-e?k=3')).items.map((i) => i.itemId)).not.toContain(first[0]);
    await app.inject({ method: 'PATCH', url: `/items/${first[0]}`, payload: { available: true } });
    await app.inject({
      method: 'PUT',
      url: '/placements/home/rules',
      payload: { rules: [{ id: 'pin-i9', action: 'pin', where: 'item.id == "i9"', slot: 1 }] },
    });
    expect((await rec('/recommend/visitor-f?k=3')).items[0].itemId).toBe('i9');
    await app.inject({ method: 'PUT', url: '/placements/home/rules', payload: { rules: [] } });
  });

  it('stop applying to a visitor from their first event', async () => {
    const anonymous = (await rec('/recommend/visitor-g?k=5')).items.map((i) => i.itemId);
    const bought = anonymous[0];
    await app.inject({
      method: 'POST',
      url: '/events',
      payload: [{ userId: 'visitor-g', itemId: bought, type: 'purchase' }],
    });
    expect((await rec('/recommend/visitor-g?k=5')).items.map((i) => i.itemId)).not.toContain(bought);
  });
});

describe('AnonymousListCache', () => {
  const result = (n: number): PipelineResult => ({
    items: [],
    features: null,
    contributed: { n },
    trace: [],
  });
  const shape = {
    userId: 'x',
    placement: 'home',
    k: 10,
    itemId: null,
    includeCategories: null,
    excludeCategories: null,
    debug: false,
  };

  it('keys by everything but the user, expires after its time and keeps a bounded number', () => {
    expect(AnonymousListCache.keyOf({ ...shape, userId: 'y' })).toBe(AnonymousListCache.keyOf(shape));
    for (const other of [
      { k: 5 },
      { placement: 'email' },
      { itemId: 'i1' },
      { cart: ['i1'] },
      { exclude: ['i1'] },
      { includeCategories: ['a'] },
      { excludeCategories: ['a'] },
      { context: { device: 'mobile' } },
    ])
      expect(AnonymousListCache.keyOf({ ...shape, ...other })).not.toBe(AnonymousListCache.keyOf(shape));
    const cache = new AnonymousListCache(100, 2);
    cache.set('a', result(1), 0);
    expect(cache.get('a', 99)?.contributed).toEqual({ n: 1 });
    expect(cache.get('a', 100)).toBeUndefined();
    cache.set('a', result(1), 0);
    cache.set('b', result(2), 0);
    cache.set('c', result(3), 0);
    expect(cache.size).toBe(2);
    expect(cache.get('a', 1)).toBeUndefined();
    expect(cache.get('c', 1)?.contributed).toEqual({ n: 3 });
  });
});
