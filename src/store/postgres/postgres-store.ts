import pg from 'pg';
import { ConflictError, KindredError, ValidationError } from '../../domain/errors.js';
import type {
  EventInput,
  EventType,
  Item,
  ItemInput,
  StoredEvent,
  User,
  UserInput,
} from '../../domain/types.js';
import type {
  DeleteResult,
  EventBatch,
  EventFilter,
  HistoryEntry,
  InsertEventsResult,
  ItemListOptions,
  ListOptions,
  Page,
  RecommendationListOptions,
  RecommendationTally,
  Store,
} from '../store.js';
import type { ServedRecommendation } from '../../serving/recommendation-log.js';
import {
  DEFAULT_HISTORY_LIMIT,
  DEFAULT_SCAN_BATCH,
  IdCache,
  KeyNames,
  batchFromKeys,
  decodeCursor,
  decodeServedCursor,
  lastById,
  pageSize,
  recommendationIdOf,
  servedFromColumns,
  toServedPage,
  typedBytes,
  validateServed,
  positiveLimit,
  prepareEvents,
  requireIds,
  toPage,
  hasUnknownType,
  validateEventType,
  type KeyRow,
  type ScanNames,
  type ServedColumns,
} from '../shared.js';
import { migratePostgres } from './migrations.js';
import {
  toEventType,
  toItem,
  toStoredEvent,
  toUser,
  type EventRow,
  type EventTypeRow,
  type ItemRow,
  type UserRow,
} from './rows.js';

export interface PostgresStoreOptions {
  connectionString: string;
  /** Schema holding every table; created on init. Default `kindred`. */
  schema?: string;
}

const INT8_OID = 20;
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** BIGINT columns (ids, ms timestamps, counts) fit in a double; parse them as numbers, not strings. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? Number
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

type AfterCommit = (callback: () => void) => void;

const SERVED_COLUMNS = `seq, id, user_id AS "userId", placement, served_at AS "servedAt", items, scores,
  feature_names AS "featureNames", features`;

