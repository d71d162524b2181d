/**
 * Neighbour lists on worker threads. The matrices go into SharedArrayBuffers; the rows are
 * cut into chunks of about equal estimated work, which the workers claim one at a time from
 * a shared counter (so estimate errors even out), writing each finished row straight into
 * shared output rows. The calling thread stays free while the workers run.
 */
import {
  balancedRanges,
  neighbourCount,
  type NeighbourLists,
  type SparseRows,
} from '../../kernels/item-neighbours.js';
import { allWorkers, runWorker, siblingModule, type WorkerRun } from '../worker-threads.js';
import {
  neighbourRows,
  packRows,
  rowWorkPrefix,
  type NeighbourRows,
  type SimilarityProblem,
} from './similarity.js';

export interface NeighbourJob {
  problem: SimilarityProblem;
  /** Chunk boundaries over the rows. */
  bounds: Int32Array;
  /** Shared counter: the next chunk to claim. */
  next: Int32Array;
  /** Shared output rows. */
  out: NeighbourRows;
}

/** Chunks per worker; more even out the load better, each costs a little set-up. */
const CHUNKS_PER_THREAD = 16;

type Numeric = Int32Array | Float32Array | Float64Array;

function shared<T extends Numeric>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const buffer = new SharedArrayBuffer(Math.max(8, a.byteLength));
  new Uint8Array(buffer).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  const ctor = a.constructor as new (buffer: SharedArrayBuffer, offset: number, length: number) => T;
  return new ctor(buffer, 0, a.length);
}

function sharedRows(m: SparseRows): SparseRows {
  return { indptr: shared(m.indptr), indices: shared(m.indices), data: shared(m.data) };
}

/**
 * Neighbour lists of every row, computed by `threads` workers. `prefix` is the problem's
 * rowWorkPrefix when the caller already has it.
 */
export async function computeNeighboursParallel(
  problem: SimilarityProblem,
  threads: number,
  prefix: Float64Array = rowWorkPrefix(problem),
): Promise<NeighbourLists> {
  const job: SimilarityProblem = {
    ...problem,
    userItems: sharedRows(problem.userItems),
    itemUsers: sharedRows(problem.itemUsers),
    norms: shared(problem.norms),
  };
  const out = neighbourRows(problem.items, neighbourCount(problem), true);
  const bounds = balancedRanges(prefix, threads * CHUNKS_PER_THREAD);
  const data: NeighbourJob = { problem: job, bounds, next: new Int32Array(new SharedArrayBuffer(4)), out };
  const url = siblingModule(import.meta.url, 'neighbour-worker');
  const runs: WorkerRun<number>[] = [];
  for (let t = 0; t < threads; t++) runs.push(runWorker<number>(url, data));
  await allWorkers(runs);
  return packRows(out);
}
