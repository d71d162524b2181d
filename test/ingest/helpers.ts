import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

export async function memoryStore(): Promise<SqliteStore> {
  const store = new SqliteStore(':memory:');
  await store.init();
  return store;
}

/** A temporary folder; `file(name, text)` writes into it, `remove()` deletes it. */
export function tempFolder(): {
  dir: string;
  file(name: string, content: string | Buffer): string;
  remove(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'kindred-ingest-'));
  return {
    dir,
    file(name, content) {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
