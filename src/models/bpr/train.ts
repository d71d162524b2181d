/**
 * Fitting BPR and WARP: the data cut into per-thread tasks, run either with the WebAssembly SIMD
 * loops (ranking-kernel.as; the default where the runtime supports them) or with the portable
 * TypeScript kernels (src/kernels/bpr-sgd.ts, warp-sgd.ts; used for Adadelta and where
 * WebAssembly SIMD is missing), on the calling thread (one task) or on worker threads sharing
 * the arrays (Hogwild). One task gives the same result on a worker as on the calling thread.
 */
import type { ValueTransform } from '../../data/csr-build.js';
import type { InteractionData } from '../../data/interactions.js';
import type { FactorArrays } from '../../kernels/bpr-common.js';
import { runBpr, trainableUsers, type BprSettings, type BprTask } from '../../kernels/bpr-sgd.js';
import { runWarp, warpAccumulators, type WarpSettings, type WarpTask } from '../../kernels/warp-sgd.js';
import {
  initialFactors,
  positiveRows,
  sampleWeights,
  sharedCopy,
  STREAM_RUN,
  userRanges,
} from './factor-model.js';
import { runSgdJobs, type SgdJob } from './parallel-sgd.js';
import {
  prepareWasmWarp,
  rankingWasmSupported,
  RankingWorkspace,
  runWasmBpr,
  runWasmWarp,
  type WasmBprTask,
  type WasmWarpTask,
} from './wasm/ranking-wasm.js';

export interface FitShape {
  factors: number;
  weighting: ValueTransform;
  seed: number;
}

/** The tasks of a fit, and how to collect the trained factors once they have run. */
export interface TrainingPlan {
  jobs: SgdJob[];
  /** The trained factors (on ordinary buffers); call after every job has run. */
  finish(): FactorArrays;
}

/** Runs the plan's jobs one after another on the calling thread. */
export function trainHere(plan: TrainingPlan): FactorArrays {
  for (const job of plan.jobs) runJob(job);
  return plan.finish();
}

/**
 * Runs each of the plan's jobs on its own worker thread. The workers meet at a barrier before
 * the first epoch and after every epoch, so that none runs ahead of the others' learning-rate
 * schedule (a worker started late or descheduled would otherwise keep training the shared
 * item factors after the others have finished).
 */
export async function trainOnWorkers(plan: TrainingPlan): Promise<FactorArrays> {
  const barrier = new Int32Array(new SharedArrayBuffer(8));
  await runSgdJobs(plan.jobs.map((job) => ({ job, barrier, parties: plan.jobs.length })));
  return plan.finish();
}

/**
 * Waits until `parties` threads have called this on the same barrier (an Int32Array of two:
 * arrivals, generation). Not for the main thread, which may not block.
 */
export function awaitBarrier(barrier: Int32Array, parties: number): void {
  if (parties <= 1) return;
  const generation = Atomics.load(barrier, 1);
  if (Atomics.add(barrier, 0, 1) === parties - 1) {
    Atomics.store(barrier, 0, 0);
    Atomics.add(barrier, 1, 1);
    Atomics.notify(barrier, 1);
  } else {
    while (Atomics.load(barrier, 1) === generation) Atomics.wait(barrier, 1, generation);
  }
}

/** Runs one job on the current thread, calling `afterEpoch` (if given) after each epoch. */
export function runJob(job: SgdJob, afterEpoch?: (epoch: number) => void): void {
  switch (job.kind) {
    case 'bpr':
      runBpr(job.task, afterEpoch);
      break;
    case 'warp':
      runWarp(job.task, afterEpoch);
      break;
    case 'bpr-wasm':
      runWasmBpr(job.task, afterEpoch);
      break;
    case 'warp-wasm':
      runWasmWarp(job.task, afterEpoch);
      break;
  }
}

/**
 * A BPR fit of `data` as `threads` tasks over equal contiguous shares of the trainable users,
 * each with its share of the steps per epoch (one per positive overall); `onWorkers` puts the
 * arrays where worker threads can share them.
 */
