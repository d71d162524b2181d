import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import type { EventInput } from '../../src/domain/types.js';
import { openStore } from '../../src/store/open-store.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { Store } from '../../src/store/store.js';
import { describeWithService, pgAvailable, redactUrl, testPgUrl } from '../helpers/services.js';
import { storeContract } from './contract.js';

const url = testPgUrl();
const available = await pgAvailable(url);
const describePg = describeWithService('PostgreSQL', available, redactUrl(url));
/** One fresh schema per run of this file, dropped at the end. */
const schema = `kindred_test_${randomBytes(5).toString('hex')}`;

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const dropSchema = (name: string) => admin((c) => c.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`));

async function freshStore(): Promise<Store> {
  await dropSchema(schema);
  const store = new PostgresStore({ connectionString: url, schema });
  await store.init();
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

afterAll(async () => {
  if (available) await dropSchema(schema);
});

describePg('PostgresStore', () => {
  storeContract('postgres', freshStore, (store) => store.close(), {
    reopen: async (store) => {
      await store.close();
      const reopened = new PostgresStore({ connectionString: url, schema });
      await reopened.init();
      return reopened;
    },
  });

  it('creates every table inside its schema and records migrations', async () => {
    const store = await freshStore();
    const tables = await admin((c) =>
      c.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
        [schema],
      ),
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual([
      'event_types',
      'events',
      'items',
      'recommendations',
      'schema_migrations',
      'store_meta',
      'users',
    ]);
    const versions = await admin((c) =>
      c.query(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`),
    );
    expect(versions.rows.map((r: { version: number }) => r.version)).toEqual([1, 2, 3]);
    await store.close();
  });

  it('initialises concurrently without errors and seeds once', async () => {
    await dropSchema(schema);
    const stores = [0, 1, 2].map(() => new PostgresStore({ connectionString: url, schema }));
    await Promise.all(stores.map((s) => s.init()));
    expect(await stores[0].listEventTypes()).toHaveLength(10);
    await Promise.all(stores.map((s) => s.close()));
  });

  it('recovers when another connection deleted cached users and items', async () => {
    const a = await freshStore();
    const b = await openStore({ kind: 'postgres', url, schema });
    await a.insertEvents([view('u1', 'i1', 1000), view('u2', 'i2', 1000)]);
    expect(await b.deleteUser('u1')).toEqual({ deleted: true, events: 1 });
    expect(await b.deleteItem('i2')).toEqual({ deleted: true, events: 1 });
    expect(await a.insertEvents([view('u1', 'i2', 2000)])).toEqual({ inserted: 1, duplicates: 0 });
    expect(await b.userHistory('u1')).toEqual([{ itemId: 'i2', type: 'view', value: null, timestamp: 2000 }]);
    await a.close();
    await b.close();
  });

  it('leaves no orphan events when inserts and deletes of the same users race', async () => {
    const a = await freshStore();
    const b = await openStore({ kind: 'postgres', url, schema });
    const batch = (round: number) =>
      Array.from({ length: 300 }, (_, k) => view(`u${(k + round) % 25}`, `i${k % 9}`, round * 1000 + k));
    const work: Promise<unknown>[] = [];
    for (let round = 0; round < 12; round++) {
      work.push(a.insertEvents(batch(round)), b.insertEvents(batch(round + 100)));
      work.push(b.deleteUser(`u${round}`), a.deleteItem(`i${round % 9}`));
    }
    await Promise.all(work);
    const orphans = await admin((c) =>
      c.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${schema}".events e
         WHERE NOT EXISTS (SELECT 1 FROM "${schema}".users u WHERE u.idx = e.user_idx)
            OR NOT EXISTS (SELECT 1 FROM "${schema}".items i WHERE i.idx = e.item_idx)`,
      ),
    );
    expect(orphans.rows[0].n).toBe(0);
    // Every stored event is visible through the joins the listings use.
    let listed = 0;
    let cursor: string | null = null;
    do {
      const page = await a.listEvents({ limit: 1000, cursor });
      listed += page.rows.length;
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(listed).toBe(await a.countEvents());
    await a.close();
    await b.close();
  });

  it('rejects an unsafe schema name', () => {
    expect(() => new PostgresStore({ connectionString: url, schema: 'x"; DROP TABLE y; --' })).toThrow(
      /Invalid schema name/,
    );
  });
});
