import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/server/app.js';
import type { Engine } from '../../src/serving/engine.js';
import { closeTestApp, openTestApp } from '../helpers/test-app.js';

interface Rec {
  recommendationId: string;
  items: {
    itemId: string;
    rank: number;
    sources: string[];
    explanations: { kind: string; text: string }[];
  }[];
  trace?: { stage: string; ms: number; candidates: number }[];
  sources?: Record<string, number>;
}
interface ErrorReply {
  error: { code: string; message: string; details?: { field: string; message: string }[] };
}

/** Runners (r*) buy running gear, cooks (c*) kitchen gear; 'shirt' is a popular running item. */
const ITEMS = [
  ...['shoe', 'sock', 'cap', 'shirt', 'band', 'bottle'].map((id) => ({
    id,
    title: `Running ${id}`,
    categories: ['running'],
    attributes: { price: 20, stock: 10 },
  })),
  ...['pan', 'knife', 'pot', 'board'].map((id) => ({
    id,
    title: `Kitchen ${id}`,
    categories: ['kitchen'],
    attributes: { price: 40, stock: 10 },
  })),
];

let dir: string;
let engine: Engine;
let app: App;

beforeAll(async () => {
  ({ dir, engine, app } = await openTestApp('kindred-pipeline-api-'));
  await app.inject({ method: 'POST', url: '/items', payload: ITEMS });
  const events: { userId: string; itemId: string; type: string; timestamp: number }[] = [];
  const running = ['shoe', 'sock', 'cap', 'shirt', 'band', 'bottle'];
  const kitchen = ['pan', 'knife', 'pot', 'board'];
  let t = 1_700_000_000_000;
  for (let u = 0; u < 12; u++) {
    const own = u < 8 ? running : kitchen;
    for (let j = 0; j < 3; j++)
      events.push({
        userId: `${u < 8 ? 'r' : 'c'}${u}`,
        itemId: own[(u + j) % own.length],
        type: 'purchase',
        timestamp: (t += 1000),
      });
  }
  await app.inject({ method: 'POST', url: '/events', payload: events });
  const trained = await app.inject({ method: 'POST', url: '/models/train', payload: {} });
  expect(trained.statusCode).toBe(200);
});

afterAll(async () => {
  await closeTestApp({ dir, engine, app });
});

describe('/recommend through the pipeline', () => {
  it('explains every item and, in debug mode, traces every stage', async () => {
    const res = await app.inject('/recommend/r0?k=3&debug=true');
    expect(res.statusCode).toBe(200);
    const body = res.json<Rec>();
    expect(body.items).toHaveLength(3);
    for (const it of body.items) {
      expect(it.explanations.length).toBeGreaterThan(0);
      expect(it.sources.length).toBeGreaterThan(0);
      expect(it.itemId).not.toMatch(/pan|knife|pot|board/);
    }
    expect(body.trace!.map((s) => s.stage)).toEqual(['candidates', 'filters', 'rank', 'explain', 'features']);
    expect(body.sources!['item-knn']).toBeGreaterThan(0);
    const plain = (await app.inject('/recommend/r0?k=3')).json<Rec>();
    expect(plain.trace).toBeUndefined();
    expect(plain.recommendationId).not.toBe(body.recommendationId);
  });

  it('applies request filters: category exclusions and explicit exclusions', async () => {
    const res = (await app.inject('/recommend/r0?k=10&excludeCategories=running&exclude=pot')).json<Rec>();
    expect(res.items.length).toBeGreaterThan(0);
    expect(res.items.every((i) => ['pan', 'knife', 'board'].includes(i.itemId))).toBe(true);
  });

  it('drops an item as soon as its stock runs out', async () => {
    const before = (await app.inject('/recommend/r0?k=10')).json<Rec>().items.map((i) => i.itemId);
    const victim = before[0];
    await app.inject({ method: 'PATCH', url: `/items/${victim}`, payload: { attributes: { stock: 0 } } });
    const after = (await app.inject('/recommend/r0?k=10')).json<Rec>().items.map((i) => i.itemId);
    expect(after).not.toContain(victim);
    await app.inject({ method: 'PATCH', url: `/items/${victim}`, payload: { attributes: { stock: 5 } } });
  });
});

