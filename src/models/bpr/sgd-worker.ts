/**
 * Worker entry: runs one ranking-loss SGD task on shared arrays, meeting the other workers at
 * the barrier before the first epoch and after each, then reports `done`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { SgdWorkerData } from './parallel-sgd.js';
import { awaitBarrier, runJob } from './train.js';

const { job, barrier, parties } = workerData as SgdWorkerData;
awaitBarrier(barrier, parties);
runJob(job, () => awaitBarrier(barrier, parties));
if (!parentPort) throw new Error('sgd-worker must run in a worker thread');
parentPort.postMessage('done');
