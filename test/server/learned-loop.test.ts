/**
 * The feedback loop of the ranking stage: lists are served and logged, shoppers buy from them,
 * a learned ranker is trained from what they bought and ranks the next lists.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/ingest/prng.js';
import type { App } from '../../src/server/app.js';
import type { Engine } from '../../src/serving/engine.js';
import { closeTestApp, openTestApp } from '../helpers/test-app.js';

interface Rec {
  recommendationId: string;
  items: { itemId: string }[];
  trace?: { stage: string; detail?: Record<string, unknown> }[];
}

/** 30 items; every third one is cheap (price 5), the rest cost 100. */
const ITEMS = Array.from({ length: 30 }, (_, i) => ({
  id: `i${i}`,
  categories: [i < 15 ? 'a' : 'b'],
  attributes: { price: i % 3 === 0 ? 5 : 100 },
}));
const cheap = (id: string): boolean => Number(id.slice(1)) % 3 === 0;

let dir: string;
let engine: Engine;
let app: App;

beforeAll(async () => {
  ({ dir, engine, app } = await openTestApp('kindred-loop-'));
  await app.inject({ method: 'POST', url: '/items', payload: ITEMS });
  const rng = new Rng(9);
  const events = [];
  for (let u = 0; u < 60; u++)
    for (let j = 0; j < 4; j++)
      events.push({
        userId: `u${u}`,
        itemId: `i${Math.floor(rng.next() * 30)}`,
        type: 'view',
        timestamp: 1_700_000_000_000 + u * 1000 + j,
      });
  await app.inject({ method: 'POST', url: '/events', payload: events });
  expect((await app.inject({ method: 'POST', url: '/models/train', payload: {} })).statusCode).toBe(200);
});

afterAll(async () => {
  await closeTestApp({ dir, engine, app });
});

describe('learned ranker loop', () => {
  it('refuses to train before there are purchases, then learns what shoppers buy and ranks by it', async () => {
    const early = await app.inject({
      method: 'POST',
      url: '/rankers/train',
      payload: { objective: 'purchase' },
    });
    expect(early.statusCode).toBe(400);
    expect(early.json<{ error: { message: string } }>().error.message).toMatch(/purchase/);

    const rng = new Rng(4);
    const cheapShare = (items: { itemId: string }[]): number =>
      items.filter((i) => cheap(i.itemId)).length / items.length;
    let servedCheap = 0;
    for (let round = 0; round < 200; round++) {
      const user = `u${round % 60}`;
      const rec = (await app.inject(`/recommend/${user}?k=6`)).json<Rec>();
      servedCheap += cheapShare(rec.items);
      const context = { recommendationId: rec.recommendationId };
      const events = [];
      for (const it of rec.items) {
        events.push({ userId: user, itemId: it.itemId, type: 'impression', context });
        // Shoppers buy the cheap items they are shown, rarely the others.
        if (rng.next() < (cheap(it.itemId) ? 0.6 : 0.03))
          events.push({ userId: `buyer-${round}`, itemId: it.itemId, type: 'purchase', context });
      }
      await app.inject({ method: 'POST', url: '/events', payload: events });
    }
    const trained = await app.inject({
      method: 'POST',
      url: '/rankers/train',
      payload: { objective: 'purchase' },
    });
    expect(trained.statusCode).toBe(200);
    const report = trained.json<{ holdoutAuc: number; servedOrderAuc: number; lists: number }>();
    expect(report.lists).toBeGreaterThan(100);
    expect(report.holdoutAuc).toBeGreaterThan(report.servedOrderAuc + 0.2);

    let nowCheap = 0;
    for (let u = 0; u < 60; u++) {
      const rec = (await app.inject(`/recommend/u${u}?k=6&debug=true`)).json<Rec>();
      if (u === 0)
        expect(rec.trace!.find((s) => s.stage === 'rank')!.detail).toEqual({ ranker: 'learned-purchase' });
      nowCheap += cheapShare(rec.items);
    }
    // Before: about a third of what was shown was cheap; the learned ranker shows mostly cheap items.
    expect(nowCheap / 60).toBeGreaterThan(Math.max(0.8, servedCheap / 200 + 0.3));
  });
});
