/**
 * Batch top-K recommendation for many training users on every core.
 *
 * `BatchRecommender.start` shares what the workers need once: the model's artifact arrays and
 * the training matrix go into SharedArrayBuffers, and every worker rebuilds the model from
 * them (modelFromArtifact, so any registered model works). A request then only posts a few
 * numbers: each worker claims contiguous ranges of the requested users from a shared counter,
 * scores them with its own scratch buffers, skips each user's training items (their CSR row)
 * and writes the best k into shared result arrays. Results equal `recommendTopK` with the
 * user's training row excluded.
 *
 * Dot-product models (artifacts holding `userFactors`, `itemFactors` and optionally
 * `itemBias`, scoring b_i + p_u · q_i) can instead use the WebAssembly SIMD kernel of
 * src/kernels/wasm/topk-dot.ts, with the item factors in one shared WebAssembly memory.
 * `kernel: 'auto'` picks it only after checking, on a few users, that the model's own scores
 * match the kernel's; its scores are float32 sums in factor order, so they may differ from the
 * model's in the last bits (and near-ties may order differently).
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { InteractionData } from '../data/interactions.js';
import { TopKHeap } from '../kernels/topk.js';
import {
  DotTopKIndex,
  dotTopKSupported,
  type DotTopKLayout,
  type DotTopKSearcher,
} from '../kernels/wasm/topk-dot.js';
import type { Artifact, ArtifactArray, ArtifactHeader, SavableRecommender } from './artifact.js';
import type { TopK } from './model.js';
import { trainingContext } from './recommend.js';
import { siblingModule, startWorker } from './worker-threads.js';

export type BatchKernel = 'auto' | 'js' | 'wasm';

export interface BatchStartOptions {
  /** Worker threads (default: available cores). */
  threads?: number;
  /** `auto` (default): the SIMD kernel for dot-product models whose scores it reproduces. */
  kernel?: BatchKernel;
  /** Largest k requests will use (WebAssembly kernel; default 1000). */
  maxK?: number;
}

export interface BatchRequestOptions {
  /** Skip each user's training items (default true). */
  excludeSeen?: boolean;
}

export interface BatchResult {
  k: number;
  /** The users, as requested. */
  users: Int32Array;
  /** users.length x k item indices, best first; -1 past a user's count. */
  indices: Int32Array;
  /** Scores of `indices`; -Infinity past a user's count. */
  scores: Float32Array;
  /** Items found per user (fewer than k when fewer items can be recommended). */
  counts: Int32Array;
}

/** The arrays of a dot-product model, if the artifact has that shape. */
export interface DotProductArrays {
  userFactors: Float32Array;
  itemFactors: Float32Array;
  factors: number;
  itemBias: Float32Array | null;
}

/** Finds user/item factor arrays (and an optional item bias) consistent with the data's shape. */
export function dotProductArrays(artifact: Artifact, users: number): DotProductArrays | null {
  const items = artifact.header.itemIds.length;
  const p = artifact.arrays.userFactors;
  const q = artifact.arrays.itemFactors;
  const b = artifact.arrays.itemBias;
  if (!(p instanceof Float32Array) || !(q instanceof Float32Array) || items === 0) return null;
  const factors = q.length / items;
  if (!Number.isInteger(factors) || factors < 1 || p.length < users * factors || p.length % factors !== 0)
    return null;
  if (b !== undefined && !(b instanceof Float32Array && b.length === items)) return null;
  return { userFactors: p, itemFactors: q, factors, itemBias: b instanceof Float32Array ? b : null };
}

/** What every worker gets once. */
export interface BatchWorkerSetup {
  kind: 'js' | 'wasm';
  items: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
  /** js: the model to rebuild. */
  header?: ArtifactHeader;
  arrays?: Record<string, ArtifactArray>;
  /** wasm: the shared memory, its layout, this worker's slot and the user factors. */
  memory?: unknown;
  layout?: DotTopKLayout;
  slot?: number;
  userFactors?: Float32Array;
}

