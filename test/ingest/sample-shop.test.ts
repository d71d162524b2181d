import { describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_TYPES } from '../../src/domain/types.js';
import { LEAVES } from '../../src/ingest/sample-catalog.js';
import { generateSampleShop, loadSampleShop, type SampleShop } from '../../src/ingest/sample-shop.js';
import { memoryStore } from './helpers.js';

const NOW = Date.UTC(2025, 0, 15);
const DAY = 86_400_000;
const shop = generateSampleShop({ now: NOW });

function primaryCategory(s: SampleShop): Map<string, string> {
  return new Map(s.items.map((i) => [i.id, i.categories![0]]));
}

describe('generateSampleShop', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const again = generateSampleShop({ now: NOW });
    expect(again).toEqual(shop);
    const other = generateSampleShop({ now: NOW, seed: 7 });
    expect(other.items.map((i) => i.title)).not.toEqual(shop.items.map((i) => i.title));
    expect(other.events.length).not.toBe(shop.events.length);
  });

  it('pins the output of the default seed', () => {
    expect(shop.users[0]).toEqual({
      id: 'u0001',
      attributes: { country: 'FR', ageBand: '25-34', device: 'tablet' },
    });
    expect(shop.items[0]).toEqual({
      id: 'p001',
      title: 'Breathable Road Running Shoes',
      text: 'Breathable Road Running Shoes by Kestrel. Tested by club runners through a full winter.',
      categories: ['sports/running'],
      tags: ['reflective'],
      attributes: { brand: 'Kestrel', price: 124.99, currency: 'EUR', colour: 'grey' },
      available: true,
      publishedAt: 1_706_903_900_550,
    });
    expect(shop.events.length).toBe(58_055);
    expect(shop.events[0]).toEqual({
      userId: 'u0376',
      itemId: 'p516',
      type: 'view',
      value: null,
      timestamp: 1_731_715_722_134,
      sessionId: 'u0376-s1',
      context: { placement: 'recommendation', device: 'mobile' },
      clientEventId: null,
    });
  });

  it('has the default size and shape', () => {
    expect(shop.users.length).toBe(2000);
    expect(shop.items.length).toBe(800);
    expect(shop.events.length).toBeGreaterThan(54_000);
    expect(shop.events.length).toBeLessThan(66_000);
    expect(shop.users[0].id).toBe('u0001');
    expect(shop.items[799].id).toBe('p800');
    expect(new Set(shop.users.map((u) => u.id)).size).toBe(2000);
    expect(new Set(shop.items.map((i) => i.title)).size).toBe(800);
  });

  it('gives users country, age band and device', () => {
    for (const u of shop.users) {
      expect(Object.keys(u.attributes ?? {}).sort()).toEqual(['ageBand', 'country', 'device']);
    }
    const devices = new Map<string, number>();
    for (const u of shop.users)
      devices.set(String(u.attributes!.device), (devices.get(String(u.attributes!.device)) ?? 0) + 1);
    expect([...devices.keys()].sort()).toEqual(['desktop', 'mobile', 'tablet']);
    expect(devices.get('mobile')!).toBeGreaterThan(devices.get('tablet')!);
  });

  it('builds items from the category tree with brand, price, tags and a few unavailable', () => {
    const leaves = new Set(LEAVES.map((l) => l.path));
    let multi = 0;
    for (const item of shop.items) {
      expect(item.categories!.length).toBeGreaterThanOrEqual(1);
      for (const c of item.categories!) expect(leaves.has(c), c).toBe(true);
      if (item.categories!.length > 1) multi++;
      expect(item.title!.split(' ').length).toBeGreaterThanOrEqual(2);
      expect(item.tags!.length).toBeGreaterThanOrEqual(1);
      expect(typeof item.attributes!.brand).toBe('string');
      expect(item.attributes!.price).toBeGreaterThan(0);
      expect(item.publishedAt!).toBeLessThan(NOW - 60 * DAY);
    }
    expect(multi).toBeGreaterThan(80);
    const unavailable = shop.items.filter((i) => i.available === false).length;
    expect(unavailable).toBeGreaterThan(5);
    expect(unavailable).toBeLessThan(60);
  });

  it('spreads sorted events over the last 60 days in sessions, with every funnel type', () => {
    const counts = new Map<string, number>();
    let unsorted = 0;
    let outside = 0;
    let foreignSession = 0;
    for (let k = 0; k < shop.events.length; k++) {
      const e = shop.events[k];
      counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
      if (k > 0 && e.timestamp < shop.events[k - 1].timestamp) unsorted++;
      if (e.timestamp < NOW - 60 * DAY || e.timestamp >= NOW) outside++;
      if (!e.sessionId!.startsWith(`${e.userId}-s`)) foreignSession++;
    }
    expect([unsorted, outside, foreignSession]).toEqual([0, 0, 0]);
    expect([...counts.keys()].sort()).toEqual(['cart', 'click', 'dwell', 'purchase', 'rating', 'view']);
    const [views, clicks, carts, purchases] = ['view', 'click', 'cart', 'purchase'].map((t) =>
      counts.get(t)!,
    );
    expect(views).toBeGreaterThan(clicks);
    expect(clicks).toBeGreaterThan(carts);
    expect(carts).toBeGreaterThan(purchases);
    expect(purchases).toBeGreaterThan(1500);
    const ratings = new Set(shop.events.filter((e) => e.type === 'rating').map((e) => e.value));
    expect([...ratings].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(shop.events.filter((e) => e.type === 'dwell').every((e) => e.value! > 0)).toBe(true);
    const known = new Set(DEFAULT_EVENT_TYPES.map((t) => t.name));
    expect([...counts.keys()].every((t) => known.has(t))).toBe(true);
  });

  it("puts a user's later purchases mostly in the categories of their earlier activity", () => {
    const category = primaryCategory(shop);
    const share = new Map<string, number>();
    for (const c of category.values()) share.set(c, (share.get(c) ?? 0) + 1 / shop.items.length);
    const byUser = new Map<string, typeof shop.events>();
    for (const e of shop.events) {
      const list = byUser.get(e.userId);
      if (list) list.push(e);
      else byUser.set(e.userId, [e]);
    }

    let purchases = 0;
    let hits = 0;
    let chance = 0;
    for (const events of byUser.values()) {
      const cut = Math.floor(events.length * 0.7);
      const seen = new Map<string, number>();
      for (const e of events.slice(0, cut))
        seen.set(category.get(e.itemId)!, (seen.get(category.get(e.itemId)!) ?? 0) + 1);
      const top = [...seen]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 2)
        .map(([c]) => c);
      if (top.length === 0) continue;
      for (const e of events.slice(cut)) {
        if (e.type !== 'purchase') continue;
        purchases++;
        if (top.includes(category.get(e.itemId)!)) hits++;
        chance += top.reduce((s, c) => s + share.get(c)!, 0);
      }
    }
    expect(purchases).toBeGreaterThan(500);
    const hitRate = hits / purchases;
    const chanceRate = chance / purchases;
    expect(chanceRate).toBeLessThan(0.2);
    expect(hitRate).toBeGreaterThan(0.6);
    expect(hitRate / chanceRate).toBeGreaterThan(4);
  });

  it('scales with the options', () => {
    const small = generateSampleShop({ now: NOW, users: 50, items: 40, events: 1000, days: 10 });
    expect(small.users.length).toBe(50);
    expect(small.items.length).toBe(40);
    expect(small.users[0].id).toBe('u01');
    expect(small.events.length).toBeGreaterThan(800);
    expect(small.events.length).toBeLessThan(1300);
    expect(Math.min(...small.events.map((e) => e.timestamp))).toBeGreaterThanOrEqual(NOW - 10 * DAY);
  });
});

