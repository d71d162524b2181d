/**
 * Builds an HNSW index on a worker thread and saves it to a file, so that the serving thread
 * goes on answering while a large catalogue's graph is built (seconds for tens of thousands of
 * items); the caller then loads the file.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HnswIndex, type HnswOptions } from './hnsw-index.js';

export interface HnswBuildJob {
  vectors: Float32Array;
  count: number;
  dim: number;
  file: string;
  options?: HnswOptions;
}

const job = workerData as HnswBuildJob;
HnswIndex.build(job.vectors, job.count, job.dim, job.options ?? {}).save(job.file);
parentPort?.postMessage({ done: true });
