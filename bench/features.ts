/**
 * Feature store figures:
 *   1. offline training set: 1M synthetic events (100k users, 10k items, 30 days) and 100k labels,
 *      every default feature, point in time per label (time sort and build timed apart)
 *   2. reading events from SQLite with scanEvents into the event table (events/s)
 *   3. materialisation as of now to the in-process store and to Redis (entities/s)
 *   4. online get latency, one user's features per call, p50 and p99, in-process and Redis
 *
 *   npx tsx bench/features.ts            (or: npm run build && node dist/bench/features.js)
 *
 * Environment: BENCH_EVENTS (default 1,000,000), BENCH_LABELS (default 100,000), BENCH_SCAN_EVENTS
 * (events written to SQLite for figure 2, default 200,000), BENCH_REDIS_URL (default
 * redis://127.0.0.1:6379; figures for Redis are left out when it does not answer).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IdMap } from '../src/data/id-map.js';
import { DEFAULT_EVENT_TYPES, type EventInput } from '../src/domain/types.js';
import { FeatureCatalog } from '../src/features/catalog.js';
import { defaultFeatures, entityKey } from '../src/features/definitions.js';
import { eventTableFromColumns, loadEventTable, TypeTable } from '../src/features/event-table.js';
import { materialize } from '../src/features/materialize.js';
import { MemoryOnlineStore } from '../src/features/memory-online-store.js';
import { trainingSetFromTable, type LabelRow } from '../src/features/offline-store.js';
import type { OnlineFeatureStore } from '../src/features/online-store.js';
import { RedisOnlineStore } from '../src/features/redis-online-store.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const LABELS = Number(process.env.BENCH_LABELS ?? 100_000);
const SCAN_EVENTS = Number(process.env.BENCH_SCAN_EVENTS ?? 200_000);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const USERS = 100_000;
const ITEMS = 10_000;
const DAY = 86_400_000;
const NOW = Date.parse('2025-06-15T12:00:00Z');
const SPAN = 30 * DAY;
const CATEGORIES = Array.from({ length: 20 }, (_, i) => `c${i}`);
const TYPE_MIX = ['impression', 'impression', 'impression', 'view', 'view', 'click', 'cart', 'purchase'];

let seed = 42;
function random(): number {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 2 ** 32;
}
/** Skewed index in 0..n-1 (popular ones first). */
const skewed = (n: number) => Math.floor(n * random() ** 2);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function catalog(): FeatureCatalog {
  const c = new FeatureCatalog();
  for (let i = 0; i < ITEMS; i++) {
    c.setItem({
      id: `p${i}`,
      categories: [CATEGORIES[i % CATEGORIES.length]],
      price: 1 + Math.round(random() * 200),
      publishedAt: i % 3 === 0 ? null : NOW - Math.floor(random() * 90 * DAY),
    });
  }
  return c;
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function latency(store: OnlineFeatureStore, keys: string[], names: string[]): Promise<string> {
  const n = 10_000;
  const times = new Float64Array(n);
  for (let i = 0; i < 500; i++) await store.get(keys[i % keys.length], names); // warm up
  for (let i = 0; i < n; i++) {
    const key = keys[Math.floor(random() * keys.length)];
    const t = process.hrtime.bigint();
    await store.get(key, names);
    times[i] = Number(process.hrtime.bigint() - t) / 1e6;
  }
  times.sort();
  return `p50 ${percentile(times, 0.5).toFixed(3)} ms, p99 ${percentile(times, 0.99).toFixed(3)} ms`;
}

async function main(): Promise<void> {
  console.log(
    `feature store: ${fmt(EVENTS)} events, ${fmt(USERS)} users, ${fmt(ITEMS)} items, ${fmt(LABELS)} labels`,
  );
  const types = new TypeTable(DEFAULT_EVENT_TYPES);
  const cat = catalog();
  const users = new IdMap();
  for (let u = 0; u < USERS; u++) users.getOrAdd(`u${u}`);
  const user = new Int32Array(EVENTS);
  const item = new Int32Array(EVENTS);
  const type = new Int32Array(EVENTS);
  const strength = new Float64Array(EVENTS);
  const value = new Float64Array(EVENTS).fill(NaN);
  const time = new Float64Array(EVENTS);
  for (let e = 0; e < EVENTS; e++) {
    user[e] = skewed(USERS);
    item[e] = skewed(ITEMS);
    type[e] = types.index(TYPE_MIX[Math.floor(random() * TYPE_MIX.length)]);
    strength[e] = types.strength(type[e], null);
    time[e] = NOW - Math.floor(random() * SPAN); // unsorted, as a store with late events would be
  }
  let t0 = performance.now();
  const table = eventTableFromColumns({
    user,
    item,
    type,
    strength,
    value,
    time,
    users,
    catalog: cat,
    types,
  });
  console.log(
    `  event table (time sort, pair index of ${fmt(table.pairUser.length)} pairs): ${seconds(performance.now() - t0)}`,
  );

  const defs = defaultFeatures(CATEGORIES);
  const names = defs.map((d) => d.name);
  const labels: LabelRow[] = Array.from({ length: LABELS }, () => ({
    userId: `u${skewed(USERS)}`,
    itemId: `p${skewed(ITEMS)}`,
    timestamp: NOW - Math.floor(random() * SPAN),
    label: random() < 0.1 ? 1 : 0,
  }));
  t0 = performance.now();
  const set = trainingSetFromTable(table, labels, names, defs);
  const build = performance.now() - t0;
  console.log(
    `  offline training set, ${names.length} features x ${fmt(set.length)} labels: ${seconds(build)}`,
  );

  const dir = mkdtempSync(path.join(tmpdir(), 'kindred-bench-features-'));
  try {
    const sqlite = new SqliteStore(path.join(dir, 'kindred.db'));
    await sqlite.init();
    const batch: EventInput[] = [];
    for (let e = 0; e < SCAN_EVENTS; e++) {
      batch.push({
        userId: users.id(user[e]),
        itemId: cat.items.id(item[e]),
        type: types.names[type[e]],
        value: null,
        timestamp: time[e],
        sessionId: null,
        context: null,
        clientEventId: null,
      });
      if (batch.length === 10_000 || e === SCAN_EVENTS - 1) await sqlite.insertEvents(batch.splice(0));
    }
    t0 = performance.now();
    const loaded = await loadEventTable(sqlite, { batchSize: 10_000 });
    const scan = performance.now() - t0;
    console.log(
      `  scanEvents from SQLite into the event table: ${fmt(loaded.length / (scan / 1000))} events/s (${fmt(loaded.length)} in ${seconds(scan)})`,
    );
    await sqlite.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const userKeys = Array.from({ length: 5000 }, (_, i) => entityKey('user', `u${i}`));
  const userNames = defs.filter((d) => d.entity === 'user').map((d) => d.name);

  const memory = new MemoryOnlineStore({ maxEntities: 5_000_000 });
  t0 = performance.now();
  const m = await materialize(table, memory, { asOf: NOW + 1, definitions: defs, batchSize: 5000 });
  const memMs = performance.now() - t0;
  console.log(
    `  materialise to memory: ${fmt(m.entities / (memMs / 1000))} entities/s (${fmt(m.entities)} in ${seconds(memMs)})`,
  );
  console.log(
    `  get from memory (${userNames.length} user features): ${await latency(memory, userKeys, userNames)}`,
  );
  await memory.close();

  const redis = new RedisOnlineStore({ url: REDIS_URL, keyPrefix: `kindred-bench:${process.pid}:` });
  try {
    await redis.connect();
  } catch (error) {
    console.log(
      `  Redis at ${REDIS_URL} does not answer (${(error as Error).message}); Redis figures left out`,
    );
    await redis.close();
    return;
  }
  try {
    t0 = performance.now();
    const r = await materialize(table, redis, { asOf: NOW + 1, definitions: defs, batchSize: 1000 });
    const redisMs = performance.now() - t0;
    console.log(
      `  materialise to Redis: ${fmt(r.entities / (redisMs / 1000))} entities/s (${fmt(r.entities)} in ${seconds(redisMs)})`,
    );
    console.log(
      `  get from Redis (${userNames.length} user features): ${await latency(redis, userKeys, userNames)}`,
    );
  } finally {
    await redis.clear();
    await redis.close();
  }
}

await main();
