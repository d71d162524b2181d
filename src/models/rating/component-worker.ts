/**
 * Worker entry: claims rating-model fits from the shared counter until none is left and posts
 * back every fitted model as artifact parts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { dataOfShared, type ComponentWork, type FittedParts } from './component-fit.js';
import { COMPONENTS } from './components.js';

const work = workerData as ComponentWork;
const datasets = work.matrices.map(dataOfShared);
const results: FittedParts[] = [];
for (let j = Atomics.add(work.next, 0, 1); j < work.jobs.length; j = Atomics.add(work.next, 0, 1)) {
  const job = work.jobs[j];
  const artifact = COMPONENTS[job.family].fit(datasets[job.data], job.params).toArtifact();
  results.push({
    job: j,
    info: artifact.header.info,
    ...(artifact.header.extra ? { extra: artifact.header.extra } : {}),
    arrays: artifact.arrays,
  });
}
if (!parentPort) throw new Error('component-worker must run in a worker thread');
parentPort.postMessage(results);
