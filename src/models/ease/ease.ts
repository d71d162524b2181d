/**
 * EASE (Steck 2019): a dense item × item weight matrix with zero diagonal, in closed form:
 *
 *   G = XᵀX + λI,   P = G⁻¹,   B = I − P · diag(P)⁻¹   (B[i][j] = −P[i][j] / P[j][j], B[j][j] = 0)
 *
 * where X is the user × item matrix with values transformed by `weighting` (binary, the summed
 * strength, or its log1p). A user's score for item j is Σ_h w_h · B[h][j] over the distinct
 * history items h, w_h the user's transformed summed strength of h; every item is scored, the
 * history included (filtering is the caller's job), and new users are scored from their live
 * history. The inverse is one dense Cholesky-based inversion: O(items³) time and items² floats
 * of memory (float64, or float32 with `precision` float32 / auto above AUTO_FLOAT32_ITEMS).
 */
import type { CsrMatrix } from '../../data/csr.js';
import type { InteractionData } from '../../data/interactions.js';
import { denseWasmFits, WasmSpdMatrix } from '../../kernels/dense-wasm.js';
import { spdInverseInPlace } from '../../kernels/dense.js';
import { topK } from '../../kernels/topk.js';
import { requireArray, type Artifact, type SavableRecommender } from '../artifact.js';
import { expectModel, secondsSince } from '../model-kit.js';
import type { Contribution, Explainer, ModelInfo, ScoringContext, TopK } from '../model.js';
import { ParamReader, type Params } from '../params.js';
import { allWorkers, runWorker, siblingModule } from '../worker-threads.js';

export type EaseWeighting = 'binary' | 'value' | 'log1p';
export type EasePrecision = 'auto' | 'float64' | 'float32';
export type EaseKernel = 'auto' | 'js' | 'wasm';

export interface EaseParams {
  /** λ, the L2 penalty on B (added to the diagonal of XᵀX). */
  lambda: number;
  weighting: EaseWeighting;
  precision: EasePrecision;
  /** `auto`: the WebAssembly SIMD kernel when the runtime has it and the matrix fits 4 GiB. */
  kernel: EaseKernel;
}

/** With precision `auto`, catalogues above this many items are inverted in float32. */
export const AUTO_FLOAT32_ITEMS = 5000;

export class EaseModel implements SavableRecommender, Explainer {
  static readonly modelName = 'ease';

  /** Values worth trying in a settings search. */
  static readonly searchSpace = {
    lambda: [50, 100, 200, 400, 800, 1600],
    weighting: ['binary', 'log1p', 'value'],
  } as const;

  /** Per-item summed history weight, zero between calls. */
  private readonly weightScratch: Float32Array;
  private readonly touched: Int32Array;

  private constructor(
    readonly info: ModelInfo,
    readonly itemIds: readonly string[],
    /** items × items, row-major: B[h][j] = weight of history item h for item j. */
    private readonly weights: Float32Array,
    private readonly weighting: EaseWeighting,
  ) {
    this.weightScratch = new Float32Array(itemIds.length);
    this.touched = new Int32Array(itemIds.length);
  }

  static resolveParams(raw?: Params): EaseParams {
    const r = new ParamReader(EaseModel.modelName, raw);
    const params: EaseParams = {
      lambda: r.number('lambda', 400, { min: 0 }),
      weighting: r.choice<EaseWeighting>('weighting', 'binary', ['binary', 'value', 'log1p']),
      precision: r.choice<EasePrecision>('precision', 'auto', ['auto', 'float64', 'float32']),
      kernel: r.choice<EaseKernel>('kernel', 'auto', ['auto', 'js', 'wasm']),
    };
    r.done();
    return params;
  }

  /** Fits on the calling thread. */
  static fit(data: InteractionData, raw?: Params): EaseModel {
    return EaseModel.fitMatrix(data.matrix, data.items.ids, raw);
  }

