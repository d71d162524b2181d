import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureCatalog } from '../../src/features/catalog.js';
import { defaultFeatures, entityKey, type FeatureDefinition } from '../../src/features/definitions.js';
import { loadEventTable, type EventTable } from '../../src/features/event-table.js';
import { materialize } from '../../src/features/materialize.js';
import { MemoryOnlineStore } from '../../src/features/memory-online-store.js';
import { trainingSetFromTable, type LabelRow } from '../../src/features/offline-store.js';
import type { OnlineFeatureStore } from '../../src/features/online-store.js';
import { OnlineFeatureUpdater } from '../../src/features/online-updater.js';
import { RedisOnlineStore } from '../../src/features/redis-online-store.js';
import type { Store } from '../../src/store/store.js';
import { describeWithService, redactUrl } from '../helpers/services.js';
import { DAY, HOUR, T0, memoryStore, randomEvents, randomItems, rng } from './fixtures.js';
import { redisAvailable, testRedisUrl, uniquePrefix } from './redis-available.js';

const CATS = ['shoes', 'socks', 'caps', 'sale'];
const url = testRedisUrl();
const describeRedis = describeWithService('Redis', await redisAvailable(url), redactUrl(url));

let store: Store;
let table: EventTable;
let defs: FeatureDefinition[];
const AS_OF = T0 + 1;

beforeAll(async () => {
  const random = rng(3);
  store = await memoryStore(randomItems(25, random), randomEvents(4000, 30, 25, 12 * DAY, random));
  table = await loadEventTable(store);
  defs = defaultFeatures(CATS);
});
afterAll(() => store.close());

/** Offline values as of `t` for every user, item and pair of the table, keyed like the online store. */
function offlineRows(t: number): Map<string, Record<string, number>> {
  const rows = new Map<string, Record<string, number>>();
  const add = (key: string, label: LabelRow, entity: FeatureDefinition['entity']) => {
    const names = defs.filter((d) => d.entity === entity).map((d) => d.name);
    const set = trainingSetFromTable(table, [label], names, defs);
    rows.set(key, Object.fromEntries(names.map((n) => [n, set.columns[n][0]])));
  };
  for (const u of table.users.ids) add(entityKey('user', u), { userId: u, timestamp: t, label: 0 }, 'user');
  for (const i of table.catalog.items.ids)
    add(entityKey('item', i), { itemId: i, timestamp: t, label: 0 }, 'item');
  for (let p = 0; p < table.pairUser.length; p++) {
    const u = table.users.id(table.pairUser[p]);
    const i = table.catalog.items.id(table.pairItem[p]);
    add(entityKey('user-item', u, i), { userId: u, itemId: i, timestamp: t, label: 0 }, 'user-item');
  }
  return rows;
}

async function expectMaterialized(online: OnlineFeatureStore): Promise<void> {
  const progress: number[] = [];
  const result = await materialize(table, online, {
    asOf: AS_OF,
    definitions: defs,
    batchSize: 100,
    onProgress: (done, total) => progress.push(done / total),
  });
  const expected = offlineRows(AS_OF);
  expect(result.entities).toBe(expected.size);
  expect(result.users + result.items + result.pairs).toBe(expected.size);
  expect(progress.at(-1)).toBe(1);
  expect(progress).toEqual([...progress].sort((a, b) => a - b));
  const keys = [...expected.keys()];
  const got = await online.getMany(keys);
  keys.forEach((key, k) => {
    const want = expected.get(key)!;
    const have = got[k];
    expect(have, key).not.toBeNull();
    expect(Object.keys(have!).sort()).toEqual(Object.keys(want).sort());
    for (const [name, v] of Object.entries(want)) {
      // offline columns are float32; online keeps the float64 value
      if (!Object.is(Math.fround(have![name]), v))
        throw new Error(`${key} ${name}: online ${have![name]}, offline ${v}`);
    }
  });
}

describe('materialisation', () => {
  it('writes, for every entity, the offline values as of the same time (memory)', async () => {
    const online = new MemoryOnlineStore({ sweepIntervalMs: 0, now: () => AS_OF });
    await expectMaterialized(online);
    await online.close();
  });

  it('gives each entity the shortest TTL of its features', async () => {
    let now = AS_OF;
    const online = new MemoryOnlineStore({ sweepIntervalMs: 0, now: () => now });
    await materialize(table, online, { asOf: AS_OF, definitions: defs });
    const itemTtl = Math.min(...defs.filter((d) => d.entity === 'item').map((d) => d.ttlMs!));
    now += itemTtl - 1;
    expect(await online.get(entityKey('item', 'p1'))).not.toBeNull();
    now += 1;
    expect(await online.get(entityKey('item', 'p1'))).toBeNull();
    expect(await online.get(entityKey('user', table.users.id(0)))).not.toBeNull();
    await online.close();
  });
});

