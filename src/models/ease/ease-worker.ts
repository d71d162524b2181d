/**
 * Worker entry: computes the EASE weights of the posted job and posts them back (moved when
 * they live in an ArrayBuffer; shared, without a copy, when they live in the kernel memory).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { easeWeights, type EaseJob } from './ease.js';

const job = workerData as EaseJob;
const weights = easeWeights(job.matrix, job.params);
if (!parentPort) throw new Error('ease-worker must run in a worker thread');
const buffer = weights.buffer;
parentPort.postMessage(weights, buffer instanceof ArrayBuffer ? [buffer] : []);
