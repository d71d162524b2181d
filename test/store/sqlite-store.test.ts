import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EventInput } from '../../src/domain/types.js';
import Database from 'better-sqlite3';
import { openStore } from '../../src/store/open-store.js';
import { SQLITE_MIGRATIONS, migrateSqlite } from '../../src/store/sqlite/migrations.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { storeContract } from './contract.js';

const dir = mkdtempSync(join(tmpdir(), 'kindred-sqlite-test-'));
const paths = new WeakMap<Store, string>();
let counter = 0;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function open(path: string): Promise<Store> {
  const store = new SqliteStore(path);
  await store.init();
  paths.set(store, path);
  return store;
}

function view(userId: string, itemId: string, timestamp: number): EventInput {
  return {
    userId,
    itemId,
    type: 'view',
    value: null,
    timestamp,
    sessionId: null,
    context: null,
    clientEventId: null,
  };
}

storeContract(
  'sqlite (file)',
  () => open(join(dir, `contract-${++counter}.db`)),
  (store) => store.close(),
  {
    reopen: async (store) => {
      await store.close();
      return open(paths.get(store)!);
    },
  },
);

/** A file store answering histories from memory once its index is built. */
async function openIndexed(path: string): Promise<Store> {
  const store = (await open(path)) as SqliteStore;
  expect(await store.keepHistoryInMemory({ maxEvents: 1_000_000 })).toMatchObject({ built: true });
  return store;
}

storeContract(
  'sqlite (file, histories in memory)',
  () => openIndexed(join(dir, `contract-${++counter}.db`)),
  (store) => store.close(),
  {
    reopen: async (store) => {
      await store.close();
      return openIndexed(paths.get(store)!);
    },
  },
);

storeContract('sqlite (:memory:)', async () => {
  const store = new SqliteStore(':memory:');
  await store.init();
  return store;
});