describeRedis('materialisation to Redis', () => {
  it('writes, for every entity, the offline values as of the same time (redis)', async () => {
    const online = await new RedisOnlineStore({ url, keyPrefix: uniquePrefix('materialize') }).connect();
    try {
      await expectMaterialized(online);
    } finally {
      await online.clear();
      await online.close();
    }
  });
});

describe('incremental updates', () => {
  const BUCKETS = 12;
  /** The default windows, and each shortened by one bucket: the bounds of the approximation. */
  const BOUNDS: Record<string, [string, string]> = {
    '1h': ['55m', '1h'],
    '24h': ['22h', '24h'],
    '7d': ['154h', '7d'],
  };

  async function updaterFromStore(online: OnlineFeatureStore | null, now: () => number) {
    const updater = new OnlineFeatureUpdater({
      definitions: defs,
      catalog: await FeatureCatalog.load(store),
      eventTypes: await store.listEventTypes(),
      online,
      bucketsPerWindow: BUCKETS,
      now,
    });
    updater.applyTable(table);
    return updater;
  }

  it('equals recomputation exactly for features without a window', async () => {
    const updater = await updaterFromStore(null, () => AS_OF);
    const expected = offlineRows(AS_OF);
    const exact = defs.filter((d) => d.window === null).map((d) => d.name);
    let compared = 0;
    for (const [key, want] of expected) {
      const have = updater.values(key, AS_OF)!;
      for (const name of exact) {
        if (!(name in want)) continue;
        expect(Math.fround(have[name]), `${key} ${name}`).toBe(want[name]);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it('windowed counts lie between the exact counts over W minus one bucket and over W', async () => {
    const updater = await updaterFromStore(null, () => AS_OF);
    const windowed = defs.filter((d) => d.kind === 'count' && d.window !== null && d.window in BOUNDS);
    const boundDefs = windowed.flatMap((d) =>
      BOUNDS[d.window!].map((w) => ({ ...d, name: `${d.name}@${w}`, window: w })),
    );
    const all = [...defs, ...boundDefs];
    let compared = 0;
    let strict = 0;
    // any time after the last event, at different offsets within the buckets
    for (const t of [AS_OF, AS_OF + 37 * 60_000, AS_OF + 2 * DAY + 5 * HOUR + 11_111]) {
      const probe = (key: string, label: LabelRow) => {
        const have = updater.values(key, t)!;
        const names = windowed
          .filter((d) => d.name in have)
          .flatMap((d) => BOUNDS[d.window!].map((w) => `${d.name}@${w}`));
        const set = trainingSetFromTable(table, [label], names, all);
        for (const d of windowed) {
          if (!(d.name in have)) continue;
          const [low, high] = BOUNDS[d.window!].map((w) => set.columns[`${d.name}@${w}`][0]);
          expect(have[d.name], `${key} ${d.name} at ${t}`).toBeGreaterThanOrEqual(low);
          expect(have[d.name], `${key} ${d.name} at ${t}`).toBeLessThanOrEqual(high);
          compared++;
          if (low < high) strict++;
        }
      };
      for (const u of table.users.ids) probe(entityKey('user', u), { userId: u, timestamp: t, label: 0 });
      for (const i of table.catalog.items.ids)
        probe(entityKey('item', i), { itemId: i, timestamp: t, label: 0 });
    }
    expect(compared).toBeGreaterThan(500);
    expect(strict).toBeGreaterThan(0); // the bounds are not trivially equal
  });

  it('applyEvent writes fresh values to the online store', async () => {
    let now = AS_OF;
    const online = new MemoryOnlineStore({ sweepIntervalMs: 0, now: () => now });
    const updater = await updaterFromStore(online, () => now);
    expect(await updater.flush()).toBeGreaterThan(0);
    const user = table.users.id(0);
    const key = entityKey('user', user);
    const before = (await online.get(key))!;
    now = AS_OF + 60_000;
    await updater.applyEvent({
      userId: user,
      itemId: 'p3',
      type: 'purchase',
      value: null,
      timestamp: now - 1,
    });
    const after = (await online.get(key))!;
    expect(after['user.count.purchase.24h']).toBe(before['user.count.purchase.24h'] + 1);
    expect(after['user.count.purchase.30d']).toBe(before['user.count.purchase.30d'] + 1);
    expect(after['user.recency.days']).toBeCloseTo(1 / 86_400_000, 12);
    const pair = (await online.get(entityKey('user-item', user, 'p3')))!;
    expect(pair['user_item.last.days']).toBeCloseTo(1 / 86_400_000, 12);
    expect(await online.get(entityKey('item', 'p3'))).toEqual(updater.values(entityKey('item', 'p3'), now));
  });
});
