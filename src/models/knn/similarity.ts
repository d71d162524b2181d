/**
 * Sparse all-pairs similarity between the rows of a weighted matrix, keeping the best `k`
 * neighbours of every row. Item-kNN runs it over items (rows of items x users), user-kNN over
 * users (rows of users x items); the code speaks of "rows" and "features".
 *
 * Measures, on row vectors x_a, x_b (after the weighting below):
 *
 *   cosine   sim(a→b) = x_a·x_b / (|x_a|^(2α) |x_b|^(2(1−α)) + shrink)    (α = 0.5: plain cosine)
 *   jaccard  sim(a→b) = x_a·x_b / (|x_a|² + |x_b|² − x_a·x_b + shrink)    (on 0/1 rows: |A∩B| / (|A∪B| + shrink))
 *   dot      sim(a→b) = x_a·x_b
 *
 * then raised to the power `exponent`. `sim(a→b)` is what b gets in a's neighbour list: with
 * α ≠ 0.5 the measure is asymmetric.
 *
 * Weightings of the rows before the product (rows are "documents", features are "terms"):
 *
 *   tfidf    w = sqrt(v) · idf_f,                         idf_f = ln(R / (1 + df_f)), clamped at 0
 *   bm25     w = v (k1 + 1) / (k1 L_a + v) · idf_f,       L_a = 1 − b + b · len_a / mean len
 *
 * with R the number of rows, df_f the rows holding feature f and len_a the value sum of row a.
 */
import type { CsrMatrix } from '../../data/csr.js';
import { rowNorms, transformValues, transposeCsr, type ValueTransform } from '../../data/csr-build.js';
import type { NeighbourLists, NeighbourProblem } from '../../kernels/item-neighbours.js';
import { TopKHeap } from '../../kernels/topk.js';
import type { ParamReader } from '../params.js';

/** The similarity a kNN model is built on (the weighting of its rows and the measure). */
export type KnnSimilarity = 'cosine' | 'jaccard' | 'tfidf' | 'bm25';

export type SimilarityMeasure = 'cosine' | 'jaccard' | 'dot';

/** A neighbour problem with the measure to apply (`items` counts the rows compared). */
export interface SimilarityProblem extends NeighbourProblem {
  measure: SimilarityMeasure;
  /** Asymmetry of the cosine (0.5: symmetric). */
  alpha: number;
  /** Power applied to each similarity (1: none). */
  exponent: number;
}

/** Per-feature inverse document frequency and the mean row length, as used by a weighting. */
export interface RowWeighting {
  scheme: 'tfidf' | 'bm25';
  /** Per feature (column). */
  idf: Float32Array;
  /** Mean value sum per row (bm25). */
  meanLength: number;
  k1: number;
  b: number;
}

/** IDF of every column of a rows x features matrix: ln(rows / (1 + df)), never below 0. */
export function inverseDocumentFrequency(m: CsrMatrix): Float32Array {
  const df = new Int32Array(m.cols);
  const { indices } = m;
  for (let p = 0, nnz = m.indptr[m.rows]; p < nnz; p++) df[indices[p]]++;
  const idf = new Float32Array(m.cols);
  const rows = Math.max(1, m.rows);
  for (let f = 0; f < m.cols; f++) idf[f] = Math.max(0, Math.log(rows / (1 + df[f])));
  return idf;
}

/** Builds the weighting parameters of `m` (rows are documents). */
export function rowWeighting(m: CsrMatrix, scheme: 'tfidf' | 'bm25', k1: number, b: number): RowWeighting {
  const { indptr, data } = m;
  let total = 0;
  for (let p = 0, nnz = indptr[m.rows]; p < nnz; p++) total += data[p];
  const meanLength = m.rows > 0 ? total / m.rows : 0;
  return { scheme, idf: inverseDocumentFrequency(m), meanLength, k1, b };
}

/**
 * Weighted value of one entry: `v` the (transformed) value, `length` its row's value sum,
 * `idf` of its feature. Shared by training and by scoring rows that were not trained on.
 */
export function weightValue(w: RowWeighting, v: number, length: number, idf: number): number {
  if (w.scheme === 'tfidf') return Math.sqrt(v) * idf;
  const norm = w.meanLength > 0 ? 1 - w.b + (w.b * length) / w.meanLength : 1;
  return ((v * (w.k1 + 1)) / (w.k1 * norm + v)) * idf;
}

/** `m` with every entry weighted (same sparsity pattern, index arrays shared). */
export function applyRowWeighting(m: CsrMatrix, w: RowWeighting): CsrMatrix {
  const { indptr, indices, data: src } = m;
  const data = new Float32Array(src.length);
  const idf = w.idf;
  for (let r = 0; r < m.rows; r++) {
    const start = indptr[r];
    const end = indptr[r + 1];
    let length = 0;
    for (let p = start; p < end; p++) length += src[p];
    for (let p = start; p < end; p++) data[p] = weightValue(w, src[p], length, idf[indices[p]]);
  }
  return { rows: m.rows, cols: m.cols, indptr, indices, data };
}

