/**
 * The WebAssembly SIMD epochs of the SGD rating models (source: sgd-kernel.as). Each fit gets a
 * fresh instance whose memory holds exactly that fit's arrays, so the memory is released with it.
 */
import { SGD_KERNEL_WASM_BASE64 } from './sgd-kernel-binary.js';

/** The parts of the WebAssembly API used here (the compiler's lib has no DOM typings). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmModule {
  readonly kind?: 'module';
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: object };
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export interface SgdKernelExports {
  memory: WasmMemory;
  shuffle(out: number, from: number, to: number, state: number): void;
  shuffleUserMajor(userOrder: number, nUsers: number, userPtr: number, rec: number, state: number): void;
  shuffleRecords(rec: number, from: number, to: number, state: number): void;
  mfEpoch(
    n: number,
    rec: number,
    p: number,
    q: number,
    bu: number,
    bi: number,
    kp: number,
    mean: number,
    lr: number,
    lrb: number,
    rbu: number,
    rbi: number,
    rpu: number,
    rqi: number,
  ): number;
  svdppEpoch(
    nUsers: number,
    userOrder: number,
    userPtr: number,
    rec: number,
    p: number,
    q: number,
    y: number,
    z: number,
    c: number,
    bu: number,
    bi: number,
    kp: number,
    mean: number,
    lr: number,
    lrb: number,
    lry: number,
    rbu: number,
    rbi: number,
    rpu: number,
    rqi: number,
    ry: number,
  ): number;
}

const PAGE = 65536;
/** The first page is left to the module's own (unused) static area. */
const BASE = PAGE;

let compiled: WasmModule | null | undefined;

function kernelModule(): WasmModule | null {
  if (compiled === undefined) {
    const bytes = Buffer.from(SGD_KERNEL_WASM_BASE64, 'base64');
    compiled = Wasm.validate(bytes) ? new Wasm.Module(bytes) : null;
  }
  return compiled;
}

/** Padded factor width: k rounded up to a multiple of 8 lanes (the kernel takes two vectors a step). */
export function paddedWidth(k: number): number {
  return (k + 7) & ~7;
}

/** A kernel instance with its memory laid out for one fit. */
export class SgdKernel {
  private constructor(
    readonly fn: SgdKernelExports,
    /** Byte offset of each requested block. */
    readonly offsets: number[],
  ) {}

  /**
   * A fresh instance whose memory holds blocks of the given byte sizes (each 16-byte aligned,
   * zero-filled), or null when this runtime lacks WebAssembly SIMD.
   */
  static create(blockBytes: readonly number[]): SgdKernel | null {
    const module = kernelModule();
    if (!module) return null;
    const fn = new Wasm.Instance(module, {}).exports as unknown as SgdKernelExports;
    const offsets: number[] = [];
    let top = BASE;
    for (const b of blockBytes) {
      offsets.push(top);
      top += Math.ceil(b / 16) * 16;
    }
    const have = fn.memory.buffer.byteLength;
    if (top > have) fn.memory.grow(Math.ceil((top - have) / PAGE));
    return new SgdKernel(fn, offsets);
  }

  u32(block: number, length: number): Uint32Array {
    return new Uint32Array(this.fn.memory.buffer, this.offsets[block], length);
  }

  f32(block: number, length: number): Float32Array {
    return new Float32Array(this.fn.memory.buffer, this.offsets[block], length);
  }

  f64(block: number, length: number): Float64Array {
    return new Float64Array(this.fn.memory.buffer, this.offsets[block], length);
  }

  i32(block: number, length: number): Int32Array {
    return new Int32Array(this.fn.memory.buffer, this.offsets[block], length);
  }
}

/** Copies k-wide rows into kp-wide rows (padding stays zero). */
export function padRows(src: Float32Array, k: number, dst: Float32Array, kp: number): void {
  const rows = k > 0 ? src.length / k : 0;
  if (kp === k) {
    dst.set(src);
    return;
  }
  for (let r = 0; r < rows; r++) dst.set(src.subarray(r * k, r * k + k), r * kp);
}

/** Copies kp-wide rows back into k-wide rows. */
export function unpadRows(src: Float32Array, kp: number, dst: Float32Array, k: number): void {
  const rows = k > 0 ? dst.length / k : 0;
  if (kp === k) {
    dst.set(src.subarray(0, dst.length));
    return;
  }
  for (let r = 0; r < rows; r++) dst.set(src.subarray(r * kp, r * kp + k), r * k);
}
