/** An engine on a fresh SQLite file in a temporary folder, with its HTTP app, for API tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp, type App } from '../../src/server/app.js';
import { Engine } from '../../src/serving/engine.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

export interface TestApp {
  dir: string;
  engine: Engine;
  app: App;
}

/** Opens the store (`<dir>/k.db`), starts the engine (models in `<dir>/models`) and builds the app. */
export async function openTestApp(prefix: string): Promise<TestApp> {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const store = new SqliteStore(path.join(dir, 'k.db'));
  await store.init();
  const engine = new Engine(store, path.join(dir, 'models'));
  await engine.start();
  return { dir, engine, app: await buildApp({ engine }) };
}

/** Closes the app and the engine (and its store), and removes the folder. */
export async function closeTestApp({ dir, engine, app }: TestApp): Promise<void> {
  await app.close();
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
}
