/**
 * Item neighbours on worker threads. The matrices go into SharedArrayBuffers; the items are
 * cut into chunks of about equal estimated work, which the workers claim one at a time from
 * a shared counter (so estimate errors even out); each worker returns its heap set and the
 * sets are merged. The calling thread stays free while the workers run.
 */
import {
  balancedRanges,
  NeighbourHeaps,
  neighbourCount,
  workPrefix,
  type NeighbourLists,
  type NeighbourProblem,
  type SparseRows,
} from '../../kernels/item-neighbours.js';
import { allWorkers, runWorker, siblingModule, type WorkerRun } from '../worker-threads.js';

export interface NeighbourJob {
  problem: NeighbourProblem;
  /** Chunk boundaries over the items. */
  bounds: Int32Array;
  /** Shared counter: the next chunk to claim. */
  next: Int32Array;
}

/** Chunks per worker; more even out the load better, each costs a little set-up. */
const CHUNKS_PER_THREAD = 16;

export interface NeighbourHeapBuffers {
  index: Int32Array;
  score: Float32Array;
  size: Int32Array;
}

type Numeric = Int32Array | Float32Array | Float64Array;

function shared<T extends Numeric>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const buffer = new SharedArrayBuffer(a.byteLength);
  new Uint8Array(buffer).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  const ctor = a.constructor as new (buffer: SharedArrayBuffer) => T;
  return new ctor(buffer);
}

function sharedRows(m: SparseRows): SparseRows {
  return { indptr: shared(m.indptr), indices: shared(m.indices), data: shared(m.data) };
}

/**
 * Neighbour lists of every item, computed by `threads` workers. `prefix` is the problem's
 * workPrefix when the caller already has it.
 */
export async function computeNeighboursParallel(
  problem: NeighbourProblem,
  threads: number,
  prefix: Float64Array = workPrefix(problem),
): Promise<NeighbourLists> {
  const job: NeighbourProblem = {
    ...problem,
    userItems: sharedRows(problem.userItems),
    itemUsers: sharedRows(problem.itemUsers),
    norms: shared(problem.norms),
  };
  const bounds = balancedRanges(prefix, threads * CHUNKS_PER_THREAD);
  const data: NeighbourJob = { problem: job, bounds, next: new Int32Array(new SharedArrayBuffer(4)) };
  const url = siblingModule(import.meta.url, 'neighbour-worker');
  const runs: WorkerRun<NeighbourHeapBuffers>[] = [];
  for (let t = 0; t < threads; t++) runs.push(runWorker<NeighbourHeapBuffers>(url, data));
  const k = neighbourCount(problem);
  const results = await allWorkers(runs);
  const heaps = new NeighbourHeaps(problem.items, k, results[0]);
  for (let r = 1; r < results.length; r++) heaps.mergeFrom(new NeighbourHeaps(problem.items, k, results[r]));
  return heaps.toLists();
}