/** One request, as posted to the workers. */
export interface BatchJob {
  id: number;
  k: number;
  excludeSeen: boolean;
  users: Int32Array;
  /** Range boundaries over `users`; workers claim ranges through `next`. */
  bounds: Int32Array;
  next: Int32Array;
  indices: Int32Array;
  scores: Float32Array;
  counts: Int32Array;
}

export interface BatchJobDone {
  id: number;
  error?: string;
}

/** Ranges per worker and request; more even out the load, each costs a little. */
const RANGES_PER_THREAD = 16;
const MAX_RANGE = 256;

type Numeric = ArtifactArray;

function shared<T extends Numeric>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const buffer = new SharedArrayBuffer(Math.max(8, a.byteLength));
  new Uint8Array(buffer).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  const ctor = a.constructor as new (buffer: SharedArrayBuffer, offset: number, length: number) => T;
  return new ctor(buffer, 0, a.length);
}

function sharedZeros<T extends Int32Array | Float32Array>(
  ctor: new (b: SharedArrayBuffer) => T,
  n: number,
): T {
  return new ctor(new SharedArrayBuffer(Math.max(8, n * 4)));
}

/** Relative agreement needed between the model's scores and the kernel's to use the kernel. */
const KERNEL_TOLERANCE = 1e-4;

/**
 * Whether the kernel reproduces the model's scores on a few training users (all items scored,
 * compared within a relative tolerance).
 */
export function kernelMatches(
  model: SavableRecommender,
  data: InteractionData,
  dot: DotProductArrays,
  searcher: DotTopKSearcher,
): boolean {
  const users = data.users.size;
  const n = model.itemIds.length;
  const mine = new Float32Array(n);
  const theirs = new Float32Array(n);
  const probe = [...new Set([0, users >> 1, users - 1])].filter((u) => u >= 0 && u < users);
  for (const u of probe) {
    model.score(trainingContext(data, u), theirs);
    searcher.scoreAll(dot.userFactors, u * dot.factors, mine);
    let scale = 0;
    for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(theirs[i]));
    const tol = KERNEL_TOLERANCE * (1 + scale);
    for (let i = 0; i < n; i++) if (!(Math.abs(mine[i] - theirs[i]) <= tol)) return false;
  }
  return true;
}

interface PendingJob {
  resolve: () => void;
  reject: (err: Error) => void;
  remaining: number;
}

/** A pool of workers holding one model, answering batch top-K requests. */
export class BatchRecommender {
  private nextId = 1;
  private readonly pending = new Map<number, PendingJob>();
  private closed = false;
  private readonly heap = new TopKHeap(16);
  private readonly scratch: Float32Array;
  private readonly mask: Uint8Array;

  private constructor(
    private readonly model: SavableRecommender,
    private readonly data: InteractionData,
    private readonly workers: Worker[],
    /** The kernel the workers run. */
    readonly kernel: 'js' | 'wasm',
    private readonly searcher: DotTopKSearcher | null,
    private readonly dot: DotProductArrays | null,
  ) {
    const n = model.itemIds.length;
    this.scratch = new Float32Array(n);
    this.mask = new Uint8Array(n);
    for (const w of workers) {
      w.on('message', (msg: BatchJobDone) => this.settle(msg));
      w.on('error', (err) => this.failAll(err));
      w.on('exit', (code) => {
        if (!this.closed) this.failAll(new Error(`batch worker exited with code ${code}`));
      });
    }
  }