export function planBpr(
  data: InteractionData,
  shape: FitShape,
  settings: BprSettings,
  threads: number,
  onWorkers: boolean,
): TrainingPlan {
  const wasm = rankingWasmSupported();
  const shared = onWorkers && !wasm;
  const model = initialFactors(data, shape.factors, shape.seed, shared);
  const rows = positiveRows(data, shared);
  const weights = sampleWeights(data, shape.weighting, shared);
  const all = trainableUsers(rows, model.users, model.items);
  const nnz = rows.indptr[model.users];
  const parts = Math.max(1, Math.min(threads, all.length));
  const workspace = wasm ? new RankingWorkspace(model, rows, weights, all.length * 4, null) : null;
  if (workspace) workspace.int32(workspace.layout.scratch, all.length).set(all);
  const jobs: SgdJob[] = [];
  for (let t = 0; t < parts; t++) {
    const from = Math.floor((all.length * t) / parts);
    const to = Math.floor((all.length * (t + 1)) / parts);
    const samplesPerEpoch = Math.round((nnz * (to - from)) / Math.max(1, all.length));
    const stream = STREAM_RUN + t;
    if (workspace) {
      const task: WasmBprTask = {
        memory: workspace.memory,
        layout: workspace.layout,
        settings,
        sampleUsers: workspace.layout.scratch + from * 4,
        nUsers: to - from,
        samplesPerEpoch,
        seed: shape.seed,
        stream,
      };
      jobs.push({ kind: 'bpr-wasm', task });
    } else {
      const task: BprTask = {
        model,
        rows,
        weights,
        settings,
        sampleUsers: sharedCopy(all.slice(from, to), shared),
        samplesPerEpoch,
        seed: shape.seed,
        stream,
      };
      jobs.push({ kind: 'bpr', task });
    }
  }
  return { jobs, finish: () => collect(model, workspace) };
}

/**
 * A WARP fit of `data` as `threads` tasks over contiguous user ranges of about equal positives;
 * `onWorkers` puts the arrays where worker threads can share them.
 */
export function planWarp(
  data: InteractionData,
  shape: FitShape,
  settings: WarpSettings,
  threads: number,
  onWorkers: boolean,
): TrainingPlan {
  const wasm = settings.optimizer === 'adagrad' && rankingWasmSupported();
  const shared = onWorkers && !wasm;
  const model = initialFactors(data, shape.factors, shape.seed, shared);
  const rows = positiveRows(data, shared);
  const weights = sampleWeights(data, shape.weighting, shared);
  const nnz = rows.indptr[model.users];
  const bounds = userRanges(rows.indptr, model.users, Math.max(1, threads));
  const maxSampled = Math.max(1, settings.maxSampled | 0);
  const workspace = wasm ? new RankingWorkspace(model, rows, weights, nnz * 8, { maxSampled }) : null;
  const acc = workspace
    ? null
    : warpAccumulators(model.users, model.items, model.factors, settings.optimizer, (b) =>
        shared ? new SharedArrayBuffer(b) : new ArrayBuffer(b),
      );
  const jobs: SgdJob[] = [];
  for (let t = 0; t + 1 < bounds.length; t++) {
    const userStart = bounds[t];
    const userEnd = bounds[t + 1];
    if (userEnd <= userStart) continue;
    const stream = STREAM_RUN + t;
    if (workspace) {
      const base = rows.indptr[userStart] * 4;
      const task: WasmWarpTask = {
        memory: workspace.memory,
        layout: workspace.layout,
        settings,
        userStart,
        userEnd,
        order: workspace.layout.scratch + base,
        owner: workspace.layout.scratch + nnz * 4 + base,
        seed: shape.seed,
        stream,
      };
      prepareWasmWarp(task);
      jobs.push({ kind: 'warp-wasm', task });
    } else if (acc) {
      const task: WarpTask = {
        model,
        rows,
        weights,
        acc,
        settings,
        userStart,
        userEnd,
        seed: shape.seed,
        stream,
      };
      jobs.push({ kind: 'warp', task });
    }
  }
  return { jobs, finish: () => collect(model, workspace) };
}

/** The trained factors on ordinary buffers: read out of the workspace, or unshared. */
function collect(model: FactorArrays, workspace: RankingWorkspace | null): FactorArrays {
  if (workspace) {
    workspace.readFactors(model);
    return model;
  }
  const copy = (x: Float32Array): Float32Array =>
    x.buffer instanceof SharedArrayBuffer ? new Float32Array(x) : x;
  return {
    ...model,
    userFactors: copy(model.userFactors),
    itemFactors: copy(model.itemFactors),
    itemBias: copy(model.itemBias),
  };
}
