import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import {
  checkFeatureDefinition,
  checkFeatureDefinitions,
  defaultFeatures,
  type FeatureDefinition,
} from '../../src/features/definitions.js';
import { loadEventTable } from '../../src/features/event-table.js';
import { buildTrainingSet, trainingSetFromTable, type LabelRow } from '../../src/features/offline-store.js';
import type { Store } from '../../src/store/store.js';
import { DAY, HOUR, MINUTE, T0, ev, memoryStore, randomEvents, randomItems, rng } from './fixtures.js';

const ITEMS = [
  { id: 'p1', categories: ['shoes'], attributes: { price: 50 }, publishedAt: T0 - 10 * DAY },
  { id: 'p2', categories: ['socks'], attributes: { price: 10 } },
];

/** The hand-computed case: see the expectations below for which events count. */
const EVENTS = [
  ev('u1', 'p1', 'impression', T0 - 8 * DAY), // 1
  ev('u1', 'p1', 'view', T0 - 8 * DAY + 1), // 2: outside 7 d at T0
  ev('u1', 'p1', 'impression', T0 - 3 * DAY), // 3
  ev('u1', 'p1', 'click', T0 - 3 * DAY + 1000), // 4
  ev('u2', 'p1', 'impression', T0 - 2 * DAY), // 5
  ev('u1', 'p2', 'view', T0 - 20 * HOUR), // 6: first event of p2
  ev('u1', 'p2', 'purchase', T0 - 2 * HOUR), // 7
  ev('u2', 'p1', 'purchase', T0 - 30 * MINUTE), // 8
  ev('u1', 'p1', 'cart', T0 - 10 * MINUTE), // 9
  ev('u2', 'p1', 'impression', T0), // 10: at the label time, so never counted at T0
];

describe('feature definitions', () => {
  it('the default set validates and names the features of the requirement', () => {
    const names = defaultFeatures(['shoes']).map((d) => d.name);
    for (const n of [
      'user.count.purchase.7d',
      'user.recency.days',
      'user.affinity.shoes',
      'user.price.mean',
      'item.popularity.1h',
      'item.popularity.24h',
      'item.popularity.7d',
      'item.ctr.7d',
      'item.age.days',
      'item.price',
      'user_item.count',
      'user_item.last.days',
    ]) {
      expect(names).toContain(n);
    }
  });

  it('errors name the offending field', () => {
    const good: FeatureDefinition = defaultFeatures()[0];
    const fieldOf = (input: unknown): string[] => {
      try {
        checkFeatureDefinition(input, 'feature');
      } catch (e) {
        expect(e).toBeInstanceOf(ValidationError);
        return (e as ValidationError).details.map((d) => d.field);
      }
      throw new Error('expected a validation error');
    };
    expect(fieldOf({ ...good, window: '7 days' })).toContain('feature.window');
    expect(fieldOf({ ...good, entity: 'session' })).toContain('feature.entity');
    expect(fieldOf({ ...good, ttlMs: -1 })).toContain('feature.ttlMs');
    expect(fieldOf({ ...good, extra: 1 })).toContain('feature.extra');
    expect(fieldOf({ ...good, name: 'item.count.view.7d' })).toEqual(['feature.name']);
    expect(fieldOf({ ...good, kind: 'recency' })).toEqual(['feature.window']);
    expect(fieldOf({ ...good, kind: 'affinity', window: null })).toEqual(['feature.category']);
    expect(fieldOf({ ...good, kind: 'ctr' })).toEqual(['feature.denominatorTypes']);
    expect(() => checkFeatureDefinitions([good, good])).toThrow(/features\.1\.name: duplicate/);
  });
});

