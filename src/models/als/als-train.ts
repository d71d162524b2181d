/**
 * The ALS fit loop. The interaction matrix (with its extra confidences) and both factor
 * matrices go into one shared workspace; each iteration solves the item side with the user
 * factors fixed, then the user side with the item factors fixed, each half-step preceded by
 * the Gram matrix of the fixed side (summed from fixed-size chunks in a fixed order). With
 * more than one thread the chunks are claimed by persistent workers; otherwise the calling
 * thread runs them. Either way the factors are the same for a given seed.
 */
import type { Worker } from 'node:worker_threads';
import { finishGram } from '../../kernels/als-kernels.js';
import {
  createKernelMemory,
  instantiateAlsKernel,
  isKernelMemory,
  WASM_RESERVED_BYTES,
  type KernelMemory,
} from '../../kernels/als-wasm.js';
import { Rng } from '../../ingest/prng.js';
import { siblingModule, startWorker } from '../worker-threads.js';
import { AlsThread } from './als-thread.js';
import type { AlsWorkerData, AlsWorkerReply } from './als-worker.js';
import {
  alsLayout,
  alsViews,
  NEXT_CHUNK,
  type AlsKernel,
  type AlsLayout,
  type AlsPhase,
  type AlsSolver,
  type AlsViews,
} from './workspace.js';

/** A users × items CSR pattern with the extra confidence (c − 1) of every stored pair. */
export interface ConfidenceRows {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  /** The extra confidence shared by every stored entry, or null when they differ. */
  uniformExtra: number | null;
  /** Writes the extra confidence of every stored entry, in CSR order, into `out` (when not uniform). */
  writeExtra(out: Float32Array): void;
}

export interface AlsTrainOptions {
  factors: number;
  regularization: number;
  iterations: number;
  cgSteps: number;
  solver: AlsSolver;
  kernel: AlsKernel;
  /** 1: the calling thread; more: that many workers. */
  threads: number;
  seed: number;
  /** Called after each iteration with its index (from 0) and duration in seconds. */
  onIteration?: (iteration: number, seconds: number) => void;
  /** Called after each phase with its duration in seconds. */
  onPhase?: (phase: AlsPhase, seconds: number) => void;
}

export interface AlsFactors {
  /** users × factors, row-major. */
  userFactors: Float32Array;
  /** items × factors, row-major. */
  itemFactors: Float32Array;
}

/** Solve chunks per thread (claimed dynamically, so a slower core takes fewer). */
const CHUNKS_PER_THREAD = 32;
/** Scale of the uniform initial factors. */
const INIT_SCALE = 0.01;

export async function trainAls(m: ConfidenceRows, o: AlsTrainOptions): Promise<AlsFactors> {
  const threads = Math.max(1, Math.floor(o.threads));
  const nnz = m.indptr[m.rows];
  const layout = alsLayout(
    {
      users: m.rows,
      items: m.cols,
      nnz,
      uniformExtra: m.uniformExtra,
      k: o.factors,
      lambda: o.regularization,
      cgSteps: o.cgSteps,
      solver: o.solver,
      kernel: o.kernel,
      threads,
      userChunks: Math.max(1, Math.min(m.rows, threads * CHUNKS_PER_THREAD)),
      itemChunks: Math.max(1, Math.min(m.cols, threads * CHUNKS_PER_THREAD)),
    },
    o.kernel === 'wasm' ? WASM_RESERVED_BYTES : 0,
  );
  const memory: SharedArrayBuffer | KernelMemory =
    o.kernel === 'wasm' ? createKernelMemory(layout.byteLength) : new SharedArrayBuffer(layout.byteLength);
  const buffer = isKernelMemory(memory) ? memory.buffer : memory;
  const v = alsViews(buffer, layout);
  fillWorkspace(m, v, layout, o.seed);

  const inner =
    threads === 1 ? inlineRunner(buffer, layout, memory) : await workerRunner(memory, layout, threads);
  const onPhase = o.onPhase;
  const runner: PhaseRunner = onPhase
    ? {
        run: async (phase) => {
          const t = performance.now();
          await inner.run(phase);
          onPhase(phase, (performance.now() - t) / 1000);
        },
        close: () => inner.close(),
      }
    : inner;
  try {
    for (let it = 0; it < o.iterations; it++) {
      const t0 = performance.now();
      await halfStep(runner, v, layout, 'items');
      await halfStep(runner, v, layout, 'users');
      o.onIteration?.(it, (performance.now() - t0) / 1000);
    }
  } finally {
    await runner.close();
  }
  return {
    userFactors: compact(v.userFactors, layout.users, layout.k, layout.stride),
    itemFactors: compact(v.itemFactors, layout.items, layout.k, layout.stride),
  };
}

interface PhaseRunner {
  run(phase: AlsPhase): Promise<void>;
  close(): Promise<void>;
}

