/**
 * Exact top-K by dot product (score(i) = bias[i] + x · Q[i]) with a WebAssembly SIMD kernel
 * (./topk-dot.as, compiled by scripts/build-wasm.mjs).
 *
 * `DotTopKIndex` copies the item factors once into a shared WebAssembly memory, in blocks of 8
 * items laid out factor by factor, and reserves one scratch slot per thread. A
 * `DotTopKSearcher` runs queries in one slot; searchers of different slots may run at the same
 * time on different threads (the memory travels to worker threads in a postMessage or in
 * workerData). Results follow src/kernels/topk.ts: higher score first, equal scores by lower
 * index, -Infinity and NaN never returned, fewer than k entries when fewer items qualify.
 * Scores are float32 sums in factor order, so they can differ from another summation order in
 * the last bits.
 *
 * By default the index also keeps the factors quantised to int8 per item (a quarter of the
 * bytes). Queries then run a first pass of exact integer dot products against a quantised
 * user vector, which bounds every item's float32 score within a known margin; only the items
 * whose upper bound reaches the k-th best lower bound are scored in float32. The results are
 * identical to the float32 pass (which runs instead when a query has too many candidates).
 */
import { WASM_BASE64 } from './topk-dot.wasm.js';

/** The parts of the WebAssembly API used here (typed locally). */
interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}

interface Kernel {
  topKGroup(
    itemPtr: number,
    biasPtr: number,
    items: number,
    factors: number,
    users: number,
    count: number,
    k: number,
    seen: number,
    seenStart: number,
    heapIdx: number,
    heapScore: number,
    sizes: number,
    cursors: number,
    scratch: number,
    chunkBlocks: number,
  ): void;
  topKOne(
    itemPtr: number,
    biasPtr: number,
    items: number,
    factors: number,
    user: number,
    k: number,
    seen: number,
    seenFrom: number,
    seenTo: number,
    heapIdx: number,
    heapScore: number,
    sizes: number,
    scratch: number,
  ): void;
  scoreAll(itemPtr: number, biasPtr: number, items: number, factors: number, user: number, out: number): void;
  topKGroupQuantised(
    codePtr: number,
    scalePtr: number,
    itemPtr: number,
    biasPtr: number,
    items: number,
    factors: number,
    users: number,
    xq: number,
    xScales: number,
    bounds: number,
    slack: number,
    count: number,
    k: number,
    seen: number,
    seenStart: number,
    boundIdx: number,
    boundScore: number,
    boundSizes: number,
    heapIdx: number,
    heapScore: number,
    sizes: number,
    cursors: number,
    candIdx: number,
    candCounts: number,
    candCap: number,
    scratch: number,
    chunkBlocks: number,
  ): void;
  topKOneQuantised(
    codePtr: number,
    scalePtr: number,
    itemPtr: number,
    biasPtr: number,
    items: number,
    factors: number,
    user: number,
    xq: number,
    xScale: number,
    bound: number,
    slack: number,
    k: number,
    seen: number,
    seenFrom: number,
    seenTo: number,
    boundIdx: number,
    boundScore: number,
    candIdx: number,
    candCap: number,
    heapIdx: number,
    heapScore: number,
    sizes: number,
    scratch: number,
  ): number;
}

const PAGE = 65_536;
const MAX_PAGES = 65_536;
/** Bottom of the memory, left to the module. */
const RESERVED = 65_536;
/** Bytes of item factors scored for a whole group before moving on (fits the L2 cache). */
const CHUNK_BYTES = 256 * 1024;
/** Candidates per user of a quantised group pass; users needing more rerun the full pass. */
const GROUP_CANDIDATES = 1024;
/** Largest k for which groups take the quantised pass (its candidates grow with k). */
const GROUP_QUANTISED_MAX_K = 64;

const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
let compiled: object | null | undefined;

