/**
 * Approximate inner-product search on a hierarchical navigable small-world graph (hnswlib).
 *
 * Spaces:
 * - `ip` (default): hnswlib's inner-product space on the raw vectors.
 * - `mips`: the reduction of maximum inner product search to nearest neighbours on a sphere.
 *   With M the largest item norm at build time, every item x is stored as [x, √(M² − |x|²)]
 *   (norm M) and a query q as [q, 0]; then q'·x' = q·x on a proper metric. Items added later
 *   with a norm above M cannot be placed on the sphere: they stay in the graph with a 0
 *   appended, and every search also scores them directly. On implicit-ALS factors, whose norms
 *   spread over two orders of magnitude, nearly every item lands close to the sphere's pole
 *   and recall collapses (bench/ann.ts: recall@10 0.35 at efSearch 64, against 0.99 for `ip`),
 *   so it only suits vectors of similar norms.
 *
 * The graph finds candidates; their scores are recomputed from the vectors this index holds in
 * a Float32Array, so scores equal the exact index's up to float rounding. Vectors cross into
 * hnswlib as number[] through one reused scratch array.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import hnswlib from 'hnswlib-node';
import { TopKHeap } from '../kernels/topk.js';
import {
  floatSection,
  readIndexFile,
  readIndexFileAsync,
  writeIndexFile,
  type IndexFile,
} from './index-file.js';
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

export type HnswSpace = 'mips' | 'ip';

export interface HnswSettings {
  space: HnswSpace;
  /** Graph links per node (hnswlib M). */
  m: number;
  /** Candidate list size while inserting. */
  efConstruction: number;
  /** Candidate list size while searching (at least k is used). */
  efSearch: number;
  seed: number;
}

/**
 * Defaults chosen with bench/ann.ts (50,000 items × 64 factors of an implicit ALS model, 2,000
 * user queries): recall@10 0.989 against the exact index at efSearch 64 (0.957 at 32, 0.999 at
 * 128), about 0.07 ms a query at the median and 0.1 ms at p99 on an idle core. M 32 or
 * efConstruction 100 did not do better at the same efSearch.
 */
export const HNSW_DEFAULTS: HnswSettings = {
  space: 'ip',
  m: 16,
  efConstruction: 200,
  efSearch: 64,
  seed: 100,
};

export interface HnswOptions extends Partial<HnswSettings> {
  /** Items the graph has room for before it is resized (default: the built count + 25%). */
  capacity?: number;
}

type Graph = InstanceType<typeof hnswlib.HierarchicalNSW>;

function resolveSettings(o: Partial<HnswSettings>): HnswSettings {
  const s: HnswSettings = { ...HNSW_DEFAULTS };
  if (o.space !== undefined) {
    if (o.space !== 'mips' && o.space !== 'ip')
      throw new RangeError(`space must be 'mips' or 'ip', got ${String(o.space)}`);
    s.space = o.space;
  }
  const int = (name: 'm' | 'efConstruction' | 'efSearch' | 'seed', min: number): void => {
    const v = o[name];
    if (v === undefined) return;
    if (!(Number.isInteger(v) && v >= min))
      throw new RangeError(`${name} must be an integer >= ${min}, got ${v}`);
    s[name] = v;
  };
  int('m', 2);
  int('efConstruction', 1);
  int('efSearch', 1);
  int('seed', 0);
  return s;
}

export class HnswIndex implements VectorIndex {
  readonly kind = 'hnsw' as const;
  readonly settings: HnswSettings;
  private readonly data: VectorRows;
  private readonly graph: Graph;
  /** Floats per vector inside the graph (dim + 1 in the mips space). */
  private readonly graphDim: number;
  /** M² of the mips space (0 in ip). */
  private readonly boundSquared: number;
  /** Items scored directly on every search (mips items above the norm bound), and their flags. */
  private outlierList: number[] = [];
  private isOutlier: Uint8Array;
  private readonly scratch: number[];
  private readonly heap = new TopKHeap(16);

  private constructor(
    readonly dim: number,
    data: VectorRows,
    graph: Graph,
    settings: HnswSettings,
    boundSquared: number,
  ) {
    this.data = data;
    this.graph = graph;
    this.settings = settings;
    this.graphDim = settings.space === 'mips' ? dim + 1 : dim;
    this.boundSquared = boundSquared;
    this.scratch = new Array<number>(this.graphDim).fill(0);
    this.isOutlier = new Uint8Array(Math.max(16, data.size));
    graph.setEf(settings.efSearch);
  }

