/**
 * The WebAssembly SIMD training loops of BPR and WARP (source: ranking-kernel.as). A fit lays
 * out its arrays in one shared WebAssembly memory (a `RankingWorkspace`); every thread
 * instantiates the module on that memory and runs its task there, updating the shared factors
 * without locks. Rows are padded to a multiple of 4 floats (padding lanes stay zero).
 */
import type { FactorArrays, PositiveRows } from '../../../kernels/bpr-common.js';
import { xorshiftSeed } from '../../../kernels/bpr-common.js';
import type { BprSettings } from '../../../kernels/bpr-sgd.js';
import { warpRankWeight, type WarpSettings } from '../../../kernels/warp-sgd.js';
import { RANKING_KERNEL_WASM_BASE64 } from './ranking-kernel.wasm.js';

/** The shared memory the kernel imports (a WebAssembly.Memory). */
export interface KernelMemory {
  readonly buffer: SharedArrayBuffer;
}

interface RankingKernel {
  bprSteps(
    steps: number,
    lr0: number,
    slope: number,
    sampleUsers: number,
    nUsers: number,
    indptr: number,
    indices: number,
    weights: number,
    nnz: number,
    items: number,
    p: number,
    q: number,
    b: number,
    kp: number,
    reg: number,
    breg: number,
    useBias: number,
    popular: number,
    state: number,
  ): number;
  warpEpoch(
    order: number,
    owner: number,
    count: number,
    base: number,
    indptr: number,
    indices: number,
    weights: number,
    items: number,
    p: number,
    q: number,
    b: number,
    gp: number,
    gq: number,
    gb: number,
    kp: number,
    lr: number,
    reg: number,
    breg: number,
    maxSampled: number,
    maxLoss: number,
    rankWeight: number,
    useBias: number,
    state: number,
  ): number;
}

/** The parts of the WebAssembly API used here (the project's type libraries do not declare it). */
interface WasmApi {
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => KernelMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}

const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
const PAGE = 65536;
/** Declared maximum of the imported memory (4 GiB, the wasm32 limit). */
const MAX_PAGES = 65536;
/** Bytes at the bottom of the memory left to the module. */
const RESERVED = 65536;

let compiled: object | null | undefined;

