import type Database from 'better-sqlite3';
import { DEFAULT_EVENT_TYPES } from '../../domain/types.js';

export interface SqliteMigration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

/**
 * Events are indexed per segment of 2^SEGMENT_BITS consecutive ids: the per-user and per-item
 * indexes lead with `id >> SEGMENT_BITS`. New events therefore only ever touch the small subtree
 * of the newest segment, so the pages a commit dirties stay proportional to the batch instead of
 * to the whole index (a global `(user_idx, ts)` index rewrites most of its leaves on every
 * batch of random users once the table holds millions of rows; 10M events imported at ~55k/s
 * that way versus ~270k/s segmented). Lookups by user or item probe each segment:
 * `(id >> SEGMENT_BITS) IN (...) AND user_idx = ?`, about 150 probes for 10M events. The
 * timestamp is not part of the user index: results from several segments are sorted anyway, and
 * a smaller index makes every insert cheaper.
 *
 * Events carry no FOREIGN KEY clauses: a parent delete would have to scan them, since no index
 * starts with user_idx or item_idx. The store keeps them consistent instead, writing keys it
 * resolved in the same transaction and deleting a user's or item's events with the row.
 * Changing SEGMENT_BITS needs a migration that rebuilds both indexes.
 */
export const SEGMENT_BITS = 16;

const INITIAL_SCHEMA = `
CREATE TABLE users (
  idx INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  attributes TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE items (
  idx INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  title TEXT,
  text TEXT,
  categories TEXT NOT NULL DEFAULT '[]',
  tags TEXT NOT NULL DEFAULT '[]',
  attributes TEXT NOT NULL DEFAULT '{}',
  available INTEGER NOT NULL DEFAULT 1,
  published_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE item_categories (
  category TEXT NOT NULL,
  item_idx INTEGER NOT NULL REFERENCES items(idx) ON DELETE CASCADE,
  PRIMARY KEY (category, item_idx)
) WITHOUT ROWID;

CREATE INDEX item_categories_item ON item_categories (item_idx);

CREATE TABLE event_types (
  idx INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  weight REAL NOT NULL,
  value_mode TEXT NOT NULL CHECK (value_mode IN ('ignore', 'linear', 'log1p')),
  description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  user_idx INTEGER NOT NULL,
  item_idx INTEGER NOT NULL,
  type_idx INTEGER NOT NULL,
  value REAL,
  ts INTEGER NOT NULL,
  session_id TEXT,
  context TEXT,
  client_event_id TEXT
);

CREATE INDEX events_user ON events ((id >> ${SEGMENT_BITS}), user_idx);
CREATE INDEX events_item ON events ((id >> ${SEGMENT_BITS}), item_idx);
CREATE UNIQUE INDEX events_client_event_id ON events (client_event_id) WHERE client_event_id IS NOT NULL;

CREATE TABLE store_meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);

INSERT INTO store_meta (key, value) VALUES ('key_generation', 0);
`;

/**
 * Served recommendations, and the recommendation id of events for attribution. `seq` keeps the
 * logging order (rowids of a table without an INTEGER PRIMARY KEY may change on VACUUM). Items
 * and feature names are JSON arrays; scores (Float64) and feature rows (Float32, row-major) are
 * the raw bytes of the typed arrays.
 *
 * Only events that carry a recommendation id enter `events_recommendation` (partial index), so
 * bulk imports of plain events pay nothing for it. It leads with the event id segment like the
 * other event indexes: when most events carry an id (impressions of every served item), random
 * ids still only touch the newest segment's subtree. Events stored before this step keep a null
 * `recommendation_id`; no recommendation was logged then to attribute them to.
 */
const RECOMMENDATION_LOG = `
ALTER TABLE events ADD COLUMN recommendation_id TEXT;

CREATE INDEX events_recommendation ON events ((id >> ${SEGMENT_BITS}), recommendation_id)
  WHERE recommendation_id IS NOT NULL;

CREATE TABLE recommendations (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL,
  placement TEXT NOT NULL,
  served_at INTEGER NOT NULL,
  items TEXT NOT NULL,
  scores BLOB NOT NULL,
  feature_names TEXT,
  features BLOB
);

CREATE INDEX recommendations_served_at ON recommendations (served_at, seq);
CREATE INDEX recommendations_user ON recommendations (user_id);
`;

