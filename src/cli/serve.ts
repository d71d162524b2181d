import { Command } from 'commander';
import { buildApp } from '../server/app.js';
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
      async (flags: StoreFlags & { train?: boolean; retrainEvery?: number; retrainAfterEvents?: number }) => {
        const config = configFrom(flags);
        const engine = await openEngine(config);
        if (flags.train) await engine.train({ progress: (m) => console.log(m) });
        if (flags.retrainEvery !== undefined || flags.retrainAfterEvents !== undefined)
          engine.scheduleRetraining(
            {
              intervalMs: flags.retrainEvery !== undefined ? flags.retrainEvery * 60_000 : undefined,
              afterEvents: flags.retrainAfterEvents,
            },
            (m) => console.log(m),
          );
        const server = await startServer(engine, config.host, config.port, config.logLevel);
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