export interface SimilaritySettings {
  similarity: KnnSimilarity;
  /** Transform of the raw strengths first (jaccard always uses 0/1). */
  weighting: ValueTransform;
  /** Neighbours kept per row. */
  k: number;
  shrink: number;
  /** BM25 term saturation and length normalisation. */
  k1: number;
  b: number;
  alpha: number;
  exponent: number;
}

/** Reads the similarity settings shared by item- and user-kNN, with `defaultK` neighbours. */
export function readSimilaritySettings(r: ParamReader, defaultK: number): SimilaritySettings {
  return {
    k: r.number('k', defaultK, { min: 1, max: 100_000, integer: true }),
    shrink: r.number('shrink', 10, { min: 0 }),
    weighting: r.choice<ValueTransform>('weighting', 'log1p', ['identity', 'binary', 'log1p']),
    similarity: r.choice<KnnSimilarity>('similarity', 'cosine', ['cosine', 'jaccard', 'tfidf', 'bm25']),
    k1: r.number('k1', 1.2, { min: 0 }),
    b: r.number('b', 0.75, { min: 0, max: 1 }),
    alpha: r.number('alpha', 0.5, { min: 0, max: 1 }),
    exponent: r.number('exponent', 1, { min: 0.05, max: 20 }),
  };
}

/**
 * The similarity problem over the rows of `rows` (raw summed strengths, rows x features), and
 * the weighting used (null for cosine and jaccard), which scoring unseen rows needs.
 */
export function similarityProblem(
  rows: CsrMatrix,
  s: SimilaritySettings,
): { problem: SimilarityProblem; weighting: RowWeighting | null } {
  let weighted = transformValues(rows, s.similarity === 'jaccard' ? 'binary' : s.weighting);
  let weighting: RowWeighting | null = null;
  if (s.similarity === 'tfidf' || s.similarity === 'bm25') {
    weighting = rowWeighting(weighted, s.similarity, s.k1, s.b);
    weighted = applyRowWeighting(weighted, weighting);
  }
  const measure: SimilarityMeasure =
    s.similarity === 'jaccard' ? 'jaccard' : s.similarity === 'bm25' ? 'dot' : 'cosine';
  const problem: SimilarityProblem = {
    userItems: transposeCsr(weighted),
    itemUsers: weighted,
    norms: rowNorms(weighted),
    items: rows.rows,
    k: s.k,
    shrink: s.shrink,
    measure,
    alpha: measure === 'cosine' ? s.alpha : 0.5,
    exponent: s.exponent,
  };
  return { problem, weighting };
}

/**
 * Neighbour rows under construction: row r's neighbours at [r·k, r·k + size[r]), best first.
 * The arrays may live in SharedArrayBuffers, each worker filling its own rows.
 */
export interface NeighbourRows {
  k: number;
  index: Int32Array;
  score: Float32Array;
  size: Int32Array;
}

/** Empty rows for `rows` rows of up to k neighbours (in shared memory when asked). */
export function neighbourRows(rows: number, k: number, shared = false): NeighbourRows {
  const bytes = (n: number) => (shared ? new SharedArrayBuffer(Math.max(8, n * 4)) : new ArrayBuffer(n * 4));
  return {
    k,
    index: new Int32Array(bytes(rows * k)),
    score: new Float32Array(bytes(rows * k)),
    size: new Int32Array(bytes(rows)),
  };
}

/** Packs the rows into compressed lists. */
export function packRows(rows: NeighbourRows): NeighbourLists {
  const { k, index, score, size } = rows;
  const n = size.length;
  const indptr = new Int32Array(n + 1);
  for (let r = 0; r < n; r++) indptr[r + 1] = indptr[r] + size[r];
  const indices = new Int32Array(indptr[n]);
  const scores = new Float32Array(indptr[n]);
  for (let r = 0; r < n; r++) {
    indices.set(index.subarray(r * k, r * k + size[r]), indptr[r]);
    scores.set(score.subarray(r * k, r * k + size[r]), indptr[r]);
  }
  return { indptr, indices, scores };
}

/**
 * Cumulative work estimate per row: Σ over the row's features of the feature's length, plus
 * a fixed cost per posting and per row. Entry r is the work of rows 0..r-1.
 */
export function rowWorkPrefix(problem: NeighbourProblem): Float64Array {
  const { userItems, itemUsers, items } = problem;
  const fPtr = userItems.indptr;
  const rPtr = itemUsers.indptr;
  const rIdx = itemUsers.indices;
  const prefix = new Float64Array(items + 1);
  for (let i = 0; i < items; i++) {
    let c = 64;
    for (let p = rPtr[i], end = rPtr[i + 1]; p < end; p++) {
      const u = rIdx[p];
      c += 8 + fPtr[u + 1] - fPtr[u];
    }
    prefix[i + 1] = prefix[i] + c;
  }
  return prefix;
}

