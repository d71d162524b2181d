/**
 * The dense SIMD kernel (src/kernels/wasm/dense-kernel.as): the inverse of a symmetric
 * positive definite matrix held in a kernel memory, with the same steps as
 * `spdInverseInPlace` in dense.ts, in float64 or float32 storage.
 */
import { alsWasmSupported, compileKernel, createKernelMemory, instantiateKernel } from './als-wasm.js';
import { WASM_BASE64 } from './wasm/dense-kernel.wasm.js';

interface DenseKernel {
  cholesky64(a: number, n: number): number;
  cholesky32(a: number, n: number): number;
  lowerInverseTransposed64(a: number, n: number, diag: number, inv: number): void;
  lowerInverseTransposed32(a: number, n: number, diag: number, inv: number): void;
  gramOfUpper64(a: number, n: number, inv: number): void;
  gramOfUpper32(a: number, n: number, inv: number): void;
}

/** Bytes below the first array, left to the module. */
const RESERVED = 65536;
/** Largest kernel memory (wasm32). */
const MAX_BYTES = 2 ** 32 - 2 ** 16;

/** Bytes a WasmSpdMatrix of order n needs. */
function bytesFor(n: number, float32: boolean): number {
  return RESERVED + 16 * n + 16 + n * n * (float32 ? 4 : 8);
}

/** Whether an n×n matrix of this precision can be inverted by the kernel here. */
export function denseWasmFits(n: number, float32: boolean): boolean {
  return bytesFor(n, float32) <= MAX_BYTES && alsWasmSupported() && compileKernel(WASM_BASE64) !== null;
}

/** An n×n matrix in a kernel memory, inverted in place by the SIMD kernel. */
export class WasmSpdMatrix {
  /** The matrix, row-major (a view into the kernel memory). */
  readonly data: Float64Array | Float32Array;
  private readonly kernel: DenseKernel;
  private readonly diagAt: number;
  private readonly invAt: number;
  private readonly dataAt: number;

  constructor(
    readonly n: number,
    readonly float32: boolean,
  ) {
    const module = compileKernel(WASM_BASE64);
    if (!module) throw new Error('the dense WebAssembly kernel cannot be compiled on this runtime');
    const memory = createKernelMemory(bytesFor(n, float32));
    this.kernel = instantiateKernel(module, memory) as DenseKernel;
    this.diagAt = RESERVED;
    this.invAt = RESERVED + 8 * n;
    this.dataAt = Math.ceil((RESERVED + 16 * n) / 16) * 16;
    this.data = float32
      ? new Float32Array(memory.buffer, this.dataAt, n * n)
      : new Float64Array(memory.buffer, this.dataAt, n * n);
    this.diag = new Float64Array(memory.buffer, this.diagAt, n);
    this.inv = new Float64Array(memory.buffer, this.invAt, n);
  }

  private readonly diag: Float64Array;
  private readonly inv: Float64Array;

  /**
   * Inverts the SPD matrix in place (only the lower triangle is read); both triangles hold the
   * inverse on return. False when the matrix is not positive definite.
   */
  invert(): boolean {
    const { n, kernel: k, data: a } = this;
    const at = this.dataAt;
    if (!(this.float32 ? k.cholesky32(at, n) : k.cholesky64(at, n))) return false;
    for (let i = 0; i < n; i++) {
      this.diag[i] = a[i * n + i];
      this.inv[i] = 1 / this.diag[i];
    }
    if (this.float32) {
      k.lowerInverseTransposed32(at, n, this.diagAt, this.invAt);
      k.gramOfUpper32(at, n, this.invAt);
    } else {
      k.lowerInverseTransposed64(at, n, this.diagAt, this.invAt);
      k.gramOfUpper64(at, n, this.invAt);
    }
    for (let r = 0; r < n; r++) {
      const rr = r * n;
      for (let c = 0; c < r; c++) a[c * n + r] = a[rr + c];
    }
    return true;
  }
}