/**
 * Store on PostgreSQL, every table inside one schema. Users, items and event types get integer
 * surrogate keys that events reference (kept consistent by the store, see migrations.ts); bulk
 * writes send columnar arrays that the server unnests, one statement per batch.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly schemaName: string;
  /** Quoted schema, prefixed to every table name. */
  private readonly s: string;
  private readonly userIdx = new IdCache();
  private readonly itemIdx = new IdCache();
  private typeIdx = new Map<string, number>();
  /** `store_meta.key_generation` the caches were filled under; deletes by any client bump it. */
  private cacheGeneration = -1;
  private closed = false;

  constructor(options: PostgresStoreOptions) {
    this.schemaName = options.schema ?? 'kindred';
    if (!SCHEMA_NAME.test(this.schemaName)) {
      throw new ValidationError(`Invalid schema name '${this.schemaName}'`, [
        {
          field: 'schema',
          message: 'letters, digits and _, not starting with a digit, at most 63 characters',
        },
      ]);
    }
    this.s = `"${this.schemaName}"`;
    this.pool = new pg.Pool({ connectionString: options.connectionString, types: TYPES, max: 10 });
    // An idle client losing its connection must not crash the process; the next query reports the problem.
    this.pool.on('error', () => undefined);
  }

  async init(): Promise<void> {
    await this.tx((client) => migratePostgres(client, this.schemaName, this.s));
    await this.loadEventTypes();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  // ---- users ----

  async upsertUsers(users: UserInput[]): Promise<number> {
    requireIds(users, 'users');
    if (users.length === 0) return 0;
    const rows = lastById(users);
    await this.query(
      `INSERT INTO ${this.s}.users (id, attributes, created_at, updated_at)
       SELECT x.id, x.attributes, $3, $3 FROM unnest($1::text[], $2::json[]) AS x (id, attributes)
       ON CONFLICT (id) DO UPDATE SET attributes = EXCLUDED.attributes, updated_at = EXCLUDED.updated_at`,
      [rows.map((u) => u.id), rows.map((u) => JSON.stringify(u.attributes ?? {})), Date.now()],
    );
    return users.length;
  }

  async getUser(id: string): Promise<User | null> {
    const { rows } = await this.query<UserRow>(`SELECT * FROM ${this.s}.users WHERE id = $1`, [id]);
    return rows.length > 0 ? toUser(rows[0]) : null;
  }

  async listUsers(options: ListOptions = {}): Promise<Page<User>> {
    const limit = pageSize(options.limit);
    const { rows } = await this.query<UserRow>(
      `SELECT * FROM ${this.s}.users WHERE idx > $1 ORDER BY idx LIMIT $2`,
      [decodeCursor(options.cursor), limit + 1],
    );
    return toPage(rows, limit, (row) => row.idx, toUser);
  }

  async deleteUser(id: string): Promise<DeleteResult> {
    return this.tx((client, afterCommit) => this.deleteOwner(client, 'users', 'user_idx', id, afterCommit));
  }

  async countUsers(): Promise<number> {
    return this.count('users');
  }

  // ---- items ----

  async upsertItems(items: ItemInput[]): Promise<number> {
    requireIds(items, 'items');
    if (items.length === 0) return 0;
    const rows = lastById(items);
    await this.query(
      `INSERT INTO ${this.s}.items (id, title, text, categories, tags, attributes, available, published_at, created_at, updated_at)
       SELECT x.id, x.title, x.text,
         ARRAY(SELECT json_array_elements_text(x.categories)), ARRAY(SELECT json_array_elements_text(x.tags)),
         x.attributes, x.available, x.published_at, $9, $9
       FROM unnest($1::text[], $2::text[], $3::text[], $4::json[], $5::json[], $6::json[], $7::bool[], $8::int8[])
         AS x (id, title, text, categories, tags, attributes, available, published_at)
       ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, text = EXCLUDED.text, categories = EXCLUDED.categories,
         tags = EXCLUDED.tags, attributes = EXCLUDED.attributes, available = EXCLUDED.available,
         published_at = EXCLUDED.published_at, updated_at = EXCLUDED.updated_at`,
      [
        rows.map((i) => i.id),
        rows.map((i) => i.title ?? null),
        rows.map((i) => i.text ?? null),
        rows.map((i) => JSON.stringify(i.categories ?? [])),
        rows.map((i) => JSON.stringify(i.tags ?? [])),
        rows.map((i) => JSON.stringify(i.attributes ?? {})),
        rows.map((i) => i.available !== false),
        rows.map((i) => i.publishedAt ?? null),
        Date.now(),
      ],
    );
    return items.length;
  }

  async getItem(id: string): Promise<Item | null> {
    const { rows } = await this.query<ItemRow>(`SELECT * FROM ${this.s}.items WHERE id = $1`, [id]);
    return rows.length > 0 ? toItem(rows[0]) : null;
  }

  async listItems(options: ItemListOptions = {}): Promise<Page<Item>> {
    const limit = pageSize(options.limit);
    const params: unknown[] = [decodeCursor(options.cursor)];
    const where = ['idx > $1'];
    if (options.category !== undefined) {
      params.push([options.category]);
      where.push(`categories @> $${params.length}::text[]`);
    }
    if (options.available !== undefined) {
      params.push(options.available);
      where.push(`available = $${params.length}`);
    }
    params.push(limit + 1);
    const { rows } = await this.query<ItemRow>(
      `SELECT * FROM ${this.s}.items WHERE ${where.join(' AND ')} ORDER BY idx LIMIT $${params.length}`,
      params,
    );
    return toPage(rows, limit, (row) => row.idx, toItem);
  }

  async deleteItem(id: string): Promise<DeleteResult> {
    return this.tx((client, afterCommit) => this.deleteOwner(client, 'items', 'item_idx', id, afterCommit));
  }

  async countItems(): Promise<number> {
    return this.count('items');
  }

  // ---- events ----

  async insertEvents(events: EventInput[]): Promise<InsertEventsResult> {
    if (events.length === 0) return { inserted: 0, duplicates: 0 };
    return this.tx((client, afterCommit) => this.writeEvents(client, events, afterCommit));
  }

  async getEvent(id: number): Promise<StoredEvent | null> {
    const { rows } = await this.query<EventRow>(`${this.eventSelect()} WHERE e.id = $1`, [id]);
    return rows.length > 0 ? toStoredEvent(rows[0]) : null;
  }

  async listEvents(filter: EventFilter = {}): Promise<Page<StoredEvent>> {
    const limit = pageSize(filter.limit);
    const params: unknown[] = [decodeCursor(filter.cursor)];
    const where = ['e.id > $1'];
    const add = (condition: (n: string) => string, value: unknown) => {
      params.push(value);
      where.push(condition(`$${params.length}`));
    };
    if (filter.userId !== undefined)
      add((p) => `e.user_idx = (SELECT idx FROM ${this.s}.users WHERE id = ${p})`, filter.userId);
    if (filter.itemId !== undefined)
      add((p) => `e.item_idx = (SELECT idx FROM ${this.s}.items WHERE id = ${p})`, filter.itemId);
    if (filter.type !== undefined)
      add((p) => `e.type_idx = (SELECT idx FROM ${this.s}.event_types WHERE name = ${p})`, filter.type);
    if (filter.since !== undefined) add((p) => `e.ts >= ${p}`, filter.since);
    if (filter.until !== undefined) add((p) => `e.ts < ${p}`, filter.until);
    params.push(limit + 1);
    const { rows } = await this.query<EventRow>(
      `${this.eventSelect()} WHERE ${where.join(' AND ')} ORDER BY e.id LIMIT $${params.length}`,
      params,
    );
    return toPage(rows, limit, (row) => row.id, toStoredEvent);
  }

  async deleteEvent(id: number): Promise<boolean> {
    const { rowCount } = await this.query(`DELETE FROM ${this.s}.events WHERE id = $1`, [id]);
    return (rowCount ?? 0) > 0;
  }

  async countEvents(): Promise<number> {
    return this.count('events');
  }

  async userHistory(
    userId: string,
    options: { limit?: number; types?: string[] } = {},
  ): Promise<HistoryEntry[]> {
    const limit = positiveLimit(options.limit, DEFAULT_HISTORY_LIMIT);
    const types = options.types !== undefined && options.types.length > 0 ? options.types : null;
    const { rows } = await this.query<HistoryEntry>(
      `SELECT i.id AS "itemId", t.name AS type, e.value, e.ts AS timestamp
       FROM ${this.s}.events e
       JOIN ${this.s}.items i ON i.idx = e.item_idx
       JOIN ${this.s}.event_types t ON t.idx = e.type_idx
       WHERE e.user_idx = (SELECT idx FROM ${this.s}.users WHERE id = $1)
         AND ($3::text[] IS NULL OR t.name = ANY($3::text[]))
       ORDER BY e.ts DESC, e.id DESC LIMIT $2`,
      [userId, limit, types],
    );
    return rows;
  }

  async *scanEvents(batchSize: number = DEFAULT_SCAN_BATCH): AsyncIterable<EventBatch> {
    const size = positiveLimit(batchSize, DEFAULT_SCAN_BATCH);
    const text = `SELECT id, user_idx, item_idx, type_idx, value, ts FROM ${this.s}.events
      WHERE id > $1 ORDER BY id LIMIT $2`;
    const names: ScanNames = { users: new KeyNames(), items: new KeyNames(), types: new KeyNames() };
    await this.loadNames(names.users, `SELECT idx, id FROM ${this.s}.users`);
    await this.loadNames(names.items, `SELECT idx, id FROM ${this.s}.items`);
    await this.loadNames(names.types, `SELECT idx, name FROM ${this.s}.event_types`);
    let after = 0;
    for (;;) {
      const rows = await this.queryArrays<KeyRow>(text, [after, size]);
      if (rows.length === 0) return;
      // Users and items created after the scan started.
      await this.loadNames(names.users, `SELECT idx, id FROM ${this.s}.users`, names.users.unknown(rows, 1));
      await this.loadNames(names.items, `SELECT idx, id FROM ${this.s}.items`, names.items.unknown(rows, 2));
      await this.loadNames(
        names.types,
        `SELECT idx, name FROM ${this.s}.event_types`,
        names.types.unknown(rows, 3),
      );
      after = rows[rows.length - 1][0];
      const batch = batchFromKeys(rows, names);
      if (batch.length > 0) yield batch;
      if (rows.length < size) return;
    }
  }

  // ---- served recommendations ----

  async insertRecommendations(rows: readonly ServedRecommendation[]): Promise<number> {
    validateServed(rows);
    if (rows.length === 0) return 0;
    const result = await this.query(
      `INSERT INTO ${this.s}.recommendations (id, user_id, placement, served_at, items, scores, feature_names, features)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::json[], $6::bytea[], $7::json[], $8::bytea[])
       ON CONFLICT (id) DO NOTHING`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.userId),
        rows.map((r) => r.placement),
        rows.map((r) => r.servedAt),
        rows.map((r) => JSON.stringify(r.items)),
        rows.map((r) => typedBytes(Float64Array.from(r.scores))),
        rows.map((r) => (r.features ? JSON.stringify(r.features.names) : null)),
        rows.map((r) => (r.features ? typedBytes(r.features.rows) : null)),
      ],
    );
    return result.rowCount ?? 0;
  }

  async getRecommendation(id: string): Promise<ServedRecommendation | null> {
    const { rows } = await this.query<ServedColumns>(
      `SELECT ${SERVED_COLUMNS} FROM ${this.s}.recommendations WHERE id = $1`,
      [id],
    );
    return rows.length > 0 ? servedFromColumns(rows[0]) : null;
  }

  async listRecommendations(options: RecommendationListOptions = {}): Promise<Page<ServedRecommendation>> {
    const limit = pageSize(options.limit);
    const after = decodeServedCursor(options.cursor);
    const where: string[] = [];
    const params: unknown[] = [];
    if (after) {
      params.push(...after);
      where.push(`(served_at, seq) > ($${params.length - 1}, $${params.length})`);
    }
    if (options.since !== undefined) {
      params.push(options.since);
      where.push(`served_at >= $${params.length}`);
    }
    if (options.placement !== undefined) {
      params.push(options.placement);
      where.push(`placement = $${params.length}`);
    }
    params.push(limit + 1);
    const { rows } = await this.query<ServedColumns>(
      `SELECT ${SERVED_COLUMNS} FROM ${this.s}.recommendations
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY served_at, seq LIMIT $${params.length}`,
      params,
    );
    return toServedPage(rows, limit);
  }

  async recommendationTallies(ids: readonly string[]): Promise<RecommendationTally[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.query<RecommendationTally>(
      `SELECT e.recommendation_id AS "recommendationId", i.id AS "itemId",
         count(*) FILTER (WHERE t.name = 'impression') AS impressions,
         count(*) FILTER (WHERE t.name = 'click') AS clicks,
         count(*) FILTER (WHERE t.name = 'cart') AS carts,
         count(*) FILTER (WHERE t.name = 'purchase') AS purchases,
         coalesce(sum(CASE
           WHEN json_typeof(e.context -> 'revenue') = 'number' THEN (e.context ->> 'revenue')::float8
           WHEN json_typeof(i.attributes -> 'price') = 'number'
             THEN coalesce(e.value, 1) * (i.attributes ->> 'price')::float8
           ELSE 0 END) FILTER (WHERE t.name = 'purchase'), 0)::float8 AS revenue
       FROM ${this.s}.events e
       JOIN ${this.s}.event_types t ON t.idx = e.type_idx
       JOIN ${this.s}.items i ON i.idx = e.item_idx
       WHERE e.recommendation_id = ANY($1::text[])
         AND t.name IN ('impression', 'click', 'cart', 'purchase')
       GROUP BY e.recommendation_id, i.id`,
      [ids],
    );
    return rows;
  }

  // ---- event types ----

  async listEventTypes(): Promise<EventType[]> {
    const { rows } = await this.query<EventTypeRow>(
      `SELECT name, weight, value_mode, description FROM ${this.s}.event_types ORDER BY name COLLATE "C"`,
    );
    return rows.map(toEventType);
  }

  async upsertEventType(type: EventType): Promise<void> {
    validateEventType(type);
    await this.query(
      `INSERT INTO ${this.s}.event_types (name, weight, value_mode, description) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET weight = EXCLUDED.weight, value_mode = EXCLUDED.value_mode,
         description = EXCLUDED.description`,
      [type.name, type.weight, type.valueMode, type.description],
    );
    await this.loadEventTypes();
  }

  async deleteEventType(name: string): Promise<boolean> {
    const deleted = await this.tx(async (client, afterCommit) => {
      const found = await client.query<{ idx: number }>(
        `SELECT idx FROM ${this.s}.event_types WHERE name = $1`,
        [name],
      );
      if (found.rows.length === 0) return false;
      const idx = found.rows[0].idx;
      await this.bumpGeneration(client, afterCommit);
      const used = await client.query(`SELECT 1 FROM ${this.s}.events WHERE type_idx = $1 LIMIT 1`, [idx]);
      if (used.rows.length > 0)
        throw new ConflictError(`Event type '${name}' still has events; delete them first`);
      await client.query(`DELETE FROM ${this.s}.event_types WHERE idx = $1`, [idx]);
      return true;
    });
    await this.loadEventTypes();
    return deleted;
  }

  // ---- internals ----

  private async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    if (this.closed) throw new KindredError('NOT_READY', 'PostgreSQL store is closed');
    return this.pool.query<R>(text, values);
  }

  /** Rows as arrays (column order of the select): cheaper to build than objects for big results. */
  private async queryArrays<R extends unknown[]>(text: string, values: unknown[]): Promise<R[]> {
    if (this.closed) throw new KindredError('NOT_READY', 'PostgreSQL store is closed');
    const result = await this.pool.query<R>({ text, values, rowMode: 'array' });
    return result.rows;
  }

  /**
   * Runs `fn` inside BEGIN/COMMIT on one pooled connection and rolls back on any error. Callbacks
   * passed to `afterCommit` run only once the transaction has committed.
   */
  private async tx<T>(fn: (client: pg.PoolClient, afterCommit: AfterCommit) => Promise<T>): Promise<T> {
    if (this.closed) throw new KindredError('NOT_READY', 'PostgreSQL store is closed');
    const client = await this.pool.connect();
    const callbacks: (() => void)[] = [];
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(client, (callback) => callbacks.push(callback));
      await client.query('COMMIT');
      for (const callback of callbacks) callback();
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  private async count(table: 'users' | 'items' | 'events'): Promise<number> {
    const { rows } = await this.query<{ n: number }>(`SELECT count(*) AS n FROM ${this.s}.${table}`);
    return rows[0].n;
  }

  private eventJoins(): string {
    return `${this.s}.events e
      JOIN ${this.s}.users u ON u.idx = e.user_idx
      JOIN ${this.s}.items i ON i.idx = e.item_idx
      JOIN ${this.s}.event_types t ON t.idx = e.type_idx`;
  }

  private eventSelect(): string {
    return `SELECT e.id, u.id AS "userId", i.id AS "itemId", t.name AS type, e.value, e.ts,
      e.session_id AS "sessionId", e.context, e.client_event_id AS "clientEventId" FROM ${this.eventJoins()}`;
  }

  private async deleteOwner(
    client: pg.PoolClient,
    table: 'users' | 'items',
    column: 'user_idx' | 'item_idx',
    id: string,
    afterCommit: AfterCommit,
  ): Promise<DeleteResult> {
    const idx = await this.keyOf(client, table, id);
    if (idx === undefined) return { deleted: false, events: 0 };
    await this.bumpGeneration(client, afterCommit, () =>
      (table === 'users' ? this.userIdx : this.itemIdx).delete(id),
    );
    // From here on no insert that could reference the row is in flight (see bumpGeneration).
    const events = await client.query(`DELETE FROM ${this.s}.events WHERE ${column} = $1`, [idx]);
    const owner = await client.query(`DELETE FROM ${this.s}.${table} WHERE idx = $1`, [idx]);
    if (table === 'users')
      await client.query(`DELETE FROM ${this.s}.recommendations WHERE user_id = $1`, [id]);
    return { deleted: (owner.rowCount ?? 0) > 0, events: events.rowCount ?? 0 };
  }

  private async keyOf(
    client: pg.PoolClient,
    table: 'users' | 'items',
    id: string,
  ): Promise<number | undefined> {
    const { rows } = await client.query<{ idx: number }>(`SELECT idx FROM ${this.s}.${table} WHERE id = $1`, [
      id,
    ]);
    return rows[0]?.idx;
  }

  /**
   * Records a delete of a user, item or event type. Updating the row waits for every insert
   * transaction holding it FOR SHARE and makes later ones wait until this transaction ends;
   * they then see the new generation and drop their cached keys. This client's caches stay valid
   * once `evict` drops the deleted key, so after commit they move to the new generation.
   */
  private async bumpGeneration(
    client: pg.PoolClient,
    afterCommit: AfterCommit,
    evict: () => void = () => undefined,
  ): Promise<void> {
    const { rows } = await client.query<{ value: number }>(
      `UPDATE ${this.s}.store_meta SET value = value + 1 WHERE key = 'key_generation' RETURNING value`,
    );
    const next = rows[0].value;
    afterCommit(() => {
      evict();
      if (this.cacheGeneration === next - 1) this.cacheGeneration = next;
    });
  }

  /** Takes the generation row FOR SHARE for this insert transaction and drops stale caches. */
  private async syncCaches(client: pg.PoolClient): Promise<void> {
    const { rows } = await client.query<{ value: number }>(
      `SELECT value FROM ${this.s}.store_meta WHERE key = 'key_generation' FOR SHARE`,
    );
    const generation = rows[0].value;
    if (generation === this.cacheGeneration) return;
    this.userIdx.clear();
    this.itemIdx.clear();
    await this.loadEventTypes(client);
    this.cacheGeneration = generation;
  }

  /** Adds key → name pairs from `select` (all rows, or only the given keys). */
  private async loadNames(names: KeyNames, select: string, keys?: number[]): Promise<void> {
    if (keys?.length === 0) return;
    const rows = keys
      ? await this.queryArrays<[number, string]>(`${select} WHERE idx = ANY($1::int8[])`, [keys])
      : await this.queryArrays<[number, string]>(select, []);
    for (const [idx, name] of rows) names.set(idx, name);
  }

  private async loadEventTypes(client: pg.ClientBase | pg.Pool = this.pool): Promise<void> {
    const { rows } = await client.query<{ name: string; idx: number }>(
      `SELECT name, idx FROM ${this.s}.event_types`,
    );
    this.typeIdx = new Map(rows.map((r) => [r.name, r.idx]));
  }

  private async writeEvents(
    client: pg.PoolClient,
    input: EventInput[],
    afterCommit: AfterCommit,
  ): Promise<InsertEventsResult> {
    await this.syncCaches(client);
    if (hasUnknownType(input, this.typeIdx)) await this.loadEventTypes(client);
    const { events, typeIdx, batchDuplicates } = prepareEvents(input, (name) => this.typeIdx.get(name));
    const userIds = events.map((e) => e.userId);
    const itemIds = events.map((e) => e.itemId);
    const users = await this.resolveKeys(client, 'users', this.userIdx, userIds, afterCommit);
    const items = await this.resolveKeys(client, 'items', this.itemIdx, itemIds, afterCommit);
    // Speculative insertion costs ~10% per row; skip it when no row can conflict.
    const idempotent = events.some((e) => e.clientEventId !== null && e.clientEventId !== undefined);
    const result = await client.query(
      `INSERT INTO ${this.s}.events (user_idx, item_idx, type_idx, value, ts, session_id, context, client_event_id,
         recommendation_id)
       SELECT * FROM unnest($1::int8[], $2::int8[], $3::int4[], $4::float8[], $5::int8[], $6::text[], $7::json[], $8::text[],
         $9::text[])
       ${idempotent ? 'ON CONFLICT (client_event_id) WHERE client_event_id IS NOT NULL DO NOTHING' : ''}`,
      [
        userIds.map((id) => users.get(id)),
        itemIds.map((id) => items.get(id)),
        typeIdx,
        events.map((e) => e.value ?? null),
        events.map((e) => e.timestamp),
        events.map((e) => e.sessionId ?? null),
        events.map((e) => (e.context ? JSON.stringify(e.context) : null)),
        events.map((e) => e.clientEventId ?? null),
        events.map((e) => recommendationIdOf(e.context)),
      ],
    );
    const inserted = result.rowCount ?? 0;
    return { inserted, duplicates: batchDuplicates + events.length - inserted };
  }

  /**
   * Keys of every user or item in `ids`, creating missing rows with empty attributes (existing rows
   * are left alone). The batch uses its own map, so concurrent batches clearing the shared cache do
   * not affect it; keys created here enter the cache only once the transaction has committed, and
   * only if no delete happened meanwhile. Rows are inserted in id order so concurrent batches lock
   * them in the same order.
   */
  private async resolveKeys(
    client: pg.PoolClient,
    table: 'users' | 'items',
    cache: IdCache,
    ids: string[],
    afterCommit: AfterCommit,
  ): Promise<Map<string, number>> {
    cache.trim();
    const keys = new Map<string, number>();
    const missing = new Set<string>();
    for (const id of ids) {
      const idx = cache.get(id);
      if (idx === undefined) missing.add(id);
      else keys.set(id, idx);
    }
    if (missing.size === 0) return keys;
    await client.query(
      `INSERT INTO ${this.s}.${table} (id, created_at, updated_at)
       SELECT id, $2, $2 FROM unnest($1::text[]) AS x (id) ORDER BY id
       ON CONFLICT (id) DO NOTHING`,
      [[...missing], Date.now()],
    );
    const { rows } = await client.query<{ id: string; idx: number }>(
      `SELECT id, idx FROM ${this.s}.${table} WHERE id = ANY($1::text[])`,
      [[...missing]],
    );
    if (rows.length < missing.size) {
      throw new KindredError('INTERNAL_ERROR', `Concurrent delete while creating ${table}; retry the batch`);
    }
    for (const row of rows) keys.set(row.id, row.idx);
    const generation = this.cacheGeneration;
    afterCommit(() => {
      if (this.cacheGeneration !== generation) return;
      for (const row of rows) cache.set(row.id, row.idx);
    });
    return keys;
  }
}
