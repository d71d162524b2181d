/** What a user just did shows in the very next recommendation; a new item without a retrain. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/server/app.js';
import type { Engine } from '../../src/serving/engine.js';
import { closeTestApp, openTestApp } from '../helpers/test-app.js';

interface Rec {
  items: { itemId: string; sources: string[]; explanations: { kind: string }[] }[];
}

const RUNNING = ['shoe', 'sock', 'cap', 'shirt', 'band', 'bottle'];
const KITCHEN = ['pan', 'knife', 'pot', 'board', 'whisk', 'bowl'];

let dir: string;
let engine: Engine;
let app: App;

beforeAll(async () => {
  ({ dir, engine, app } = await openTestApp('kindred-realtime-'));
  const old = Date.UTC(2025, 0, 1);
  await app.inject({
    method: 'POST',
    url: '/items',
    payload: [...RUNNING, ...KITCHEN].map((id) => ({
      id,
      categories: [RUNNING.includes(id) ? 'running' : 'kitchen'],
      publishedAt: new Date(old).toISOString(),
    })),
  });
  const events = [];
  let t = Date.UTC(2025, 5, 1);
  for (let u = 0; u < 20; u++) {
    const own = u % 2 === 0 ? RUNNING : KITCHEN;
    for (let j = 0; j < 4; j++)
      events.push({ userId: `u${u}`, itemId: own[(u + j) % 6], type: 'purchase', timestamp: (t += 1000) });
  }
  await app.inject({ method: 'POST', url: '/events', payload: events });
  expect(
    (
      await app.inject({
        method: 'POST',
        url: '/models/train',
        payload: { models: ['popularity', 'trending', 'item-knn', 'als', 'content'] },
      })
    ).statusCode,
  ).toBe(200);
});

afterAll(async () => {
  await closeTestApp({ dir, engine, app });
});

const top = async (user: string, k = 6): Promise<string[]> =>
  (await app.inject(`/recommend/${user}?k=${k}`)).json<Rec>().items.map((i) => i.itemId);

describe('real-time signals', () => {
  it('a purchase leaves the next list at once, and items like it rise', async () => {
    const before = await top('u0', 12);
    // A runner: the head of the list is running gear, kitchen items trail.
    expect(RUNNING).toContain(before[0]);
    const bowlBefore = before.indexOf('bowl');
    const bought = 'pan';
    const ack = await app.inject({
      method: 'POST',
      url: '/events',
      payload: ['pan', 'knife', 'pot', 'board', 'whisk'].map((itemId, j) => ({
        userId: 'u0',
        itemId,
        type: 'purchase',
        timestamp: Date.now() - 3 + j,
      })),
    });
    expect(ack.json<{ accepted: number }>().accepted).toBe(5);
    const after = await top('u0', 12);
    expect(after).not.toContain(bought);
    expect(after).not.toContain('knife');
    // No retraining happened: the models fold the new history in, and the last kitchen item rises.
    expect(bowlBefore).toBeGreaterThan(2);
    expect(after.indexOf('bowl')).toBeGreaterThanOrEqual(0);
    expect(after.indexOf('bowl')).toBeLessThan(bowlBefore);
  });

  it('a new item is recommendable without a retrain', async () => {
    const before = await top('u2', 12);
    expect(before).not.toContain('trail-vest');
    const created = await app.inject({
      method: 'POST',
      url: '/items',
      payload: [
        {
          id: 'trail-vest',
          title: 'Trail Vest',
          categories: ['running'],
          publishedAt: new Date().toISOString(),
        },
      ],
    });
    expect(created.statusCode).toBe(200);
    const res = (await app.inject('/recommend/u2?k=12')).json<Rec>();
    const vest = res.items.find((i) => i.itemId === 'trail-vest');
    expect(vest).toBeDefined();
    expect(vest!.sources).toContain('fresh');
    // By its content it resembles the running gear this runner bought.
    expect(vest!.sources).toContain('new-by-content');
    expect(vest!.explanations.map((e) => e.kind)).toContain('new-like-history');
    // Similar items of the new item are its content neighbours.
    const similar = (
      await app.inject('/recommend/stranger?placement=similar&item=trail-vest&k=3')
    ).json<Rec>().items;
    expect(similar.length).toBe(3);
    expect(similar.every((i) => RUNNING.includes(i.itemId))).toBe(true);
  });
});

describe('exploration for fresh items', () => {
  it('reserves a bounded slot for fresh items when a placement turns exploration on', async () => {
    await app.inject({
      method: 'POST',
      url: '/items',
      payload: [
        { id: 'kettle', title: 'Kettle', categories: ['kitchen'], publishedAt: new Date().toISOString() },
      ],
    });
    const put = await app.inject({
      method: 'PUT',
      url: '/placements/discover/settings',
      payload: { exploration: true },
    });
    expect(put.statusCode).toBe(200);
    // A runner would not get a kitchen item this early; the exploration slot shows it, once in ten.
    const list = (await app.inject('/recommend/u4?k=10&placement=discover')).json<Rec>().items;
    const fresh = list.filter((i) => i.sources.includes('exploration'));
    expect(fresh.length).toBeGreaterThanOrEqual(1);
    expect(['kettle', 'trail-vest']).toContain(fresh[0].itemId);
    expect(fresh[0].explanations.map((e) => e.kind)).toContain('new');
    const plain = (await app.inject('/recommend/u4?k=10&placement=home')).json<Rec>().items;
    expect(plain.some((i) => i.sources.includes('exploration'))).toBe(false);
  });
});

describe('context-aware popularity', () => {
  it('proposes what is popular on the request device once a placement asks for it', async () => {
    const put = await app.inject({
      method: 'PUT',
      url: '/placements/tablet-home/settings',
      payload: { contextPopularity: true },
    });
    expect(put.statusCode).toBe(200);
    // Tablet users have been buying the whisk today.
    await app.inject({
      method: 'POST',
      url: '/events',
      payload: Array.from({ length: 30 }, (_, j) => ({
        userId: `t${j}`,
        itemId: 'whisk',
        type: 'purchase',
        context: { device: 'tablet' },
      })),
    });
    const onTablet = (
      await app.inject('/recommend/newcomer?k=3&placement=tablet-home&device=tablet')
    ).json<Rec>().items;
    const whisk = onTablet.find((i) => i.itemId === 'whisk');
    expect(whisk).toBeDefined();
    expect(whisk!.sources).toContain('in-context');
    expect(whisk!.explanations.map((e) => e.kind)).toContain('popular-in-context');
  });

  it('names the part of the day from the time', async () => {
    const { dayPart } = await import('../../src/pipeline/sources/context-popularity.js');
    expect(dayPart(Date.UTC(2026, 0, 1, 3))).toBe('night');
    expect(dayPart(Date.UTC(2026, 0, 1, 9))).toBe('morning');
    expect(dayPart(Date.UTC(2026, 0, 1, 13))).toBe('afternoon');
    expect(dayPart(Date.UTC(2026, 0, 1, 23))).toBe('evening');
    expect(dayPart(Date.UTC(2026, 0, 1, 23), 120)).toBe('night');
  });
});