  /** Builds the graph over `vectors` (count × dim, row-major; copied). */
  static build(vectors: Float32Array, count: number, dim: number, options: HnswOptions = {}): HnswIndex {
    checkDim(dim);
    if (!(Number.isInteger(count) && count >= 0))
      throw new RangeError(`count must be a non-negative integer`);
    checkRows(vectors, count, dim);
    const settings = resolveSettings(options);
    const capacity = Math.max(16, count, options.capacity ?? Math.ceil(count * 1.25));
    const data = new VectorRows(dim, vectors, count);
    let bound = 0;
    if (settings.space === 'mips') {
      for (let i = 0; i < count; i++) bound = Math.max(bound, data.normSquared(i));
    }
    const graphDim = settings.space === 'mips' ? dim + 1 : dim;
    const graph = new hnswlib.HierarchicalNSW(settings.space === 'mips' ? 'cosine' : 'ip', graphDim);
    graph.initIndex({
      maxElements: capacity,
      m: settings.m,
      efConstruction: settings.efConstruction,
      randomSeed: settings.seed,
    });
    const index = new HnswIndex(dim, data, graph, settings, bound);
    for (let i = 0; i < count; i++) index.insert(i);
    return index;
  }

  /** Reads an index saved by `save`. */
  static load(file: string): HnswIndex {
    return HnswIndex.fromFile(readIndexFile(file), file);
  }

