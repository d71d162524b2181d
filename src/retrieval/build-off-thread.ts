/** HNSW builds off the serving thread (see hnsw-build-worker.ts). */
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runWorker, siblingModule } from '../models/worker-threads.js';
import type { HnswBuildJob } from './hnsw-build-worker.js';
import { HnswIndex, type HnswOptions } from './hnsw-index.js';

/**
 * Builds the index on a worker thread and loads it here without blocking; the vectors are copied
 * to the worker. With `saveTo`, the built index is also kept in that file (written whole, then
 * renamed into place) for the next process to load instead of building.
 */
export async function buildHnswOffThread(
  vectors: Float32Array,
  count: number,
  dim: number,
  options: HnswOptions = {},
  saveTo?: string,
): Promise<HnswIndex> {
  const dir = mkdtempSync(path.join(saveTo ? path.dirname(saveTo) : tmpdir(), '.kindred-hnsw-'));
  try {
    const file = path.join(dir, 'index.kdvi');
    const job: HnswBuildJob = { vectors, count, dim, file, options };
    await runWorker<{ done: true }>(siblingModule(import.meta.url, 'hnsw-build-worker'), job).result;
    if (!saveTo) return await HnswIndex.loadAsync(file);
    renameSync(file, saveTo);
    return await HnswIndex.loadAsync(saveTo);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
