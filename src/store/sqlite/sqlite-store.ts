import Database from 'better-sqlite3';
import { ConflictError, KindredError } from '../../domain/errors.js';
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
  HistoryColumns,
  HistoryEntry,
  HistoryMemoryReport,
  InsertEventsResult,
  ItemListOptions,
  ListOptions,
  Page,
  RecommendationListOptions,
  RecommendationTally,
  Store,
  ServedWriter,
} from '../store.js';
import { ThreadedServedWriter } from './threaded-served-writer.js';
import type { HistoryIndex } from './history-index.js';
import { MemoryHistory } from './memory-history.js';

/**
 * The file of the served-recommendation log beside a database file (`kindred.db` →
 * `kindred-served.db`); in memory for an in-memory database.
 */
export function servedLogPath(file: string): string {
  if (file === ':memory:' || file === '') return ':memory:';
  return file.endsWith('.db') ? `${file.slice(0, -3)}-served.db` : `${file}-served`;
}
import type { ServedRecommendation } from '../../serving/recommendation-log.js';
import {
  DEFAULT_HISTORY_LIMIT,
  DEFAULT_SCAN_BATCH,
  IdCache,
  KeyNames,
  batchFromKeys,
  decodeCursor,
  decodeServedCursor,
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
  type PreparedEvents,
  type ScanNames,
  type ServedColumns,
} from '../shared.js';
import { SEGMENT_BITS, SERVED_SCHEMA, ensureServedSchema, migrateSqlite } from './migrations.js';
import { NameCache } from './name-cache.js';
import {
  EVENT_KEYS_AFTER,
  itemParams,
  toEventType,
  toItem,
  toStoredEvent,
  toUser,
  userFromColumns,
  type EventRow,
  type HistoryKeyRow,
  type EventTypeRow,
  type ItemRow,
  type UserColumns,
  type UserRow,
} from './rows.js';

type Params = unknown[];
type AfterCommit = (callback: () => void) => void;

/** Item keys whose names `itemIdOfKey` reads at once. */
const KEY_BLOCK = 1024;
const EVENT_COLUMNS = `e.id AS id, u.id AS userId, i.id AS itemId, t.name AS type, e.value AS value, e.ts AS ts,
  e.session_id AS sessionId, e.context AS context, e.client_event_id AS clientEventId`;
/** CROSS JOIN pins the join order: events drive the scan so `ORDER BY e.id` / index order is kept. */
const EVENT_JOINS = `events e
  CROSS JOIN users u ON u.idx = e.user_idx
  CROSS JOIN items i ON i.idx = e.item_idx
  CROSS JOIN event_types t ON t.idx = e.type_idx`;

/** Matches the leading expression of the per-segment event indexes (see migrations.ts). */
const IN_SEGMENTS = `(e.id >> ${SEGMENT_BITS}) IN (SELECT value FROM json_each(?))`;

/**
 * A user's most recent events as keys (item and type names come from memory, not joins).
 * Parameters: segments, user id, limit. An unknown user matches nothing.
 */
const HISTORY = historyQuery('');
/** HISTORY restricted to some event types (a JSON array of names, before the limit). */
const HISTORY_OF_TYPES = historyQuery(
  'AND e.type_idx IN (SELECT idx FROM event_types WHERE name IN (SELECT value FROM json_each(?)))',
);

function historyQuery(typeFilter: string): string {
  return `SELECT e.item_idx, e.type_idx, e.value, e.ts FROM events e
    WHERE ${IN_SEGMENTS} AND e.user_idx = (SELECT idx FROM users WHERE id = ?) ${typeFilter}
    ORDER BY e.ts DESC, e.id DESC LIMIT ?`;
}

const SERVED_COLUMNS = `seq, id, user_id AS userId, placement, served_at AS servedAt, items, scores,
  feature_names AS featureNames, features`;

/** A served recommendation as SQLite returns it: JSON as text, typed arrays as Buffers. */
interface ServedRow extends Omit<ServedColumns, 'items' | 'featureNames'> {
  items: string;
  featureNames: string | null;
}