  /** Fits on a worker thread (above a few thousand items), keeping the caller responsive. */
  static async fitAsync(data: InteractionData, raw?: Params): Promise<EaseModel> {
    const start = performance.now();
    const params = EaseModel.resolveParams(raw);
    const m = data.matrix;
    if (m.cols < WORKER_MIN_ITEMS) return EaseModel.fit(data, raw);
    const job: EaseJob = { matrix: m, params };
    const run = runWorker<Float32Array>(siblingModule(import.meta.url, 'ease-worker'), job);
    const weights = await allWorkers([run]);
    return EaseModel.fitted(m, data.items.ids, params, weights[0], start);
  }

  /** Fits on a users × items matrix of summed strengths (the matrix of InteractionData). */
  static fitMatrix(matrix: CsrMatrix, itemIds: readonly string[], raw?: Params): EaseModel {
    const start = performance.now();
    const params = EaseModel.resolveParams(raw);
    if (itemIds.length !== matrix.cols) throw new RangeError('itemIds do not match the matrix shape');
    return EaseModel.fitted(matrix, itemIds, params, easeWeights(matrix, params), start);
  }

  private static fitted(
    matrix: CsrMatrix,
    itemIds: readonly string[],
    params: EaseParams,
    b: Float32Array,
    start: number,
  ): EaseModel {
    const n = matrix.cols;
    const info: ModelInfo = {
      name: EaseModel.modelName,
      params: { ...params },
      trainedAt: Date.now(),
      users: matrix.rows,
      items: n,
      interactions: matrix.indptr[matrix.rows],
      fitSeconds: secondsSince(start),
    };
    return new EaseModel(info, itemIds.slice(), b, params.weighting);
  }

  static fromArtifact(artifact: Artifact): EaseModel {
    const { info, itemIds } = artifact.header;
    expectModel(info, EaseModel.modelName);
    const n = itemIds.length;
    const { weighting } = EaseModel.resolveParams(info.params);
    return new EaseModel(info, itemIds, requireArray(artifact, 'weights', Float32Array, n * n), weighting);
  }

  toArtifact(): Artifact {
    return { header: { info: this.info, itemIds: this.itemIds }, arrays: { weights: this.weights } };
  }

  /** B[h][j]. */
  weight(h: number, j: number): number {
    return this.weights[h * this.itemIds.length + j];
  }

  score(ctx: ScoringContext, out: Float32Array): void {
    const n = this.itemIds.length;
    const b = this.weights;
    out.fill(0, 0, n);
    const nt = this.aggregate(ctx.history, ctx.historyWeights);
    const w = this.weightScratch;
    const touched = this.touched;
    for (let t = 0; t < nt; t++) {
      const h = touched[t];
      const wh = this.transform(w[h]);
      w[h] = 0;
      const o = h * n;
      for (let j = 0; j < n; j++) out[j] += wh * b[o + j];
    }
  }

  /** Items h whose column entry B[h][i] is largest (h ≠ i). */
  similarItems(itemIndex: number, k: number): TopK | null {
    const n = this.itemIds.length;
    if (!Number.isInteger(itemIndex) || itemIndex < 0 || itemIndex >= n) return null;
    const scores = new Float32Array(n);
    for (let h = 0; h < n; h++) scores[h] = this.weights[h * n + itemIndex];
    scores[itemIndex] = -Infinity;
    return topK(scores, k);
  }

  /** The score of an item is Σ_h w_h·B[h][item]: each history item's share, largest first. */
  explain(ctx: ScoringContext, itemIndex: number, max: number): Contribution[] {
    const n = this.itemIds.length;
    if (!Number.isInteger(itemIndex) || itemIndex < 0 || itemIndex >= n) return [];
    const nt = this.aggregate(ctx.history, ctx.historyWeights);
    const w = this.weightScratch;
    const out: Contribution[] = [];
    for (let t = 0; t < nt; t++) {
      const h = this.touched[t];
      out.push({ itemIndex: h, weight: this.transform(w[h]) * this.weights[h * n + itemIndex] });
      w[h] = 0;
    }
    out.sort((a, b) => b.weight - a.weight || a.itemIndex - b.itemIndex);
    return out.slice(0, Math.max(0, Math.floor(max)));
  }

