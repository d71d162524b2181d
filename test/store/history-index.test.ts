import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { EventInput } from '../../src/domain/types.js';
import type { HistoryColumns, HistoryEntry } from '../../src/store/store.js';
import { Rng } from '../../src/ingest/prng.js';
import { HistoryIndex } from '../../src/store/sqlite/history-index.js';
import { MemoryHistory } from '../../src/store/sqlite/memory-history.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { plainEvent } from '../helpers/events.js';

const dir = mkdtempSync(join(tmpdir(), 'kindred-history-index-'));
let counter = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic numbers in [0, 1), so a failing sequence can be replayed. */
function random(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

const event = plainEvent;

describe('HistoryIndex', () => {
  /** Rows of `recent` as [id, timestamp] pairs. */
  function recentIds(index: HistoryIndex, user: number, limit = 100, types: number[] | null = null) {
    return [...index.recent(user, limit, types)].map((row) => [index.itemKey(row), index.timestamp(row)]);
  }

  it('answers a user’s rows by timestamp, then id, descending, with limit and type filter', () => {
    const index = HistoryIndex.withCapacity(4);
    // id, user, item, type, value, ts: item keys stand for the id to read the order easily.
    const rows: [number, number, number, number, number | null, number][] = [
      [1, 7, 1, 2, null, 3000],
      [2, 7, 2, 3, 4, 1000],
      [5, 8, 5, 2, null, 9000],
      [6, 7, 6, 4, null, 3000],
      [9, 7, 9, 5, 12.5, 2000],
    ];
    for (const r of rows) expect(index.append(...r)).toBe(true);
    expect(recentIds(index, 7)).toEqual([
      [6, 3000],
      [1, 3000],
      [9, 2000],
      [2, 1000],
    ]);
    expect(recentIds(index, 7, 2)).toEqual([
      [6, 3000],
      [1, 3000],
    ]);
    expect(recentIds(index, 7, 100, [2, 3])).toEqual([
      [1, 3000],
      [2, 1000],
    ]);
    expect(recentIds(index, 7, 100, [])).toEqual([]);
    expect(recentIds(index, 8)).toEqual([[5, 9000]]);
    expect(recentIds(index, 3)).toEqual([]);
    expect(recentIds(index, 1_000_000)).toEqual([]);
    expect(index.live).toBe(5);
    expect(index.lastId).toBe(9);
  });

  it('sorts histories whose timestamps do not follow the ids, equal timestamps by id', () => {
    const index = HistoryIndex.withCapacity(0);
    const next = random(1);
    const expected: [number, number][] = [];
    for (let id = 1; id <= 5000; id++) {
      const ts = Math.floor(next() * 50);
      index.append(id, 1, id, 1, null, ts);
      expected.push([id, ts]);
    }
    expected.sort((a, b) => b[1] - a[1] || b[0] - a[0]);
    expect(recentIds(index, 1, 5000)).toEqual(expected);
    expect(recentIds(index, 1, 10)).toEqual(expected.slice(0, 10));
    expect(index.rows).toBe(5000);
  });

  it('answers alike sealed and unsealed through appends, deletions and cut-off tails', () => {
    const next = random(9);
    const plain = HistoryIndex.withCapacity(0);
    const sealed = HistoryIndex.withCapacity(0);
    const both = (fn: (index: HistoryIndex) => unknown) => expect(fn(sealed)).toEqual(fn(plain));
    const answers = (index: HistoryIndex) =>
      Array.from({ length: 32 }, (_, user) => [
        recentIds(index, user, 1000),
        recentIds(index, user, 3),
        recentIds(index, user, 1000, [2]),
      ]);
    let id = 0;
    const append = (count: number) => {
      for (let k = 0; k < count; k++) {
        const row: [number, number, number, number, number | null, number] = [
          ++id,
          Math.floor(next() * 30),
          Math.floor(next() * 50),
          1 + Math.floor(next() * 3),
          null,
          Math.floor(next() * 100),
        ];
        both((index) => index.append(...row));
      }
    };
    append(2000);
    sealed.seal();
    both(answers);
    for (let round = 0; round < 40; round++) {
      const roll = next();
      if (roll < 0.4) append(1 + Math.floor(next() * 20));
      else if (roll < 0.6) {
        const victim = 1 + Math.floor(next() * id);
        both((index) => index.deleteId(victim));
      } else if (roll < 0.7) {
        const user = Math.floor(next() * 30);
        both((index) => index.deleteUser(user));
      } else if (roll < 0.8) {
        const item = Math.floor(next() * 50);
        both((index) => index.deleteItems(new Set([item])));
      } else {
        // The newest events go and their ids come back, also below the sealed rows.
        const cut = id - Math.floor(next() * 60);
        for (let victim = id; victim > cut; victim--) both((index) => index.deleteId(victim));
        both((index) => index.dropDeadTail());
        id = sealed.lastId;
        append(5);
      }
      both(answers);
      if (round === 20) sealed.seal();
    }
    expect(sealed.live).toBe(plain.live);
    expect(sealed.live).toBeGreaterThan(0);
  });

  it('keeps values exactly: null, integers, Float32 values and doubles', () => {
    const index = HistoryIndex.withCapacity(8);
    const values = [null, 0, 3, -7, 0.5, 0.1, 1 / 3, 123456789.123, 1e300, -2.5e-8];
    values.forEach((v, k) => index.append(k + 1, 1, k, 1, v, k));
    const rows = [...index.recent(1, 100, null)].reverse();
    expect(rows.map((row) => index.value(row))).toEqual(values);
  });

  it('turns the value column into doubles when many values need them, losing none', () => {
    const index = HistoryIndex.withCapacity(10);
    const values = Array.from({ length: 10_000 }, (_, k) => (k % 3 === 0 ? null : k + 0.1));
    values.forEach((v, k) => index.append(k + 1, k % 10, k, 1, v, k));
    for (let user = 0; user < 10; user++) {
      const rows = index.recent(user, 10_000, null);
      expect(rows.length).toBe(1000);
      for (const row of rows) expect(index.value(row)).toBe(values[index.itemKey(row)]);
    }
    // 11,664 rows of capacity: ~31 bytes each with a Float64 column (~360 kB); a map entry for each
    // of the 6,667 doubles beside Float32 values would add ~320 kB to ~315 kB.
    expect(index.bytes()).toBeLessThan(400_000);
  });

  it('marks events deleted by id, by user and by item', () => {
    const index = HistoryIndex.withCapacity(0);
    for (let id = 1; id <= 30; id++) index.append(id, id % 3, id % 5, 1, null, id);
    expect(index.deleteId(4)).toBe(1);
    expect(index.deleteId(4)).toBe(0);
    expect(index.deleteId(31)).toBe(0);
    expect(index.deleteItems(new Set([2]))).toBe(6); // ids 2, 7, 12, 17, 22, 27
    expect(index.deleteItems(new Set([2, 99]))).toBe(0);
    expect(index.deleteUser(0)).toBe(8); // ids 3, 6, ..., 30 but 12 and 27 (item 2)
    expect(index.deleteUser(99)).toBe(0);
    expect(index.live).toBe(30 - 1 - 6 - 8);
    const alive = (user: number) => recentIds(index, user).map(([, ts]) => ts);
    expect(alive(0)).toEqual([]);
    expect(alive(1)).toEqual([28, 25, 19, 16, 13, 10, 1]);
    expect(alive(2)).toEqual([29, 26, 23, 20, 14, 11, 8, 5]);
  });

  it('cuts deleted rows off the end so the next event can take their ids', () => {
    const index = HistoryIndex.withCapacity(0);
    for (let id = 1; id <= 6; id++) index.append(id, id % 2, id, 1, null, id);
    index.deleteId(6);
    index.deleteId(5);
    index.deleteId(2);
    expect(index.dropDeadTail()).toBe(4);
    expect(index.rows).toBe(4);
    expect(index.append(4, 0, 40, 1, null, 50)).toBe(false);
    expect(index.append(5, 0, 50, 1, null, 50)).toBe(true);
    expect(recentIds(index, 0)).toEqual([
      [50, 50],
      [4, 4],
    ]);
    expect(recentIds(index, 1)).toEqual([
      [3, 3],
      [1, 1],
    ]);
    // Everything deleted: the next id may be 1 again.
    for (const id of [1, 3, 4, 5]) index.deleteId(id);
    expect(index.dropDeadTail()).toBe(0);
    expect(index.append(1, 1, 1, 1, null, 1)).toBe(true);
    expect(recentIds(index, 0)).toEqual([]);
    expect(recentIds(index, 1)).toEqual([[1, 1]]);
  });

  it('refuses ids and keys beyond 32 bits and ids not above the last', () => {
    const index = HistoryIndex.withCapacity(0);
    expect(index.append(2 ** 31 - 1, 1, 1, 1, null, 0)).toBe(true);
    expect(index.append(2 ** 31, 1, 1, 1, null, 0)).toBe(false);
    const other = HistoryIndex.withCapacity(0);
    expect(other.append(5, 1, 1, 1, null, 0)).toBe(true);
    expect(other.append(5, 1, 1, 1, null, 0)).toBe(false);
    expect(other.append(4, 1, 1, 1, null, 0)).toBe(false);
    expect(other.append(6, 2 ** 31, 1, 1, null, 0)).toBe(false);
    expect(other.append(6, 1, 2 ** 31, 1, null, 0)).toBe(false);
    expect(other.append(6, 1, 1, 40_000, null, 0)).toBe(true);
    expect(other.typeKey(other.recent(1, 1, null)[0])).toBe(40_000);
    expect(other.rows).toBe(2);
  });

  it('grows past its capacity and survives a move through its data', () => {
    const index = HistoryIndex.withCapacity(0);
    for (let id = 1; id <= 3000; id++) index.append(id, id % 1500, id, 1, id % 2 ? 0.1 : null, id);
    index.seal();
    for (let id = 3001; id <= 3100; id++) index.append(id, id % 1500, id, 1, null, id);
    const { data, transfer } = index.toData();
    expect(transfer.length).toBe(10);
    const copy = HistoryIndex.fromData(structuredClone(data, { transfer }));
    expect(copy.rows).toBe(3100);
    // A sealed row, rows appended after sealing, and the sealed rows of the same user.
    const rows = copy.recent(1, 10, null);
    expect([...rows].map((r) => [copy.itemKey(r), copy.value(r)])).toEqual([
      [3001, null],
      [1501, 0.1],
      [1, 0.1],
    ]);
  });
});

describe('SqliteStore with histories in memory', () => {
  const open: SqliteStore[] = [];

  afterEach(async () => {
    vi.restoreAllMocks();
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  async function store(path: string): Promise<SqliteStore> {
    const s = new SqliteStore(path);
    await s.init();
    open.push(s);
    return s;
  }

  /** A plain connection and one serving histories from memory, on one new file. */
  async function pair(maxEvents = 1_000_000) {
    const path = join(dir, `pair-${++counter}.db`);
    const plain = await store(path);
    const indexed = await store(path);
    return { path, plain, indexed, build: () => indexed.keepHistoryInMemory({ maxEvents }) };
  }

  /** The largest event id in the file (0 when empty). */
  function maxId(path: string): number {
    const db = new Database(path, { readonly: true });
    try {
      return (db.prepare('SELECT coalesce(max(id), 0) FROM events').pluck().get() as number) ?? 0;
    } finally {
      db.close();
    }
  }

  const TYPES = ['view', 'click', 'rating', 'purchase', 'dwell'];
  const FILTERS = [undefined, ['view'], ['rating', 'dwell', 'no-such-type'], ['no-such-type']];

  async function expectSameHistories(
    plain: SqliteStore,
    indexed: SqliteStore,
    users: number,
    limits = [1, 3, 1000],
  ) {
    for (let u = 0; u < users; u++) {
      for (const limit of limits) {
        for (const types of FILTERS) {
          const options = { limit, types };
          expect(await indexed.userHistory(`u${u}`, options), `u${u} ${limit} ${types}`).toEqual(
            await plain.userHistory(`u${u}`, options),
          );
        }
        const columns = indexed.userHistoryColumns(`u${u}`, { limit });
        if (columns)
          expect(entriesOf(indexed, columns), `u${u} ${limit} in columns`).toEqual(
            await plain.userHistory(`u${u}`, { limit }),
          );
      }
    }
  }

  /** History columns as userHistory's entries, items named by their keys. */
  function entriesOf(store: SqliteStore, columns: HistoryColumns): HistoryEntry[] {
    return Array.from({ length: columns.length }, (_, e) => ({
      itemId: store.itemIdOfKey(columns.itemKeys[e]) ?? `no item has key ${columns.itemKeys[e]}`,
      type: columns.types[e],
      value: Number.isNaN(columns.values[e]) ? null : columns.values[e],
      timestamp: columns.timestamps[e],
    }));
  }

  function randomEvents(next: () => number, count: number, users: number, items: number): EventInput[] {
    const values = [null, null, 1, 4, 0.5, 0.1, 1 / 3, 99.99, 2.5];
    return Array.from({ length: count }, () => {
      const type = TYPES[Math.floor(next() * TYPES.length)];
      const user = `u${Math.floor(next() * users)}`;
      const item = `i${Math.floor(next() * items)}`;
      // Few distinct timestamps: ties, and timestamps that go back in time.
      const ts = 1000 + Math.floor(next() * 20) * 10;
      return event(user, item, type, ts, values[Math.floor(next() * values.length)]);
    });
  }

  it('answers exactly as SQL through inserts and deletions by another connection', async () => {
    const { path, plain, indexed, build } = await pair();
    const next = random(42);
    await plain.insertEvents(randomEvents(next, 300, 12, 25));
    expect(await build()).toMatchObject({ built: true, events: 300 });
    const recent = vi.spyOn(MemoryHistory.prototype, 'recent');
    await expectSameHistories(plain, indexed, 13);
    for (let step = 0; step < 60; step++) {
      const ids = maxId(path) + 50;
      const roll = next();
      if (roll < 0.35) {
        await plain.insertEvents(randomEvents(next, 1 + Math.floor(next() * 30), 12, 25));
      } else if (roll < 0.55) {
        // Existing, missing and the newest ids.
        for (let k = 0; k < 3; k++) await plain.deleteEvent(1 + Math.floor(next() * ids));
      } else if (roll < 0.65) {
        await plain.deleteEvent(maxId(path));
        await plain.insertEvents(randomEvents(next, 2, 12, 25));
      } else if (roll < 0.75) {
        await plain.deleteUser(`u${Math.floor(next() * 12)}`);
      } else if (roll < 0.85) {
        await plain.deleteItem(`i${Math.floor(next() * 25)}`);
      } else if (roll < 0.92) {
        // The serving connection writes too.
        await indexed.insertEvents(randomEvents(next, 5, 12, 25));
        await indexed.deleteEvent(1 + Math.floor(next() * ids));
      } else {
        // Several changes between two reads.
        await plain.deleteUser(`u${Math.floor(next() * 12)}`);
        await plain.insertEvents(randomEvents(next, 10, 12, 25));
        await plain.deleteItem(`i${Math.floor(next() * 25)}`);
        await plain.insertEvents(randomEvents(next, 10, 12, 25));
      }
      await expectSameHistories(plain, indexed, 13, step % 10 === 0 ? [1, 3, 1000] : [2, 1000]);
    }
    expect(recent.mock.results.length).toBeGreaterThan(1000);
    expect(recent.mock.results.every((r) => r.value !== null)).toBe(true);
  });

  it('catches up on a large import over several reads, answering from SQL meanwhile', async () => {
    const { plain, indexed, build } = await pair();
    const next = random(7);
    await plain.insertEvents(randomEvents(next, 50, 12, 25));
    expect(await build()).toMatchObject({ built: true, events: 50 });
    // More new events than one read appends (10,000), written by another connection.
    for (let b = 0; b < 5; b++) await plain.insertEvents(randomEvents(next, 5_000, 12, 25));
    const recent = vi.spyOn(MemoryHistory.prototype, 'recent');
    const answers: boolean[] = [];
    for (let call = 0; call < 6; call++) {
      expect(await indexed.userHistory('u3', { limit: 1000 })).toEqual(
        await plain.userHistory('u3', { limit: 1000 }),
      );
      answers.push(recent.mock.results[call].value !== null);
    }
    // Behind for the first reads (SQL answered), caught up within three, then from memory.
    expect(answers).toEqual([false, false, true, true, true, true]);
    await expectSameHistories(plain, indexed, 13, [5, 1000]);
  });

  it('shows only the new event when it takes the id of the deleted newest one', async () => {
    const { plain, indexed, build } = await pair();
    await plain.insertEvents([event('u1', 'i1', 'view', 1000), event('u1', 'i2', 'view', 2000)]);
    expect(await build()).toMatchObject({ built: true });
    expect((await indexed.userHistory('u1')).map((h) => h.itemId)).toEqual(['i2', 'i1']);
    const newest = (await plain.listEvents()).rows[1];
    expect(await plain.deleteEvent(newest.id)).toBe(true);
    await plain.insertEvents([event('u1', 'i3', 'click', 1500)]);
    expect((await plain.listEvents()).rows.map((e) => e.id)).toEqual([newest.id - 1, newest.id]);
    expect(await indexed.userHistory('u1')).toEqual([
      { itemId: 'i3', type: 'click', value: null, timestamp: 1500 },
      { itemId: 'i1', type: 'view', value: null, timestamp: 1000 },
    ]);
    // Read in between: the index holds the new event under the reused id, and deletes it by that id.
    await plain.deleteEvent(newest.id);
    await plain.insertEvents([event('u2', 'i4', 'view', 3000)]);
    expect((await indexed.userHistory('u1')).map((h) => h.itemId)).toEqual(['i1']);
    expect((await indexed.userHistory('u2')).map((h) => h.itemId)).toEqual(['i4']);
  });

  it('follows a user deleted and created again by another connection, with or without events', async () => {
    const { plain, indexed, build } = await pair();
    await plain.upsertUsers([{ id: 'quiet' }]);
    await plain.insertEvents([event('busy', 'i1', 'view', 1000)]);
    expect(await build()).toMatchObject({ built: true });
    // Reads cache both users' keys.
    expect(await indexed.userHistory('quiet')).toEqual([]);
    expect(await indexed.userHistory('busy')).toHaveLength(1);
    for (const id of ['quiet', 'busy']) {
      expect((await plain.deleteUser(id)).deleted).toBe(true);
      await plain.insertEvents([event(id, 'i2', 'click', 2000)]);
      // Another user's read catches the index up first; the cached key must not survive it.
      expect(await indexed.userHistory('nobody')).toEqual([]);
      expect(await indexed.userHistory(id)).toEqual([
        { itemId: 'i2', type: 'click', value: null, timestamp: 2000 },
      ]);
    }
  });

  it('answers from SQL while building and sees every write made meanwhile once built', async () => {
    const { plain, indexed, build } = await pair();
    const next = random(7);
    for (let k = 0; k < 4; k++) await plain.insertEvents(randomEvents(next, 25_000, 200, 500));
    const recent = vi.spyOn(MemoryHistory.prototype, 'recent');
    let settled = false;
    const report = build().finally(() => (settled = true));
    let rounds = 0;
    while (!settled) {
      await plain.insertEvents(randomEvents(next, 20, 12, 25));
      await plain.deleteEvent(1 + Math.floor(next() * 100_000));
      await plain.deleteUser(`u${Math.floor(next() * 200)}`);
      const u = `u${Math.floor(next() * 12)}`;
      expect(await indexed.userHistory(u, { limit: 50 })).toEqual(await plain.userHistory(u, { limit: 50 }));
      rounds++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(rounds).toBeGreaterThan(1);
    expect(await report).toMatchObject({ built: true });
    await expectSameHistories(plain, indexed, 12, [1000]);
    // SQL answered (null from the index) until the index arrived, the index from then on.
    const fromIndex = recent.mock.results.map((r) => r.value !== null);
    const first = fromIndex.indexOf(true);
    expect(first).toBeGreaterThan(0);
    expect(fromIndex.slice(first).every(Boolean)).toBe(true);
  });

  it('names item keys a block at a time, and no item for a key never given', async () => {
    const { path, plain, indexed } = await pair();
    await plain.insertEvents(Array.from({ length: 3000 }, (_, k) => event('u1', `i${k}`, 'view', k)));
    const db = new Database(path, { readonly: true });
    const items = db.prepare('SELECT idx, id FROM items').raw(true).all() as [number, string][];
    const statement = Object.getPrototypeOf(db.prepare('SELECT 1')) as Database.Statement;
    db.close();
    expect(items.length).toBe(3000);
    const reads = vi.spyOn(statement, 'all');
    for (const [key, id] of items) expect(indexed.itemIdOfKey(key)).toBe(id);
    // 3,000 keys in three or four blocks of 1,024: a read per block, not one per item.
    expect(reads.mock.calls.length).toBeGreaterThanOrEqual(3);
    expect(reads.mock.calls.length).toBeLessThanOrEqual(4);
    expect(indexed.itemIdOfKey(10_000_000)).toBeUndefined();
    expect(indexed.itemIdOfKey(-1)).toBeUndefined();
    reads.mockRestore();
    // Columns before any history read of this connection: the type names are loaded on the way.
    expect(await indexed.keepHistoryInMemory({ maxEvents: 10_000 })).toMatchObject({ built: true });
    const columns = indexed.userHistoryColumns('u1', { limit: 5000 });
    expect(columns?.length).toBe(3000);
    expect(new Set(columns?.types)).toEqual(new Set(['view']));
  });

  it('builds no index above the cap and answers from SQL', async () => {
    const { plain, indexed, build } = await pair(99);
    await plain.insertEvents(randomEvents(random(3), 100, 6, 10));
    expect(await build()).toEqual({ built: false, reason: '100 events, more than the 99 to keep in memory' });
    const recent = vi.spyOn(MemoryHistory.prototype, 'recent');
    await expectSameHistories(plain, indexed, 6);
    expect(recent.mock.results.every((r) => r.value === null)).toBe(true);
    expect(indexed.userHistoryColumns('u1')).toBeNull();
  });

  it('drops the index when the events outgrow the cap and answers from SQL', async () => {
    const { plain, indexed, build } = await pair(150);
    await plain.insertEvents(randomEvents(random(4), 100, 6, 10));
    expect(await build()).toMatchObject({ built: true, events: 100 });
    const recent = vi.spyOn(MemoryHistory.prototype, 'recent');
    await expectSameHistories(plain, indexed, 6, [1000]);
    await plain.insertEvents(randomEvents(random(5), 100, 6, 10));
    await expectSameHistories(plain, indexed, 6);
    expect(recent.mock.results[0].value).not.toBeNull();
    expect(recent.mock.results.at(-1)?.value).toBeNull();
  });

  it('stops the build when the store closes', async () => {
    const { plain, indexed, build } = await pair();
    await plain.insertEvents(randomEvents(random(6), 1000, 6, 10));
    const report = build();
    await indexed.close();
    expect(await report).toEqual({ built: false, reason: 'the store was closed' });
  });

  it('is not built for an in-memory database or with a cap of 0', async () => {
    const memory = await store(':memory:');
    expect(await memory.keepHistoryInMemory({ maxEvents: 1000 })).toMatchObject({ built: false });
    const { indexed } = await pair();
    expect(await indexed.keepHistoryInMemory({ maxEvents: 0 })).toMatchObject({ built: false });
  });
});

describe('KINDRED_HISTORY_MEMORY_EVENTS', () => {
  it('defaults to 20 million, accepts 0 and names itself when invalid', () => {
    expect(loadConfig({}, {}).historyMemoryEvents).toBe(20_000_000);
    expect(loadConfig({}, { KINDRED_HISTORY_MEMORY_EVENTS: '0' }).historyMemoryEvents).toBe(0);
    expect(loadConfig({}, { KINDRED_HISTORY_MEMORY_EVENTS: '5000' }).historyMemoryEvents).toBe(5000);
    for (const bad of ['-1', '1.5', 'many']) {
      expect(() => loadConfig({}, { KINDRED_HISTORY_MEMORY_EVENTS: bad })).toThrow(
        /KINDRED_HISTORY_MEMORY_EVENTS/,
      );
    }
  });
});
