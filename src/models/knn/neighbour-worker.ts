/**
 * Worker entry: claims item chunks from the shared counter until none is left, computing
 * their neighbour pairs into its own heap set, which it posts back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { NeighbourAccumulator, NeighbourHeaps, neighbourCount } from '../../kernels/item-neighbours.js';
import type { NeighbourHeapBuffers, NeighbourJob } from './parallel-neighbours.js';

const job = workerData as NeighbourJob;
const heaps = new NeighbourHeaps(job.problem.items, neighbourCount(job.problem));
const accumulator = new NeighbourAccumulator(job.problem);
const chunks = job.bounds.length - 1;
for (let c = Atomics.add(job.next, 0, 1); c < chunks; c = Atomics.add(job.next, 0, 1)) {
  accumulator.run(job.bounds[c], job.bounds[c + 1], heaps);
}
const result: NeighbourHeapBuffers = { index: heaps.index, score: heaps.score, size: heaps.size };
const transfer = [heaps.index.buffer, heaps.score.buffer, heaps.size.buffer] as ArrayBuffer[];
if (!parentPort) throw new Error('neighbour-worker must run in a worker thread');
parentPort.postMessage(result, transfer);