describe('SqliteStore specifics', () => {
  it('opens through openStore and migrates an existing file only once', async () => {
    const path = join(dir, 'migrate.db');
    const first = await openStore({ kind: 'sqlite', path });
    await first.upsertEventType({ name: 'view', weight: 7, valueMode: 'ignore', description: 'x' });
    await first.close();
    const second = await openStore({ kind: 'sqlite', path });
    const view = (await second.listEventTypes()).find((t) => t.name === 'view');
    expect(view?.weight).toBe(7);
    await second.close();
  });

  it('upgrades a database of an earlier version: stored events stay, new ones are attributed', async () => {
    const path = join(dir, 'upgrade.db');
    const db = new Database(path);
    migrateSqlite(
      db,
      SQLITE_MIGRATIONS.filter((m) => m.version <= 2),
    );
    db.exec(`INSERT INTO users (id, created_at, updated_at) VALUES ('u1', 0, 0);
      INSERT INTO items (id, created_at, updated_at) VALUES ('i1', 0, 0);
      INSERT INTO events (user_idx, item_idx, type_idx, ts, context)
        SELECT 1, 1, idx, 500, '{"recommendationId":"r1"}' FROM event_types WHERE name = 'click'`);
    db.close();
    const store = await open(path);
    expect((await store.listEvents()).rows.map((e) => e.context)).toEqual([{ recommendationId: 'r1' }]);
    await store.insertEvents([
      { ...view('u1', 'i1', 1000), type: 'impression', context: { recommendationId: 'r1' } },
    ]);
    await store.insertRecommendations([
      { id: 'r1', userId: 'u1', placement: 'home', servedAt: 1, items: ['i1'], scores: [1], features: null },
    ]);
    // The click stored before the upgrade carries no indexed recommendation id.
    expect(await store.recommendationTallies(['r1'])).toEqual([
      { recommendationId: 'r1', itemId: 'i1', impressions: 1, clicks: 0, carts: 0, purchases: 0, revenue: 0 },
    ]);
    await store.close();
  });

  it('keeps cached keys valid when another connection deletes users and items', async () => {
    const path = join(dir, 'two-connections.db');
    const a = await open(path);
    const b = await open(path);
    await a.insertEvents([view('u1', 'i1', 1000), view('u2', 'i2', 1000)]);
    expect(await b.deleteUser('u1')).toEqual({ deleted: true, events: 1 });
    expect(await b.deleteItem('i2')).toEqual({ deleted: true, events: 1 });
    // `a` still has u1 and i2 cached; both must be recreated rather than referenced.
    expect(await a.insertEvents([view('u1', 'i2', 2000)])).toEqual({ inserted: 1, duplicates: 0 });
    expect(await b.getUser('u1')).not.toBeNull();
    expect(await b.getItem('i2')).not.toBeNull();
    expect(await b.userHistory('u1')).toEqual([{ itemId: 'i2', type: 'view', value: null, timestamp: 2000 }]);
    expect((await b.listEvents({ itemId: 'i2' })).rows.map((e) => e.userId)).toEqual(['u1']);
    await a.close();
    await b.close();
  });

  it('finds events of a user across index segments', async () => {
    const store = await open(join(dir, 'segments.db'));
    const total = 140_000; // more than one segment of 2^16 ids
    const attributed = { ...view('u0', 'i0', 0), type: 'click', context: { recommendationId: 'r-seg' } };
    await store.insertEvents([attributed]);
    for (let start = 0; start < total; start += 35_000) {
      const batch = Array.from({ length: 35_000 }, (_, k) =>
        view(`u${(start + k) % 1000}`, `i${(start + k) % 97}`, start + k),
      );
      await store.insertEvents(batch);
    }
    await store.insertEvents([attributed]);
    // One attributed event in the first segment, one in the third.
    expect(await store.recommendationTallies(['r-seg'])).toEqual([
      {
        recommendationId: 'r-seg',
        itemId: 'i0',
        impressions: 0,
        clicks: 2,
        carts: 0,
        purchases: 0,
        revenue: 0,
      },
    ]);
    await store.deleteEvent(1);
    await store.deleteEvent(total + 2);
    const history = await store.userHistory('u7', { limit: 1000 });
    expect(history).toHaveLength(140);
    expect(history[0].timestamp).toBe(139_007);
    expect(history[139].timestamp).toBe(7);
    expect((await store.listEvents({ userId: 'u7', limit: 1000 })).rows).toHaveLength(140);
    // i3 has the ids n = 3 + 97k below 140,000: k = 0..1443.
    expect(await store.deleteItem('i3')).toEqual({ deleted: true, events: 1444 });
    // Of u7's 140 events (n = 1000a + 7) only n = 71,007 was on i3.
    expect(await store.deleteUser('u7')).toEqual({ deleted: true, events: 139 });
    expect(await store.countEvents()).toBe(total - 1444 - 139);
    await store.close();
  });

  describe('userHistory', () => {
    /** The history as the events, items and event_types tables state it, sorted and limited in SQL. */
    function referenceHistory(path: string, userId: string, limit: number, types?: string[]) {
      const db = new Database(path, { readonly: true });
      try {
        return db
          .prepare(
            `SELECT i.id AS itemId, t.name AS type, e.value AS value, e.ts AS timestamp
             FROM events e JOIN users u ON u.idx = e.user_idx JOIN items i ON i.idx = e.item_idx
               JOIN event_types t ON t.idx = e.type_idx
             WHERE u.id = ? AND (? IS NULL OR t.name IN (SELECT value FROM json_each(?)))
             ORDER BY e.ts DESC, e.id DESC LIMIT ?`,
          )
          .all(userId, types ? 1 : null, JSON.stringify(types ?? []), limit);
      } finally {
        db.close();
      }
    }

    function mixedEvents(count: number, offset = 0): EventInput[] {
      const types = ['view', 'click', 'rating', 'purchase', 'dwell'];
      return Array.from({ length: count }, (_, k) => {
        const n = offset + k;
        const type = types[(n * 7) % types.length];
        return {
          ...view(`u${n % 13}`, `i${(n * 31) % 57}`, 1000 + ((n * 17) % 40)), // many equal timestamps
          type,
          value: type === 'rating' ? (n % 5) + 0.5 : type === 'dwell' ? n % 9 : null,
        };
      });
    }

    it('matches the events table for every user, limit and type filter', async () => {
      const path = join(dir, 'history-reference.db');
      const store = await open(path);
      await store.insertEvents(mixedEvents(2000));
      for (let u = 0; u < 14; u++) {
        for (const limit of [1, 7, 1000]) {
          for (const types of [undefined, ['view'], ['rating', 'dwell', 'no-such-type']]) {
            expect(await store.userHistory(`u${u}`, { limit, types })).toEqual(
              referenceHistory(path, `u${u}`, limit, types),
            );
          }
        }
      }
      await store.close();
    });

    it('sees events, items and event types another connection wrote since the last call', async () => {
      const path = join(dir, 'history-two-connections.db');
      const reader = await open(path);
      const writer = await open(path);
      await writer.insertEvents([view('u1', 'i1', 1000)]);
      expect(await reader.userHistory('u1')).toEqual([
        { itemId: 'i1', type: 'view', value: null, timestamp: 1000 },
      ]);
      await writer.upsertEventType({ name: 'share', weight: 2, valueMode: 'ignore', description: '' });
      await writer.insertEvents([{ ...view('u1', 'i2', 2000), type: 'share' }, view('u1', 'i3', 1000)]);
      expect(await reader.userHistory('u1')).toEqual([
        { itemId: 'i2', type: 'share', value: null, timestamp: 2000 },
        { itemId: 'i3', type: 'view', value: null, timestamp: 1000 },
        { itemId: 'i1', type: 'view', value: null, timestamp: 1000 },
      ]);
      expect(await reader.userHistory('u1', { types: ['share'] })).toHaveLength(1);
      // A deleted and recreated item gets a new key; the history names it by its current row.
      expect(await writer.deleteItem('i1')).toEqual({ deleted: true, events: 1 });
      await writer.insertEvents([view('u2', 'i4', 500), view('u1', 'i1', 3000)]);
      expect((await reader.userHistory('u1')).map((h) => h.itemId)).toEqual(['i1', 'i2', 'i3']);
      await reader.close();
      await writer.close();
    });

    it('sees events another connection wrote into a new index segment', async () => {
      const path = join(dir, 'history-new-segment.db');
      const reader = await open(path);
      const writer = await open(path);
      await writer.insertEvents([view('u1', 'i1', 1)]);
      expect(await reader.userHistory('u1')).toHaveLength(1);
      // Fill the first segment of 2^16 ids and start the second one.
      const filler = Array.from({ length: 70_000 }, (_, k) => view(`f${k % 500}`, `i${k % 50}`, 10 + k));
      await writer.insertEvents([...filler, view('u1', 'i2', 100_000)]);
      expect((await reader.userHistory('u1')).map((h) => h.itemId)).toEqual(['i2', 'i1']);
      expect(await writer.deleteEvent(1)).toBe(true);
      expect((await reader.userHistory('u1')).map((h) => h.itemId)).toEqual(['i2']);
      await reader.close();
      await writer.close();
    });
  });

  it('logs every deletion of events and of users, in commit order', async () => {
    const path = join(dir, 'deletion-log.db');
    const store = await open(path);
    await store.insertEvents([view('u1', 'i1', 1), view('u2', 'i2', 2), view('u3', 'i3', 3)]);
    await store.upsertUsers([{ id: 'idle' }]);
    expect(await store.deleteEvent(2)).toBe(true);
    expect(await store.deleteEvent(2)).toBe(false);
    expect(await store.deleteUser('u1')).toEqual({ deleted: true, events: 1 });
    expect(await store.deleteUser('idle')).toEqual({ deleted: true, events: 0 });
    expect(await store.deleteItem('i3')).toEqual({ deleted: true, events: 1 });
    expect(await store.deleteItem('i2')).toEqual({ deleted: true, events: 0 });
    await store.close();
    const db = new Database(path, { readonly: true });
    // u1 and idle were the first and fourth users created (keys 1 and 4), i3 the third item. A user
    // deletion is logged without events too; an item deletion only with them.
    expect(
      db.prepare('SELECT seq, event_id, user_idx, item_idx FROM event_deletions ORDER BY seq').raw().all(),
    ).toEqual([
      [1, 2, null, null],
      [2, null, 1, null],
      [3, null, 4, null],
      [4, null, null, 3],
    ]);
    db.close();
  });

  it('refuses calls before init', async () => {
    const store = new SqliteStore(':memory:');
    await expect(store.countUsers()).rejects.toMatchObject({ code: 'NOT_READY' });
    await store.close();
  });
});