function toServedColumns(row: ServedRow): ServedColumns {
  return {
    ...row,
    items: JSON.parse(row.items) as string[],
    featureNames: row.featureNames === null ? null : (JSON.parse(row.featureNames) as string[]),
  };
}

export interface SqliteStoreOptions {
  /**
   * WAL pages after which a commit checkpoints (SQLite's wal_autocheckpoint; 16,384 by default).
   * A connection that only appends small batches takes a low value, so that no single commit
   * stalls for a long checkpoint.
   */
  walAutocheckpointPages?: number;
}

/**
 * Store on a single SQLite file (WAL, synchronous=FULL). Users, items and event types get integer
 * surrogate keys; events reference them, which keeps the events table and its indexes compact.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement<Params>>();
  private readonly userIdx = new IdCache();
  private readonly itemIdx = new IdCache();
  private typeIdx = new Map<string, number>();
  /** Item ids and event type names by key, for histories; keys are never reused, so entries stay true. */
  private readonly itemNames = new NameCache();
  private readonly typeNames = new NameCache();
  /** The last segment list built, for the segment range it covers. */
  private segmentList = { first: -1, last: -1, json: '[]' };
  /** `store_meta.key_generation` the caches were filled under; deletes by any connection bump it. */
  private cacheGeneration = -1;
  private ready = false;
  /** Histories from memory, once `keepHistoryInMemory` was called (see memory-history.ts). */
  private memoryHistory: MemoryHistory | null = null;
  private memoryHistoryReport: Promise<HistoryMemoryReport> | null = null;

  constructor(
    private readonly path: string,
    options: SqliteStoreOptions = {},
  ) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 10000');
    this.db.pragma('cache_size = -131072');
    // Checkpoint every ~64 MB of WAL instead of 4 MB by default: bulk imports dirty the same
    // index pages batch after batch, and a checkpoint writes each of them to the file only once.
    this.db.pragma(`wal_autocheckpoint = ${options.walAutocheckpointPages ?? 16384}`);
    this.db.pragma('temp_store = MEMORY');
    // Reads map the file instead of copying pages out of the OS cache: a user's history touches
    // one random events page per event, and most of them are beyond the page cache.
    this.db.pragma('mmap_size = 1073741824');
    this.db.prepare(`ATTACH DATABASE ? AS ${SERVED_SCHEMA}`).run(servedLogPath(path));
    this.db.pragma(`${SERVED_SCHEMA}.journal_mode = WAL`);
  }

  async init(): Promise<void> {
    migrateSqlite(this.db);
    ensureServedSchema(this.db);
    this.ready = true;
    this.loadEventTypes();
  }

  async close(): Promise<void> {
    this.ready = false;
    const history = this.memoryHistory;
    this.memoryHistory = null;
    await history?.close();
    this.statements.clear();
    if (this.db.open) this.db.close();
  }

  async ping(): Promise<void> {
    this.sql('SELECT 1').get();
  }

  // ---- users ----

  async upsertUsers(users: UserInput[]): Promise<number> {
    requireIds(users, 'users');
    const upsert = this.sql(
      `INSERT INTO users (id, attributes, created_at, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET attributes = excluded.attributes, updated_at = excluded.updated_at`,
    );
    const now = Date.now();
    this.write(() => {
      for (const user of users) upsert.run(user.id, JSON.stringify(user.attributes ?? {}), now, now);
    });
    return users.length;
  }

  async getUser(id: string): Promise<User | null> {
    const row = this.sql('SELECT attributes, created_at, updated_at FROM users WHERE id = ?')
      .raw(true)
      .get(id) as UserColumns | undefined;
    return row ? userFromColumns(id, row) : null;
  }

  async listUsers(options: ListOptions = {}): Promise<Page<User>> {
    const limit = pageSize(options.limit);
    const rows = this.sql('SELECT * FROM users WHERE idx > ? ORDER BY idx LIMIT ?').all(
      decodeCursor(options.cursor),
      limit + 1,
    ) as UserRow[];
    return toPage(rows, limit, (row) => row.idx, toUser);
  }

  async deleteUser(id: string): Promise<DeleteResult> {
    return this.write((afterCommit) => this.deleteOwner('users', 'user_idx', id, afterCommit));
  }

  async countUsers(): Promise<number> {
    return this.count('SELECT count(*) FROM users');
  }

  // ---- items ----

  async upsertItems(items: ItemInput[]): Promise<number> {
    requireIds(items, 'items');
    const upsert = this.sql(
      `INSERT INTO items (id, title, text, categories, tags, attributes, available, published_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET title = excluded.title, text = excluded.text, categories = excluded.categories,
         tags = excluded.tags, attributes = excluded.attributes, available = excluded.available,
         published_at = excluded.published_at, updated_at = excluded.updated_at
       RETURNING idx`,
    );
    const clearCategories = this.sql('DELETE FROM item_categories WHERE item_idx = ?');
    const addCategory = this.sql('INSERT OR IGNORE INTO item_categories (category, item_idx) VALUES (?, ?)');
    const now = Date.now();
    this.write(() => {
      for (const item of items) {
        const { idx } = upsert.get(...itemParams(item, now)) as { idx: number };
        clearCategories.run(idx);
        for (const category of item.categories ?? []) addCategory.run(category, idx);
      }
    });
    return items.length;
  }

  async getItem(id: string): Promise<Item | null> {
    const row = this.sql('SELECT * FROM items WHERE id = ?').get(id) as ItemRow | undefined;
    return row ? toItem(row) : null;
  }

  async listItems(options: ItemListOptions = {}): Promise<Page<Item>> {
    const limit = pageSize(options.limit);
    const params: Params = [];
    let source = 'items it';
    let key = 'it.idx';
    if (options.category !== undefined) {
      source = 'item_categories c CROSS JOIN items it ON it.idx = c.item_idx';
      key = 'c.item_idx';
    }
    const where = [`${key} > ?`];
    if (options.category !== undefined) {
      where.unshift('c.category = ?');
      params.push(options.category);
    }
    params.push(decodeCursor(options.cursor));
    if (options.available !== undefined) {
      where.push('it.available = ?');
      params.push(options.available ? 1 : 0);
    }
    const rows = this.sql(
      `SELECT it.* FROM ${source} WHERE ${where.join(' AND ')} ORDER BY ${key} LIMIT ?`,
    ).all(...params, limit + 1) as ItemRow[];
    return toPage(rows, limit, (row) => row.idx, toItem);
  }

  async deleteItem(id: string): Promise<DeleteResult> {
    return this.write((afterCommit) => this.deleteOwner('items', 'item_idx', id, afterCommit));
  }

  async countItems(): Promise<number> {
    return this.count('SELECT count(*) FROM items');
  }

  // ---- events ----

  async insertEvents(events: EventInput[]): Promise<InsertEventsResult> {
    if (events.length === 0) return { inserted: 0, duplicates: 0 };
    return this.writeEvents(events);
  }

  async getEvent(id: number): Promise<StoredEvent | null> {
    const row = this.sql(`SELECT ${EVENT_COLUMNS} FROM ${EVENT_JOINS} WHERE e.id = ?`).get(id) as
      EventRow | undefined;
    return row ? toStoredEvent(row) : null;
  }

  async listEvents(filter: EventFilter = {}): Promise<Page<StoredEvent>> {
    const limit = pageSize(filter.limit);
    const after = decodeCursor(filter.cursor);
    const where = ['e.id > ?'];
    const params: Params = [after];
    const add = (condition: string, ...values: unknown[]) => {
      where.push(condition);
      params.push(...values);
    };
    // Unknown users, items or types match nothing (key -1).
    if (filter.userId !== undefined) {
      add(
        `${IN_SEGMENTS} AND e.user_idx = ?`,
        this.segments(after),
        this.keyOf('users', filter.userId) ?? -1,
      );
    }
    if (filter.itemId !== undefined) {
      add(
        `${IN_SEGMENTS} AND e.item_idx = ?`,
        this.segments(after),
        this.keyOf('items', filter.itemId) ?? -1,
      );
    }
    if (filter.type !== undefined)
      add('e.type_idx = ?', this.keyOf('event_types', filter.type, 'name') ?? -1);
    if (filter.since !== undefined) add('e.ts >= ?', filter.since);
    if (filter.until !== undefined) add('e.ts < ?', filter.until);
    const rows = this.sql(
      `SELECT ${EVENT_COLUMNS} FROM ${EVENT_JOINS} WHERE ${where.join(' AND ')} ORDER BY e.id LIMIT ?`,
    ).all(...params, limit + 1) as EventRow[];
    return toPage(rows, limit, (row) => row.id, toStoredEvent);
  }

  async deleteEvent(id: number): Promise<boolean> {
    return this.write(() => {
      const deleted = this.sql('DELETE FROM events WHERE id = ?').run(id).changes > 0;
      if (deleted) this.sql('INSERT INTO event_deletions (event_id) VALUES (?)').run(id);
      return deleted;
    });
  }

  async countEvents(): Promise<number> {
    return this.count('SELECT count(*) FROM events');
  }

  async userHistory(
    userId: string,
    options: { limit?: number; types?: string[] } = {},
  ): Promise<HistoryEntry[]> {
    this.requireReady();
    const limit = positiveLimit(options.limit, DEFAULT_HISTORY_LIMIT);
    const types = options.types !== undefined && options.types.length > 0 ? options.types : null;
    const indexed = this.memoryHistory?.recent(userId, limit, types);
    if (indexed) return this.indexedEntries(indexed.index, indexed.rows);
    const rows = (
      types
        ? this.sql(HISTORY_OF_TYPES).raw(true).all(this.segments(), userId, JSON.stringify(types), limit)
        : this.sql(HISTORY).raw(true).all(this.segments(), userId, limit)
    ) as HistoryKeyRow[];
    return this.historyEntries(rows);
  }

  userHistoryColumns(userId: string, options: { limit?: number } = {}): HistoryColumns | null {
    this.requireReady();
    const indexed = this.memoryHistory?.recent(
      userId,
      positiveLimit(options.limit, DEFAULT_HISTORY_LIMIT),
      null,
    );
    if (!indexed) return null;
    const { index, rows } = indexed;
    const itemKeys = new Int32Array(rows.length);
    const values = new Float64Array(rows.length);
    const timestamps = new Float64Array(rows.length);
    const types: string[] = [];
    let loaded = false;
    let n = 0;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      let type = this.typeNames.get(index.typeKey(row));
      if (type === undefined && !loaded) {
        // Only the types: items are named by key when the caller asks (itemIdOfKey).
        this.typeNames.trim();
        this.loadNames(this.typeNames, 'SELECT idx, name FROM event_types');
        loaded = true;
        type = this.typeNames.get(index.typeKey(row));
      }
      if (type === undefined) continue; // the type is gone: dropped, as userHistory does
      itemKeys[n] = index.itemKey(row);
      values[n] = index.value(row) ?? NaN;
      timestamps[n] = index.timestamp(row);
      types.push(type);
      n++;
    }
    return {
      length: n,
      itemKeys: itemKeys.subarray(0, n),
      types,
      values: values.subarray(0, n),
      timestamps: timestamps.subarray(0, n),
    };
  }

  itemIdOfKey(key: number): string | undefined {
    this.requireReady();
    const cached = this.itemNames.get(key);
    if (cached !== undefined || !Number.isInteger(key) || key < 0) return cached;
    // Keys are mostly dense: the block around a key is read at once, so serving maps a whole
    // catalogue in a few reads rather than one per item.
    this.itemNames.trim();
    const from = key - (key % KEY_BLOCK);
    const rows = this.sql('SELECT idx, id FROM items WHERE idx >= ? AND idx < ?')
      .raw(true)
      .all(from, from + KEY_BLOCK) as [number, string][];
    for (const [idx, id] of rows) this.itemNames.set(idx, id);
    return this.itemNames.get(key);
  }

  /**
   * Serves `userHistory` from an in-memory index from now on (built on a worker thread; SQL until
   * it is ready). Not for in-memory databases: the worker's connection could not see them, and
   * they are small. A second call answers as the first.
   */
  async keepHistoryInMemory(options: { maxEvents: number }): Promise<HistoryMemoryReport> {
    this.requireReady();
    if (this.memoryHistoryReport) return this.memoryHistoryReport;
    if (!(options.maxEvents > 0)) {
      this.memoryHistoryReport = Promise.resolve({ built: false, reason: 'disabled (no events allowed)' });
    } else if (this.path === ':memory:' || this.path === '') {
      this.memoryHistoryReport = Promise.resolve({ built: false, reason: 'an in-memory database' });
    } else {
      this.memoryHistory = new MemoryHistory(this.db, options.maxEvents);
      this.memoryHistoryReport = this.memoryHistory.start(this.path);
    }
    return this.memoryHistoryReport;
  }

  async *scanEvents(batchSize: number = DEFAULT_SCAN_BATCH): AsyncIterable<EventBatch> {
    const size = positiveLimit(batchSize, DEFAULT_SCAN_BATCH);
    const page = this.sql(EVENT_KEYS_AFTER).raw(true);
    const names: ScanNames = { users: new KeyNames(), items: new KeyNames(), types: new KeyNames() };
    this.loadNames(names.users, 'SELECT idx, id FROM users');
    this.loadNames(names.items, 'SELECT idx, id FROM items');
    this.loadNames(names.types, 'SELECT idx, name FROM event_types');
    let after = 0;
    for (;;) {
      // Keyset pages rather than one open cursor: the connection stays free for other calls between batches.
      const rows = page.all(after, size) as KeyRow[];
      if (rows.length === 0) return;
      // Users and items created after the scan started.
      this.loadNames(names.users, 'SELECT idx, id FROM users', names.users.unknown(rows, 1));
      this.loadNames(names.items, 'SELECT idx, id FROM items', names.items.unknown(rows, 2));
      this.loadNames(names.types, 'SELECT idx, name FROM event_types', names.types.unknown(rows, 3));
      after = rows[rows.length - 1][0];
      const batch = batchFromKeys(rows, names);
      if (batch.length > 0) yield batch;
      if (rows.length < size) return;
    }
  }

  // ---- served recommendations ----

  /** A worker thread with its own connection to this file (none for an in-memory database). */
  openServedWriter(): ServedWriter | null {
    if (this.path === ':memory:' || this.path === '') return null;
    return new ThreadedServedWriter(this.path);
  }

  async insertRecommendations(rows: readonly ServedRecommendation[]): Promise<number> {
    validateServed(rows);
    if (rows.length === 0) return 0;
    const insert = this.sql(
      `INSERT INTO recommendations (id, user_id, placement, served_at, items, scores, feature_names, features)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    );
    return this.write(() => {
      let written = 0;
      for (const r of rows) {
        written += insert.run(
          r.id,
          r.userId,
          r.placement,
          r.servedAt,
          JSON.stringify(r.items),
          typedBytes(Float64Array.from(r.scores)),
          r.features ? JSON.stringify(r.features.names) : null,
          r.features ? typedBytes(r.features.rows) : null,
        ).changes;
      }
      return written;
    });
  }

  async getRecommendation(id: string): Promise<ServedRecommendation | null> {
    const row = this.sql(`SELECT ${SERVED_COLUMNS} FROM recommendations WHERE id = ?`).get(id) as
      ServedRow | undefined;
    return row ? servedFromColumns(toServedColumns(row)) : null;
  }

  async listRecommendations(options: RecommendationListOptions = {}): Promise<Page<ServedRecommendation>> {
    const limit = pageSize(options.limit);
    const after = decodeServedCursor(options.cursor);
    const where: string[] = [];
    const params: Params = [];
    if (after) {
      where.push('(served_at, seq) > (?, ?)');
      params.push(...after);
    }
    if (options.since !== undefined) {
      where.push('served_at >= ?');
      params.push(options.since);
    }
    if (options.placement !== undefined) {
      where.push('placement = ?');
      params.push(options.placement);
    }
    const rows = this.sql(
      `SELECT ${SERVED_COLUMNS} FROM recommendations ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY served_at, seq LIMIT ?`,
    ).all(...params, limit + 1) as ServedRow[];
    return toServedPage(rows.map(toServedColumns), limit);
  }

  async recommendationTallies(ids: readonly string[]): Promise<RecommendationTally[]> {
    if (ids.length === 0) return [];
    return this.sql(
      `SELECT e.recommendation_id AS recommendationId, i.id AS itemId,
         sum(t.name = 'impression') AS impressions, sum(t.name = 'click') AS clicks,
         sum(t.name = 'cart') AS carts, sum(t.name = 'purchase') AS purchases,
         total(CASE WHEN t.name <> 'purchase' THEN 0
           WHEN json_type(e.context, '$.revenue') IN ('integer', 'real') THEN json_extract(e.context, '$.revenue')
           WHEN json_type(i.attributes, '$.price') IN ('integer', 'real')
             THEN coalesce(e.value, 1) * json_extract(i.attributes, '$.price')
           ELSE 0 END) AS revenue
       FROM events e CROSS JOIN event_types t ON t.idx = e.type_idx CROSS JOIN items i ON i.idx = e.item_idx
       WHERE ${IN_SEGMENTS} AND e.recommendation_id IN (SELECT value FROM json_each(?))
         AND t.name IN ('impression', 'click', 'cart', 'purchase')
       GROUP BY e.recommendation_id, e.item_idx`,
    ).all(this.segments(), JSON.stringify(ids)) as RecommendationTally[];
  }

  // ---- event types ----

  async listEventTypes(): Promise<EventType[]> {
    const rows = this.sql(
      'SELECT name, weight, value_mode, description FROM event_types ORDER BY name',
    ).all();
    return (rows as EventTypeRow[]).map(toEventType);
  }

  async upsertEventType(type: EventType): Promise<void> {
    validateEventType(type);
    this.write(() =>
      this.sql(
        `INSERT INTO event_types (name, weight, value_mode, description) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET weight = excluded.weight, value_mode = excluded.value_mode,
           description = excluded.description`,
      ).run(type.name, type.weight, type.valueMode, type.description),
    );
    this.loadEventTypes();
  }

  async deleteEventType(name: string): Promise<boolean> {
    const deleted = this.write((afterCommit) => {
      const idx = this.keyOf('event_types', name, 'name');
      if (idx === undefined) return false;
      if (this.sql('SELECT 1 FROM events WHERE type_idx = ? LIMIT 1').get(idx) !== undefined) {
        throw new ConflictError(`Event type '${name}' still has events; delete them first`);
      }
      this.sql('DELETE FROM event_types WHERE idx = ?').run(idx);
      this.bumpGeneration(afterCommit);
      return true;
    });
    this.loadEventTypes();
    return deleted;
  }

  // ---- internals ----

  /**
   * As `historyEntries`, for rows of the in-memory index: one pass while every name is cached,
   * else the missing names are loaded first.
   */
  private indexedEntries(index: HistoryIndex, rows: Int32Array, loaded = false): HistoryEntry[] {
    const entries: HistoryEntry[] = [];
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      const itemId = this.itemNames.get(index.itemKey(row));
      const type = this.typeNames.get(index.typeKey(row));
      if (itemId === undefined || type === undefined) {
        if (loaded) continue; // deleted since: dropped, as historyEntries does
        this.loadIndexedNames(index, rows);
        return this.indexedEntries(index, rows, true);
      }
      entries.push({ itemId, type, value: index.value(row), timestamp: index.timestamp(row) });
    }
    return entries;
  }

  private loadIndexedNames(index: HistoryIndex, rows: Int32Array): void {
    const items: number[] = [];
    const types: number[] = [];
    this.itemNames.trim();
    this.typeNames.trim();
    for (let i = 0; i < rows.length; i++) {
      const item = index.itemKey(rows[i]);
      const type = index.typeKey(rows[i]);
      if (this.itemNames.get(item) === undefined) items.push(item);
      if (this.typeNames.get(type) === undefined) types.push(type);
    }
    this.loadNames(this.itemNames, 'SELECT idx, id FROM items', items);
    this.loadNames(this.typeNames, 'SELECT idx, name FROM event_types', types);
  }

  /** Names the item and type keys of history rows; rows whose item or type is gone are dropped. */
  private historyEntries(rows: readonly HistoryKeyRow[]): HistoryEntry[] {
    this.loadNames(this.itemNames, 'SELECT idx, id FROM items', this.itemNames.missing(rows, 0));
    this.loadNames(this.typeNames, 'SELECT idx, name FROM event_types', this.typeNames.missing(rows, 1));
    const entries: HistoryEntry[] = [];
    for (let i = 0; i < rows.length; i++) {
      const [item, type, value, timestamp] = rows[i];
      const itemId = this.itemNames.get(item);
      const typeName = this.typeNames.get(type);
      if (itemId !== undefined && typeName !== undefined) {
        entries.push({ itemId, type: typeName, value, timestamp });
      }
    }
    return entries;
  }

  private requireReady(): void {
    if (!this.ready) throw new KindredError('NOT_READY', 'SQLite store is not initialised or already closed');
  }

  /** Prepared statements are cached per SQL text. */
  private sql(source: string): Database.Statement<Params> {
    this.requireReady();
    let statement = this.statements.get(source);
    if (!statement) {
      statement = this.db.prepare<Params>(source);
      this.statements.set(source, statement);
    }
    return statement;
  }

  /**
   * Runs `fn` in a write transaction taken up front (BEGIN IMMEDIATE), so it never fails half-way on
   * a lock upgrade. Callbacks passed to `afterCommit` run only once the transaction has committed.
   */
  private write<T>(fn: (afterCommit: AfterCommit) => T): T {
    this.requireReady();
    const callbacks: (() => void)[] = [];
    const result = this.db.transaction(() => fn((callback) => callbacks.push(callback))).immediate();
    for (const callback of callbacks) callback();
    return result;
  }

  private count(source: string): number {
    return this.sql(source).pluck(true).get() as number;
  }

  private keyOf(table: 'users' | 'items' | 'event_types', id: string, column = 'id'): number | undefined {
    return this.sql(`SELECT idx FROM ${table} WHERE ${column} = ?`).pluck(true).get(id) as number | undefined;
  }

  private deleteOwner(
    table: 'users' | 'items',
    column: 'user_idx' | 'item_idx',
    id: string,
    afterCommit: AfterCommit,
  ): DeleteResult {
    const idx = this.keyOf(table, id);
    if (idx === undefined) return { deleted: false, events: 0 };
    const events = this.sql(`DELETE FROM events AS e WHERE ${IN_SEGMENTS} AND e.${column} = ?`).run(
      this.segments(),
      idx,
    ).changes;
    // Every user deletion is logged, with events or not: serving processes cache user keys until then.
    if (events > 0 || table === 'users')
      this.sql(`INSERT INTO event_deletions (${column}) VALUES (?)`).run(idx);
    this.sql(`DELETE FROM ${table} WHERE idx = ?`).run(idx);
    if (table === 'users') this.sql('DELETE FROM recommendations WHERE user_id = ?').run(id);
    this.bumpGeneration(afterCommit, () => (table === 'users' ? this.userIdx : this.itemIdx).delete(id));
    return { deleted: true, events };
  }

  /**
   * Every segment holding events with an id above `afterId`, as a JSON array for IN_SEGMENTS.
   * The id range is read on every call (other connections may have written); the list is rebuilt
   * only when it changed.
   */
  private segments(afterId = 0): string {
    const [min, max] = this.sql('SELECT (SELECT min(id) FROM events), (SELECT max(id) FROM events)')
      .raw(true)
      .get() as [number | null, number | null];
    if (min === null || max === null) return '[]';
    const first = Math.floor(Math.max(min, afterId + 1) / 2 ** SEGMENT_BITS);
    const last = Math.floor(max / 2 ** SEGMENT_BITS);
    const cached = this.segmentList;
    if (cached.first !== first || cached.last !== last) {
      const out: number[] = [];
      for (let seg = first; seg <= last; seg++) out.push(seg);
      this.segmentList = { first, last, json: JSON.stringify(out) };
    }
    return this.segmentList.json;
  }

  /**
   * Records a delete for every connection's caches. Once committed, this connection's caches stay
   * valid after `evict` drops the deleted key, so they move to the new generation.
   */
  private bumpGeneration(afterCommit: AfterCommit, evict: () => void = () => undefined): void {
    const next = this.sql(
      `UPDATE store_meta SET value = value + 1 WHERE key = 'key_generation' RETURNING value`,
    )
      .pluck(true)
      .get() as number;
    afterCommit(() => {
      evict();
      if (this.cacheGeneration === next - 1) this.cacheGeneration = next;
    });
  }

  /**
   * Drops cached keys when another connection (or this one) deleted users, items or event types
   * since they were cached: afterwards a cached key could point at a row that no longer exists.
   * Must run inside the write transaction that uses the caches.
   */
  private syncCaches(): void {
    const generation = this.sql(`SELECT value FROM store_meta WHERE key = 'key_generation'`)
      .pluck(true)
      .get() as number;
    if (generation === this.cacheGeneration) return;
    this.userIdx.clear();
    this.itemIdx.clear();
    this.loadEventTypes();
    this.cacheGeneration = generation;
  }

  /** Adds key → name pairs from `select` (all rows, or only the given keys). */
  private loadNames(names: KeyNames | NameCache, select: string, keys?: readonly number[]): void {
    if (keys?.length === 0) return;
    const statement = keys
      ? this.sql(`${select} WHERE idx IN (SELECT value FROM json_each(?))`)
      : this.sql(select);
    const rows = statement.raw(true).all(...(keys ? [JSON.stringify(keys)] : [])) as [number, string][];
    for (const [idx, name] of rows) names.set(idx, name);
  }

  private loadEventTypes(): void {
    const rows = this.sql('SELECT name, idx FROM event_types').raw(true).all() as [string, number][];
    this.typeIdx = new Map(rows);
  }

  private writeEvents(events: EventInput[]): InsertEventsResult {
    const insert = this.sql(
      `INSERT INTO events (user_idx, item_idx, type_idx, value, ts, session_id, context, client_event_id,
         recommendation_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (client_event_id) WHERE client_event_id IS NOT NULL DO NOTHING`,
    );
    try {
      return this.write(() => {
        this.syncCaches();
        if (hasUnknownType(events, this.typeIdx)) this.loadEventTypes();
        const prepared = prepareEvents(events, (name) => this.typeIdx.get(name));
        const inserted = this.insertPrepared(insert, prepared);
        return { inserted, duplicates: prepared.batchDuplicates + prepared.events.length - inserted };
      });
    } catch (error) {
      if (!(error instanceof KindredError)) {
        // Keys created inside the rolled-back transaction do not exist.
        this.userIdx.clear();
        this.itemIdx.clear();
      }
      throw error;
    }
  }

  private insertPrepared(insert: Database.Statement<Params>, prepared: PreparedEvents): number {
    const { events, typeIdx } = prepared;
    const users = this.keyResolver('users', this.userIdx);
    const items = this.keyResolver('items', this.itemIdx);
    let written = 0;
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      written += insert.run(
        this.userIdx.get(e.userId) ?? users(e.userId),
        this.itemIdx.get(e.itemId) ?? items(e.itemId),
        typeIdx[i],
        e.value ?? null,
        e.timestamp,
        e.sessionId ?? null,
        e.context ? JSON.stringify(e.context) : null,
        e.clientEventId ?? null,
        recommendationIdOf(e.context),
      ).changes;
    }
    return written;
  }

  /**
   * Looks up (creating it with empty attributes if needed) the key of a user or item that is not
   * cached, and caches it. Only valid inside the write transaction.
   */
  private keyResolver(table: 'users' | 'items', cache: IdCache): (id: string) => number {
    cache.trim();
    const now = Date.now();
    const find = this.sql(`SELECT idx FROM ${table} WHERE id = ?`).pluck(true);
    const create = this.sql(`INSERT INTO ${table} (id, created_at, updated_at) VALUES (?, ?, ?)`);
    return (id) => {
      const idx = (find.get(id) as number | undefined) ?? Number(create.run(id, now, now).lastInsertRowid);
      cache.set(id, idx);
      return idx;
    };
  }
}
