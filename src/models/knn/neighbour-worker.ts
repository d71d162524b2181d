/**
 * Worker entry: claims row chunks from the shared counter until none is left, writing the
 * neighbours of each row into the shared output rows; answers with the rows it computed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { NeighbourJob } from './parallel-neighbours.js';
import { SimilarityAccumulator } from './similarity.js';

const job = workerData as NeighbourJob;
const accumulator = new SimilarityAccumulator(job.problem);
const chunks = job.bounds.length - 1;
let rows = 0;
for (let c = Atomics.add(job.next, 0, 1); c < chunks; c = Atomics.add(job.next, 0, 1)) {
  accumulator.run(job.bounds[c], job.bounds[c + 1], job.out);
  rows += job.bounds[c + 1] - job.bounds[c];
}
if (!parentPort) throw new Error('neighbour-worker must run in a worker thread');
parentPort.postMessage(rows);
