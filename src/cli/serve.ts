import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { Command } from 'commander';
import { buildApp } from '../server/app.js';
import { openStore } from '../store/open-store.js';
import { startPrimary } from '../serving/cluster/primary.js';
import { workerNumber } from '../serving/cluster/messages.js';
import { joinCluster, reportReady } from '../serving/cluster/worker.js';
import { SINGLE_THREADED_GC_FLAG, workerGcFlags, type KindredConfig } from '../config.js';
import type { Engine } from '../serving/engine.js';
import { configFrom, openEngine, positiveInt, withStoreOptions, type StoreFlags } from './common.js';

function positiveNumber(flag: string): (raw: string) => number {
  return (raw: string) => {
    const n = Number(raw);
    if (!(Number.isFinite(n) && n > 0)) throw new Error(`${flag} must be a positive number, got '${raw}'`);
    return n;
  };
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Starts the HTTP API on an engine; closes both on SIGINT/SIGTERM. */
export async function startServer(
  engine: Engine,
  host: string,
  port: number,
  logLevel: string,
): Promise<RunningServer> {
  const app = await buildApp({ engine, logger: logLevel === 'silent' ? false : { level: logLevel } });
  const address = await app.listen({ host, port });
  const close = async () => {
    await app.close();
    await engine.close();
  };
  const onSignal = () => {
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return { url: address.replace('[::1]', 'localhost'), close };
}

export function serveCommand(): Command {
  return withStoreOptions(new Command('serve'))
    .description('start the HTTP API on the configured store, serving the latest trained models')
    .option('--host <host>', 'address to bind (env KINDRED_HOST)')
    .option('--port <port>', 'port to listen on (env KINDRED_PORT)')
    .option('--log-level <level>', 'silent, error, warn, info, debug (env KINDRED_LOG_LEVEL)')
    .option('--train', 'train the models from the store before serving')
    .option(
      '--workers <n>',
      "serving processes sharing the port (env KINDRED_WORKERS; 'auto': one per core; default 1)",
    )
    .option(
      '--retrain-every <minutes>',
      'retrain on a schedule, every so many minutes',
      positiveNumber('--retrain-every'),
    )
    .option(
      '--retrain-after-events <n>',
      'retrain once this many new events arrived',
      positiveInt('--retrain-after-events'),
    )
    .action(
      async (
        flags: StoreFlags & {
          train?: boolean;
          retrainEvery?: number;
          retrainAfterEvents?: number;
          workers?: string;
        },
      ) => {
        const config = configFrom(flags);
        const workers = workerCount(flags.workers ?? process.env.KINDRED_WORKERS);
        if (workers > 1 && cluster.isPrimary) return runPrimary(config, workers, flags.train === true);
        const worker = workerNumber();
        const engine = await openEngine(config);
        if (worker !== null) joinCluster(engine);
        if (flags.train && worker === null) await engine.train({ progress: (m) => console.log(m) });
        keepHistoryInMemory(engine, config, worker);
        // One worker runs the schedule; the others load what it trains.
        const schedules = worker === null || worker === 1;
        if (schedules && (flags.retrainEvery !== undefined || flags.retrainAfterEvents !== undefined))
          engine.scheduleRetraining(
            {
              intervalMs: flags.retrainEvery !== undefined ? flags.retrainEvery * 60_000 : undefined,
              afterEvents: flags.retrainAfterEvents,
            },
            (m) => console.log(m),
          );
        const server = await startServer(engine, config.host, config.port, config.logLevel);
        if (worker !== null) return reportReady(server.url);
        const models = engine.service.loadedModels().map((m) => m.info.name);
        console.log(`Kindred is listening on ${server.url} (store: ${engine.store.kind})`);
        console.log(`  API docs: ${server.url}/docs`);
        console.log(
          models.length > 0
            ? `  models: ${models.join(', ')}`
            : '  no trained model yet: run `kindred train` or POST /models/train',
        );
      },
    );
}

/**
 * Serving processes (and only they: every request reads a history) answer histories from memory
 * once the store has indexed them in the background; one line reports when that is ready.
 */
function keepHistoryInMemory(engine: Engine, config: KindredConfig, worker: number | null): void {
  const store = engine.store;
  const who = worker === null ? '' : `worker ${worker}: `;
  if (config.historyMemoryEvents === 0 || !store.keepHistoryInMemory) {
    const why = store.keepHistoryInMemory ? 'turned off' : `the ${store.kind} store serves them itself`;
    console.log(`${who}histories are read from the database: ${why} (KINDRED_HISTORY_MEMORY_EVENTS)`);
    return;
  }
  store.keepHistoryInMemory({ maxEvents: config.historyMemoryEvents }).then(
    (report) =>
      console.log(
        report.built
          ? `${who}histories in memory: ${report.events} events, ${(report.bytes / 2 ** 20).toFixed(0)} MB, ` +
              `ready in ${report.seconds.toFixed(1)} s`
          : `${who}histories are read from the database: ${report.reason} (KINDRED_HISTORY_MEMORY_EVENTS)`,
      ),
    (err: Error) => console.error(`${who}histories are read from the database: ${err.message}`),
  );
}

/** `--workers`: a positive integer, or 'auto' for one per core; absent means one. */
export function workerCount(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 1;
  if (raw === 'auto') return availableParallelism();
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new Error(`--workers must be 'auto' or an integer 1..64, got '${raw}'`);
  return n;
}

/**
 * The primary of a multi-process server: brings the store's schema up to date (and trains, when
 * asked) once, then forks the workers and waits for them to listen.
 */
async function runPrimary(config: KindredConfig, workers: number, train: boolean): Promise<void> {
  if (train) {
    const engine = await openEngine(config);
    await engine.train({ progress: (m) => console.log(m) });
    await engine.close();
  } else {
    await (await openStore(config.store)).close();
  }
  const nodeFlags = workerGcFlags(config.workerGc, workers, availableParallelism());
  const running = startPrimary({ workers, nodeFlags });
  const onSignal = () => {
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const url = await running.ready;
  console.log(
    `Kindred is listening on ${url} with ${workers} worker processes (store: ${config.store.kind}; ` +
      `garbage collection: ${nodeFlags.includes(SINGLE_THREADED_GC_FLAG) ? 'on each worker thread' : 'parallel'})`,
  );
  console.log(`  API docs: ${url}/docs`);
}
