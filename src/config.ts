import path from 'node:path';

/**
 * Runtime configuration, from (in increasing priority) defaults, environment variables
 * and explicit overrides such as CLI flags.
 *
 * | env                 | meaning                                   | default              |
 * |---------------------|-------------------------------------------|----------------------|
 * | KINDRED_DATA_DIR    | where the SQLite file and models live     | ./kindred-data       |
 * | KINDRED_STORE       | `sqlite` or `postgres`                    | sqlite               |
 * | KINDRED_DB          | SQLite file                               | <data dir>/kindred.db|
 * | KINDRED_PG_URL      | PostgreSQL connection string              | postgres://postgres@127.0.0.1:5432/test |
 * | KINDRED_PG_SCHEMA   | PostgreSQL schema                         | kindred              |
 * | KINDRED_HOST        | HTTP bind address                         | 127.0.0.1            |
 * | KINDRED_PORT        | HTTP port                                 | 8080                 |
 * | KINDRED_LOG_LEVEL   | pino level (silent, info, debug, ...)     | info                 |
 * | KINDRED_HISTORY_MEMORY_EVENTS | most events `serve` indexes in memory for histories (SQLite, ~30 bytes each; more: none; 0: off) | 20000000 |
 * | KINDRED_WORKER_GC   | garbage collection of serving workers: `single` (on their own thread), `parallel` (V8's helper threads), `auto` | auto |
 */
export interface KindredConfig {
  dataDir: string;
  store: StoreConfig;
  modelsDir: string;
  host: string;
  port: number;
  logLevel: string;
  /** Most events a serving process indexes in memory for histories (0: none); see the table. */
  historyMemoryEvents: number;
  /** How serving workers collect garbage; see `workerGcFlags`. */
  workerGc: WorkerGc;
}

/**
 * `single`: each worker collects garbage on its own thread; `parallel`: with V8's helper threads;
 * `auto`: single once there are as many workers as cores. With a worker on every core, helper
 * threads have no idle core to run on: a worker's concurrent marking then takes the core of
 * another worker, and both stall at once.
 */
export type WorkerGc = 'auto' | 'single' | 'parallel';

/**
 * How far a serving worker's old generation may grow past what the last full collection kept
 * before the next one starts: to twice that. Left to itself, V8 grows a heap whose program it
 * judges to allocate slowly by as little as a tenth, so a worker that keeps ~70 MB ran a full
 * collection every few seconds under load, each a burst of marking and a pause that answers
 * queued behind. The cost is at most the kept size again in memory.
 */
export const WORKER_HEAP_GROWTH_FLAG = '--heap-growing-percent=100';

/** Single-threaded collection, where chosen (see WorkerGc). */
export const SINGLE_THREADED_GC_FLAG = '--single-threaded-gc';

/** Node flags for the serving workers of a multi-process server. */
export function workerGcFlags(gc: WorkerGc, workers: number, cores: number): string[] {
  const single = gc === 'single' || (gc === 'auto' && workers >= cores);
  return single ? [SINGLE_THREADED_GC_FLAG, WORKER_HEAP_GROWTH_FLAG] : [WORKER_HEAP_GROWTH_FLAG];
}

/** About 27 bytes per event: 20M events take ~0.6 GB per serving process. */
const DEFAULT_HISTORY_MEMORY_EVENTS = 20_000_000;

export type StoreConfig =
  { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string; schema: string };

export interface ConfigOverrides {
  dataDir?: string;
  store?: string;
  db?: string;
  pgUrl?: string;
  pgSchema?: string;
  host?: string;
  port?: number | string;
  logLevel?: string;
}

export function loadConfig(
  overrides: ConfigOverrides = {},
  env: NodeJS.ProcessEnv = process.env,
): KindredConfig {
  const dataDir = path.resolve(overrides.dataDir ?? env.KINDRED_DATA_DIR ?? 'kindred-data');
  const kind = overrides.store ?? env.KINDRED_STORE ?? 'sqlite';
  let store: StoreConfig;
  if (kind === 'sqlite') {
    store = { kind, path: path.resolve(overrides.db ?? env.KINDRED_DB ?? path.join(dataDir, 'kindred.db')) };
  } else if (kind === 'postgres') {
    store = {
      kind,
      url: overrides.pgUrl ?? env.KINDRED_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      schema: overrides.pgSchema ?? env.KINDRED_PG_SCHEMA ?? 'kindred',
    };
  } else {
    throw new Error(`store must be 'sqlite' or 'postgres', got '${kind}'`);
  }
  const port = Number(overrides.port ?? env.KINDRED_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`port must be an integer 0..65535, got '${overrides.port ?? env.KINDRED_PORT}'`);
  }
  return {
    dataDir,
    store,
    modelsDir: path.join(dataDir, 'models'),
    host: overrides.host ?? env.KINDRED_HOST ?? '127.0.0.1',
    port,
    logLevel: overrides.logLevel ?? env.KINDRED_LOG_LEVEL ?? 'info',
    historyMemoryEvents: historyMemoryEvents(env.KINDRED_HISTORY_MEMORY_EVENTS),
    workerGc: workerGc(env.KINDRED_WORKER_GC),
  };
}

function workerGc(raw: string | undefined): WorkerGc {
  const v = (raw ?? '').trim();
  if (v === '') return 'auto';
  if (v === 'auto' || v === 'single' || v === 'parallel') return v;
  throw new Error(`KINDRED_WORKER_GC must be 'auto', 'single' or 'parallel', got '${raw}'`);
}

function historyMemoryEvents(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_HISTORY_MEMORY_EVENTS;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new Error(
      `KINDRED_HISTORY_MEMORY_EVENTS must be a whole number of events, 0 to disable, got '${raw}'`,
    );
  }
  return n;
}