describe('business rules by API', () => {
  it('pins an item, keeps every version and rolls back', async () => {
    const put = await app.inject({
      method: 'PUT',
      url: '/placements/home/rules',
      payload: {
        rules: [{ id: 'pan-first', action: 'pin', where: 'item.id == "pan"', slot: 1 }],
        comment: 'campaign',
      },
    });
    expect(put.statusCode).toBe(200);
    expect(put.json<{ version: number }>().version).toBe(1);
    const pinned = (await app.inject('/recommend/r0?k=3')).json<Rec>();
    expect(pinned.items[0].itemId).toBe('pan');
    const otherPlacement = (await app.inject('/recommend/r0?k=3&placement=email')).json<Rec>();
    expect(otherPlacement.items[0].itemId).not.toBe('pan');

    const cleared = await app.inject({
      method: 'PUT',
      url: '/placements/home/rules',
      payload: { rules: [], expectedVersion: 1 },
    });
    expect(cleared.json<{ version: number }>().version).toBe(2);
    expect((await app.inject('/recommend/r0?k=3')).json<Rec>().items[0].itemId).not.toBe('pan');

    const stale = await app.inject({
      method: 'PUT',
      url: '/placements/home/rules',
      payload: { rules: [], expectedVersion: 1 },
    });
    expect(stale.statusCode).toBe(409);

    const back = await app.inject({
      method: 'POST',
      url: '/placements/home/rules/rollback',
      payload: { version: 1 },
    });
    expect(back.json<{ version: number; restoredFrom: number }>()).toMatchObject({
      version: 3,
      restoredFrom: 1,
    });
    expect((await app.inject('/recommend/r0?k=3')).json<Rec>().items[0].itemId).toBe('pan');
    const versions = (await app.inject('/placements/home/rules/versions')).json<{ versions: unknown[] }>()
      .versions;
    expect(versions).toHaveLength(3);
  });

  it('rejects a bad rule with the field and the position of the error', async () => {
    const res = await app.inject({
      method: 'PUT',
      url: '/placements/home/rules',
      payload: { rules: [{ id: 'x', action: 'boost', where: 'item.price < (3' }] },
    });
    expect(res.statusCode).toBe(400);
    const err = res.json<ErrorReply>().error;
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(JSON.stringify(err)).toContain('rules/0/where');
  });
});

describe('placement settings by API', () => {
  it('switches a source off for the next request and names bad fields', async () => {
    const put = await app.inject({
      method: 'PUT',
      url: '/placements/email/settings',
      payload: { sources: { popular: { enabled: false } }, diversity: { maxPerCategory: 2 } },
    });
    expect(put.statusCode).toBe(200);
    expect((await app.inject('/placements/email/settings')).json()).toEqual({
      sources: { popular: { enabled: false } },
      diversity: { maxPerCategory: 2 },
    });
    const rec = (await app.inject('/recommend/r0?k=3&placement=email&debug=true')).json<Rec>();
    expect(rec.sources!.popular).toBeUndefined();
    expect(rec.trace!.map((s) => s.stage)).toContain('diversity');

    const bad = await app.inject({
      method: 'PUT',
      url: '/placements/email/settings',
      payload: { diversity: { lambda: 3 } },
    });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json())).toContain('settings.diversity.lambda');
    const unknown = await app.inject({
      method: 'PUT',
      url: '/placements/email/settings',
      payload: { sources: { nope: {} } },
    });
    expect(unknown.statusCode).toBe(400);
    expect(JSON.stringify(unknown.json())).toContain('settings.sources.nope');
  });
});

describe('segment source', () => {
  it('proposes what is popular among users of the same segment once a placement names the attribute', async () => {
    const users = [
      ...Array.from({ length: 8 }, (_, u) => ({ id: `r${u}`, attributes: { country: 'DE' } })),
      ...Array.from({ length: 4 }, (_, u) => ({ id: `c${u + 8}`, attributes: { country: 'FR' } })),
      { id: 'newbie', attributes: { country: 'FR' } },
    ];
    expect((await app.inject({ method: 'POST', url: '/users', payload: users })).statusCode).toBe(200);
    const before = (await app.inject('/recommend/newbie?k=3&placement=next-best&debug=true')).json<Rec>();
    expect(before.sources!.segment).toBeUndefined();
    const put = await app.inject({
      method: 'PUT',
      url: '/placements/next-best/settings',
      payload: { segmentAttribute: 'country' },
    });
    expect(put.statusCode).toBe(200);
    const after = (await app.inject('/recommend/newbie?k=3&placement=next-best&debug=true')).json<Rec>();
    expect(after.sources!.segment).toBeGreaterThan(0);
    // French users are the cooks: their segment's favourites lead for a newcomer from France.
    expect(after.items.every((i) => ['pan', 'knife', 'pot', 'board'].includes(i.itemId))).toBe(true);
    expect(after.items[0].explanations.map((e) => e.kind)).toContain('popular-in-segment');
  });
});