  private transform(v: number): number {
    return this.weighting === 'binary' ? 1 : this.weighting === 'log1p' ? Math.log1p(v) : v;
  }

  /** Sums weights per distinct valid history item into weightScratch; returns their count. */
  private aggregate(history: Int32Array, weights: Float32Array): number {
    const n = this.itemIds.length;
    const w = this.weightScratch;
    let nt = 0;
    for (let e = 0; e < history.length; e++) {
      const h = history[e];
      const s = weights[e];
      if (h < 0 || h >= n || !(s > 0)) continue;
      if (w[h] === 0) this.touched[nt++] = h;
      w[h] += s;
    }
    return nt;
  }
}

/** The EASE job a worker runs. */
export interface EaseJob {
  matrix: CsrMatrix;
  params: EaseParams;
}

/** Catalogues from this size on are fitted on a worker thread by fitAsync. */
const WORKER_MIN_ITEMS = 3000;

/** B for the matrix: items × items, row-major, zero diagonal. */
export function easeWeights(matrix: CsrMatrix, params: EaseParams): Float32Array {
  const n = matrix.cols;
  const float32 = params.precision === 'float32' || (params.precision === 'auto' && n > AUTO_FLOAT32_ITEMS);
  // The SIMD kernel when the matrix fits its memory; the plain TypeScript path otherwise.
  const simd = params.kernel !== 'js' && denseWasmFits(n, float32) ? new WasmSpdMatrix(n, float32) : null;
  if (params.kernel === 'wasm' && !simd)
    throw new Error('EASE: the WebAssembly kernel is not available here');
  const g = simd ? simd.data : float32 ? new Float32Array(n * n) : new Float64Array(n * n);
  addGramLowerSparse(matrix, params.weighting, g);
  const lambda = params.lambda > 0 ? params.lambda : 1e-6;
  for (let i = 0; i < n; i++) g[i * n + i] += lambda;
  const ok = simd ? simd.invert() : spdInverseInPlace(g, n);
  if (!ok) throw new Error('EASE: XᵀX + λI is not positive definite (raise lambda)');
  const b = float32 ? (g as Float32Array) : new Float32Array(n * n);
  weightsFromInverse(g, n, b);
  return b;
}

/** Adds XᵀX (X = matrix with values transformed) into the lower triangle of the dense n×n `g`. */
function addGramLowerSparse(m: CsrMatrix, weighting: EaseWeighting, g: Float32Array | Float64Array): void {
  const { rows, cols: n, indptr, indices, data } = m;
  const vals = new Float64Array(longestRow(m));
  for (let u = 0; u < rows; u++) {
    const start = indptr[u];
    const len = indptr[u + 1] - start;
    for (let p = 0; p < len; p++) {
      const v = data[start + p];
      vals[p] = weighting === 'binary' ? 1 : weighting === 'log1p' ? Math.log1p(v) : v;
    }
    // Columns ascend within a row, so indices[q] ≤ indices[p] for q ≤ p: lower triangle.
    for (let p = 0; p < len; p++) {
      const o = indices[start + p] * n;
      const vp = vals[p];
      for (let q = 0; q <= p; q++) g[o + indices[start + q]] += vp * vals[q];
    }
  }
}

/** Longest row of the matrix. */
function longestRow(m: CsrMatrix): number {
  let longest = 0;
  for (let u = 0; u < m.rows; u++) longest = Math.max(longest, m.indptr[u + 1] - m.indptr[u]);
  return longest;
}

/** B[i][j] = −P[i][j] / P[j][j], zero diagonal; `b` may be `p` itself. */
function weightsFromInverse(p: Float32Array | Float64Array, n: number, b: Float32Array): void {
  const inv = new Float64Array(n);
  for (let j = 0; j < n; j++) inv[j] = -1 / p[j * n + j];
  for (let i = 0; i < n; i++) {
    const o = i * n;
    for (let j = 0; j < n; j++) b[o + j] = p[o + j] * inv[j];
    b[o + i] = 0;
  }
}