  /** Starts the workers; `data` must be the data the model was trained on (same indices). */
  static async start(
    model: SavableRecommender,
    data: InteractionData,
    options: BatchStartOptions = {},
  ): Promise<BatchRecommender> {
    if (model.itemIds.length !== data.items.size) {
      throw new RangeError(`the model knows ${model.itemIds.length} items, the data ${data.items.size}`);
    }
    const threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
    const want = options.kernel ?? 'auto';
    const artifact = model.toArtifact();
    const m = data.matrix;
    const base = {
      items: data.items.size,
      indptr: shared(m.indptr),
      indices: shared(m.indices),
      values: shared(m.data),
    };
    let dot: DotProductArrays | null = null;
    let index: DotTopKIndex | null = null;
    let searcher: DotTopKSearcher | null = null;
    if (want !== 'js') {
      dot = dotProductArrays(artifact, data.users.size);
      if (dot && dotTopKSupported()) {
        let maxSeen = 1;
        for (let u = 0; u < m.rows; u++) maxSeen = Math.max(maxSeen, m.indptr[u + 1] - m.indptr[u]);
        index = DotTopKIndex.create(dot.itemFactors, data.items.size, dot.factors, {
          bias: dot.itemBias,
          slots: threads + 1,
          maxK: options.maxK ?? 1000,
          maxSeen,
        });
        searcher = index.searcher(threads);
        if (want === 'auto' && !kernelMatches(model, data, dot, searcher)) {
          index = null;
          searcher = null;
        }
      }
      if (want === 'wasm' && !index) {
        throw new Error(
          'the WebAssembly kernel needs a dot-product model and WebAssembly SIMD with shared memory',
        );
      }
    }
    const setups: BatchWorkerSetup[] = [];
    if (index && dot) {
      const userFactors = shared(dot.userFactors);
      for (let t = 0; t < threads; t++) {
        setups.push({
          kind: 'wasm',
          ...base,
          memory: index.memory,
          layout: index.layout,
          slot: t,
          userFactors,
        });
      }
    } else {
      const arrays: Record<string, ArtifactArray> = {};
      for (const [name, a] of Object.entries(artifact.arrays)) arrays[name] = shared(a);
      for (let t = 0; t < threads; t++) setups.push({ kind: 'js', ...base, header: artifact.header, arrays });
    }
    const url = siblingModule(import.meta.url, 'batch-worker');
    const workers = setups.map((s) => startWorker(url, s));
    // Wait until every worker has rebuilt its model (it says so with id 0).
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const onMessage = (msg: BatchJobDone) => {
              w.off('error', onError);
              if (msg.error) reject(new Error(msg.error));
              else resolve();
            };
            const onError = (err: Error) => {
              w.off('message', onMessage);
              reject(err);
            };
            w.once('message', onMessage);
            w.once('error', onError);
          }),
      ),
    ).catch(async (err: unknown) => {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    });
    return new BatchRecommender(model, data, workers, index ? 'wasm' : 'js', searcher, index ? dot : null);
  }

  get threads(): number {
    return this.workers.length;
  }

  /** Top-k of every listed training user, computed on the workers. */
  async recommend(users: Int32Array, k: number, options: BatchRequestOptions = {}): Promise<BatchResult> {
    if (this.closed) throw new Error('the batch recommender is closed');
    const kk = Math.max(0, Math.floor(k));
    const n = users.length;
    const userCount = this.data.users.size;
    for (let j = 0; j < n; j++) {
      if (!(users[j] >= 0 && users[j] < userCount))
        throw new RangeError(`user index ${users[j]} outside 0..${userCount - 1}`);
    }
    const parts = Math.max(
      1,
      Math.min(n, Math.max(this.threads * RANGES_PER_THREAD, Math.ceil(n / MAX_RANGE))),
    );
    const bounds = new Int32Array(new SharedArrayBuffer(4 * (parts + 1)));
    for (let p = 0; p <= parts; p++) bounds[p] = Math.round((n * p) / parts);
    const job: BatchJob = {
      id: this.nextId++,
      k: kk,
      excludeSeen: options.excludeSeen ?? true,
      users: shared(users),
      bounds,
      next: sharedZeros(Int32Array, 1),
      indices: sharedZeros(Int32Array, n * kk).fill(-1),
      scores: sharedZeros(Float32Array, n * kk).fill(-Infinity),
      counts: sharedZeros(Int32Array, n),
    };
    const done = new Promise<void>((resolve, reject) => {
      this.pending.set(job.id, { resolve, reject, remaining: this.workers.length });
    });
    for (const w of this.workers) w.postMessage(job);
    await done;
    return { k: kk, users: job.users, indices: job.indices, scores: job.scores, counts: job.counts };
  }

  /**
   * Top-k of one training user on the calling thread, with the same kernel as the workers
   * (the WebAssembly one when the pool uses it).
   */
  recommendOne(user: number, k: number, options: BatchRequestOptions = {}): TopK {
    const m = this.data.matrix;
    if (!(Number.isInteger(user) && user >= 0 && user < this.data.users.size)) {
      throw new RangeError(`user index ${user} outside 0..${this.data.users.size - 1}`);
    }
    const kk = Math.min(Math.max(0, Math.floor(k)), this.model.itemIds.length);
    const exclude = options.excludeSeen ?? true;
    const indices = new Int32Array(kk);
    const scores = new Float32Array(kk);
    let count: number;
    if (this.searcher && this.dot) {
      const d = this.dot;
      count = this.searcher.topK(
        d.userFactors,
        user * d.factors,
        kk,
        exclude ? m.indices : null,
        m.indptr[user],
        m.indptr[user + 1],
        indices,
        scores,
        0,
      );
    } else {
      count = scoreUser(
        this.model,
        this.data,
        user,
        kk,
        exclude,
        this.scratch,
        this.mask,
        this.heap,
        indices,
        scores,
        0,
      );
    }
    return count === kk
      ? { indices, scores }
      : { indices: indices.slice(0, count), scores: scores.slice(0, count) };
  }

  /** Stops the workers; pending requests fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new Error('the batch recommender was closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private settle(msg: BatchJobDone): void {
    const job = this.pending.get(msg.id);
    if (!job) return;
    if (msg.error) {
      this.pending.delete(msg.id);
      job.reject(new Error(msg.error));
      return;
    }
    if (--job.remaining === 0) {
      this.pending.delete(msg.id);
      job.resolve();
    }
  }

  private failAll(err: Error): void {
    for (const job of this.pending.values()) job.reject(err);
    this.pending.clear();
  }
}

/**
 * Top-k of one training user with the model's own scores (the single-threaded path): writes
 * into indices/scores at `offset` and returns the count. `scratch` and `mask` are item-sized,
 * `mask` all zero (and left so).
 */
