import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EventInput, JsonObject } from '../../src/domain/types.js';
import type { ItemOutcome, ServedRecommendation } from '../../src/serving/recommendation-log.js';
import { StoreRecommendationLog, outcomesOf } from '../../src/serving/store-recommendation-log.js';
import { ServedBatchBuilder } from '../../src/serving/served-batch.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

function served(id: string, userId: string, items: string[], extra: Partial<ServedRecommendation> = {}) {
  return {
    id,
    userId,
    placement: 'home',
    servedAt: 1000,
    items,
    scores: items.map((_, i) => 1 / (i + 1)),
    features: null,
    ...extra,
  } satisfies ServedRecommendation;
}

function event(
  userId: string,
  itemId: string,
  type: string,
  context: JsonObject | null = null,
  value: number | null = null,
): EventInput {
  return { userId, itemId, type, value, timestamp: 5000, sessionId: null, context, clientEventId: null };
}

const outcome = (itemId: string, rank: number, counts: Partial<ItemOutcome> = {}): ItemOutcome => ({
  itemId,
  rank,
  impressions: 0,
  clicks: 0,
  carts: 0,
  purchases: 0,
  revenue: 0,
  ...counts,
});

let store: SqliteStore;

beforeEach(async () => {
  store = new SqliteStore(':memory:');
  await store.init();
});

afterEach(async () => {
  await store.close();
});

describe('StoreRecommendationLog batching', () => {
  it('queues served lists, shows them before they are written, and writes them in one batch on close', async () => {
    const insert = vi.spyOn(store, 'insertRecommendations');
    const log = new StoreRecommendationLog(store, { flushIntervalMs: 60_000 });
    const done = [1, 2, 3, 4, 5].map((n) => log.record(served(`r${n}`, 'u1', ['a', 'b'])));
    expect(insert).not.toHaveBeenCalled();
    expect(log.pending).toBe(5);
    expect(await store.getRecommendation('r3')).toBeNull();
    expect((await log.get('r3'))?.items).toEqual(['a', 'b']);
    await log.close();
    await Promise.all(done);
    expect(insert).toHaveBeenCalledTimes(1);
    expect(insert.mock.calls[0][0].map((r) => r.id)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect(log.pending).toBe(0);
    expect((await store.getRecommendation('r5'))?.userId).toBe('u1');
    await expect(log.record(served('late', 'u1', ['a']))).rejects.toMatchObject({ code: 'NOT_READY' });
  });

  it('writes as soon as maxBatch lists wait, in recording order', async () => {
    const insert = vi.spyOn(store, 'insertRecommendations');
    const log = new StoreRecommendationLog(store, { flushIntervalMs: 60_000, maxBatch: 3 });
    const done = Array.from({ length: 7 }, (_, n) => log.record(served(`r${n}`, 'u1', ['a'])));
    expect(log.pending).toBe(1);
    await Promise.all(done.slice(0, 6));
    expect(insert.mock.calls.map((call) => call[0].length)).toEqual([3, 3]);
    await log.flush();
    await done[6];
    expect(insert.mock.calls.map((call) => call[0].map((r) => r.id))).toEqual([
      ['r0', 'r1', 'r2'],
      ['r3', 'r4', 'r5'],
      ['r6'],
    ]);
    await log.close();
  });

  it('writes on its timer without being asked: record resolves once the list is durable', async () => {
    const log = new StoreRecommendationLog(store, { flushIntervalMs: 5 });
    await log.record(served('r1', 'u1', ['a']));
    expect((await store.getRecommendation('r1'))?.items).toEqual(['a']);
    await log.close();
  });

  it('reads a list back while its batch is being written, once the write is done', async () => {
    const log = new StoreRecommendationLog(store, { flushIntervalMs: 60_000 });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const insert = store.insertRecommendations.bind(store);
    vi.spyOn(store, 'insertRecommendations').mockImplementationOnce(async (rows) => {
      await gate;
      return insert(rows);
    });
    void log.record(served('r1', 'u1', ['a', 'b']));
    const flushed = log.flush();
    expect(log.pending).toBe(0);
    let read: ServedRecommendation | null | undefined;
    const reading = log.get('r1').then((r) => (read = r));
    await new Promise((r) => setTimeout(r, 20));
    expect(read).toBeUndefined();
    release();
    await reading;
    expect(read?.items).toEqual(['a', 'b']);
    await flushed;
    await log.close();
  });

  it('logs the list as it was when recorded', async () => {
    const log = new StoreRecommendationLog(store, { flushIntervalMs: 60_000 });
    const list = served('r1', 'u1', ['a', 'b']);
    void log.record(list);
    list.items.push('c');
    list.scores[0] = 99;
    await log.close();
    expect(await store.getRecommendation('r1')).toMatchObject({ items: ['a', 'b'], scores: [1, 0.5] });
  });

  it('reports a failed write to onError and to the callers, and keeps going', async () => {
    const onError = vi.fn();
    const log = new StoreRecommendationLog(store, { flushIntervalMs: 60_000, onError });
    vi.spyOn(store, 'insertRecommendations').mockRejectedValueOnce(new Error('disk full'));
    const lost = [log.record(served('r1', 'u1', ['a'])), log.record(served('r2', 'u1', ['a']))];
    await log.flush();
    for (const p of lost) await expect(p).rejects.toThrow('disk full');
    expect(onError).toHaveBeenCalledWith(expect.any(Error), 2);
    expect(await log.get('r1')).toBeNull();
    const retried = log.record(served('r3', 'u1', ['a']));
    await log.close();
    await retried;
    expect(await store.getRecommendation('r3')).not.toBeNull();
  });

  it('refuses an invalid list at once and when too many wait', async () => {
    const onError = vi.fn();
    const log = new StoreRecommendationLog(store, { flushIntervalMs: 60_000, maxPending: 2, onError });
    await expect(log.record(served('bad', 'u1', ['a'], { scores: [] }))).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
    });
    void log.record(served('r1', 'u1', ['a']));
    void log.record(served('r2', 'u1', ['a']));
    await expect(log.record(served('r3', 'u1', ['a']))).rejects.toMatchObject({ code: 'NOT_READY' });
    expect(onError).toHaveBeenCalledTimes(2);
    await log.close();
    expect(await store.getRecommendation('r2')).not.toBeNull();
  });
});

