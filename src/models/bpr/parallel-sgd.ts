/**
 * Ranking-loss SGD on worker threads. Every worker gets its own task (a share of the users)
 * over the same factor and optimiser arrays (SharedArrayBuffer-backed typed arrays, or a shared
 * WebAssembly memory) and updates them without locks (Hogwild), so runs with more than one worker are not bitwise reproducible; a single
 * task gives the same result on a worker as on the calling thread.
 */
import type { BprTask } from '../../kernels/bpr-sgd.js';
import type { WarpTask } from '../../kernels/warp-sgd.js';
import { allWorkers, runWorker, siblingModule, type WorkerRun } from '../worker-threads.js';
import type { WasmBprTask, WasmWarpTask } from './wasm/ranking-wasm.js';

export type SgdJob =
  | { kind: 'bpr'; task: BprTask }
  | { kind: 'warp'; task: WarpTask }
  | { kind: 'bpr-wasm'; task: WasmBprTask }
  | { kind: 'warp-wasm'; task: WasmWarpTask };

/** A job for one worker, with the barrier its workers meet at between epochs. */
export interface SgdWorkerData {
  job: SgdJob;
  /** Int32Array(2) on a SharedArrayBuffer: arrivals, generation. */
  barrier: Int32Array;
  parties: number;
}

/** Runs each job on its own worker; resolves when all are done (arrays must be shared). */
export async function runSgdJobs(jobs: readonly SgdWorkerData[]): Promise<void> {
  const url = siblingModule(import.meta.url, 'sgd-worker');
  const runs: WorkerRun<string>[] = jobs.map((data) => runWorker<string>(url, data));
  await allWorkers(runs);
}