describe('offline store: training sets as of each label time', () => {
  let store: Store;
  beforeAll(async () => {
    store = await memoryStore(ITEMS, EVENTS);
  });
  afterAll(() => store.close());

  it('hand-computed values for windows 1h/24h/7d, CTR, affinity, price mean, age', async () => {
    const labels: LabelRow[] = [
      { userId: 'u1', itemId: 'p1', timestamp: T0, label: 1 },
      { userId: 'u1', itemId: 'p2', timestamp: T0 - HOUR, label: 0 },
      { userId: 'u1', itemId: 'p2', timestamp: T0 - 2 * HOUR, label: 1 },
      { userId: 'u9', itemId: 'p1', timestamp: T0, label: 0 },
      { itemId: 'p2', timestamp: T0, label: 0 },
    ];
    const features = [
      'user.count.purchase.24h',
      'user.count.view.7d',
      'user.count.view.30d',
      'user.count.all.7d',
      'user.recency.days',
      'user.price.mean',
      'user.affinity.shoes',
      'user.affinity.socks',
      'item.popularity.1h',
      'item.popularity.24h',
      'item.popularity.7d',
      'item.ctr.7d',
      'item.age.days',
      'item.price',
      'user_item.count',
      'user_item.last.days',
    ];
    const set = await buildTrainingSet(store, labels, features);
    expect(set.names).toEqual(features);
    expect(Array.from(set.labels)).toEqual([1, 0, 1, 0, 0]);
    const row = (i: number) => Object.fromEntries(features.map((f) => [f, set.columns[f][i]]));
    const f32 = Math.fround;

    // (u1, p1) at T0
    expect(row(0)).toEqual({
      'user.count.purchase.24h': 1, // event 7
      'user.count.view.7d': 1, // event 6 (2 is 8 days old)
      'user.count.view.30d': 2, // events 2, 6
      'user.count.all.7d': 4, // click 4, view 6, purchase 7, cart 9 (impressions have weight 0)
      'user.recency.days': f32(10 / 1440), // cart 9, ten minutes earlier
      'user.price.mean': f32(110 / 3), // click p1 50, purchase p2 10, cart p1 50
      'user.affinity.shoes': f32(7 / 16), // strength view 1 + click 2 + cart 4 of 1+2+1+8+4
      'user.affinity.socks': f32(9 / 16), // view 1 + purchase 8
      'item.popularity.1h': 2, // purchase 8, cart 9
      'item.popularity.24h': 2,
      'item.popularity.7d': 3, // click 4, 8, 9
      'item.ctr.7d': 0.5, // 1 click / impressions 3 and 5 (1 too old, 10 not before T0)
      'item.age.days': 10, // publishedAt
      'item.price': 50,
      'user_item.count': 3, // view 2, click 4, cart 9
      'user_item.last.days': f32(10 / 1440),
    });

    // (u1, p2) one hour earlier: popularity.1h covers [T0-2h, T0-1h), so purchase 7 is in
    expect(row(1)['item.popularity.1h']).toBe(1);
    expect(row(1)['user.count.purchase.24h']).toBe(1);
    expect(row(1)['item.age.days']).toBe(f32(19 / 24)); // no publishedAt: since first event 6
    expect(row(1)['item.price']).toBe(10);
    expect(row(1)['user_item.count']).toBe(2);
    expect(row(1)['item.ctr.7d']).toBeNaN(); // no impression

    // exactly at the time of purchase 7: it does not count yet (strictly before)
    expect(row(2)['user.count.purchase.24h']).toBe(0);
    expect(row(2)['item.popularity.1h']).toBe(0);
    expect(row(2)['user_item.count']).toBe(1);
    expect(row(2)['user.affinity.socks']).toBe(0.25); // view 6 (1) of view 2, click 4, view 6 (1+2+1)
    expect(row(2)['user.recency.days']).toBe(f32((18 * HOUR) / DAY)); // view 6, 18 hours before

    // an unknown user: counts are 0, ratios and recency missing
    expect(row(3)['user.count.all.7d']).toBe(0);
    expect(row(3)['user.recency.days']).toBeNaN();
    expect(row(3)['user.affinity.shoes']).toBeNaN();
    expect(row(3)['user_item.count']).toBe(0);
    expect(row(3)['item.popularity.7d']).toBe(3);

    // no user id: every user and pair feature is missing, item features are there
    expect(row(4)['user.count.all.7d']).toBeNaN();
    expect(row(4)['user_item.count']).toBeNaN();
    expect(row(4)['item.price']).toBe(10);
  });

  it('rejects an unknown feature name, naming it', async () => {
    await expect(buildTrainingSet(store, [], ['user.count.nope'])).rejects.toThrow(
      /features\.0: unknown feature/,
    );
  });
});

