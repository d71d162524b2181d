import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/server/app.js';
import type { Engine } from '../../src/serving/engine.js';
import { closeTestApp, openTestApp } from '../helpers/test-app.js';

interface ErrorReply {
  error: { code: string; message: string; details?: { field: string; message: string }[] };
}

/** Four shoppers: u1..u3 love the running line, u4 the kitchen line. */
const CATALOGUE = [
  { id: 'shoe', title: 'Trail Running Shoe', categories: ['sports/running'], attributes: { price: 120 } },
  { id: 'sock', title: 'Merino Running Sock', categories: ['sports/running'], attributes: { price: 15 } },
  { id: 'cap', title: 'Running Cap', categories: ['sports/running'], attributes: { price: 25 } },
  { id: 'pan', title: 'Cast Iron Pan', categories: ['home/kitchen'], attributes: { price: 60 } },
  { id: 'knife', title: 'Chef Knife', categories: ['home/kitchen'], attributes: { price: 80 } },
  { id: 'gone', title: 'Discontinued Gel', categories: ['sports/running'], available: false },
];

const EVENTS = [
  ['u1', 'shoe'],
  ['u1', 'sock'],
  ['u1', 'gone'],
  ['u2', 'shoe'],
  ['u2', 'sock'],
  ['u2', 'cap'],
  ['u2', 'gone'],
  ['u3', 'shoe'],
  ['u4', 'pan'],
  ['u4', 'knife'],
  ['u5', 'pan'],
  ['u5', 'sock'],
].map(([userId, itemId], i) => ({
  userId,
  itemId,
  type: 'purchase',
  timestamp: 1_700_000_000_000 + i * 1000,
}));

let dir: string;
let engine: Engine;
let app: App;

beforeAll(async () => {
  ({ dir, engine, app } = await openTestApp('kindred-api-'));
});

afterAll(async () => {
  await closeTestApp({ dir, engine, app });
});

describe('before any model is trained', () => {
  it('is alive but not ready, and /recommend says why', async () => {
    expect((await app.inject('/health')).json()).toEqual({ status: 'ok', pid: process.pid, worker: null });
    const ready = await app.inject('/ready');
    expect(ready.statusCode).toBe(503);
    const rec = await app.inject('/recommend/u1');
    expect(rec.statusCode).toBe(503);
    expect(rec.json<ErrorReply>().error.code).toBe('NOT_READY');
  });
});

describe('ingestion', () => {
  it('stores items and events and reports counts', async () => {
    const items = await app.inject({ method: 'POST', url: '/items', payload: CATALOGUE });
    expect(items.statusCode).toBe(200);
    expect(items.json()).toEqual({ accepted: 6, duplicates: 0, rejected: 0, errors: [] });
    const events = await app.inject({ method: 'POST', url: '/events', payload: EVENTS });
    expect(events.json()).toMatchObject({ accepted: EVENTS.length, rejected: 0 });
  });

  it('keeps the good rows of a batch and names the field of each bad one', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/events',
      payload: [
        { userId: 'u9', itemId: 'cap', type: 'view', clientEventId: 'c-1' },
        { userId: 'u9', itemId: 'cap', type: 'teleport' },
        { userId: 'u9', type: 'view' },
        { userId: 'u9', itemId: 'cap', type: 'view', timestamp: 'yesterday' },
        'not an object',
      ],
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      accepted: number;
      rejected: number;
      errors: { index: number; field: string }[];
    }>();
    expect(body.accepted).toBe(1);
    expect(body.rejected).toBe(4);
    const byIndex = new Map(body.errors.map((e) => [e.index, e.field]));
    expect(byIndex.get(1)).toBe('type');
    expect(byIndex.get(2)).toBe('itemId');
    expect(byIndex.get(3)).toBe('timestamp');
    expect(byIndex.has(4)).toBe(true);
    expect(byIndex.has(0)).toBe(false);
  });

  it('is idempotent on clientEventId', async () => {
    const again = await app.inject({
      method: 'POST',
      url: '/events',
      payload: [{ userId: 'u9', itemId: 'cap', type: 'view', clientEventId: 'c-1' }],
    });
    expect(again.json()).toMatchObject({ accepted: 0, duplicates: 1, rejected: 0 });
    const list = await app.inject('/events?userId=u9');
    expect(list.json<{ events: unknown[] }>().events).toHaveLength(1);
  });

  it('rejects a body that is not an array, naming it', async () => {
    const res = await app.inject({ method: 'POST', url: '/events', payload: { userId: 'u1' } });
    expect(res.statusCode).toBe(400);
    const err = res.json<ErrorReply>().error;
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.details?.[0].field).toBe('body');
  });

  it('rejects malformed JSON with a JSON error', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/events',
      headers: { 'content-type': 'application/json' },
      payload: '[{"userId": ',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json<ErrorReply>().error.code).toBe('BAD_REQUEST');
  });
});

