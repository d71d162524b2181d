/**
 * Worker entry of a parallel ALS fit: attaches to the shared workspace, then runs each phase
 * the parent posts and answers 'done' (or the error message).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { instantiateAlsKernel, isKernelMemory, type KernelMemory } from '../../kernels/als-wasm.js';
import { AlsThread } from './als-thread.js';
import type { AlsLayout, AlsPhase } from './workspace.js';

export interface AlsWorkerData {
  /** The workspace: a SharedArrayBuffer, or the shared memory of the wasm kernel. */
  memory: SharedArrayBuffer | KernelMemory;
  layout: AlsLayout;
  thread: number;
}

export type AlsWorkerReply = { done: true } | { error: string };

const data = workerData as AlsWorkerData;
const port = parentPort;
if (!port) throw new Error('als-worker must run in a worker thread');
const memory = data.memory;
const wasm = isKernelMemory(memory) ? instantiateAlsKernel(memory) : null;
const buffer = isKernelMemory(memory) ? memory.buffer : memory;
const thread = new AlsThread(buffer, data.layout, data.thread, wasm);
port.on('message', (phase: AlsPhase) => {
  try {
    thread.run(phase);
    port.postMessage({ done: true } satisfies AlsWorkerReply);
  } catch (err) {
    port.postMessage({
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    } satisfies AlsWorkerReply);
  }
});
