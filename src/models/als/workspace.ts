/**
 * The shared memory of an ALS fit: both CSR orientations with their extra confidences, both
 * factor matrices, the Gram matrix and its per-chunk partial sums, work-chunk boundaries and
 * claim counters, all in one SharedArrayBuffer (or shared WebAssembly memory) so that every
 * worker sees the same arrays without copies. Offsets are in bytes, 16-aligned.
 */

export type AlsSolver = 'cg' | 'exact';
export type AlsKernel = 'js' | 'wasm';

/** Rows per Gram chunk; fixed, so the summation order never depends on the thread count. */
export const GRAM_CHUNK = 4096;

/** Claim counters in the control block. */
export const CONTROL_SLOTS = 4;

export interface AlsLayout {
  users: number;
  items: number;
  nnz: number;
  /** The extra confidence of every stored pair when they are all equal (no per-pair arrays then). */
  uniformExtra: number | null;
  k: number;
  /** Row stride of the factor matrices (k rounded up to a multiple of 4). */
  stride: number;
  lambda: number;
  cgSteps: number;
  solver: AlsSolver;
  kernel: AlsKernel;
  /** Scratch slots (one per thread). */
  threads: number;
  /** Solve chunks over users / items. */
  userChunks: number;
  itemChunks: number;
  /** Gram chunks over users / items. */
  userGramChunks: number;
  itemGramChunks: number;
  byteLength: number;
  /** First byte the layout uses (room below is left to the wasm module). */
  base: number;
  off: {
    userIndptr: number;
    userIndices: number;
    userExtra: number;
    itemIndptr: number;
    itemIndices: number;
    itemExtra: number;
    userFactors: number;
    itemFactors: number;
    /** k×k float64, G = FᵀF + λI of the current fixed side. */
    gram: number;
    /** stride×stride float32 copy of gram (zero padded), for the wasm kernel. */
    gram32: number;
    /** max(gram chunks) × k×k float64. */
    partials: number;
    /** userChunks + 1 int32. */
    userBounds: number;
    itemBounds: number;
    /** CONTROL_SLOTS int32 counters. */
    control: number;
    /** threads × scratchBytes(stride) (wasm kernel scratch). */
    scratch: number;
  };
}

export interface AlsShape {
  users: number;
  items: number;
  nnz: number;
  /** The extra confidence of every stored pair when they are all equal (no per-pair arrays then). */
  uniformExtra: number | null;
  k: number;
  lambda: number;
  cgSteps: number;
  solver: AlsSolver;
  kernel: AlsKernel;
  threads: number;
  userChunks: number;
  itemChunks: number;
}

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/** Bytes of kernel scratch per thread: eight vectors and one stride×stride float32 matrix. */
export function scratchBytes(stride: number): number {
  return 4 * (8 * stride + stride * stride);
}

/** Lays out the workspace from byte `base` on. */
export function alsLayout(shape: AlsShape, base: number): AlsLayout {
  const stride = Math.ceil(shape.k / 4) * 4;
  const userGramChunks = Math.max(1, Math.ceil(shape.users / GRAM_CHUNK));
  const itemGramChunks = Math.max(1, Math.ceil(shape.items / GRAM_CHUNK));
  let at = align16(base);
  const take = (bytes: number): number => {
    const o = at;
    at = align16(at + bytes);
    return o;
  };
  const k2 = shape.k * shape.k;
  const extraBytes = shape.uniformExtra === null ? 4 * shape.nnz : 0;
  const off = {
    userIndptr: take(4 * (shape.users + 1)),
    userIndices: take(4 * shape.nnz),
    userExtra: take(extraBytes),
    itemIndptr: take(4 * (shape.items + 1)),
    itemIndices: take(4 * shape.nnz),
    itemExtra: take(extraBytes),
    userFactors: take(4 * shape.users * stride),
    itemFactors: take(4 * shape.items * stride),
    gram: take(8 * k2),
    gram32: take(4 * stride * stride),
    partials: take(8 * k2 * Math.max(userGramChunks, itemGramChunks)),
    userBounds: take(4 * (shape.userChunks + 1)),
    itemBounds: take(4 * (shape.itemChunks + 1)),
    control: take(4 * CONTROL_SLOTS),
    scratch: take(scratchBytes(stride) * shape.threads),
  };
  return { ...shape, stride, userGramChunks, itemGramChunks, byteLength: at, base, off };
}

/** Typed views of a workspace. */
export interface AlsViews {
  userIndptr: Int32Array;
  userIndices: Int32Array;
  userExtra: Float32Array;
  itemIndptr: Int32Array;
  itemIndices: Int32Array;
  itemExtra: Float32Array;
  userFactors: Float32Array;
  itemFactors: Float32Array;
  gram: Float64Array;
  gram32: Float32Array;
  partials: Float64Array;
  userBounds: Int32Array;
  itemBounds: Int32Array;
  control: Int32Array;
}

export function alsViews(buffer: ArrayBufferLike, l: AlsLayout): AlsViews {
  const { off, stride } = l;
  const k2 = l.k * l.k;
  const extraLength = l.uniformExtra === null ? l.nnz : 0;
  return {
    userIndptr: new Int32Array(buffer, off.userIndptr, l.users + 1),
    userIndices: new Int32Array(buffer, off.userIndices, l.nnz),
    userExtra: new Float32Array(buffer, off.userExtra, extraLength),
    itemIndptr: new Int32Array(buffer, off.itemIndptr, l.items + 1),
    itemIndices: new Int32Array(buffer, off.itemIndices, l.nnz),
    itemExtra: new Float32Array(buffer, off.itemExtra, extraLength),
    userFactors: new Float32Array(buffer, off.userFactors, l.users * stride),
    itemFactors: new Float32Array(buffer, off.itemFactors, l.items * stride),
    gram: new Float64Array(buffer, off.gram, k2),
    gram32: new Float32Array(buffer, off.gram32, stride * stride),
    partials: new Float64Array(buffer, off.partials, k2 * Math.max(l.userGramChunks, l.itemGramChunks)),
    userBounds: new Int32Array(buffer, off.userBounds, l.userChunks + 1),
    itemBounds: new Int32Array(buffer, off.itemBounds, l.itemChunks + 1),
    control: new Int32Array(buffer, off.control, CONTROL_SLOTS),
  };
}

/** One unit of work for the threads of a fit. */
export type AlsPhase = 'gram-users' | 'gram-items' | 'solve-users' | 'solve-items';

/** Control slot holding the next chunk to claim. */
export const NEXT_CHUNK = 0;