describe('resources', () => {
  it('creates, reads, patches and lists users', async () => {
    const put = await app.inject({
      method: 'PUT',
      url: '/users/u1',
      payload: { attributes: { country: 'NZ', age: 31 } },
    });
    expect(put.statusCode).toBe(200);
    const patch = await app.inject({
      method: 'PATCH',
      url: '/users/u1',
      payload: { attributes: { age: null, plan: 'pro' } },
    });
    expect(patch.json<{ attributes: unknown }>().attributes).toEqual({ country: 'NZ', plan: 'pro' });
    const list = await app.inject('/users?limit=2');
    const page = list.json<{ users: { id: string }[]; nextCursor: string }>();
    expect(page.users).toHaveLength(2);
    const next = await app.inject(`/users?limit=2&cursor=${encodeURIComponent(page.nextCursor)}`);
    const ids = [...page.users, ...next.json<{ users: { id: string }[] }>().users].map((u) => u.id);
    expect(new Set(ids).size).toBe(4);
  });

  it('answers 404 with a stable code for missing things', async () => {
    for (const url of ['/users/nobody', '/items/nothing', '/events/999999', '/items/nothing/similar']) {
      const res = await app.inject(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json<ErrorReply>().error.code).toBe('NOT_FOUND');
    }
  });

  it('validates query parameters and names them', async () => {
    const res = await app.inject('/users?limit=0');
    expect(res.statusCode).toBe(400);
    expect(res.json<ErrorReply>().error.details?.[0].field).toBe('limit');
    const k = await app.inject('/recommend/u1?k=abc');
    expect(k.statusCode).toBe(400);
    expect(k.json<ErrorReply>().error.details?.[0].field).toBe('k');
  });

  it('rejects unknown fields in a PUT body', async () => {
    const res = await app.inject({ method: 'PUT', url: '/items/x1', payload: { title: 'X', colour: 'red' } });
    expect(res.statusCode).toBe(400);
    expect(res.json<ErrorReply>().error.details?.[0].field).toBe('body/colour');
  });

  it('serves the OpenAPI document and the docs page', async () => {
    const doc = await app.inject('/docs/json');
    expect(doc.statusCode).toBe(200);
    const paths = Object.keys(doc.json<{ paths: Record<string, unknown> }>().paths);
    expect(paths).toEqual(
      expect.arrayContaining(['/recommend/{userId}', '/items/{itemId}/similar', '/events']),
    );
    expect((await app.inject('/docs')).statusCode).toBeLessThan(400);
  });
});

describe('recommendations', () => {
  it('trains over HTTP and becomes ready', async () => {
    const res = await app.inject({ method: 'POST', url: '/models/train', payload: {} });
    expect(res.statusCode).toBe(200);
    const names = res.json<{ models: { name: string }[] }>().models.map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(['popularity', 'item-knn']));
    expect((await app.inject('/ready')).statusCode).toBe(200);
  });

  it('recommends what similar users bought, never what u1 has or what is unavailable', async () => {
    const res = await app.inject('/recommend/u1?k=3&placement=home');
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      recommendationId: string;
      placement: string;
      items: { itemId: string; rank: number }[];
    }>();
    expect(body.placement).toBe('home');
    expect(body.recommendationId).toMatch(/^[0-9a-f-]{36}$/);
    const ids = body.items.map((i) => i.itemId);
    expect(ids[0]).toBe('cap');
    expect(ids).not.toContain('shoe');
    expect(ids).not.toContain('sock');
    expect(ids).not.toContain('gone');
    expect(body.items.map((i) => i.rank)).toEqual([1, 2, 3]);
  });

  it('gives unknown users the popular items', async () => {
    const res = await app.inject('/recommend/stranger?k=2');
    const ids = res.json<{
      items: { itemId: string; sources: string[]; explanations: { kind: string }[] }[];
    }>().items;
    expect(ids.map((i) => i.itemId)).toEqual(['shoe', 'sock']);
    expect(ids[0].sources).toContain('popular');
    expect(ids[0].explanations.map((e) => e.kind)).toEqual(expect.arrayContaining(['popular']));
  });

  it('finds similar items', async () => {
    const res = await app.inject('/items/pan/similar?k=1');
    expect(res.json<{ items: { itemId: string }[] }>().items[0].itemId).toBe('knife');
  });

  it('reacts to a new event at once and to an item becoming unavailable', async () => {
    await app.inject({
      method: 'POST',
      url: '/events',
      payload: [{ userId: 'u1', itemId: 'cap', type: 'purchase' }],
    });
    const after = (await app.inject('/recommend/u1?k=5')).json<{ items: { itemId: string }[] }>().items;
    expect(after.map((i) => i.itemId)).not.toContain('cap');
    await app.inject({ method: 'PATCH', url: '/items/pan', payload: { available: false } });
    const stranger = (await app.inject('/recommend/stranger?k=10')).json<{ items: { itemId: string }[] }>()
      .items;
    expect(stranger.map((i) => i.itemId)).not.toContain('pan');
  });

  it('deletes a user with all their data', async () => {
    const res = await app.inject({ method: 'DELETE', url: '/users/u2' });
    expect(res.json()).toEqual({ deleted: true, events: 4 });
    expect((await app.inject('/users/u2')).statusCode).toBe(404);
    expect((await app.inject('/events?userId=u2')).json<{ events: unknown[] }>().events).toHaveLength(0);
  });
});