export function scoreUser(
  model: SavableRecommender,
  data: InteractionData,
  user: number,
  k: number,
  excludeSeen: boolean,
  scratch: Float32Array,
  mask: Uint8Array,
  heap: TopKHeap,
  indices: Int32Array,
  scores: Float32Array,
  offset: number,
): number {
  const ctx = trainingContext(data, user);
  model.score(ctx, scratch);
  const n = scratch.length;
  const history = ctx.history;
  heap.reset(Math.min(k, n));
  if (excludeSeen) {
    for (let p = 0; p < history.length; p++) mask[history[p]] = 1;
    for (let i = 0; i < n; i++) if (mask[i] === 0) heap.push(i, scratch[i]);
    for (let p = 0; p < history.length; p++) mask[history[p]] = 0;
  } else {
    for (let i = 0; i < n; i++) heap.push(i, scratch[i]);
  }
  return heap.drainInto(indices, scores, offset);
}

/** One-shot batch: starts a pool, answers, and stops it. */
export async function batchRecommend(
  model: SavableRecommender,
  data: InteractionData,
  users: Int32Array,
  k: number,
  options: BatchStartOptions & BatchRequestOptions = {},
): Promise<BatchResult & { kernel: 'js' | 'wasm' }> {
  const pool = await BatchRecommender.start(model, data, options);
  try {
    return { ...(await pool.recommend(users, k, options)), kernel: pool.kernel };
  } finally {
    await pool.close();
  }
}
