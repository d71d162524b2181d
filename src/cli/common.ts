import { Command, Option } from 'commander';
import { loadConfig, type KindredConfig } from '../config.js';
import { openStore } from '../store/open-store.js';
import { Engine } from '../serving/engine.js';

/** Options every command that touches the data accepts. */
export function withStoreOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'where the SQLite file and trained models live (env KINDRED_DATA_DIR)')
    .addOption(
      new Option('--store <kind>', 'storage backend (env KINDRED_STORE)').choices(['sqlite', 'postgres']),
    )
    .option('--db <file>', 'SQLite database file (env KINDRED_DB; default <data-dir>/kindred.db)')
    .option('--pg-url <url>', 'PostgreSQL connection string (env KINDRED_PG_URL)')
    .option('--pg-schema <name>', 'PostgreSQL schema (env KINDRED_PG_SCHEMA)');
}

export interface StoreFlags {
  dataDir?: string;
  store?: string;
  db?: string;
  pgUrl?: string;
  pgSchema?: string;
  host?: string;
  port?: string;
  logLevel?: string;
}

export function configFrom(flags: StoreFlags): KindredConfig {
  return loadConfig(flags);
}

export async function openEngine(config: KindredConfig): Promise<Engine> {
  const store = await openStore(config.store);
  const engine = new Engine(store, config.modelsDir, config);
  await engine.start();
  return engine;
}

/** Parses a positive integer flag, naming the flag in the error. */
export function positiveInt(flag: string): (raw: string) => number {
  return (raw: string) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got '${raw}'`);
    return n;
  };
}

/** `--param item-knn.neighbours=50` → { 'item-knn': { neighbours: 50 } } */
export function collectParam(
  raw: string,
  acc: Record<string, Record<string, number | string | boolean>> = {},
): Record<string, Record<string, number | string | boolean>> {
  const m = /^([a-z0-9-]+)\.([A-Za-z0-9_]+)=(.*)$/.exec(raw);
  if (!m)
    throw new Error(`--param must look like model.name=value (e.g. item-knn.neighbours=50), got '${raw}'`);
  const [, model, key, value] = m;
  const num = Number(value);
  const parsed =
    value === 'true' ? true : value === 'false' ? false : value !== '' && Number.isFinite(num) ? num : value;
  acc[model] = { ...(acc[model] ?? {}), [key]: parsed };
  return acc;
}