describe('attribution', () => {
  it('logs every served list and attributes the events sent back with its id', async () => {
    const rec = (await app.inject('/recommend/r1?k=3')).json<Rec>();
    const [first, second] = rec.items.map((i) => i.itemId);
    const context = { recommendationId: rec.recommendationId, placement: 'home' };
    const events = await app.inject({
      method: 'POST',
      url: '/events',
      payload: [
        { userId: 'r1', itemId: first, type: 'impression', context },
        { userId: 'r1', itemId: second, type: 'impression', context },
        { userId: 'r1', itemId: first, type: 'click', context },
        { userId: 'r1', itemId: first, type: 'purchase', value: 2, context },
        { userId: 'r1', itemId: second, type: 'click' },
      ],
    });
    expect(events.json<{ accepted: number }>().accepted).toBe(5);
    await engine.recommendationLog.flush();
    const res = await app.inject(`/recommendations/${rec.recommendationId}`);
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      items: {
        itemId: string;
        rank: number;
        impressions: number;
        clicks: number;
        purchases: number;
        revenue: number;
      }[];
      features: unknown;
    }>();
    expect(body.items.map((i) => i.itemId)).toEqual(rec.items.map((i) => i.itemId));
    // Revenue: quantity 2 × the item's price.
    const price = ITEMS.find((i) => i.id === first)!.attributes.price;
    expect(body.items[0]).toMatchObject({
      rank: 1,
      impressions: 1,
      clicks: 1,
      purchases: 1,
      revenue: 2 * price,
    });
    // The click without the recommendation id is not attributed.
    expect(body.items[1]).toMatchObject({ rank: 2, impressions: 1, clicks: 0, purchases: 0 });
    expect((await app.inject('/recommendations/no-such-id')).statusCode).toBe(404);
  });
});

describe('monitoring', () => {
  it('exposes Prometheus metrics of served lists, ingested events and requests, and a drift report', async () => {
    await app.inject('/recommend/r2?k=3&placement=home');
    await app.inject({
      method: 'POST',
      url: '/events',
      payload: [{ userId: 'r2', itemId: 'sock', type: 'view' }],
    });
    const res = await app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const text = res.body;
    expect(text).toMatch(/recommendations_served_total\{placement="home"\} [1-9]/);
    expect(text).toMatch(/events_ingested_total\{type="view"\} [1-9]/);
    expect(text).toMatch(/candidate_source_proposed_total\{source="popular"\} [1-9]/);
    expect(text).toMatch(/http_request_duration_seconds_bucket\{.*route="\/recommend\/:userId".*\}/);
    expect(text).toMatch(/model_age_seconds\{model="als"\}|model_age_seconds\{model="item-knn"\}/);
    const drift = (await app.inject('/monitoring/drift')).json<{ checks: { name: string }[] }>();
    expect(drift.checks.map((c) => c.name)).toContain('item_popularity_psi');
    expect((await app.inject('/monitoring/alerts')).statusCode).toBe(200);
  });
});

describe('knowledge rules', () => {
  it('recommends from explicit knowledge with its reason, and its constraints hold against every source', async () => {
    const put = await app.inject({
      method: 'PUT',
      url: '/placements/home/knowledge',
      payload: {
        rules: [
          {
            id: 'fr-hydration',
            when: 'user.country == "FR"',
            recommend: { items: ['bottle'] },
            reason: 'Summers in {user.country} call for a bottle',
          },
          {
            id: 'fr-budget',
            when: 'user.country == "FR"',
            constraints: 'item.price <= 30',
            reason: 'Within budget',
          },
        ],
      },
    });
    expect(put.statusCode).toBe(200);
    const rec = (await app.inject('/recommend/c9?k=4')).json<Rec>();
    const bottle = rec.items.find((i) => i.itemId === 'bottle');
    expect(bottle).toBeDefined();
    expect(bottle!.explanations[0]).toMatchObject({
      kind: 'knowledge',
      text: 'Summers in FR call for a bottle',
    });
    // The budget constraint removes the kitchen items (price 40) a cook would otherwise get.
    expect(rec.items.every((i) => !['pan', 'knife', 'pot', 'board'].includes(i.itemId))).toBe(true);
    // Users the rules do not apply to are untouched.
    const de = (await app.inject('/recommend/r0?k=10')).json<Rec>();
    expect(de.items.some((i) => i.explanations.some((e) => e.kind === 'knowledge'))).toBe(false);

    const bad = await app.inject({
      method: 'PUT',
      url: '/placements/home/knowledge',
      payload: { rules: [{ id: 'x', reason: 'r', when: 'user.seats >' }] },
    });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json())).toContain('when');
  });
});
