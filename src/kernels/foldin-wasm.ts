/**
 * Loader of the ALS fold-in kernel (src/kernels/wasm/foldin-kernel.as): the exact user
 * half-step of one history and the solves with its factor that explanations make, in one
 * kernel memory per model that holds a copy of the item factors, the item Gram matrix, the
 * last history and its factorised system. Results are bitwise those of `solveExact`
 * (als-kernels.ts) and `choleskySolveFourRows` (cholesky-blocked.ts).
 */
import {
  alsWasmSupported,
  compileKernel,
  createKernelMemory,
  instantiateKernel,
  type KernelMemory,
} from './als-wasm.js';
import { WASM_BASE64 } from './wasm/foldin-kernel.wasm.js';

interface FoldInExports {
  solveHistory(
    factors: number,
    k: number,
    gram: number,
    a: number,
    x: number,
    indices: number,
    extra: number,
    count: number,
    batch: number,
  ): number;
  solveWithFactor(a: number, k: number, b: number): void;
  historyDots(factors: number, k: number, indices: number, count: number, z: number, out: number): void;
  itemDots(
    factors: number,
    k: number,
    a: number,
    z: number,
    item: number,
    indices: number,
    count: number,
    out: number,
  ): void;
}

/** Bytes below the first array, left to the module. */
const RESERVED = 65536;
/** History entries per rank-update pass of the kernel (BATCH in the source). */
const BATCH = 8;
/** Largest kernel memory (wasm32). */
const MAX_BYTES = 2 ** 32 - 2 ** 16;

/** Byte offsets of the arrays in the kernel memory. */
interface Layout {
  factors: number;
  gram: number;
  a: number;
  x: number;
  z: number;
  batch: number;
  indices: number;
  extra: number;
  dots: number;
  bytes: number;
}

function layout(items: number, k: number): Layout {
  const kp = k + (k & 1);
  let at = RESERVED;
  const take = (bytes: number): number => {
    const o = at;
    at += Math.ceil(bytes / 16) * 16;
    return o;
  };
  const factors = take(4 * items * kp);
  const gram = take(8 * k * kp);
  const a = take(8 * k * kp);
  const x = take(8 * kp);
  const z = take(8 * kp);
  const batch = take(8 * (BATCH * kp + BATCH));
  const indices = take(4 * items);
  const extra = take(4 * items);
  const dots = take(8 * items);
  return { factors, gram, a, x, z, batch, indices, extra, dots, bytes: at };
}

/**
 * Fold-in and explanation solves over one item factor matrix (items × k, compact) and its
 * Gram matrix YᵀY + λI. Holds one history system at a time: `solve` replaces it,
 * `solveWithFactor` / `itemDots` use it. No allocation per call.
 */
export class WasmFoldIn {
  /** The solution of the last `solve` (k entries; a view into the kernel memory). */
  readonly solution: Float64Array;
  /** History items of the last `solve` (capacity: the item count; a view). */
  readonly indices: Int32Array;
  /** Their extra confidences (a view). */
  readonly extra: Float32Array;
  private readonly z: Float64Array;
  /** z[0..k), returned by solveWithFactor. */
  private readonly zView: Float64Array;
  private readonly dots: Float64Array;
  /** dots[0..count), returned by historyDots and itemDots (remade when the count changes). */
  private dotsView: Float64Array;
  private readonly kp: number;
  private count = 0;
  private solved = false;

  private constructor(
    private readonly kernel: FoldInExports,
    private readonly at: Layout,
    readonly items: number,
    readonly k: number,
    /** Bytes of the kernel memory. */
    readonly byteLength: number,
    buffer: SharedArrayBuffer,
  ) {
    this.kp = k + (k & 1);
    this.solution = new Float64Array(buffer, at.x, k);
    this.z = new Float64Array(buffer, at.z, this.kp);
    this.indices = new Int32Array(buffer, at.indices, items);
    this.extra = new Float32Array(buffer, at.extra, items);
    this.dots = new Float64Array(buffer, at.dots, items);
    this.zView = this.z.subarray(0, k);
    this.dotsView = this.dots.subarray(0, 0);
  }

