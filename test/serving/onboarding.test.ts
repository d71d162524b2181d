import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/server/app.js';
import type { Engine } from '../../src/serving/engine.js';
import { closeTestApp, openTestApp } from '../helpers/test-app.js';

interface Rec {
  items: { itemId: string; explanations: { kind: string; text: string }[] }[];
}
interface ErrorReply {
  error: { code: string; message: string; details?: { field: string; message: string }[] };
}

const RUNNING = ['shoe', 'sock', 'cap', 'shirt', 'band', 'bottle'];
const KITCHEN = ['pan', 'knife', 'pot', 'board'];
const ITEMS = [
  ...RUNNING.map((id) => ({
    id,
    title: `Running ${id}`,
    categories: ['running'],
    attributes: { stock: 10 },
  })),
  ...KITCHEN.map((id) => ({
    id,
    title: `Kitchen ${id}`,
    categories: ['kitchen'],
    attributes: { stock: 10 },
  })),
];

let dir: string;
let engine: Engine;
let app: App;

beforeAll(async () => {
  ({ dir, engine, app } = await openTestApp('kindred-onboarding-'));
  await app.inject({ method: 'POST', url: '/items', payload: ITEMS });
  // Eight runners and four cooks: running items are the popular ones.
  const events: { userId: string; itemId: string; type: string; timestamp: number }[] = [];
  let t = 1_700_000_000_000;
  for (let u = 0; u < 12; u++) {
    const own = u < 8 ? RUNNING : KITCHEN;
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

const recommend = async (userId: string): Promise<string[]> => {
  const res = await app.inject(`/recommend/${userId}?k=4`);
  expect(res.statusCode).toBe(200);
  return res.json<Rec>().items.map((i) => i.itemId);
};

describe('onboarding', () => {
  it('offers categories by popularity and items from every category in turn', async () => {
    const res = await app.inject('/onboarding/newbie/options?k=4');
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      categories: { name: string; items: number }[];
      items: { itemId: string; category: string }[];
    }>();
    expect(body.categories).toEqual([
      { name: 'running', items: 6 },
      { name: 'kitchen', items: 4 },
    ]);
    expect(body.items).toHaveLength(4);
    expect(body.items.map((i) => i.category)).toEqual(['running', 'kitchen', 'running', 'kitchen']);
  });

  it('changes the very next recommendation: picked items count at once', async () => {
    const before = await recommend('newbie');
    // A new user gets the popular items: running gear.
    expect(before.every((id) => RUNNING.includes(id))).toBe(true);

    const res = await app.inject({
      method: 'POST',
      url: '/onboarding/newbie',
      payload: { items: ['pan', 'pot'] },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      userId: 'newbie',
      items: ['pan', 'pot'],
      eventType: 'onboarding',
      events: 2,
    });

    const after = await recommend('newbie');
    expect(after).not.toEqual(before);
    expect(after).not.toContain('pan'); // picked, so already known
    expect(after.slice(0, 2).every((id) => KITCHEN.includes(id))).toBe(true);
    const rec = (await app.inject('/recommend/newbie?k=4')).json<Rec>();
    expect(rec.items[0].explanations.map((e) => e.text).join(' ')).toMatch(/Kitchen (pan|pot)/);

    // The event type was created, weighted, and is listed by the event-type API.
    const typesRes = await app.inject('/event-types');
    const onboarding = typesRes
      .json<{ eventTypes: { name: string; weight: number }[] }>()
      .eventTypes.find((t) => t.name === 'onboarding');
    expect(onboarding?.weight).toBe(3);

    // Picking the same item again stores nothing new.
    const again = await app.inject({
      method: 'POST',
      url: '/onboarding/newbie',
      payload: { items: ['pan'] },
    });
    expect(again.json()).toMatchObject({ events: 0, duplicates: 1 });
  });

  it('stores picked categories as the interests attribute, keeping other attributes', async () => {
    await app.inject({ method: 'PUT', url: '/users/cat-fan', payload: { attributes: { country: 'DE' } } });
    const res = await app.inject({
      method: 'POST',
      url: '/onboarding/cat-fan',
      payload: { categories: ['kitchen'] },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ interests: ['kitchen'], items: [], events: 0 });
    const user = (await app.inject('/users/cat-fan')).json<{ attributes: Record<string, unknown> }>();
    expect(user.attributes).toEqual({ country: 'DE', interests: ['kitchen'] });
    // Options leave out what the user already has.
    await app.inject({ method: 'POST', url: '/onboarding/cat-fan', payload: { items: ['shoe'] } });
    const options = (await app.inject('/onboarding/cat-fan/options?k=20')).json<{
      items: { itemId: string }[];
    }>();
    expect(options.items.map((i) => i.itemId)).not.toContain('shoe');
    expect(options.items).toHaveLength(9);
  });

  it('refuses bad bodies with 400 naming the field, and stores nothing', async () => {
    const cases: [unknown, string[]][] = [
      [{}, ['body']],
      [{ items: ['nope', 'pan', 'gone'] }, ['items/0', 'items/2']],
      [{ categories: ['kitchen', 'garden'] }, ['categories/1']],
      [{ items: [''] }, ['body/items/0']],
      [{ colour: 'red' }, ['body/colour']],
      [{ items: 'pan', categories: { a: 1 } }, ['body/categories']],
    ];
    for (const [payload, fields] of cases) {
      const res = await app.inject({ method: 'POST', url: '/onboarding/strict', payload: payload as object });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      const body = res.json<ErrorReply>();
      expect(body.error.code).toBe('VALIDATION_ERROR');
      expect(body.error.details?.map((d) => d.field)).toEqual(fields);
    }
    const unknown = await app.inject({
      method: 'POST',
      url: '/onboarding/strict',
      payload: { items: ['nope', 'gone'] },
    });
    expect(unknown.json<ErrorReply>().error.message).toBe('items: unknown item ids: nope, gone');
    expect((await app.inject('/users/strict')).statusCode).toBe(404);
  });
});