async function halfStep(
  runner: PhaseRunner,
  v: AlsViews,
  l: AlsLayout,
  solve: 'users' | 'items',
): Promise<void> {
  // The Gram matrix of the fixed side: users when solving items, and vice versa.
  const fixedUsers = solve === 'items';
  Atomics.store(v.control, NEXT_CHUNK, 0);
  await runner.run(fixedUsers ? 'gram-users' : 'gram-items');
  const chunks = fixedUsers ? l.userGramChunks : l.itemGramChunks;
  const k = l.k;
  const k2 = k * k;
  const g = v.gram;
  const partials = v.partials;
  g.fill(0);
  for (let c = 0; c < chunks; c++) {
    const o = c * k2;
    for (let a = 0; a < k; a++) {
      const ra = a * k;
      for (let b = 0; b <= a; b++) g[ra + b] += partials[o + ra + b];
    }
  }
  finishGram(g, k, l.lambda);
  const g32 = v.gram32;
  const s = l.stride;
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) g32[a * s + b] = g[a * k + b];
  Atomics.store(v.control, NEXT_CHUNK, 0);
  await runner.run(solve === 'users' ? 'solve-users' : 'solve-items');
}

function inlineRunner(
  buffer: ArrayBufferLike,
  layout: AlsLayout,
  memory: SharedArrayBuffer | KernelMemory,
): PhaseRunner {
  const wasm = isKernelMemory(memory) ? instantiateAlsKernel(memory) : null;
  const thread = new AlsThread(buffer, layout, 0, wasm);
  return {
    run: async (phase) => thread.run(phase),
    close: async () => undefined,
  };
}

async function workerRunner(
  memory: SharedArrayBuffer | KernelMemory,
  layout: AlsLayout,
  threads: number,
): Promise<PhaseRunner> {
  const url = siblingModule(import.meta.url, 'als-worker');
  const workers: Worker[] = [];
  let failure: Error | null = null;
  const waiters = new Set<(err: Error | null) => void>();
  const fail = (err: Error): void => {
    failure ??= err;
    for (const w of waiters) w(failure);
  };
  for (let t = 0; t < threads; t++) {
    const data: AlsWorkerData = { memory, layout, thread: t };
    const w = startWorker(url, data);
    w.on('error', fail);
    w.on('exit', (code) => {
      if (code !== 0) fail(new Error(`ALS worker exited with code ${code}`));
    });
    workers.push(w);
  }
  const runOn = (w: Worker, phase: AlsPhase): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (failure) return reject(failure);
      const settle = (err: Error | null): void => {
        waiters.delete(settle);
        w.off('message', onMessage);
        if (err) reject(err);
        else resolve();
      };
      const onMessage = (reply: AlsWorkerReply): void => {
        settle('error' in reply ? new Error(`ALS worker failed: ${reply.error}`) : null);
      };
      waiters.add(settle);
      w.on('message', onMessage);
      w.postMessage(phase);
    });
  return {
    run: async (phase) => {
      await Promise.all(workers.map((w) => runOn(w, phase)));
    },
    close: async () => {
      for (const w of workers) w.removeAllListeners('exit');
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/** Copies the matrix in (both orientations), seeds the factors and sets the work chunks. */
function fillWorkspace(m: ConfidenceRows, v: AlsViews, l: AlsLayout, seed: number): void {
  const nnz = l.nnz;
  v.userIndptr.set(m.indptr.subarray(0, l.users + 1));
  v.userIndices.set(m.indices.subarray(0, nnz));
  const perEntry = l.uniformExtra === null;
  if (perEntry) m.writeExtra(v.userExtra);
  // Transpose: items × users, users ascending within each item.
  const tptr = v.itemIndptr;
  tptr.fill(0);
  for (let p = 0; p < nnz; p++) tptr[m.indices[p] + 1]++;
  for (let i = 0; i < l.items; i++) tptr[i + 1] += tptr[i];
  const next = tptr.slice(0, l.items);
  for (let u = 0; u < l.users; u++) {
    for (let p = m.indptr[u], end = m.indptr[u + 1]; p < end; p++) {
      const q = next[m.indices[p]]++;
      v.itemIndices[q] = u;
      if (perEntry) v.itemExtra[q] = v.userExtra[p];
    }
  }
  const rng = new Rng(seed);
  initFactors(v.userFactors, l.users, l.k, l.stride, rng);
  initFactors(v.itemFactors, l.items, l.k, l.stride, rng);
  balancedBounds(v.userIndptr, l.users, l.k, v.userBounds);
  balancedBounds(v.itemIndptr, l.items, l.k, v.itemBounds);
}

function initFactors(f: Float32Array, rows: number, k: number, stride: number, rng: Rng): void {
  for (let r = 0; r < rows; r++) {
    const o = r * stride;
    for (let c = 0; c < k; c++) f[o + c] = (rng.next() - 0.5) * 2 * INIT_SCALE;
  }
}

/** Chunk boundaries over rows of about equal cost (stored entries + k/2 per row). */
function balancedBounds(indptr: Int32Array, rows: number, k: number, bounds: Int32Array): void {
  const chunks = bounds.length - 1;
  const total = indptr[rows] + (rows * k) / 2;
  let r = 0;
  bounds[0] = 0;
  for (let c = 1; c < chunks; c++) {
    const target = (total * c) / chunks;
    while (r < rows && indptr[r] + (r * k) / 2 < target) r++;
    bounds[c] = r;
  }
  bounds[chunks] = rows;
}

function compact(f: Float32Array, rows: number, k: number, stride: number): Float32Array {
  if (stride === k) return f.slice(0, rows * k);
  const out = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) out.set(f.subarray(r * stride, r * stride + k), r * k);
  return out;
}