describe('loadSampleShop', () => {
  it('stores the shop once, even when loaded twice', async () => {
    const store = await memoryStore();
    const first = await loadSampleShop(store, { now: NOW, users: 200, items: 100, events: 5000 });
    const expected = generateSampleShop({ now: NOW, users: 200, items: 100, events: 5000 });
    expect(first).toMatchObject({ users: 200, items: 100, events: expected.events.length, duplicates: 0 });
    const second = await loadSampleShop(store, { now: NOW, users: 200, items: 100, events: 5000 });
    expect(second).toMatchObject({ events: 0, duplicates: expected.events.length });
    expect(await store.countEvents()).toBe(expected.events.length);
    expect(await store.countUsers()).toBe(200);
    expect(await store.countItems()).toBe(100);
    const unavailable = expected.items.find((i) => i.available === false);
    if (unavailable) expect((await store.getItem(unavailable.id))?.available).toBe(false);
    await store.close();
  });

  it('creates the event types it needs when they were removed', async () => {
    const store = await memoryStore();
    await store.deleteEventType('dwell');
    const report = await loadSampleShop(store, { now: NOW, users: 30, items: 20, events: 500 });
    expect(report.events).toBeGreaterThan(300);
    expect((await store.listEventTypes()).map((t) => t.name)).toContain('dwell');
    await store.close();
  });
});