  /**
   * As `load`, without blocking the thread for long: the file is read and the graph parsed off
   * the event loop (the graph load runs on the thread pool).
   */
  static async loadAsync(file: string): Promise<HnswIndex> {
    const f = await readIndexFileAsync(file);
    const { graph, settings } = indexParts(f, file);
    const dir = await mkdtemp(path.join(tmpdir(), 'kindred-hnsw-'));
    try {
      const tmp = path.join(dir, 'graph.bin');
      await writeFile(tmp, graphSection(f, file));
      await graph.readIndex(tmp);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return HnswIndex.assemble(f, file, graph, settings);
  }

  /** @internal An index from an already read file. */
  static fromFile(f: IndexFile, file: string): HnswIndex {
    const { graph, settings } = indexParts(f, file);
    withTempFile((tmp) => {
      writeFileSync(tmp, graphSection(f, file));
      graph.readIndexSync(tmp);
    });
    return HnswIndex.assemble(f, file, graph, settings);
  }

  /** The index over a read file's vectors and a graph loaded from it. */
  private static assemble(f: IndexFile, file: string, graph: Graph, settings: HnswSettings): HnswIndex {
    const { dim, size } = f.header;
    if (graph.getCurrentCount() !== size) {
      throw new Error(`${file}: the graph holds ${graph.getCurrentCount()} items, the vectors ${size}`);
    }
    const boundSquared = Number(f.header.settings.boundSquared);
    const data = new VectorRows(dim, floatSection(f, 'vectors', size * dim), size);
    const index = new HnswIndex(dim, data, graph, settings, boundSquared);
    if (settings.space === 'mips') {
      for (let i = 0; i < size; i++) if (data.normSquared(i) > boundSquared) index.markOutlier(i, true);
    }
    return index;
  }

  get size(): number {
    return this.data.size;
  }

  /** Items the graph has room for before the next resize. */
  get capacity(): number {
    return this.graph.getMaxElements();
  }

  /** Items above the norm bound of the mips space, scored directly on every search. */
  get outliers(): number {
    return this.outlierList.length;
  }

  get efSearch(): number {
    return this.settings.efSearch;
  }

  set efSearch(ef: number) {
    if (!(Number.isInteger(ef) && ef >= 1))
      throw new RangeError(`efSearch must be a positive integer, got ${ef}`);
    this.settings.efSearch = ef;
    this.graph.setEf(ef);
  }

  search(query: Float32Array, k: number, filter?: ItemFilter, ef?: number): IndexSearchResult {
    checkVector('query', query, this.dim);
    checkK(k);
    const kk = Math.min(k, this.size);
    if (kk === 0) return { indices: new Int32Array(0), scores: new Float32Array(0) };
    const x = this.scratch;
    for (let f = 0; f < this.dim; f++) x[f] = query[f];
    if (this.graphDim > this.dim) x[this.dim] = 0;
    const own = this.settings.efSearch;
    const searchEf = ef === undefined ? own : Math.max(1, Math.floor(ef));
    if (searchEf !== own) this.graph.setEf(searchEf);
    let found: { neighbors: number[] };
    try {
      found = filter ? this.graph.searchKnn(x, kk, filter) : this.graph.searchKnn(x, kk);
    } finally {
      if (searchEf !== own) this.graph.setEf(own);
    }
    const heap = this.heap;
    heap.reset(kk);
    const labels = found.neighbors;
    const outlier = this.isOutlier;
    for (let p = 0; p < labels.length; p++) {
      const i = labels[p];
      if (outlier[i] !== 1) heap.push(i, this.data.dot(i, query));
    }
    for (const i of this.outlierList) if (!filter || filter(i)) heap.push(i, this.data.dot(i, query));
    const n = heap.size;
    const indices = new Int32Array(n);
    const scores = new Float32Array(n);
    heap.drainInto(indices, scores, 0);
    return { indices, scores };
  }

  add(vector: Float32Array): number {
    checkVector('vector', vector, this.dim);
    const capacity = this.graph.getMaxElements();
    if (this.size >= capacity) this.graph.resizeIndex(Math.ceil(capacity * 1.5));
    const i = this.data.append(vector);
    this.insert(i);
    return i;
  }

  update(itemIndex: number, vector: Float32Array): void {
    checkItem(itemIndex, this.size);
    checkVector('vector', vector, this.dim);
    this.data.set(itemIndex, vector);
    // hnswlib moves an existing label to its new vector and relinks its neighbourhood.
    this.insert(itemIndex);
  }

  vector(itemIndex: number): Float32Array {
    checkItem(itemIndex, this.size);
    return this.data.row(itemIndex).slice();
  }

  save(file: string): void {
    const graph = withTempFile((tmp) => {
      this.graph.writeIndexSync(tmp);
      return readFileSync(tmp);
    });
    const { space, m, efConstruction, efSearch, seed } = this.settings;
    writeIndexFile(
      file,
      {
        kind: 'hnsw',
        dim: this.dim,
        size: this.size,
        settings: { space, m, efConstruction, efSearch, seed, boundSquared: this.boundSquared },
      },
      { vectors: this.data.rows, graph },
    );
  }

  /** Writes item i's vector (as stored in the graph) into the scratch array and adds it. */
  private insert(i: number): void {
    const x = this.scratch;
    const row = this.data.row(i);
    for (let f = 0; f < this.dim; f++) x[f] = row[f];
    if (this.settings.space === 'mips') {
      const rest = this.boundSquared - this.data.normSquared(i);
      this.markOutlier(i, rest < 0);
      x[this.dim] = rest > 0 ? Math.sqrt(rest) : 0;
    }
    this.graph.addPoint(x, i);
  }

  private markOutlier(i: number, on: boolean): void {
    if (i >= this.isOutlier.length) {
      const grown = new Uint8Array(Math.max(i + 1, this.isOutlier.length * 2));
      grown.set(this.isOutlier);
      this.isOutlier = grown;
    }
    if ((this.isOutlier[i] === 1) === on) return;
    this.isOutlier[i] = on ? 1 : 0;
    if (on) this.outlierList.push(i);
    else this.outlierList.splice(this.outlierList.indexOf(i), 1);
  }
}

/** Runs `fn` with the path of a file in a fresh temporary directory, removed afterwards. */
/** The settings a saved index was built with, and an empty graph of its kind to load into. */
function indexParts(f: IndexFile, file: string): { graph: Graph; settings: HnswSettings } {
  if (f.header.kind !== 'hnsw') throw new Error(`${file} holds a ${f.header.kind} index, not an hnsw one`);
  const st = f.header.settings;
  const settings = resolveSettings({
    space: st.space as HnswSpace,
    m: Number(st.m),
    efConstruction: Number(st.efConstruction),
    efSearch: Number(st.efSearch),
    seed: Number(st.seed),
  });
  const graphDim = settings.space === 'mips' ? f.header.dim + 1 : f.header.dim;
  const graph = new hnswlib.HierarchicalNSW(settings.space === 'mips' ? 'cosine' : 'ip', graphDim);
  return { graph, settings };
}

function graphSection(f: IndexFile, file: string): Uint8Array {
  const bytes = f.sections.graph;
  if (!bytes) throw new Error(`${file}: the graph section is missing`);
  return bytes;
}

function withTempFile<T>(fn: (file: string) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), 'kindred-hnsw-'));
  try {
    return fn(path.join(dir, 'graph.bin'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