describe('offline store: point-in-time correctness', () => {
  it('events at or after each label time change no feature value', async () => {
    const random = rng(7);
    const items = randomItems(30, random);
    const events = randomEvents(1500, 40, 30, 10 * DAY, random);
    const labels: LabelRow[] = Array.from({ length: 40 }, (_, i) => ({
      userId: `u${Math.floor(random() * 40)}`,
      itemId: `p${Math.floor(random() * 30)}`,
      timestamp: T0 - Math.floor(random() * 10 * DAY),
      label: i % 2,
    }));
    const defs = defaultFeatures(['shoes', 'socks', 'caps', 'sale']);
    const names = defs.map((d) => d.name);
    const base = await memoryStore(items, events);
    const clean = await buildTrainingSet(base, labels, names, { definitions: defs });
    await base.close();

    let compared = 0;
    let countedLater = 0;
    for (let i = 0; i < labels.length; i++) {
      const l = labels[i];
      // events on the label's user, item and pair at the label time and right after it
      const future = [0, 1, MINUTE, HOUR].flatMap((dt) =>
        ['impression', 'view', 'click', 'purchase'].flatMap((type) => [
          ev(l.userId!, l.itemId!, type, l.timestamp + dt),
          ev(l.userId!, 'p0', type, l.timestamp + dt),
          ev('u0', l.itemId!, type, l.timestamp + dt),
        ]),
      );
      const store = await memoryStore(items, [...events, ...future]);
      const later = { ...l, timestamp: l.timestamp + 2 * HOUR };
      const set = await buildTrainingSet(store, [l, later], names, { definitions: defs });
      await store.close();
      for (const name of names) {
        const a = clean.columns[name][i];
        const b = set.columns[name][0];
        if (!Object.is(a, b)) throw new Error(`${name} of label ${i}: ${a} before, ${b} with future events`);
        compared++;
      }
      // the same events do count for a label two hours later
      if (set.columns['user_item.count'][1] >= clean.columns['user_item.count'][i] + 12) countedLater++;
    }
    expect(compared).toBe(names.length * labels.length);
    expect(countedLater).toBe(labels.length);
  });

  it('matches a per-label recomputation over the raw events', async () => {
    const random = rng(11);
    const items = randomItems(20, random);
    const events = randomEvents(2000, 25, 20, 9 * DAY, random);
    const store = await memoryStore(items, events);
    const table = await loadEventTable(store);
    const labels: LabelRow[] = Array.from({ length: 200 }, () => ({
      userId: `u${Math.floor(random() * 25)}`,
      itemId: `p${Math.floor(random() * 20)}`,
      timestamp: T0 - Math.floor(random() * 9 * DAY),
      label: 1,
    }));
    const set = trainingSetFromTable(table, labels, [
      'user.count.view.24h',
      'item.popularity.7d',
      'item.ctr.7d',
      'user_item.last.days',
    ]);
    const positive = new Set(['view', 'click', 'cart', 'purchase', 'rating']);
    labels.forEach((l, i) => {
      const t = l.timestamp;
      const before = events.filter((e) => e.timestamp < t);
      const views = before.filter(
        (e) => e.userId === l.userId && e.type === 'view' && e.timestamp >= t - DAY,
      );
      const onItem7d = before.filter((e) => e.itemId === l.itemId && e.timestamp >= t - 7 * DAY);
      const pop = onItem7d.filter((e) => positive.has(e.type)).length;
      const clicks = onItem7d.filter((e) => e.type === 'click').length;
      const imps = onItem7d.filter((e) => e.type === 'impression').length;
      const pair = before.filter(
        (e) => e.userId === l.userId && e.itemId === l.itemId && positive.has(e.type),
      );
      const last = Math.max(...pair.map((e) => e.timestamp));
      expect(set.columns['user.count.view.24h'][i]).toBe(views.length);
      expect(set.columns['item.popularity.7d'][i]).toBe(pop);
      expect(set.columns['item.ctr.7d'][i]).toBe(imps > 0 ? Math.fround(clicks / imps) : NaN);
      expect(set.columns['user_item.last.days'][i]).toBe(
        pair.length > 0 ? Math.fround((t - last) / DAY) : NaN,
      );
    });
    await store.close();
  });
});