  /**
   * A kernel over `factors` (items × k, compact, copied) and `gram` (k×k; its lower triangle
   * is read, as the reference's factorisation reads it), or null when the runtime cannot run
   * the kernel or its memory (about 4·items·k + 16·items bytes) cannot be had.
   */
  static create(factors: Float32Array, items: number, k: number, gram: Float64Array): WasmFoldIn | null {
    if (factors.length < items * k || gram.length < k * k) throw new RangeError('factors or gram too short');
    const module = alsWasmSupported() ? compileKernel(WASM_BASE64) : null;
    if (!module) return null;
    const at = layout(items, k);
    if (at.bytes > MAX_BYTES) return null;
    let memory: KernelMemory;
    try {
      memory = createKernelMemory(at.bytes);
    } catch {
      // No room for the memory here: the caller keeps to the TypeScript path.
      return null;
    }
    const buffer = memory.buffer;
    const kp = k + (k & 1);
    const f = new Float32Array(buffer, at.factors, items * kp);
    if (kp === k) f.set(factors.subarray(0, items * k));
    else for (let r = 0; r < items; r++) f.set(factors.subarray(r * k, (r + 1) * k), r * kp);
    // Both triangles from the lower one: the kernel builds the system in the upper triangle.
    const g = new Float64Array(buffer, at.gram, k * kp);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j <= i; j++) {
        g[i * kp + j] = gram[i * k + j];
        g[j * kp + i] = gram[i * k + j];
      }
    }
    const kernel = instantiateKernel(module, memory) as FoldInExports;
    return new WasmFoldIn(kernel, at, items, k, buffer.byteLength, buffer);
  }

  /**
   * The system Gram + Σ e·y·yᵀ of the history entries [0, count) of `indices` / `extra`
   * (items in range; duplicates are separate entries; e = 0 adds no rank-one term), solved for
   * Σ (1 + e)·y into `solution` and kept factorised. False, with a zero solution, when it is
   * not positive definite; `solveWithFactor` and `itemDots` then have no system.
   */
  solve(indices: Int32Array, extra: Float32Array, count: number): boolean {
    if (!(count >= 0 && count <= this.items && count <= indices.length && count <= extra.length)) {
      throw new RangeError(`history of ${count} entries for ${this.items} items`);
    }
    // Whatever happens below, the previous system is gone.
    this.solved = false;
    this.count = 0;
    const idx = this.indices;
    const ex = this.extra;
    for (let q = 0; q < count; q++) {
      const i = indices[q];
      if (!(i >= 0 && i < this.items)) throw new RangeError(`item index ${i} out of range`);
      idx[q] = i;
      ex[q] = extra[q];
    }
    const at = this.at;
    this.count = count;
    if (this.dotsView.length !== count) this.dotsView = this.dots.subarray(0, count);
    this.solved =
      this.kernel.solveHistory(
        at.factors,
        this.k,
        at.gram,
        at.a,
        at.x,
        at.indices,
        at.extra,
        count,
        at.batch,
      ) !== 0;
    return this.solved;
  }

  /** W·rhs (W the inverse of the last solved system) into a view of k entries (overwritten by the next call). */
  solveWithFactor(rhs: ArrayLike<number>): Float64Array {
    this.requireSystem();
    const z = this.z;
    for (let f = 0; f < this.k; f++) z[f] = rhs[f];
    if (this.kp > this.k) z[this.k] = 0;
    this.kernel.solveWithFactor(this.at.a, this.k, this.at.z);
    return this.zView;
  }

  /**
   * y_{indices[q]}·z for the entries q of the last history (solved or not), into a view of
   * their count (the same view until the count changes; the next call overwrites it).
   */
  historyDots(z: ArrayLike<number>): Float64Array {
    const zv = this.z;
    if (z !== zv) for (let f = 0; f < this.k; f++) zv[f] = z[f];
    const at = this.at;
    this.kernel.historyDots(at.factors, this.k, at.indices, this.count, at.z, at.dots);
    return this.dotsView;
  }

  /**
   * y_{indices[q]}·(W·y_item) for the last history's entries q (the explanation weights of
   * `item` before the confidences), into a view of their count.
   */
  itemDots(item: number): Float64Array {
    this.requireSystem();
    if (!(Number.isInteger(item) && item >= 0 && item < this.items)) {
      throw new RangeError(`item index ${item} out of range`);
    }
    const at = this.at;
    this.kernel.itemDots(at.factors, this.k, at.a, at.z, item, at.indices, this.count, at.dots);
    return this.dotsView;
  }

  /** L[i][j] for j ≤ i of the last factorisation (its lower triangle), into out (k×k, row-major). */
  lowerFactor(out: Float64Array): void {
    const a = new Float64Array(this.solution.buffer, this.at.a, this.k * this.kp);
    for (let i = 0; i < this.k; i++) for (let j = 0; j <= i; j++) out[i * this.k + j] = a[j * this.kp + i];
  }

  private requireSystem(): void {
    if (!this.solved) throw new Error('no factorised history system');
  }
}
