import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export type OpenStoreConfig =
  { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string; schema?: string };

/** Constructs the configured store (creating the SQLite file's folder) and brings its schema up to date. */
export async function openStore(config: OpenStoreConfig): Promise<Store> {
  if (config.kind === 'sqlite' && config.path !== ':memory:') {
    mkdirSync(path.dirname(config.path), { recursive: true });
  }
  const store: Store =
    config.kind === 'sqlite'
      ? new SqliteStore(config.path)
      : new PostgresStore({ connectionString: config.url, schema: config.schema });
  try {
    await store.init();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  return store;
}