function kernelModule(): object | null {
  if (compiled === undefined) {
    try {
      compiled = wasmApi ? new wasmApi.Module(Buffer.from(RANKING_KERNEL_WASM_BASE64, 'base64')) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled ?? null;
}

let supported: boolean | undefined;

/** Whether this runtime can run the kernel (WebAssembly SIMD and shared memory). */
export function rankingWasmSupported(): boolean {
  if (supported === undefined) {
    supported = false;
    if (kernelModule() !== null && wasmApi) {
      try {
        const m = new wasmApi.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
        supported = m.buffer instanceof SharedArrayBuffer;
      } catch {
        supported = false;
      }
    }
  }
  return supported;
}

function instantiate(memory: KernelMemory): RankingKernel {
  const module = kernelModule();
  if (!module || !wasmApi)
    throw new Error('the ranking WebAssembly kernel cannot be compiled on this runtime');
  return new wasmApi.Instance(module, { env: { memory } }).exports as unknown as RankingKernel;
}

/** Byte offsets of a fit's arrays in its workspace (0 for arrays it does not use). */
export interface WorkspaceLayout {
  users: number;
  items: number;
  factors: number;
  /** Row width in floats: factors rounded up to a multiple of 4. */
  kp: number;
  p: number;
  q: number;
  b: number;
  gp: number;
  gq: number;
  gb: number;
  indptr: number;
  indices: number;
  weights: number;
  nnz: number;
  /** WARP rank weights (f32, maxSampled + 1 entries). */
  rankWeight: number;
  /** Start of the per-task scratch region. */
  scratch: number;
  bytes: number;
}

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/** BPR task on a workspace: the users it draws from are `nUsers` i32 at `sampleUsers`. */
export interface WasmBprTask {
  memory: KernelMemory;
  layout: WorkspaceLayout;
  settings: BprSettings;
  sampleUsers: number;
  nUsers: number;
  samplesPerEpoch: number;
  seed: number;
  stream: number;
}

/** WARP task: the positives of users [userStart, userEnd), with `order`/`owner` scratch. */
export interface WasmWarpTask {
  memory: KernelMemory;
  layout: WorkspaceLayout;
  settings: WarpSettings;
  userStart: number;
  userEnd: number;
  order: number;
  owner: number;
  seed: number;
  stream: number;
}

/**
 * The arrays of one fit in a shared WebAssembly memory: factors (initialised from `init`),
 * optimiser state for WARP, the positive rows and their weights, and per-task scratch.
 */
export class RankingWorkspace {
  readonly memory: KernelMemory;
  readonly layout: WorkspaceLayout;

  /**
   * `scratchBytes` is the per-task scratch needed beyond the shared arrays; `warp` adds the
   * AdaGrad state and the rank weights for `maxSampled` draws.
   */
  constructor(
    init: FactorArrays,
    rows: PositiveRows,
    weights: Float32Array,
    scratchBytes: number,
    warp: { maxSampled: number } | null,
  ) {
    const { users, items, factors } = init;
    const kp = Math.ceil(factors / 4) * 4;
    const nnz = rows.indptr[users];
    let at = RESERVED;
    const take = (bytes: number): number => {
      const start = at;
      at = align16(at + bytes);
      return start;
    };
    const layout: WorkspaceLayout = {
      users,
      items,
      factors,
      kp,
      p: take(users * kp * 4),
      q: take(items * kp * 4),
      b: take(items * 4),
      gp: warp ? take(users * kp * 4) : 0,
      gq: warp ? take(items * kp * 4) : 0,
      gb: warp ? take(items * 4) : 0,
      indptr: take((users + 1) * 4),
      indices: take(nnz * 4),
      weights: take(nnz * 4),
      nnz,
      rankWeight: warp ? take((warp.maxSampled + 1) * 4) : 0,
      scratch: 0,
      bytes: 0,
    };
    layout.scratch = at;
    layout.bytes = at + align16(scratchBytes);
    const pages = Math.ceil(layout.bytes / PAGE);
    if (pages > MAX_PAGES)
      throw new RangeError(`the training workspace needs ${layout.bytes} bytes, over 4 GiB`);
    if (!wasmApi) throw new Error('WebAssembly is not available on this runtime');
    this.memory = new wasmApi.Memory({ initial: pages, maximum: MAX_PAGES, shared: true });
    this.layout = layout;
    const buf = this.memory.buffer;
    this.writeRows(new Float32Array(buf, layout.p, users * kp), init.userFactors, users, factors, kp);
    this.writeRows(new Float32Array(buf, layout.q, items * kp), init.itemFactors, items, factors, kp);
    new Float32Array(buf, layout.b, items).set(init.itemBias);
    if (warp) {
      new Float32Array(buf, layout.gp, users * kp).fill(1);
      new Float32Array(buf, layout.gq, items * kp).fill(1);
      new Float32Array(buf, layout.gb, items).fill(1);
      const rw = new Float32Array(buf, layout.rankWeight, warp.maxSampled + 1);
      for (let n = 1; n <= warp.maxSampled; n++) rw[n] = warpRankWeight(items, n);
    }
    new Int32Array(buf, layout.indptr, users + 1).set(rows.indptr.subarray(0, users + 1));
    new Int32Array(buf, layout.indices, nnz).set(rows.indices.subarray(0, nnz));
    new Float32Array(buf, layout.weights, nnz).set(weights.subarray(0, nnz));
  }

  /** An Int32Array view of `length` entries at byte offset `at`. */
  int32(at: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, at, length);
  }

  /** The trained factors, copied out into `out` (unpadded). */
  readFactors(out: FactorArrays): void {
    const { users, items, factors, kp, p, q, b } = this.layout;
    const buf = this.memory.buffer;
    this.readRows(new Float32Array(buf, p, users * kp), out.userFactors, users, factors, kp);
    this.readRows(new Float32Array(buf, q, items * kp), out.itemFactors, items, factors, kp);
    out.itemBias.set(new Float32Array(buf, b, items));
  }

  private writeRows(dst: Float32Array, src: Float32Array, rows: number, k: number, kp: number): void {
    if (k === kp) dst.set(src.subarray(0, rows * k));
    else for (let r = 0; r < rows; r++) dst.set(src.subarray(r * k, r * k + k), r * kp);
  }

  private readRows(src: Float32Array, dst: Float32Array, rows: number, k: number, kp: number): void {
    if (k === kp) dst.set(src.subarray(0, rows * k));
    else for (let r = 0; r < rows; r++) dst.set(src.subarray(r * kp, r * kp + k), r * k);
  }
}

/** Runs a BPR task's epochs on the workspace (from any thread), calling `afterEpoch` after each. */
export function runWasmBpr(task: WasmBprTask, afterEpoch?: (epoch: number) => void): void {
  const { layout: l, settings } = task;
  if (task.nUsers === 0 || task.samplesPerEpoch <= 0 || settings.epochs <= 0) return;
  const kernel = instantiate(task.memory);
  const total = settings.epochs * task.samplesPerEpoch;
  const slope = (settings.learningRate * settings.learningRateDecay) / total;
  let s = xorshiftSeed(task.seed, task.stream);
  for (let e = 0; e < settings.epochs; e++) {
    s = kernel.bprSteps(
      task.samplesPerEpoch,
      settings.learningRate - slope * e * task.samplesPerEpoch,
      slope,
      task.sampleUsers,
      task.nUsers,
      l.indptr,
      l.indices,
      l.weights,
      l.nnz,
      l.items,
      l.p,
      l.q,
      l.b,
      l.kp,
      settings.regularization,
      settings.biasRegularization,
      settings.itemBias ? 1 : 0,
      settings.negativeSampling === 'popularity' ? 1 : 0,
      s,
    );
    afterEpoch?.(e);
  }
}

/** Fills a WARP task's order (0..count-1) and owner (user of each local position) scratch. */
export function prepareWasmWarp(task: WasmWarpTask): void {
  const buf = task.memory.buffer;
  const indptr = new Int32Array(buf, task.layout.indptr, task.layout.users + 1);
  const base = indptr[task.userStart];
  const count = indptr[task.userEnd] - base;
  const order = new Int32Array(buf, task.order, count);
  const owner = new Int32Array(buf, task.owner, count);
  for (let p = 0; p < count; p++) order[p] = p;
  for (let u = task.userStart; u < task.userEnd; u++) owner.fill(u, indptr[u] - base, indptr[u + 1] - base);
}

/** Runs a WARP task's epochs (AdaGrad) on the workspace (from any thread), calling `afterEpoch` after each. */
export function runWasmWarp(task: WasmWarpTask, afterEpoch?: (epoch: number) => void): void {
  const { layout: l, settings } = task;
  const indptr = new Int32Array(task.memory.buffer, l.indptr, l.users + 1);
  const base = indptr[task.userStart];
  const count = indptr[task.userEnd] - base;
  if (count <= 0 || settings.epochs <= 0 || l.items < 2) return;
  const kernel = instantiate(task.memory);
  const maxSampled = Math.max(1, settings.maxSampled | 0);
  let s = xorshiftSeed(task.seed, task.stream);
  for (let e = 0; e < settings.epochs; e++) {
    s = kernel.warpEpoch(
      task.order,
      task.owner,
      count,
      base,
      l.indptr,
      l.indices,
      l.weights,
      l.items,
      l.p,
      l.q,
      l.b,
      l.gp,
      l.gq,
      l.gb,
      l.kp,
      settings.learningRate,
      settings.regularization,
      settings.biasRegularization,
      maxSampled,
      settings.maxLoss,
      l.rankWeight,
      settings.itemBias ? 1 : 0,
      s,
    );
    afterEpoch?.(e);
  }
}
