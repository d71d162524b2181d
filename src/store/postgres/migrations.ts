import type pg from 'pg';
import { DEFAULT_EVENT_TYPES } from '../../domain/types.js';

export interface PostgresMigration {
  version: number;
  name: string;
  /** `schema` is already quoted; every object must be created inside it. */
  up(client: pg.ClientBase, schema: string): Promise<void>;
}

function initialSchema(s: string): string {
  return `
CREATE TABLE ${s}.users (
  idx BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  attributes JSON NOT NULL DEFAULT '{}',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE ${s}.items (
  idx BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  title TEXT,
  text TEXT,
  categories TEXT[] NOT NULL DEFAULT '{}',
  tags TEXT[] NOT NULL DEFAULT '{}',
  attributes JSON NOT NULL DEFAULT '{}',
  available BOOLEAN NOT NULL DEFAULT TRUE,
  published_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE INDEX items_categories ON ${s}.items USING GIN (categories);

CREATE TABLE ${s}.event_types (
  idx INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  weight DOUBLE PRECISION NOT NULL,
  value_mode TEXT NOT NULL CHECK (value_mode IN ('ignore', 'linear', 'log1p')),
  description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE ${s}.events (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_idx BIGINT NOT NULL,
  item_idx BIGINT NOT NULL,
  type_idx INTEGER NOT NULL,
  value DOUBLE PRECISION,
  ts BIGINT NOT NULL,
  session_id TEXT,
  context JSON,
  client_event_id TEXT
);

CREATE INDEX events_user_ts ON ${s}.events (user_idx, ts, id);
CREATE INDEX events_item ON ${s}.events (item_idx, id);
CREATE UNIQUE INDEX events_client_event_id ON ${s}.events (client_event_id) WHERE client_event_id IS NOT NULL;

CREATE TABLE ${s}.store_meta (
  key TEXT PRIMARY KEY,
  value BIGINT NOT NULL
);

INSERT INTO ${s}.store_meta (key, value) VALUES ('key_generation', 0);
`;
}

/**
 * Served recommendations, and the recommendation id of events for attribution. Scores (Float64)
 * and feature rows (Float32, row-major) are the raw bytes of the typed arrays. Only events that
 * carry a recommendation id enter `events_recommendation` (partial index), so bulk inserts of
 * plain events pay nothing for it. Events stored before this step keep a null
 * `recommendation_id`; no recommendation was logged then to attribute them to.
 */
function recommendationLog(s: string): string {
  return `
ALTER TABLE ${s}.events ADD COLUMN recommendation_id TEXT;

CREATE INDEX events_recommendation ON ${s}.events (recommendation_id) WHERE recommendation_id IS NOT NULL;

CREATE TABLE ${s}.recommendations (
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  placement TEXT NOT NULL,
  served_at BIGINT NOT NULL,
  items JSON NOT NULL,
  scores BYTEA NOT NULL,
  feature_names JSON,
  features BYTEA
);

CREATE INDEX recommendations_served_at ON ${s}.recommendations (served_at, seq);
CREATE INDEX recommendations_user ON ${s}.recommendations (user_id);
`;
}

async function seedDefaultEventTypes(client: pg.ClientBase, s: string): Promise<void> {
  await client.query(
    `INSERT INTO ${s}.event_types (name, weight, value_mode, description)
     SELECT * FROM unnest($1::text[], $2::float8[], $3::text[], $4::text[])
     ON CONFLICT (name) DO NOTHING`,
    [
      DEFAULT_EVENT_TYPES.map((t) => t.name),
      DEFAULT_EVENT_TYPES.map((t) => t.weight),
      DEFAULT_EVENT_TYPES.map((t) => t.valueMode),
      DEFAULT_EVENT_TYPES.map((t) => t.description),
    ],
  );
}

/**
 * Ordered schema steps; applied versions are recorded in `<schema>.schema_migrations`. Append new
 * steps, never edit released ones. JSON columns use `json` rather than `jsonb` so documents come
 * back byte for byte (jsonb reorders keys). Default event types are seeded once, so later edits
 * and deletions stick.
 *
 * Events carry no FOREIGN KEY clauses: the per-row referential triggers cut bulk insert throughput
 * to about a third. The store keeps references valid instead: inserts only write keys resolved in
 * their own transaction, deletes remove a user's or item's events with the row, and both
 * serialise on the `store_meta.key_generation` row (see PostgresStore).
 */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'initial schema',
    up: async (client, s) => {
      await client.query(initialSchema(s));
    },
  },
  { version: 2, name: 'default event types', up: seedDefaultEventTypes },
  {
    version: 3,
    name: 'recommendation log',
    up: async (client, s) => {
      await client.query(recommendationLog(s));
    },
  },
];

/**
 * Creates the schema if needed and applies pending migrations in one transaction. An advisory
 * lock per schema makes concurrent starters wait for each other instead of racing.
 */
export async function migratePostgres(
  client: pg.ClientBase,
  schemaName: string,
  quotedSchema: string,
  migrations: readonly PostgresMigration[] = POSTGRES_MIGRATIONS,
): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`kindred-migrate:${schemaName}`]);
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${quotedSchema}`);
  await client.query(`CREATE TABLE IF NOT EXISTS ${quotedSchema}.schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at BIGINT NOT NULL
  )`);
  const { rows } = await client.query<{ version: number }>(
    `SELECT version FROM ${quotedSchema}.schema_migrations`,
  );
  const applied = new Set(rows.map((r) => r.version));
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    await migration.up(client, quotedSchema);
    await client.query(
      `INSERT INTO ${quotedSchema}.schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
      [migration.version, migration.name, Date.now()],
    );
  }
}