/**
 * Computes whole rows: for row i, the dot products with every other row through the shared
 * features (a dense accumulator, touched entries listed so nothing is cleared between rows),
 * then sim(i→j) for each, kept by a bounded heap (ties to the lower index). Each pair is
 * computed from both ends, which costs twice the products of a half-matrix sweep but keeps
 * every heap local to its row; the sums over the common features run in ascending feature
 * order from either end, so sim(i→j) does not depend on which rows run where.
 */
export class SimilarityAccumulator {
  private readonly acc: Float32Array;
  private readonly candidates: Int32Array;
  private readonly heap: TopKHeap;
  /** Denominator factors of the asymmetric cosine: |x|^(2α) (own) and |x|^(2(1−α)) (neighbour). */
  private readonly own: Float64Array;
  private readonly other: Float64Array;

  constructor(private readonly problem: SimilarityProblem) {
    this.acc = new Float32Array(problem.items);
    // One spare slot for the branch-free append.
    this.candidates = new Int32Array(problem.items + 1);
    this.heap = new TopKHeap(Math.max(0, problem.k));
    const { norms, alpha } = problem;
    if (problem.measure === 'cosine' && alpha !== 0.5) {
      this.own = new Float64Array(norms.length);
      this.other = new Float64Array(norms.length);
      for (let i = 0; i < norms.length; i++) {
        this.own[i] = Math.pow(norms[i], 2 * alpha);
        this.other[i] = Math.pow(norms[i], 2 * (1 - alpha));
      }
    } else {
      this.own = norms;
      this.other = norms;
    }
  }

  /** Fills rows [start, end) of `out` (k = neighbourCount of the problem). */
  run(start: number, end: number, out: NeighbourRows): void {
    const { userItems, itemUsers } = this.problem;
    const { acc, candidates } = this;
    const fPtr = userItems.indptr;
    const fIdx = userItems.indices;
    const fVal = userItems.data;
    const rPtr = itemUsers.indptr;
    const rIdx = itemUsers.indices;
    const rVal = itemUsers.data;
    for (let i = start; i < end; i++) {
      let nc = 0;
      for (let p = rPtr[i], pEnd = rPtr[i + 1]; p < pEnd; p++) {
        const u = rIdx[p];
        const a = rVal[p];
        for (let q = fPtr[u], qEnd = fPtr[u + 1]; q < qEnd; q++) {
          const j = fIdx[q];
          const prev = acc[j];
          // Branch-free: the slot is only kept (nc advanced) on the first touch.
          candidates[nc] = j;
          nc += prev === 0 ? 1 : 0;
          acc[j] = prev + a * fVal[q];
        }
      }
      this.finish(i, nc, out);
    }
  }

  /** Turns the dot products of row i into similarities and keeps the best k. */
  private finish(i: number, nc: number, out: NeighbourRows): void {
    const { acc, candidates, own, other, heap } = this;
    const { measure, shrink, exponent, norms } = this.problem;
    const powered = exponent !== 1;
    const k = out.k;
    heap.reset(k);
    // Below `floor` (the heap's worst once full) a candidate cannot enter; ties go to push.
    let floor = k > 0 ? -Infinity : Infinity;
    if (measure === 'cosine') {
      const oi = own[i];
      for (let c = 0; c < nc; c++) {
        const j = candidates[c];
        const d = acc[j];
        acc[j] = 0;
        let s = d / (oi * other[j] + shrink);
        if (!(s > 0) || j === i) continue;
        if (powered) s = Math.pow(s, exponent);
        if (Math.fround(s) < floor) continue;
        heap.push(j, s);
        if (heap.size === k) floor = heap.worst;
      }
    } else if (measure === 'jaccard') {
      const qi = norms[i] * norms[i];
      for (let c = 0; c < nc; c++) {
        const j = candidates[c];
        const d = acc[j];
        acc[j] = 0;
        let s = d / (qi + norms[j] * norms[j] - d + shrink);
        if (!(s > 0) || j === i) continue;
        if (powered) s = Math.pow(s, exponent);
        if (Math.fround(s) < floor) continue;
        heap.push(j, s);
        if (heap.size === k) floor = heap.worst;
      }
    } else {
      for (let c = 0; c < nc; c++) {
        const j = candidates[c];
        let s = acc[j];
        acc[j] = 0;
        if (!(s > 0) || j === i) continue;
        if (powered) s = Math.pow(s, exponent);
        if (Math.fround(s) < floor) continue;
        heap.push(j, s);
        if (heap.size === k) floor = heap.worst;
      }
    }
    out.size[i] = heap.drainInto(out.index, out.score, i * k);
  }
}
