import Fastify from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../src/server/errors.js';
import {
  recommendationRoutes,
  type ServedRecommendationJson,
} from '../../src/server/routes/recommendations.js';
import { StoreRecommendationLog } from '../../src/serving/store-recommendation-log.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const store = new SqliteStore(':memory:');
const log = new StoreRecommendationLog(store, { flushIntervalMs: 60_000 });
const app = Fastify().withTypeProvider<TypeBoxTypeProvider>();

beforeAll(async () => {
  await store.init();
  installErrorHandling(app);
  await app.register(recommendationRoutes, { engine: { recommendationLog: log } });
  await store.upsertItems([
    { id: 'shoe', attributes: { price: 120 } },
    { id: 'sock', attributes: { price: 15 } },
  ]);
  await store.insertEvents(
    [
      ['impression', 'shoe'],
      ['impression', 'shoe'],
      ['impression', 'sock'],
      ['impression', 'sock'],
      ['click', 'shoe'],
      ['purchase', 'shoe'],
    ].map(([type, itemId]) => ({
      userId: 'u1',
      itemId,
      type,
      value: null,
      timestamp: 1_700_000_001_000,
      sessionId: null,
      context: { recommendationId: 'rec-1', placement: 'home' },
      clientEventId: null,
    })),
  );
  // Not flushed: the route answers from the queue as well.
  void log.record({
    id: 'rec-1',
    userId: 'u1',
    placement: 'home',
    servedAt: 1_700_000_000_000,
    items: ['shoe', 'sock'],
    scores: [0.9, -Infinity],
    features: { names: ['model', 'popularity'], rows: Float32Array.from([0.5, 0.25, 0.125, 1]) },
  });
});

afterAll(async () => {
  await app.close();
  await log.close();
  await store.close();
});

describe('GET /recommendations/:id', () => {
  it('returns the served list with per-item outcomes, totals and CTR', async () => {
    const reply = await app.inject('/recommendations/rec-1');
    expect(reply.statusCode).toBe(200);
    const body = reply.json<ServedRecommendationJson>();
    expect(body).toEqual({
      recommendationId: 'rec-1',
      userId: 'u1',
      placement: 'home',
      servedAt: '2023-11-14T22:13:20.000Z',
      featureNames: ['model', 'popularity'],
      items: [
        {
          itemId: 'shoe',
          rank: 1,
          score: 0.9,
          impressions: 2,
          clicks: 1,
          carts: 0,
          purchases: 1,
          revenue: 120,
          ctr: 0.5,
          features: [0.5, 0.25],
        },
        {
          itemId: 'sock',
          rank: 2,
          score: null,
          impressions: 2,
          clicks: 0,
          carts: 0,
          purchases: 0,
          revenue: 0,
          ctr: 0,
          features: [0.125, 1],
        },
      ],
      totals: { impressions: 4, clicks: 1, carts: 0, purchases: 1, revenue: 120, ctr: 0.25 },
    });
  });

  it('gives a null CTR without impressions', async () => {
    void log.record({
      id: 'rec-2',
      userId: 'u2',
      placement: 'cart',
      servedAt: 0,
      items: ['sock'],
      scores: [1],
      features: null,
    });
    const body = (await app.inject('/recommendations/rec-2')).json<ServedRecommendationJson>();
    expect(body.featureNames).toBeNull();
    expect(body.items[0]).not.toHaveProperty('features');
    expect(body.totals).toEqual({ impressions: 0, clicks: 0, carts: 0, purchases: 0, revenue: 0, ctr: null });
  });

  it('answers 404 NOT_FOUND for an unknown id', async () => {
    const reply = await app.inject('/recommendations/nope');
    expect(reply.statusCode).toBe(404);
    expect(reply.json()).toEqual({
      error: { code: 'NOT_FOUND', message: "recommendation 'nope' not found" },
    });
  });
});
