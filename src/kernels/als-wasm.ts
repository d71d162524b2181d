/**
 * Loader of the ALS SIMD kernel (src/kernels/wasm/als-kernel.as, compiled by
 * scripts/build-wasm.mjs). The module imports a shared memory that the host lays out; every
 * thread instantiates its own copy of the module on the same memory. All pointers are byte
 * offsets into that memory.
 */
import { WASM_BASE64 } from './wasm/als-kernel.wasm.js';

/** Bytes at the bottom of the memory left to the module (it keeps no data there today). */
export const WASM_RESERVED_BYTES = 65536;
const PAGE = 65536;
/** Declared maximum of the imported memory (4 GiB, the wasm32 limit). */
const MAX_PAGES = 65536;

export interface AlsWasmKernel {
  cgRows(
    indptr: number,
    indices: number,
    extra: number,
    uniformExtra: number,
    fixed: number,
    gram: number,
    solved: number,
    k: number,
    stride: number,
    from: number,
    to: number,
    steps: number,
    scratch: number,
  ): void;
  gramLower(
    factors: number,
    stride: number,
    k: number,
    from: number,
    to: number,
    out: number,
    scratch: number,
  ): void;
  scoreRows(factors: number, stride: number, x: number, from: number, to: number, scores: number): void;
}

/** The shared memory the kernel imports (a WebAssembly.Memory). */
export interface KernelMemory {
  readonly buffer: SharedArrayBuffer;
}

/** The parts of the WebAssembly API used here (the project's type libraries do not declare it). */
interface WasmApi {
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => KernelMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}

const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

const compiledModules = new Map<string, object | null>();

/** The compiled module of a base64-encoded binary (cached), or null when it cannot compile here. */
export function compileKernel(base64: string): object | null {
  let m = compiledModules.get(base64);
  if (m === undefined) {
    try {
      m = wasmApi ? new wasmApi.Module(Buffer.from(base64, 'base64')) : null;
    } catch {
      m = null;
    }
    compiledModules.set(base64, m);
  }
  return m;
}

/** The exports of an instance of `module` on `memory`. */
export function instantiateKernel(module: object, memory: KernelMemory): object {
  if (!wasmApi) throw new Error('WebAssembly is not available on this runtime');
  return new wasmApi.Instance(module, { env: { memory } }).exports;
}

function kernelModule(): object | null {
  return compileKernel(WASM_BASE64);
}

/** Whether `x` is a kernel memory (as opposed to a plain SharedArrayBuffer). */
export function isKernelMemory(x: unknown): x is KernelMemory {
  return wasmApi !== undefined && x instanceof wasmApi.Memory;
}

/** Whether this runtime can run the kernel (WebAssembly SIMD and shared memory). */
export function alsWasmSupported(): boolean {
  if (kernelModule() === null || !wasmApi) return false;
  try {
    const m = new wasmApi.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    return m.buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** A shared memory of at least `byteLength` bytes that the kernel can import. */
export function createKernelMemory(byteLength: number): KernelMemory {
  const pages = Math.max(1, Math.ceil(byteLength / PAGE));
  if (pages > MAX_PAGES)
    throw new RangeError(`the ALS workspace needs ${byteLength} bytes, over the 4 GiB limit`);
  if (!wasmApi) throw new Error('WebAssembly is not available on this runtime');
  return new wasmApi.Memory({ initial: pages, maximum: MAX_PAGES, shared: true });
}

/** An instance of the kernel on `memory`. */
export function instantiateAlsKernel(memory: KernelMemory): AlsWasmKernel {
  const module = kernelModule();
  if (!module) throw new Error('the ALS WebAssembly kernel cannot be compiled on this runtime');
  return instantiateKernel(module, memory) as AlsWasmKernel;
}

/**
 * Scores of every row of a factor matrix against one vector (x·F[i]) with the SIMD kernel:
 * the factors are copied once into a kernel memory with a padded row stride.
 */
export class FactorScorer {
  private readonly x: Float32Array;
  private readonly scores: Float32Array;

  private constructor(
    private readonly kernel: AlsWasmKernel,
    private readonly rows: number,
    private readonly k: number,
    private readonly stride: number,
    private readonly factorsAt: number,
    private readonly xAt: number,
    private readonly scoresAt: number,
    buffer: SharedArrayBuffer,
  ) {
    this.x = new Float32Array(buffer, xAt, stride);
    this.scores = new Float32Array(buffer, scoresAt, rows);
  }

  /** A scorer over `factors` (rows × k, compact), or null when the kernel is unavailable. */
  static create(factors: Float32Array, rows: number, k: number): FactorScorer | null {
    if (!alsWasmSupported()) return null;
    const stride = Math.ceil(k / 4) * 4;
    const factorsAt = WASM_RESERVED_BYTES;
    const xAt = factorsAt + rows * stride * 4;
    const scoresAt = xAt + stride * 4;
    const memory = createKernelMemory(scoresAt + rows * 4);
    const f = new Float32Array(memory.buffer, factorsAt, rows * stride);
    for (let r = 0; r < rows; r++) f.set(factors.subarray(r * k, (r + 1) * k), r * stride);
    const kernel = instantiateAlsKernel(memory);
    return new FactorScorer(kernel, rows, k, stride, factorsAt, xAt, scoresAt, memory.buffer);
  }

  /** out[i] = x·F[i] for every row i (x has k entries). */
  score(x: ArrayLike<number>, out: Float32Array): void {
    for (let f = 0; f < this.k; f++) this.x[f] = x[f];
    this.kernel.scoreRows(this.factorsAt, this.stride, this.xAt, 0, this.rows, this.scoresAt);
    out.set(this.scores);
  }
}