describe('StoreRecommendationLog with a writer thread', () => {
  it('writes through its own connection: the store reads every list back, features included', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kindred-served-writer-'));
    const file = new SqliteStore(path.join(dir, 'k.db'));
    await file.init();
    try {
      expect(store.openServedWriter()).toBeNull();
      const writer = file.openServedWriter();
      expect(writer).not.toBeNull();
      const insert = vi.spyOn(file, 'insertRecommendations');
      const log = new StoreRecommendationLog(file, { flushIntervalMs: 1, writer });
      const rows = Float32Array.from([1, 2, 3, 4]);
      const lists = Array.from({ length: 40 }, (_, n) =>
        served(`w${n}`, `u${n % 3}`, ['a', 'b'], { features: { names: ['x', 'y'], rows } }),
      );
      await Promise.all(lists.map((l) => log.record(l)));
      // Durable once recorded: read back on the store's own connection.
      expect(insert).not.toHaveBeenCalled();
      const back = await file.getRecommendation('w17');
      expect(back?.userId).toBe('u2');
      expect(Array.from(back?.features?.rows ?? [])).toEqual([1, 2, 3, 4]);
      expect((await file.listRecommendations({ limit: 100 })).rows).toHaveLength(40);
      // Closed with the log: it takes no more writes.
      await log.close();
      const late = new ServedBatchBuilder();
      late.add(served('late', 'u1', ['a']));
      await expect(writer?.insertBatch(late.take())).rejects.toThrow();
    } finally {
      await file.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('StoreRecommendationLog feature rows', () => {
  it('keeps every list’s feature rows apart and as they were when recorded', async () => {
    const log = new StoreRecommendationLog(store, { flushIntervalMs: 60_000 });
    const names = Array.from({ length: 50 }, (_, f) => `f${f}`);
    // 60 lists of 2 items × 50 features, in one batch.
    const rowsOf = (n: number) => Float32Array.from({ length: 100 }, (_, v) => n * 1000 + v);
    const lists = Array.from({ length: 60 }, (_, n) =>
      served(`f${n}`, 'u1', ['a', 'b'], { features: { names, rows: rowsOf(n) } }),
    );
    for (const l of lists) void log.record(l);
    // The caller's rows may change once recorded.
    lists[7].features?.rows.fill(-1);
    expect(Array.from((await log.get('f7'))?.features?.rows ?? [])).toEqual(Array.from(rowsOf(7)));
    await log.close();
    for (let n = 0; n < 60; n++) {
      const back = await store.getRecommendation(`f${n}`);
      expect(Array.from(back?.features?.rows ?? []), `f${n}`).toEqual(Array.from(rowsOf(n)));
    }
  });
});

describe('attribution', () => {
  /**
   * Two lists served to u1: r1 = [shoe, sock, cap] on home and r2 = [pan, shoe] on cart.
   * shoe costs 120, sock 15, cap has no price, pan 60.
   */
  async function scenario(log: StoreRecommendationLog): Promise<void> {
    await store.upsertItems([
      { id: 'shoe', attributes: { price: 120 } },
      { id: 'sock', attributes: { price: 15 } },
      { id: 'cap', attributes: {} },
      { id: 'pan', attributes: { price: 60 } },
      { id: 'knife', attributes: { price: 80 } },
    ]);
    await log.record(served('r1', 'u1', ['shoe', 'sock', 'cap'], { servedAt: 1000 }));
    await log.record(served('r2', 'u1', ['pan', 'shoe'], { servedAt: 2000, placement: 'cart' }));
    const r1 = { recommendationId: 'r1', placement: 'home' };
    const r2 = { recommendationId: 'r2', placement: 'cart' };
    await store.insertEvents([
      event('u1', 'shoe', 'impression', r1),
      event('u1', 'sock', 'impression', r1),
      event('u1', 'cap', 'impression', r1),
      event('u1', 'shoe', 'click', r1),
      event('u1', 'shoe', 'cart', r1),
      event('u1', 'shoe', 'purchase', r1, 2), // 2 × 120
      event('u1', 'sock', 'click', r1),
      event('u1', 'cap', 'purchase', { ...r1, revenue: 30 }), // no price: revenue from context
      event('u1', 'knife', 'purchase', r1), // not served in r1: ignored
      event('u1', 'pan', 'impression', r2),
      event('u1', 'shoe', 'impression', r2),
      event('u1', 'pan', 'purchase', { ...r2, revenue: 55.5 }), // context wins over the price
      event('u1', 'shoe', 'purchase'), // no recommendation id: attributed to nothing
      event('u1', 'shoe', 'click', { placement: 'home' }),
    ]);
  }

  it('counts impressions, clicks, carts, purchases and revenue per served item', async () => {
    const log = new StoreRecommendationLog(store);
    await scenario(log);
    expect(await log.outcomes('r1')).toEqual([
      outcome('shoe', 1, { impressions: 1, clicks: 1, carts: 1, purchases: 1, revenue: 240 }),
      outcome('sock', 2, { impressions: 1, clicks: 1 }),
      outcome('cap', 3, { impressions: 1, purchases: 1, revenue: 30 }),
    ]);
    expect(await log.outcomes('r2')).toEqual([
      outcome('pan', 1, { impressions: 1, purchases: 1, revenue: 55.5 }),
      outcome('shoe', 2, { impressions: 1 }),
    ]);
    expect(await log.outcomes('unknown')).toEqual([]);
    await log.close();
  });

  it('scans served lists in serving order with their outcomes', async () => {
    const log = new StoreRecommendationLog(store);
    await scenario(log);
    const all: [string, number][] = [];
    for await (const { served: s, outcomes } of log.scan({ batchSize: 1 }))
      all.push([s.id, outcomes.reduce((sum, o) => sum + o.revenue, 0)]);
    expect(all).toEqual([
      ['r1', 270],
      ['r2', 55.5],
    ]);
    const cart: string[] = [];
    for await (const { served: s } of log.scan({ placement: 'cart' })) cart.push(s.id);
    expect(cart).toEqual(['r2']);
    const since: string[] = [];
    for await (const { served: s } of log.scan({ since: 1500 })) since.push(s.id);
    expect(since).toEqual(['r2']);
    await log.close();
  });

  it('credits an item served twice at its first rank only', () => {
    const list = served('r1', 'u1', ['a', 'b', 'a']);
    const tallies = [
      { recommendationId: 'r1', itemId: 'a', impressions: 2, clicks: 1, carts: 0, purchases: 0, revenue: 0 },
      { recommendationId: 'r9', itemId: 'b', impressions: 1, clicks: 0, carts: 0, purchases: 0, revenue: 0 },
    ];
    expect(outcomesOf(list, tallies)).toEqual([
      outcome('a', 1, { impressions: 2, clicks: 1 }),
      outcome('b', 2),
      outcome('a', 3),
    ]);
  });
});
