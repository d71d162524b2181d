import { Command } from 'commander';
import { loadSampleShop } from '../ingest/sample-shop.js';
import { configFrom, openEngine, withStoreOptions, type StoreFlags } from './common.js';
import { startServer } from './serve.js';

export function demoCommand(): Command {
  return withStoreOptions(new Command('demo'))
    .description('load the generated sample shop (if the store is empty), train, and serve it over HTTP')
    .option('--host <host>', 'address to bind (env KINDRED_HOST)')
    .option('--port <port>', 'port to listen on (env KINDRED_PORT)')
    .option('--log-level <level>', 'silent, error, warn, info, debug (env KINDRED_LOG_LEVEL)', 'warn')
    .option('--retrain', 'train again even if trained models exist')
    .action(async (flags: StoreFlags & { retrain?: boolean }) => {
      const config = configFrom(flags);
      const engine = await openEngine(config);
      const { store } = engine;
      if ((await store.countEvents()) === 0) {
        console.log(
          'Loading the sample shop into',
          config.store.kind === 'sqlite' ? config.store.path : 'PostgreSQL',
        );
        await loadSampleShop(store, {}, { silent: false });
      }
      if (flags.retrain || !engine.service.ready) {
        await engine.train({ progress: (m) => console.log(m) });
      }
      const server = await startServer(engine, config.host, config.port, config.logLevel);
      const user = (await store.listUsers({ limit: 1 })).rows[0]?.id ?? 'u1';
      const item = (await store.listItems({ limit: 1 })).rows[0]?.id ?? 'i1';
      const [users, items, events] = await Promise.all([
        store.countUsers(),
        store.countItems(),
        store.countEvents(),
      ]);
      console.log(`
Kindred is serving the sample shop (${users} users, ${items} items, ${events} events) at ${server.url}

  API docs:          ${server.url}/docs
  recommendations:   curl '${server.url}/recommend/${user}?k=5'
  similar items:     curl '${server.url}/items/${item}/similar?k=5'
  send an event:     curl -X POST ${server.url}/events -H 'content-type: application/json' \\
                       -d '[{"userId":"${user}","itemId":"${item}","type":"purchase"}]'

Press Ctrl+C to stop.`);
    });
}