/** Schema name the served-recommendation log is attached under (see sqlite-store.ts). */
export const SERVED_SCHEMA = 'served';

/**
 * The served-recommendation log in a database file of its own, attached as `served`: its
 * frequent writes (a batch of served lists every second, from a writer thread with its own
 * connection) then never invalidate what the serving connections cached of users, items and
 * events. Created whenever it is missing, so a lost log file comes back empty.
 */
export function ensureServedSchema(db: Database.Database): void {
  db.exec(`
CREATE TABLE IF NOT EXISTS ${SERVED_SCHEMA}.recommendations (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL,
  placement TEXT NOT NULL,
  served_at INTEGER NOT NULL,
  items TEXT NOT NULL,
  scores BLOB NOT NULL,
  feature_names TEXT,
  features BLOB
);
CREATE INDEX IF NOT EXISTS ${SERVED_SCHEMA}.recommendations_served_at ON recommendations (served_at, seq);
CREATE INDEX IF NOT EXISTS ${SERVED_SCHEMA}.recommendations_user ON recommendations (user_id);
`);
}

/** Moves the lists logged in the main file so far into the log file. */
function moveServedLog(db: Database.Database): void {
  ensureServedSchema(db);
  db.exec(`INSERT OR IGNORE INTO ${SERVED_SCHEMA}.recommendations SELECT * FROM main.recommendations;
DROP TABLE main.recommendations;`);
}

/**
 * Every deletion of events, in commit order, for copies of the events kept outside SQLite (the
 * serving processes' history index): they learn from it what any connection deleted since they
 * last looked. One row per `deleteEvent` that deleted (`event_id`), per user deletion (`user_idx`;
 * even without events, as readers may cache user keys) and per item deletion that removed events
 * (`item_idx`). Keys are never reused, so "every event of that key" stays exact. AUTOINCREMENT
 * keeps `seq` increasing even if rows were ever removed, so a reader's position stays meaningful.
 * Rows are small and deletions rare; the log is not pruned.
 */
const EVENT_DELETIONS = `
CREATE TABLE event_deletions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id INTEGER,
  user_idx INTEGER,
  item_idx INTEGER
);
`;

function seedDefaultEventTypes(db: Database.Database): void {
  const insert = db.prepare(
    `INSERT INTO event_types (name, weight, value_mode, description) VALUES (?, ?, ?, ?)
     ON CONFLICT (name) DO NOTHING`,
  );
  for (const type of DEFAULT_EVENT_TYPES)
    insert.run(type.name, type.weight, type.valueMode, type.description);
}

/**
 * Ordered schema steps. Applied versions are recorded in `schema_migrations`; append new steps,
 * never edit released ones. Default event types are seeded once, so later edits and deletions stick.
 */
export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  { version: 1, name: 'initial schema', up: (db) => db.exec(INITIAL_SCHEMA) },
  { version: 2, name: 'default event types', up: seedDefaultEventTypes },
  { version: 3, name: 'recommendation log', up: (db) => db.exec(RECOMMENDATION_LOG) },
  { version: 4, name: 'recommendation log in its own file', up: moveServedLog },
  { version: 5, name: 'event deletion log', up: (db) => db.exec(EVENT_DELETIONS) },
];

/** Applies every pending migration, each in its own write transaction. */
export function migrateSqlite(
  db: Database.Database,
  migrations: readonly SqliteMigration[] = SQLITE_MIGRATIONS,
): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const applied = db.prepare<[number], number>('SELECT 1 FROM schema_migrations WHERE version = ?').pluck();
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const migration of migrations) {
    const apply = db.transaction(() => {
      if (applied.get(migration.version) !== undefined) return;
      migration.up(db);
      record.run(migration.version, migration.name, Date.now());
    });
    apply.immediate();
  }
}