function kernelModule(): object | null {
  if (compiled === undefined) {
    try {
      compiled = wasm ? new wasm.Module(Buffer.from(WASM_BASE64, 'base64')) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** Whether this runtime can run the kernel (WebAssembly SIMD and shared memory). */
export function dotTopKSupported(): boolean {
  if (!wasm || kernelModule() === null) return false;
  try {
    return (
      new wasm.Memory({ initial: 1, maximum: MAX_PAGES, shared: true }).buffer instanceof SharedArrayBuffer
    );
  } catch {
    return false;
  }
}

const align64 = (n: number): number => Math.ceil(n / 64) * 64;

function allFinite(a: Float32Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/** Where everything lives in the memory (byte offsets). Plain data: it can be posted to workers. */
export interface DotTopKLayout {
  items: number;
  factors: number;
  /** Largest k of a query. */
  maxK: number;
  /** Users scored together by topKMany (a multiple of 4). */
  group: number;
  /** Seen items a slot holds at once (the longest single seen list it accepts). */
  seenCapacity: number;
  /** Blocks of 8 items a group scores before moving on. */
  chunkBlocks: number;
  itemPtr: number;
  /** 0 when there is no bias. */
  biasPtr: number;
  /** Int8 item factors (per block, factor pairs of 8 items) and per-item scales; 0 when not built. */
  codePtr: number;
  scalePtr: number;
  /** Safety term of the quantisation bound (covers the bias's rounding). */
  slack: number;
  /** Candidates a quantised query may score exactly before falling back to the full pass. */
  candidates: number;
  /** The same per user of a quantised group pass. */
  groupCandidates: number;
  slots: number;
  slotPtr: number;
  slotBytes: number;
}

/** Offsets inside one slot. */
function slotParts(layout: DotTopKLayout, slot: number) {
  const base = layout.slotPtr + slot * layout.slotBytes;
  const g = layout.group;
  const users = base;
  const heapIdx = align64(users + g * layout.factors * 4);
  const heapScore = align64(heapIdx + g * layout.maxK * 4);
  const sizes = align64(heapScore + g * layout.maxK * 4);
  const cursors = align64(sizes + g * 4);
  const scratch = align64(cursors + g * 4);
  const seenStart = align64(scratch + 128);
  const seen = align64(seenStart + (g + 1) * 4);
  const scores = align64(seen + layout.seenCapacity * 4);
  const boundIdx = align64(scores + layout.items * 4);
  const boundScore = align64(boundIdx + g * layout.maxK * 4);
  const boundSizes = align64(boundScore + g * layout.maxK * 4);
  const candCounts = align64(boundSizes + g * 4);
  const xScales = align64(candCounts + g * 4);
  const bounds = align64(xScales + g * 4);
  const candIdx = align64(bounds + g * 4);
  const xq = align64(candIdx + Math.max(layout.candidates, g * layout.groupCandidates) * 8);
  const end = align64(xq + g * Math.ceil(layout.factors / 2) * 4);
  return {
    users,
    heapIdx,
    heapScore,
    sizes,
    cursors,
    scratch,
    seenStart,
    seen,
    scores,
    boundIdx,
    boundScore,
    boundSizes,
    candCounts,
    xScales,
    bounds,
    candIdx,
    xq,
    end,
  };
}

export interface DotTopKOptions {
  /** Per-item bias added to every score (length = items). */
  bias?: Float32Array | null;
  /** Scratch slots (threads that may query at the same time). Default 1. */
  slots?: number;
  /** Largest k a query may ask for. Default 1000. */
  maxK?: number;
  /** Longest seen list a query may pass. Default 4096. */
  maxSeen?: number;
  /** Users scored together by topKMany. Default 64. */
  group?: number;
  /** Bytes of item factors a group scores before moving on (default 256 KiB, within L2). */
  chunkBytes?: number;
  /**
   * Also keep int8-quantised factors (a quarter of the bytes) for single queries, which then
   * read those and score exactly only the items the quantisation bound cannot rule out
   * (default true; ignored above 512 factors or with non-finite factors).
   */
  quantised?: boolean;
  /** Candidates a quantised query may score exactly before it falls back to the full pass. */
  candidates?: number;
}

/** Item factors in a shared WebAssembly memory, ready for exact top-K queries. */
export class DotTopKIndex {
  private constructor(
    readonly memory: WasmMemory,
    readonly layout: DotTopKLayout,
  ) {}

  /**
   * Copies `itemFactors` (items x factors, row-major) into a new shared memory. Throws when the
   * runtime lacks WebAssembly SIMD or shared memory (see dotTopKSupported).
   */
  static create(
    itemFactors: Float32Array,
    items: number,
    factors: number,
    options: DotTopKOptions = {},
  ): DotTopKIndex {
    if (!wasm || !dotTopKSupported()) throw new Error('WebAssembly SIMD with shared memory is not available');
    if (!(items >= 0 && factors >= 1 && itemFactors.length >= items * factors)) {
      throw new RangeError(`item factors hold ${itemFactors.length} floats, expected ${items} x ${factors}`);
    }
    const bias = options.bias ?? null;
    if (bias && bias.length < items)
      throw new RangeError(`bias has ${bias.length} entries for ${items} items`);
    const blocks = Math.ceil(items / 8);
    const layout: DotTopKLayout = {
      items,
      factors,
      maxK: Math.max(1, options.maxK ?? 1000),
      group: Math.max(4, Math.ceil((options.group ?? 64) / 4) * 4),
      seenCapacity: 0,
      chunkBlocks: Math.max(1, Math.floor((options.chunkBytes ?? CHUNK_BYTES) / (factors * 32))),
      itemPtr: RESERVED,
      biasPtr: 0,
      codePtr: 0,
      scalePtr: 0,
      slack: 0,
      candidates: Math.max(1, options.candidates ?? 16_384),
      groupCandidates: Math.max(1, Math.min(GROUP_CANDIDATES, options.candidates ?? GROUP_CANDIDATES)),
      slots: Math.max(1, options.slots ?? 1),
      slotPtr: 0,
      slotBytes: 0,
    };
    layout.seenCapacity = Math.max(options.maxSeen ?? 4096, layout.group * 128);
    let at = align64(RESERVED + blocks * factors * 32);
    if (bias) {
      layout.biasPtr = at;
      at = align64(at + blocks * 32);
    }
    // Integer sums stay below 2^31 up to 516 factors (|code| ≤ 127, |xq| ≤ 32767).
    const quantised =
      (options.quantised ?? true) && factors <= 512 && allFinite(itemFactors, items * factors);
    const pairs = Math.ceil(factors / 2);
    if (quantised) {
      layout.codePtr = at;
      at = align64(at + blocks * pairs * 16);
      layout.scalePtr = at;
      at = align64(at + blocks * 32);
    }
    layout.slotPtr = at;
    layout.slotBytes = slotParts(layout, 0).end - at;
    const total = at + layout.slots * layout.slotBytes;
    const pages = Math.ceil(total / PAGE);
    if (pages > MAX_PAGES) throw new RangeError(`the top-K index needs ${total} bytes, over the 4 GiB limit`);
    const memory = new wasm.Memory({ initial: pages, maximum: MAX_PAGES, shared: true });
    const q = new Float32Array(memory.buffer, layout.itemPtr, blocks * factors * 8);
    for (let i = 0; i < items; i++) {
      const base = (i >> 3) * factors * 8 + (i & 7);
      const row = i * factors;
      for (let f = 0; f < factors; f++) q[base + f * 8] = itemFactors[row + f];
    }
    if (bias) {
      new Float32Array(memory.buffer, layout.biasPtr, items).set(bias.subarray(0, items));
      let maxBias = 0;
      for (let i = 0; i < items; i++) maxBias = Math.max(maxBias, Math.abs(bias[i]));
      layout.slack = maxBias * 2 ** -12;
    }
    layout.slack += 1e-30;
    if (quantised) {
      const codes = new Int8Array(memory.buffer, layout.codePtr, blocks * pairs * 16);
      const scales = new Float32Array(memory.buffer, layout.scalePtr, blocks * 8);
      for (let i = 0; i < items; i++) {
        const row = i * factors;
        let max = 0;
        for (let f = 0; f < factors; f++) max = Math.max(max, Math.abs(itemFactors[row + f]));
        const scale = Math.fround(max / 127);
        scales[i] = scale;
        if (scale === 0) continue;
        // Block of 8 items, factor pair p: item l's codes for 2p and 2p + 1 at 16p + 2l.
        const base = (i >> 3) * pairs * 16 + (i & 7) * 2;
        for (let f = 0; f < factors; f++) {
          const code = Math.max(-127, Math.min(127, Math.round(itemFactors[row + f] / scale)));
          codes[base + (f >> 1) * 16 + (f & 1)] = code;
        }
      }
    }
    return new DotTopKIndex(memory, layout);
  }

  /** A searcher on one of the slots. */
  searcher(slot = 0): DotTopKSearcher {
    return new DotTopKSearcher(this.memory, this.layout, slot);
  }
}

/** Runs queries in one scratch slot of an index's memory (one thread at a time per slot). */
export class DotTopKSearcher {
  private readonly kernel: Kernel;
  private readonly parts: ReturnType<typeof slotParts>;
  private readonly users: Float32Array;
  private readonly heapIdx: Int32Array;
  private readonly heapScore: Float32Array;
  private readonly sizes: Int32Array;
  private readonly seenStart: Int32Array;
  private readonly seen: Int32Array;
  private readonly scores: Float32Array;
  private readonly xq: Int16Array;
  private readonly xScales: Float32Array;
  private readonly bounds: Float32Array;
  private readonly candCounts: Int32Array;

  /** `memory` and `layout` as made by DotTopKIndex.create (also on another thread). */
  constructor(
    private readonly memory: WasmMemory,
    readonly layout: DotTopKLayout,
    slot: number,
  ) {
    if (!wasm) throw new Error('WebAssembly is not available');
    if (!(slot >= 0 && slot < layout.slots))
      throw new RangeError(`slot ${slot} outside 0..${layout.slots - 1}`);
    const module = kernelModule();
    if (!module) throw new Error('the top-K WebAssembly kernel cannot be compiled on this runtime');
    this.kernel = new wasm.Instance(module, { env: { memory } }).exports as Kernel;
    const p = (this.parts = slotParts(layout, slot));
    const buf = memory.buffer;
    const g = layout.group;
    this.users = new Float32Array(buf, p.users, g * layout.factors);
    this.heapIdx = new Int32Array(buf, p.heapIdx, g * layout.maxK);
    this.heapScore = new Float32Array(buf, p.heapScore, g * layout.maxK);
    this.sizes = new Int32Array(buf, p.sizes, g);
    this.seenStart = new Int32Array(buf, p.seenStart, g + 1);
    this.seen = new Int32Array(buf, p.seen, layout.seenCapacity);

    this.scores = new Float32Array(buf, p.scores, layout.items);
    this.xq = new Int16Array(buf, p.xq, g * Math.ceil(layout.factors / 2) * 2);
    this.xScales = new Float32Array(buf, p.xScales, g);
    this.bounds = new Float32Array(buf, p.bounds, g);
    this.candCounts = new Int32Array(buf, p.candCounts, g);
  }

  /**
   * Top-k items for the vector `x[offset .. offset + factors)`, skipping the items in
   * `seen[from .. to)` (ascending). Writes best first into outIndex/outScore at `outOffset`
   * and returns how many were written.
   */
  topK(
    x: Float32Array,
    offset: number,
    k: number,
    seen: Int32Array | null,
    from: number,
    to: number,
    outIndex: Int32Array,
    outScore: Float32Array,
    outOffset = 0,
  ): number {
    const { layout, parts } = this;
    const kk = this.checkK(k);
    if (kk === 0) return 0;
    const n = seen ? this.copySeen(seen, from, to, 0) : 0;
    const users = this.users;
    users.set(x.subarray(offset, offset + layout.factors));
    let done = false;
    if (layout.codePtr !== 0 && this.quantiseUser(0)) {
      done =
        this.kernel.topKOneQuantised(
          layout.codePtr,
          layout.scalePtr,
          layout.itemPtr,
          layout.biasPtr,
          layout.items,
          layout.factors,
          parts.users,
          parts.xq,
          this.xScales[0],
          this.bounds[0],
          layout.slack,
          kk,
          parts.seen,
          0,
          n,
          parts.boundIdx,
          parts.boundScore,
          parts.candIdx,
          layout.candidates,
          parts.heapIdx,
          parts.heapScore,
          parts.sizes,
          parts.scratch,
        ) >= 0;
    }
    if (!done) {
      this.kernel.topKOne(
        layout.itemPtr,
        layout.biasPtr,
        layout.items,
        layout.factors,
        parts.users,
        kk,
        parts.seen,
        0,
        n,
        parts.heapIdx,
        parts.heapScore,
        parts.sizes,
        parts.scratch,
      );
    }
    return this.drain(0, kk, outIndex, outScore, outOffset);
  }

  /**
   * Top-k for users j in [from, to): user j's vector at x[offsets[j] ..], its seen items
   * seen[seenFrom[j] .. seenTo[j]) (ascending, or none when `seen` is null); its results at
   * outIndex/outScore from j * k, `counts[j]` of them. Users go through the kernel in groups
   * that share each chunk of item factors while it is in cache.
   */
  topKMany(
    x: Float32Array,
    offsets: Int32Array,
    from: number,
    to: number,
    k: number,
    seen: Int32Array | null,
    seenFrom: Int32Array,
    seenTo: Int32Array,
    outIndex: Int32Array,
    outScore: Float32Array,
    counts: Int32Array,
  ): void {
    const { layout, parts } = this;
    const kk = this.checkK(k);
    const f = layout.factors;
    const g = layout.group;
    const users = this.users;
    const starts = this.seenStart;
    for (let j = from; j < to;) {
      let n = 0;
      let at = 0;
      while (j + n < to && n < g) {
        const len = seen ? Math.max(0, seenTo[j + n] - seenFrom[j + n]) : 0;
        if (at + len > layout.seenCapacity) {
          if (n > 0) break;
          throw new RangeError(
            `a seen list of ${len} items exceeds the slot capacity ${layout.seenCapacity}`,
          );
        }
        const o = offsets[j + n];
        users.set(x.subarray(o, o + f), n * f);
        starts[n] = at;
        if (seen && len > 0) this.seen.set(seen.subarray(seenFrom[j + n], seenTo[j + n]), at);
        at += len;
        n++;
      }
      starts[n] = at;
      users.fill(0, n * f, Math.ceil(n / 4) * 4 * f);
      let quantised = layout.codePtr !== 0 && kk <= GROUP_QUANTISED_MAX_K;
      for (let r = 0; r < n && quantised; r++) quantised = this.quantiseUser(r);
      if (quantised) {
        const pairBytes = Math.ceil(f / 2) * 4;
        this.xq.fill(0, n * (pairBytes / 2), Math.ceil(n / 4) * 4 * (pairBytes / 2));
        this.kernel.topKGroupQuantised(
          layout.codePtr,
          layout.scalePtr,
          layout.itemPtr,
          layout.biasPtr,
          layout.items,
          f,
          parts.users,
          parts.xq,
          parts.xScales,
          parts.bounds,
          layout.slack,
          n,
          kk,
          parts.seen,
          parts.seenStart,
          parts.boundIdx,
          parts.boundScore,
          parts.boundSizes,
          parts.heapIdx,
          parts.heapScore,
          parts.sizes,
          parts.cursors,
          parts.candIdx,
          parts.candCounts,
          layout.groupCandidates,
          parts.scratch,
          layout.chunkBlocks * 4,
        );
        // Users with too many candidates take the full pass.
        for (let r = 0; r < n; r++) {
          if (this.candCounts[r] >= 0) continue;
          this.kernel.topKOne(
            layout.itemPtr,
            layout.biasPtr,
            layout.items,
            f,
            parts.users + r * f * 4,
            kk,
            parts.seen,
            starts[r],
            starts[r + 1],
            parts.heapIdx + r * kk * 4,
            parts.heapScore + r * kk * 4,
            parts.sizes + r * 4,
            parts.scratch,
          );
        }
      } else {
        this.kernel.topKGroup(
          layout.itemPtr,
          layout.biasPtr,
          layout.items,
          f,
          parts.users,
          n,
          kk,
          parts.seen,
          parts.seenStart,
          parts.heapIdx,
          parts.heapScore,
          parts.sizes,
          parts.cursors,
          parts.scratch,
          layout.chunkBlocks,
        );
      }
      for (let r = 0; r < n; r++) counts[j + r] = this.drain(r, kk, outIndex, outScore, (j + r) * k);
      j += n;
    }
  }

  /** Every item's score for the vector x[offset ..], into `out` (length >= items). */
  scoreAll(x: Float32Array, offset: number, out: Float32Array): void {
    const { layout, parts } = this;
    this.users.set(x.subarray(offset, offset + layout.factors));
    this.kernel.scoreAll(
      layout.itemPtr,
      layout.biasPtr,
      layout.items,
      layout.factors,
      parts.users,
      parts.scores,
    );
    out.set(this.scores);
  }

  /**
   * Writes user r's int16 pairs (x ≈ xq · xScale), scale and error bound
   * scale_i · (|x|₁ / 2 + xScale / 2 · 127 · factors), plus 2% for float rounding, from its
   * float vector in the users area. False when the vector is not finite.
   */
  private quantiseUser(r: number): boolean {
    const f = this.layout.factors;
    const x = this.users;
    const o = r * f;
    let l1 = 0;
    let max = 0;
    for (let i = 0; i < f; i++) {
      const a = Math.abs(x[o + i]);
      l1 += a;
      max = Math.max(max, a);
    }
    if (!Number.isFinite(l1)) return false;
    const xScale = max > 0 ? max / 32767 : 1;
    const stride = Math.ceil(f / 2) * 2;
    const xq = this.xq;
    for (let i = 0; i < f; i++) xq[r * stride + i] = Math.round(x[o + i] / xScale);
    if (stride > f) xq[r * stride + f] = 0;
    this.xScales[r] = xScale;
    this.bounds[r] = (l1 / 2 + (xScale / 2) * 127 * f) * 1.02;
    return true;
  }

  private checkK(k: number): number {
    const kk = Math.max(0, Math.floor(k));
    if (kk > this.layout.maxK) throw new RangeError(`k ${kk} over the index maximum ${this.layout.maxK}`);
    return Math.min(kk, this.layout.items);
  }

  private copySeen(seen: Int32Array, from: number, to: number, at: number): number {
    const n = Math.max(0, to - from);
    if (at + n > this.layout.seenCapacity) {
      throw new RangeError(`seen lists of ${at + n} items exceed the slot capacity ${this.seen.length}`);
    }
    this.seen.set(seen.subarray(from, to), at);
    return n;
  }

  /** Empties heap r (capacity k) best first into the outputs; returns its size. */
  private drain(r: number, k: number, outIndex: Int32Array, outScore: Float32Array, offset: number): number {
    const n = this.sizes[r];
    const base = r * k;
    const hi = this.heapIdx;
    const hs = this.heapScore;
    for (let last = n - 1; last >= 0; last--) {
      outIndex[offset + last] = hi[base];
      outScore[offset + last] = hs[base];
      if (last === 0) break;
      // Move the last entry to the root and sift it down over the first `last` entries.
      const index = hi[base + last];
      const s = hs[base + last];
      let pos = 0;
      for (;;) {
        let child = 2 * pos + 1;
        if (child >= last) break;
        const right = child + 1;
        if (right < last) {
          const cs = hs[base + child];
          const rs = hs[base + right];
          if (rs < cs || (rs === cs && hi[base + right] > hi[base + child])) child = right;
        }
        const cs = hs[base + child];
        if (s < cs || (s === cs && index > hi[base + child])) break;
        hi[base + pos] = hi[base + child];
        hs[base + pos] = cs;
        pos = child;
      }
      hi[base + pos] = index;
      hs[base + pos] = s;
    }
    return n;
  }
}
