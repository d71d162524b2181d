/**
 * Worker entry: claims item chunks from the shared counter until none is left and posts back
 * the neighbour lists of each.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { NeighbourComputer } from './pearson-neighbours.js';
import type { NeighbourChunk, NeighbourChunkJob } from './knn-parallel.js';

const job = workerData as NeighbourChunkJob;
const computer = new NeighbourComputer(job.input);
const chunks = job.bounds.length - 1;
const out: NeighbourChunk[] = [];
for (let c = Atomics.add(job.next, 0, 1); c < chunks; c = Atomics.add(job.next, 0, 1)) {
  out.push({ chunk: c, lists: computer.run(job.bounds[c], job.bounds[c + 1]) });
}
if (!parentPort) throw new Error('knn-worker must run in a worker thread');
parentPort.postMessage(out);
