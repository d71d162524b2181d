/**
 * Pearson-baseline neighbour lists on worker threads. The rating arrays and residuals go into
 * SharedArrayBuffers; the items are cut into chunks of about equal estimated work, which the
 * workers claim one at a time from a shared counter; the chunks' lists are concatenated in item
 * order, so the result equals the single-threaded one.
 */
import { allWorkers, runWorker, siblingModule, type WorkerRun } from '../worker-threads.js';
import { neighbourWork, type NeighbourInput, type RatingNeighbours } from './pearson-neighbours.js';

export interface NeighbourChunkJob {
  input: NeighbourInput;
  /** Chunk boundaries over the items. */
  bounds: Int32Array;
  /** Shared counter: the next chunk to claim. */
  next: Int32Array;
}

export interface NeighbourChunk {
  chunk: number;
  lists: RatingNeighbours;
}

const CHUNKS_PER_THREAD = 8;

function shared<T extends Int32Array | Float64Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const buffer = new SharedArrayBuffer(a.byteLength);
  new Uint8Array(buffer).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  const ctor = a.constructor as new (buffer: SharedArrayBuffer) => T;
  return new ctor(buffer);
}

/** Boundaries cutting the items into `parts` ranges of about equal work. */
export function workRanges(prefix: Float64Array, parts: number): Int32Array {
  const items = prefix.length - 1;
  const total = prefix[items];
  const bounds = [0];
  let i = 0;
  for (let p = 1; p < parts; p++) {
    const target = (total * p) / parts;
    while (i < items && prefix[i + 1] < target) i++;
    if (i > bounds[bounds.length - 1]) bounds.push(i);
  }
  if (bounds[bounds.length - 1] !== items) bounds.push(items);
  return Int32Array.from(bounds);
}

/** The neighbour lists of every item, computed by `threads` workers. */
export async function neighboursParallel(input: NeighbourInput, threads: number): Promise<RatingNeighbours> {
  const job: NeighbourChunkJob = {
    input: {
      ...input,
      userPtr: shared(input.userPtr),
      itemOf: shared(input.itemOf),
      userOf: shared(input.userOf),
      itemPtr: shared(input.itemPtr),
      itemPos: shared(input.itemPos),
      residual: shared(input.residual),
    },
    bounds: workRanges(neighbourWork(input), threads * CHUNKS_PER_THREAD),
    next: new Int32Array(new SharedArrayBuffer(4)),
  };
  const url = siblingModule(import.meta.url, 'knn-worker');
  const runs: WorkerRun<NeighbourChunk[]>[] = [];
  for (let t = 0; t < threads; t++) runs.push(runWorker<NeighbourChunk[]>(url, job));
  const chunks = (await allWorkers(runs)).flat().sort((a, b) => a.chunk - b.chunk);
  let nnz = 0;
  for (const c of chunks) nnz += c.lists.index.length;
  const ptr = new Int32Array(input.items + 1);
  const index = new Int32Array(nnz);
  const sim = new Float32Array(nnz);
  let at = 0;
  for (const c of chunks) {
    const from = job.bounds[c.chunk];
    const rows = c.lists.ptr.length - 1;
    for (let r = 1; r <= rows; r++) ptr[from + r] = at + c.lists.ptr[r];
    index.set(c.lists.index, at);
    sim.set(c.lists.sim, at);
    at += c.lists.index.length;
  }
  return { ptr, index, sim };
}
