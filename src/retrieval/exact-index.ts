/**
 * Exact inner-product search over every item: the reference for approximate indexes.
 *
 * The vectors live in a row-major Float32Array. Searches run on the WebAssembly SIMD top-K
 * kernel (src/kernels/wasm/topk-dot.ts) over a snapshot of the vectors; items added or updated
 * since the snapshot are excluded from the kernel's pass and scored directly, and the snapshot
 * is rebuilt once they pile up. A filter is applied to an over-fetched kernel result while that
 * still yields k items, else to a full scan. Without the kernel every search is a plain scan.
 */
import { TopKHeap } from '../kernels/topk.js';
import { DotTopKIndex, dotTopKSupported, type DotTopKSearcher } from '../kernels/wasm/topk-dot.js';
import { floatSection, readIndexFile, writeIndexFile, type IndexFile } from './index-file.js';
import {
  checkDim,
  checkItem,
  checkK,
  checkRows,
  checkVector,
  type IndexSearchResult,
  type ItemFilter,
  type VectorIndex,
} from './vector-index.js';
import { VectorRows } from './vector-rows.js';

export interface ExactIndexOptions {
  /** Use the SIMD kernel when the runtime has it (default true). */
  kernel?: boolean;
}

/** Largest k the kernel answers (larger k take the plain scan). */
const KERNEL_MAX_K = 2048;
/** Items changed since the snapshot that trigger a rebuild of it. */
const MAX_PENDING = 2048;

/** The kernel's copy of the vectors and which items it has wrong. */
class Snapshot {
  readonly searcher: DotTopKSearcher;
  /** Items of the snapshot updated since (ascending when sorted). */
  stale: Int32Array;
  staleCount = 0;
  staleSorted = true;
  readonly isStale: Uint8Array;

  constructor(
    rows: Float32Array,
    readonly items: number,
    dim: number,
  ) {
    const index = DotTopKIndex.create(rows, items, dim, {
      maxK: Math.min(KERNEL_MAX_K, items),
      group: 4,
      maxSeen: MAX_PENDING,
    });
    this.searcher = index.searcher(0);
    this.stale = new Int32Array(64);
    this.isStale = new Uint8Array(items);
  }

  markStale(i: number): void {
    if (i >= this.items || this.isStale[i]) return;
    this.isStale[i] = 1;
    if (this.staleCount === this.stale.length) {
      const grown = new Int32Array(this.stale.length * 2);
      grown.set(this.stale);
      this.stale = grown;
    }
    if (this.staleCount > 0 && this.stale[this.staleCount - 1] > i) this.staleSorted = false;
    this.stale[this.staleCount++] = i;
  }

  sortedStale(): Int32Array {
    const s = this.stale.subarray(0, this.staleCount);
    if (!this.staleSorted) {
      s.sort();
      this.staleSorted = true;
    }
    return s;
  }
}

export class ExactIndex implements VectorIndex {
  readonly kind = 'exact' as const;
  private readonly data: VectorRows;
  private readonly useKernel: boolean;
  private snapshot: Snapshot | null = null;
  private readonly heap = new TopKHeap(16);
  private outIndex = new Int32Array(16);
  private outScore = new Float32Array(16);
  private scores = new Float32Array(0);

  private constructor(
    readonly dim: number,
    vectors: Float32Array,
    count: number,
    options: ExactIndexOptions,
  ) {
    this.data = new VectorRows(dim, vectors, count);
    this.useKernel = (options.kernel ?? true) && dotTopKSupported();
  }

  /** An index over `vectors` (count × dim, row-major; copied). */
  static build(
    vectors: Float32Array,
    count: number,
    dim: number,
    options: ExactIndexOptions = {},
  ): ExactIndex {
    checkDim(dim);
    if (!(Number.isInteger(count) && count >= 0))
      throw new RangeError(`count must be a non-negative integer`);
    checkRows(vectors, count, dim);
    return new ExactIndex(dim, vectors, count, options);
  }

  /** Reads an index saved by `save`. */
  static load(file: string, options: ExactIndexOptions = {}): ExactIndex {
    return ExactIndex.fromFile(readIndexFile(file), file, options);
  }

  /** @internal An index from an already read file. */
  static fromFile(f: IndexFile, file: string, options: ExactIndexOptions = {}): ExactIndex {
    if (f.header.kind !== 'exact')
      throw new Error(`${file} holds a ${f.header.kind} index, not an exact one`);
    const { dim, size } = f.header;
    return new ExactIndex(dim, floatSection(f, 'vectors', size * dim), size, options);
  }

  get size(): number {
    return this.data.size;
  }

  /** Whether searches run on the SIMD kernel. */
  get accelerated(): boolean {
    return this.useKernel;
  }

  search(query: Float32Array, k: number, filter?: ItemFilter): IndexSearchResult {
    checkVector('query', query, this.dim);
    checkK(k);
    const n = this.size;
    const kk = Math.min(k, n);
    if (kk === 0) return { indices: new Int32Array(0), scores: new Float32Array(0) };
    const snap = this.useKernel && kk <= KERNEL_MAX_K ? this.freshSnapshot() : null;
    if (!snap) return this.scan(query, kk, filter);
    if (!filter) return this.kernelTopK(snap, query, kk, null, kk).result;
    // Over-fetch: when k of the snapshot's best `want` items pass, the first k of them are the
    // best that pass; merged with the changed items they give the answer.
    for (let want = Math.max(4 * kk, 64); want <= KERNEL_MAX_K; want *= 4) {
      const r = this.kernelTopK(snap, query, want, filter, kk);
      if (r.complete) return r.result;
    }
    return this.scanScored(snap, query, kk, filter);
  }

  add(vector: Float32Array): number {
    checkVector('vector', vector, this.dim);
    return this.data.append(vector);
  }

  update(itemIndex: number, vector: Float32Array): void {
    checkItem(itemIndex, this.size);
    checkVector('vector', vector, this.dim);
    this.data.set(itemIndex, vector);
    this.snapshot?.markStale(itemIndex);
  }

  vector(itemIndex: number): Float32Array {
    checkItem(itemIndex, this.size);
    return this.data.row(itemIndex).slice();
  }

  save(file: string): void {
    writeIndexFile(
      file,
      { kind: 'exact', dim: this.dim, size: this.size, settings: {} },
      { vectors: this.data.rows },
    );
  }

  /** The kernel snapshot, rebuilt when too many items changed since it was taken. */
  private freshSnapshot(): Snapshot {
    const s = this.snapshot;
    const pending = s ? this.size - s.items + s.staleCount : Infinity;
    if (s && pending <= MAX_PENDING) return s;
    this.snapshot = new Snapshot(this.data.rows, this.size, this.dim);
    return this.snapshot;
  }

  /**
   * The kernel's top `want` of the snapshot (stale items excluded) merged with the direct
   * scores of stale and newer items, keeping the best `keep`. With a filter only passing items
   * count, and `complete` tells whether the snapshot part is certain (enough items passed, or
   * the kernel ran out of items).
   */
  private kernelTopK(
    snap: Snapshot,
    query: Float32Array,
    want: number,
    filter: ItemFilter | null,
    keep: number,
  ): { result: IndexSearchResult; complete: boolean } {
    const w = Math.min(want, snap.items);
    this.ensureOut(w);
    const stale = snap.sortedStale();
    const got = snap.searcher.topK(query, 0, w, stale, 0, stale.length, this.outIndex, this.outScore, 0);
    const heap = this.heap;
    heap.reset(keep);
    const oi = this.outIndex;
    const os = this.outScore;
    let complete = got < w || w === snap.items;
    if (filter) {
      // Kernel results are best first: the first `keep` that pass are the best that pass.
      let kept = 0;
      for (let p = 0; p < got && kept < keep; p++) {
        if (filter(oi[p])) {
          heap.push(oi[p], os[p]);
          kept++;
        }
      }
      if (kept === keep) complete = true;
    } else {
      for (let p = 0; p < got; p++) heap.push(oi[p], os[p]);
      complete = true;
    }
    for (let p = 0; p < stale.length; p++) this.pushDirect(stale[p], query, filter);
    for (let i = snap.items; i < this.size; i++) this.pushDirect(i, query, filter);
    return { result: this.drain(), complete };
  }

  /** Full pass with a filter: every item's kernel score, corrected for changed items. */
  private scanScored(snap: Snapshot, query: Float32Array, k: number, filter: ItemFilter): IndexSearchResult {
    if (this.scores.length < snap.items) this.scores = new Float32Array(snap.items);
    const scores = this.scores;
    snap.searcher.scoreAll(query, 0, scores);
    const heap = this.heap;
    heap.reset(k);
    const stale = snap.isStale;
    for (let i = 0; i < snap.items; i++) if (stale[i] === 0 && filter(i)) heap.push(i, scores[i]);
    const s = snap.sortedStale();
    for (let p = 0; p < s.length; p++) this.pushDirect(s[p], query, filter);
    for (let i = snap.items; i < this.size; i++) this.pushDirect(i, query, filter);
    return this.drain();
  }

  /** Plain scan without the kernel. */
  private scan(query: Float32Array, k: number, filter?: ItemFilter): IndexSearchResult {
    const heap = this.heap;
    heap.reset(k);
    const n = this.size;
    for (let i = 0; i < n; i++) this.pushDirect(i, query, filter ?? null);
    return this.drain();
  }

  private pushDirect(i: number, query: Float32Array, filter: ItemFilter | null): void {
    if (filter && !filter(i)) return;
    this.heap.push(i, this.data.dot(i, query));
  }

  private ensureOut(n: number): void {
    if (this.outIndex.length < n) {
      this.outIndex = new Int32Array(n);
      this.outScore = new Float32Array(n);
    }
  }

  private drain(): IndexSearchResult {
    const n = this.heap.size;
    const indices = new Int32Array(n);
    const scores = new Float32Array(n);
    this.heap.drainInto(indices, scores, 0);
    return { indices, scores };
  }
}
