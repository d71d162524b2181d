/**
 * Implicit-feedback matrix factorisation by alternating least squares (Hu, Koren, Volinsky
 * 2008). Every stored (user, item) pair with summed strength v gets the confidence
 *
 *   c = 1 + alpha · f(v),   f ∈ { identity, log1p, bm25 }
 *
 * (bm25: v·(K1+1) / (K1·norm_u + v) · idf_i with norm_u = 1 − B + B·len_u/avg_len, len_u the
 * user's summed strength, idf_i = max(0, ln(users) − ln(1 + users with i))); every other pair
 * has confidence 1 and preference 0. The factors minimise Σ c·(p − x_u·y_i)² + λ(|X|² + |Y|²).
 * Each iteration solves the items with the users fixed, then the users with the items fixed,
 * by a few warm-started conjugate-gradient steps (Takács et al. 2011) or exactly (Cholesky).
 *
 * A user's score for item i is x_u·y_i. Users unknown to the model (ctx.userIndex −1) are
 * folded in from their live history: one exact user half-step with the items fixed.
 *
 * Defaults (64 factors, λ 30, bm25 confidence with alpha 0.3) come from a settings search on
 * a validation split carved from MovieLens 100K u1.base and hold up on a seeded holdout of
 * ml-latest-small; the small λ of other libraries' defaults (0.01–0.05) overfits such data.
 * The conjugate-gradient half-steps run in a WebAssembly SIMD kernel when the runtime has it
 * (`kernel` auto), on worker threads for large problems; the TypeScript kernel is the
 * reference and the fallback. Serving's fold-in and explanations use another SIMD kernel
 * (`kernel` other than js) with bitwise the results of the TypeScript solve.
 */
import { availableParallelism } from 'node:os';
import type { CsrMatrix } from '../../data/csr.js';
import type { InteractionData } from '../../data/interactions.js';
import { AlsScratch, addGramLower, finishGram, solveExact } from '../../kernels/als-kernels.js';
import { choleskySolveFourRows } from '../../kernels/cholesky-blocked.js';
import { alsWasmSupported, FactorScorer } from '../../kernels/als-wasm.js';
import { WasmFoldIn } from '../../kernels/foldin-wasm.js';
import { topK } from '../../kernels/topk.js';
import { ArtifactError, requireArray, type Artifact, type SavableRecommender } from '../artifact.js';
import { expectModel, secondsSince } from '../model-kit.js';
import type {
  Contribution,
  Explainer,
  FoldIn,
  ModelInfo,
  ScoringContext,
  TopK,
  UserSimilarity,
} from '../model.js';
import { ParamReader, type Params } from '../params.js';
import { trainAls, type ConfidenceRows } from './als-train.js';
import type { AlsSolver } from './workspace.js';

export type AlsConfidence = 'identity' | 'log1p' | 'bm25';
export type AlsKernelChoice = 'auto' | 'js' | 'wasm';

export interface AlsParams {
  /** Latent dimensions. */
  factors: number;
  /** λ, added to the diagonal of every row's system. */
  regularization: number;
  /** Scale of the extra confidence of observed pairs. */
  alpha: number;
  /** f, the transform of summed strengths into extra confidence. */
  confidence: AlsConfidence;
  bm25K1: number;
  bm25B: number;
  iterations: number;
  solver: AlsSolver;
  /** Conjugate-gradient steps per row and half-step (solver `cg`). */
  cgSteps: number;
  /** `auto`: the WebAssembly SIMD kernel when the runtime has it (solver `cg`), else `js`. */
  kernel: AlsKernelChoice;
  /** Worker threads; 0 picks by problem size and available cores; 1 fits on the calling thread. */
  threads: number;
  seed: number;
}

/** Below this many multiply-adds per fit (nnz · k · iterations), worker start-up costs more than it saves. */
const PARALLEL_MIN_WORK = 3e8;
const MAX_AUTO_THREADS = 8;

/** What the confidence transform needs besides the strengths. */
interface ConfidenceState {
  confidence: AlsConfidence;
  alpha: number;
  k1: number;
  b: number;
  /** bm25: idf by item, length normalisation by user, and the mean user length. */
  idf: Float32Array | null;
  userNorm: Float32Array | null;
  avgLength: number;
  users: number;
}

export interface AlsFitOptions {
  /** Called after each iteration with its index (from 0) and duration in seconds. */
  onIteration?: (iteration: number, seconds: number) => void;
}

export class AlsModel implements SavableRecommender, FoldIn, UserSimilarity, Explainer {
  static readonly modelName = 'als';

  /** Values worth trying in a settings search. */
  static readonly searchSpace = {
    factors: [32, 64, 128],
    regularization: [3, 10, 30, 100],
    alpha: [0.3, 1, 3],
    confidence: ['log1p', 'identity', 'bm25'],
  } as const;

  private readonly k: number;
  /** YᵀY + λI for user fold-in (k×k). */
  private readonly itemGram: Float64Array;
  /** XᵀX + λI for item fold-in, computed on first use. */
  private userGram: Float64Array | null = null;
  private readonly scratch: AlsScratch;
  private readonly itemNorms: Float32Array;
  private userNorms: Float32Array | null = null;
  /** Per-item summed history weight, zero between calls. */
  private readonly weightScratch: Float32Array;
  private readonly touched: Int32Array;
  private readonly extraScratch: Float32Array;
  private readonly vector: Float32Array;
  /** The history last folded in or explained, whose factorised system `system` holds. */
  private explained: { history: Int32Array; weights: Float32Array; solved: boolean } | null = null;
  private readonly system: UserSystem;
  /** W·y_i of the item being explained, and the contribution of each history item. */
  private readonly explainZ: Float64Array;
  private contributions = new Float64Array(0);
  /** SIMD scoring over the item factors, created on first use (null: plain TypeScript). */
  private scorer: FactorScorer | null | undefined;
  /**
   * SIMD fold-in and explanation solves, created on first use (null: plain TypeScript). When
   * present it holds the factorised system of `explained` instead of `system`.
   */
  private foldKernel: WasmFoldIn | null | undefined;

  private constructor(
    readonly info: ModelInfo,
    readonly itemIds: readonly string[],
    readonly userIds: readonly string[],
    private readonly params: AlsParams,
    /** users × k. */
    private readonly userFactors: Float32Array,
    /** items × k. */
    private readonly itemFactors: Float32Array,
    private readonly conf: ConfidenceState,
    /** YᵀY + λI when already known (saved with the artifact), else computed here. */
    itemGram: Float64Array | null = null,
  ) {
    const k = params.factors;
    this.k = k;
    this.scratch = new AlsScratch(k);
    this.itemGram = itemGram ?? gramOf(itemFactors, itemIds.length, k, params.regularization);
    this.itemNorms = rowNormsOf(itemFactors, itemIds.length, k);
    const n = itemIds.length;
    this.weightScratch = new Float32Array(n);
    this.touched = new Int32Array(n);
    this.extraScratch = new Float32Array(n);
    this.vector = new Float32Array(k);
    this.system = {
      idx: new Int32Array(0),
      ex: new Float32Array(0),
      count: 0,
      factor: new Float64Array(k * k),
      kernel: null,
    };
    this.explainZ = new Float64Array(k);
  }

  static resolveParams(raw?: Params): AlsParams {
    const r = new ParamReader(AlsModel.modelName, raw);
    const params: AlsParams = {
      factors: r.number('factors', 64, { min: 1, max: 1024, integer: true }),
      regularization: r.number('regularization', 30, { min: 0 }),
      alpha: r.number('alpha', 0.3, { min: 0 }),
      confidence: r.choice<AlsConfidence>('confidence', 'bm25', ['identity', 'log1p', 'bm25']),
      bm25K1: r.number('bm25K1', 100, { min: 0 }),
      bm25B: r.number('bm25B', 0.8, { min: 0, max: 1 }),
      iterations: r.number('iterations', 15, { min: 0, max: 1000, integer: true }),
      solver: r.choice<AlsSolver>('solver', 'cg', ['cg', 'exact']),
      cgSteps: r.number('cgSteps', 3, { min: 1, max: 100, integer: true }),
      kernel: r.choice<AlsKernelChoice>('kernel', 'auto', ['auto', 'js', 'wasm']),
      threads: r.number('threads', 0, { min: 0, max: 256, integer: true }),
      seed: r.number('seed', 1, { integer: true }),
    };
    r.done();
    return params;
  }

  static fit(data: InteractionData, raw?: Params, options: AlsFitOptions = {}): Promise<AlsModel> {
    return AlsModel.fitMatrix(data.matrix, { users: data.users.ids, items: data.items.ids }, raw, options);
  }

  /** Fits on a users × items matrix of summed strengths (the matrix of InteractionData). */
  static async fitMatrix(
    matrix: CsrMatrix,
    ids: { users: readonly string[]; items: readonly string[] },
    raw?: Params,
    options: AlsFitOptions = {},
  ): Promise<AlsModel> {
    const start = performance.now();
    const params = AlsModel.resolveParams(raw);
    if (ids.users.length !== matrix.rows || ids.items.length !== matrix.cols) {
      throw new RangeError('ids do not match the matrix shape');
    }
    const conf = confidenceState(matrix, params);
    const rows: ConfidenceRows = {
      rows: matrix.rows,
      cols: matrix.cols,
      indptr: matrix.indptr,
      indices: matrix.indices,
      uniformExtra: uniformExtraConfidence(matrix, conf),
      writeExtra: (out) => writeExtraConfidence(matrix, conf, out),
    };
    const nnz = matrix.indptr[matrix.rows];
    const kernel =
      params.kernel === 'auto'
        ? params.solver === 'cg' && alsWasmSupported()
          ? 'wasm'
          : 'js'
        : params.kernel;
    if (kernel === 'wasm' && !alsWasmSupported()) {
      throw new Error('the WebAssembly ALS kernel is not supported on this runtime');
    }
    let threads = params.threads;
    if (threads === 0) {
      const work = nnz * params.factors * params.iterations;
      threads = work < PARALLEL_MIN_WORK ? 1 : Math.min(availableParallelism(), MAX_AUTO_THREADS);
    }
    const factors = await trainAls(rows, {
      factors: params.factors,
      regularization: params.regularization,
      iterations: params.iterations,
      cgSteps: params.cgSteps,
      solver: params.solver,
      kernel,
      threads,
      seed: params.seed,
      onIteration: options.onIteration,
    });
    const info: ModelInfo = {
      name: AlsModel.modelName,
      params: { ...params },
      trainedAt: Date.now(),
      users: matrix.rows,
      items: matrix.cols,
      interactions: nnz,
      fitSeconds: secondsSince(start),
    };
    return new AlsModel(
      info,
      ids.items.slice(),
      ids.users.slice(),
      params,
      factors.userFactors,
      factors.itemFactors,
      conf,
    );
  }

  static fromArtifact(artifact: Artifact): AlsModel {
    const { info, itemIds, extra } = artifact.header;
    expectModel(info, AlsModel.modelName);
    const params = AlsModel.resolveParams(info.params);
    const userIds = extra?.userIds;
    if (!Array.isArray(userIds) || !userIds.every((u) => typeof u === 'string')) {
      throw new ArtifactError('als artifact: header.extra.userIds is missing');
    }
    const k = params.factors;
    const users = userIds.length;
    const items = itemIds.length;
    const userFactors = requireArray(artifact, 'userFactors', Float32Array, users * k);
    const itemFactors = requireArray(artifact, 'itemFactors', Float32Array, items * k);
    const bm25 = params.confidence === 'bm25';
    const avgLength = typeof extra?.avgLength === 'number' ? extra.avgLength : 0;
    const conf: ConfidenceState = {
      confidence: params.confidence,
      alpha: params.alpha,
      k1: params.bm25K1,
      b: params.bm25B,
      idf: bm25 ? requireArray(artifact, 'idf', Float32Array, items) : null,
      userNorm: bm25 ? requireArray(artifact, 'userNorm', Float32Array, users) : null,
      avgLength,
      users,
    };
    // Saved since the Gram matrix was stored with the factors: loading then skips its O(items·k²) pass.
    const gram = artifact.arrays.itemGram ? requireArray(artifact, 'itemGram', Float64Array, k * k) : null;
    return new AlsModel(info, itemIds, userIds as string[], params, userFactors, itemFactors, conf, gram);
  }

  toArtifact(): Artifact {
    const arrays: Artifact['arrays'] = {
      userFactors: this.userFactors,
      itemFactors: this.itemFactors,
      itemGram: this.itemGram,
    };
    if (this.conf.idf) arrays.idf = this.conf.idf;
    if (this.conf.userNorm) arrays.userNorm = this.conf.userNorm;
    return {
      header: {
        info: this.info,
        itemIds: this.itemIds,
        extra: { userIds: this.userIds.slice(), avgLength: this.conf.avgLength },
      },
      arrays,
    };
  }

  /** Latent dimensions. */
  get factors(): number {
    return this.k;
  }

  /** Factor row of a training user (a view; do not modify). */
  userVector(userIndex: number): Float32Array {
    return this.userFactors.subarray(userIndex * this.k, (userIndex + 1) * this.k);
  }

  /** Factor row of an item (a view; do not modify). */
  itemVector(itemIndex: number): Float32Array {
    return this.itemFactors.subarray(itemIndex * this.k, (itemIndex + 1) * this.k);
  }

  score(ctx: ScoringContext, out: Float32Array): void {
    const k = this.k;
    let x: Float32Array;
    if (ctx.userIndex >= 0 && ctx.userIndex < this.userIds.length) {
      x = this.userVector(ctx.userIndex);
    } else {
      x = this.foldInto(ctx.history, ctx.historyWeights, this.vector);
    }
    if (this.scorer === undefined) {
      this.scorer =
        this.params.kernel === 'js' ? null : FactorScorer.create(this.itemFactors, this.itemIds.length, k);
    }
    if (this.scorer) {
      this.scorer.score(x, out);
      return;
    }
    const y = this.itemFactors;
    const n = this.itemIds.length;
    const k4 = k & ~3;
    for (let i = 0; i < n; i++) {
      const o = i * k;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let f = 0;
      for (; f < k4; f += 4) {
        s0 += x[f] * y[o + f];
        s1 += x[f + 1] * y[o + f + 1];
        s2 += x[f + 2] * y[o + f + 2];
        s3 += x[f + 3] * y[o + f + 3];
      }
      for (; f < k; f++) s0 += x[f] * y[o + f];
      out[i] = s0 + s1 + s2 + s3;
    }
  }

  foldInUser(history: Int32Array, weights: Float32Array): Float32Array {
    return this.foldInto(history, weights, new Float32Array(this.k));
  }

  foldInItem(users: Int32Array, weights: Float32Array): Float32Array {
    const k = this.k;
    const nUsers = this.userIds.length;
    this.userGram ??= gramOf(this.userFactors, nUsers, k, this.params.regularization);
    // Distinct users with summed weights (a small map: item fold-in is rare).
    const sums = new Map<number, number>();
    for (let e = 0; e < users.length; e++) {
      const u = users[e];
      const w = weights[e];
      if (u < 0 || u >= nUsers || !(w > 0)) continue;
      sums.set(u, (sums.get(u) ?? 0) + w);
    }
    const idx = Int32Array.from(sums.keys()).sort();
    const extra = new Float32Array(idx.length);
    const c = this.conf;
    const idf = c.confidence === 'bm25' ? Math.max(0, Math.log(c.users) - Math.log1p(idx.length)) : 0;
    for (let q = 0; q < idx.length; q++) {
      const v = sums.get(idx[q]) ?? 0;
      extra[q] = c.alpha * transform(c, v, c.userNorm ? c.userNorm[idx[q]] : 1, idf);
    }
    const out = new Float32Array(k);
    solveExact(idx, extra, 0, 0, idx.length, this.userFactors, k, k, this.userGram, this.scratch);
    for (let f = 0; f < k; f++) out[f] = this.scratch.x[f];
    return out;
  }

  similarItems(itemIndex: number, k: number): TopK | null {
    if (!Number.isInteger(itemIndex) || itemIndex < 0 || itemIndex >= this.itemIds.length) return null;
    return cosineNeighbours(this.itemFactors, this.itemNorms, this.itemIds.length, this.k, itemIndex, k);
  }

  similarUsers(userIndex: number, k: number): TopK | null {
    if (!Number.isInteger(userIndex) || userIndex < 0 || userIndex >= this.userIds.length) return null;
    this.userNorms ??= rowNormsOf(this.userFactors, this.userIds.length, this.k);
    return cosineNeighbours(this.userFactors, this.userNorms, this.userIds.length, this.k, userIndex, k);
  }

  /**
   * Hu et al.'s explanation: with W = (YᵀC_uY + λI)⁻¹, the score of item i is
   * Σ_j c_uj·(y_iᵀ·W·y_j) over the user's history items j, so history item j contributes
   * c_uj·y_iᵀ·W·y_j. Computed from ctx's history (the exact solve, as in fold-in). The `max`
   * largest, largest first (ties by item index).
   */
  explain(ctx: ScoringContext, itemIndex: number, max: number): Contribution[] {
    const k = this.k;
    if (!Number.isInteger(itemIndex) || itemIndex < 0 || itemIndex >= this.itemIds.length) return [];
    const system = this.explainSystem(ctx.history, ctx.historyWeights);
    if (!system) return [];
    const { idx, ex, count, factor } = system;
    let weight: Float64Array;
    if (system.kernel) {
      weight = system.kernel.itemDots(itemIndex);
    } else {
      // z = W·y_i via the Cholesky factor of W⁻¹.
      const z = this.explainZ;
      const yo = itemIndex * k;
      for (let f = 0; f < k; f++) z[f] = this.itemFactors[yo + f];
      choleskySolveFourRows(factor, k, z);
      if (this.contributions.length < count) this.contributions = new Float64Array(count);
      weight = this.contributions;
      historyDots(this.itemFactors, k, idx, count, z, weight);
    }
    let finite = true;
    for (let q = 0; q < count; q++) {
      weight[q] = (1 + ex[q]) * weight[q];
      if (weight[q] !== weight[q]) finite = false;
    }
    const limit = Math.max(0, Math.floor(max));
    const take = limit >= count ? count : limit > 0 ? limit : 0;
    if (take === 0) return [];
    return finite && take < count
      ? largestContributions(idx, weight, count, take)
      : allContributions(idx, weight, count, take);
  }

  /**
   * The factorised user system of a history, kept for the next call with the very same history
   * arrays: explaining several items of one list factorises once.
   */
  private explainSystem(history: Int32Array, weights: Float32Array): UserSystem | null {
    const cached = this.explained;
    if (cached && cached.history === history && cached.weights === weights)
      return cached.solved ? this.system : null;
    const solved = this.solveHistory(this.aggregate(history, weights)) !== null;
    this.explained = { history, weights, solved };
    return solved ? this.system : null;
  }

  /** Exact user half-step from a history, into `out`. */
  private foldInto(history: Int32Array, weights: Float32Array, out: Float32Array): Float32Array {
    const nt = this.aggregate(history, weights);
    const x = this.solveHistory(nt);
    if (x) for (let f = 0; f < this.k; f++) out[f] = x[f];
    else out.fill(0);
    // The same factorised system explains this history's scores: explain() reuses it.
    this.explained = { history, weights, solved: x !== null };
    return out;
  }

  /**
   * Solves the user system of the `nt` aggregated history items (touched / weightScratch) and
   * keeps it factorised for explain(): in the SIMD kernel when there is one, else in `system`.
   * The solution, or null when the system is not positive definite or the history is empty
   * (whose solution is zero either way, so the factorisation is skipped).
   */
  private solveHistory(nt: number): Float64Array | null {
    if (nt === 0) return null;
    const k = this.k;
    const idx = this.touched.subarray(0, nt).sort();
    const ex = this.historyExtra(idx, nt);
    const kernel = this.fold();
    if (kernel) {
      const solved = kernel.solve(idx, ex, nt);
      const sys = this.system;
      sys.idx = kernel.indices;
      sys.ex = kernel.extra;
      sys.count = nt;
      sys.kernel = kernel;
      return solved ? kernel.solution : null;
    }
    if (!solveExact(idx, ex, 0, 0, nt, this.itemFactors, k, k, this.itemGram, this.scratch)) return null;
    this.keepSystem(idx, ex, nt);
    return this.scratch.x;
  }

  /** The SIMD fold-in kernel, created on first use; null when the params or the runtime rule it out. */
  private fold(): WasmFoldIn | null {
    if (this.foldKernel === undefined) {
      this.foldKernel =
        this.params.kernel === 'js'
          ? null
          : WasmFoldIn.create(this.itemFactors, this.itemIds.length, this.k, this.itemGram);
    }
    return this.foldKernel;
  }

  /** Copies the history items, their extra confidences and the factor just solved into `system`. */
  private keepSystem(idx: Int32Array, ex: Float32Array, nt: number): void {
    const sys = this.system;
    if (sys.idx.length < nt) {
      sys.idx = new Int32Array(Math.max(nt, 2 * sys.idx.length));
      sys.ex = new Float32Array(sys.idx.length);
    }
    sys.idx.set(idx.subarray(0, nt));
    sys.ex.set(ex.subarray(0, nt));
    sys.count = nt;
    sys.factor.set(this.scratch.a.subarray(0, this.k * this.k));
  }

  /**
   * Sums the history's weights per distinct valid item into weightScratch; the distinct
   * items go to touched[0..n). Returns n.
   */
  private aggregate(history: Int32Array, weights: Float32Array): number {
    const n = this.itemIds.length;
    const w = this.weightScratch;
    const touched = this.touched;
    let nt = 0;
    for (let e = 0; e < history.length; e++) {
      const h = history[e];
      const s = weights[e];
      if (h < 0 || h >= n || !(s > 0)) continue;
      if (w[h] === 0) touched[nt++] = h;
      w[h] += s;
    }
    return nt;
  }

  /** Extra confidences of the aggregated history items `idx` (clears weightScratch). */
  private historyExtra(idx: Int32Array, nt: number): Float32Array {
    const w = this.weightScratch;
    const ex = this.extraScratch;
    const c = this.conf;
    let length = 0;
    for (let q = 0; q < nt; q++) length += w[idx[q]];
    const norm = c.confidence === 'bm25' ? 1 - c.b + (c.b * length) / (c.avgLength || 1) : 1;
    for (let q = 0; q < nt; q++) {
      const i = idx[q];
      ex[q] = c.alpha * transform(c, w[i], norm, c.idf ? c.idf[i] : 0);
      w[i] = 0;
    }
    return ex;
  }
}

/**
 * A user's factorised system: history items (ascending), their extra confidences, and the
 * Cholesky factor, or the SIMD kernel that holds it.
 */
interface UserSystem {
  idx: Int32Array;
  ex: Float32Array;
  count: number;
  factor: Float64Array;
  kernel: WasmFoldIn | null;
}

/** out[q] = y_idx[q] · z for q < count, four history items side by side (each summed in factor order). */
function historyDots(
  y: Float32Array,
  k: number,
  idx: Int32Array,
  count: number,
  z: Float64Array,
  out: Float64Array,
): void {
  let q = 0;
  for (; q + 4 <= count; q += 4) {
    const o0 = idx[q] * k;
    const o1 = idx[q + 1] * k;
    const o2 = idx[q + 2] * k;
    const o3 = idx[q + 3] * k;
    let d0 = 0;
    let d1 = 0;
    let d2 = 0;
    let d3 = 0;
    for (let f = 0; f < k; f++) {
      const v = z[f];
      d0 += y[o0 + f] * v;
      d1 += y[o1 + f] * v;
      d2 += y[o2 + f] * v;
      d3 += y[o3 + f] * v;
    }
    out[q] = d0;
    out[q + 1] = d1;
    out[q + 2] = d2;
    out[q + 3] = d3;
  }
  for (; q < count; q++) {
    const o = idx[q] * k;
    let d = 0;
    for (let f = 0; f < k; f++) d += y[o + f] * z[f];
    out[q] = d;
  }
}

/** Before in explanation order: the larger weight, then the smaller item index. */
function ranksBefore(wa: number, ia: number, wb: number, ib: number): boolean {
  return wa > wb || (wa === wb && ia < ib);
}

/** Scratch of largestContributions: the kept entries, best first (grown, never per call). */
let keptItem = new Int32Array(16);
let keptWeight = new Float64Array(16);

/**
 * The `take` (≥ 1) largest of `count` (non-NaN) contributions, in explanation order, by insertion
 * into a short sorted list on scratch arrays; only the entries kept become objects.
 */
function largestContributions(
  idx: Int32Array,
  weight: Float64Array,
  count: number,
  take: number,
): Contribution[] {
  if (keptItem.length < take) {
    keptItem = new Int32Array(take);
    keptWeight = new Float64Array(take);
  }
  const ki = keptItem;
  const kw = keptWeight;
  let n = 0;
  for (let q = 0; q < count; q++) {
    const w = weight[q];
    const i = idx[q];
    if (n === take) {
      if (!ranksBefore(w, i, kw[n - 1], ki[n - 1])) continue;
      n--;
    }
    let at = n;
    while (at > 0 && ranksBefore(w, i, kw[at - 1], ki[at - 1])) {
      kw[at] = kw[at - 1];
      ki[at] = ki[at - 1];
      at--;
    }
    kw[at] = w;
    ki[at] = i;
    n++;
  }
  const out: Contribution[] = new Array<Contribution>(n);
  for (let r = 0; r < n; r++) out[r] = { itemIndex: ki[r], weight: kw[r] };
  return out;
}

/** Every contribution sorted in explanation order, the first `take` kept. */
function allContributions(
  idx: Int32Array,
  weight: Float64Array,
  count: number,
  take: number,
): Contribution[] {
  const out: Contribution[] = [];
  for (let q = 0; q < count; q++) out.push({ itemIndex: idx[q], weight: weight[q] });
  out.sort((a, b) => b.weight - a.weight || a.itemIndex - b.itemIndex);
  return out.slice(0, take);
}

/** f(v) for one pair; `norm` and `idf` matter for bm25 only. */
function transform(c: ConfidenceState, v: number, norm: number, idf: number): number {
  switch (c.confidence) {
    case 'identity':
      return v;
    case 'log1p':
      return Math.log1p(v);
    case 'bm25':
      return ((v * (c.k1 + 1)) / (c.k1 * norm + v)) * idf;
  }
}

function confidenceState(m: CsrMatrix, p: AlsParams): ConfidenceState {
  const state: ConfidenceState = {
    confidence: p.confidence,
    alpha: p.alpha,
    k1: p.bm25K1,
    b: p.bm25B,
    idf: null,
    userNorm: null,
    avgLength: 0,
    users: m.rows,
  };
  if (p.confidence !== 'bm25') return state;
  const { rows, cols, indptr, indices, data } = m;
  const df = new Int32Array(cols);
  const nnz = indptr[rows];
  for (let q = 0; q < nnz; q++) df[indices[q]]++;
  const idf = new Float32Array(cols);
  const logN = Math.log(rows);
  for (let i = 0; i < cols; i++) idf[i] = Math.max(0, logN - Math.log1p(df[i]));
  const length = new Float64Array(rows);
  let total = 0;
  for (let u = 0; u < rows; u++) {
    let s = 0;
    for (let q = indptr[u]; q < indptr[u + 1]; q++) s += data[q];
    length[u] = s;
    total += s;
  }
  const avg = rows > 0 ? total / rows : 0;
  const userNorm = new Float32Array(rows);
  for (let u = 0; u < rows; u++) userNorm[u] = 1 - p.bm25B + (p.bm25B * length[u]) / (avg || 1);
  return { ...state, idf, userNorm, avgLength: avg };
}

/** alpha·f(v) when every stored value v is the same (and f does not vary by pair), else null. */
function uniformExtraConfidence(m: CsrMatrix, c: ConfidenceState): number | null {
  if (c.confidence === 'bm25') return null;
  const { rows, indptr, data } = m;
  const nnz = indptr[rows];
  if (nnz === 0) return 0;
  const v = data[0];
  for (let q = 1; q < nnz; q++) if (data[q] !== v) return null;
  return Math.fround(c.alpha * transform(c, v, 1, 0));
}

/** alpha·f(v) for every stored entry, into `out`. */
function writeExtraConfidence(m: CsrMatrix, c: ConfidenceState, out: Float32Array): void {
  const { rows, indptr, indices, data } = m;
  for (let u = 0; u < rows; u++) {
    const norm = c.userNorm ? c.userNorm[u] : 1;
    for (let q = indptr[u]; q < indptr[u + 1]; q++) {
      out[q] = c.alpha * transform(c, data[q], norm, c.idf ? c.idf[indices[q]] : 0);
    }
  }
}

/** FᵀF + λI of a compact rows × k matrix, in the same fixed chunk order as training. */
function gramOf(f: Float32Array, rows: number, k: number, lambda: number): Float64Array {
  const g = new Float64Array(k * k);
  const part = new Float64Array(k * k);
  const chunk = 4096;
  for (let r = 0; r < rows; r += chunk) {
    part.fill(0);
    addGramLower(f, k, k, r, Math.min(rows, r + chunk), part, 0);
    for (let a = 0; a < k; a++) for (let b = 0; b <= a; b++) g[a * k + b] += part[a * k + b];
  }
  finishGram(g, k, lambda);
  return g;
}

function rowNormsOf(f: Float32Array, rows: number, k: number): Float32Array {
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = r * k, end = c + k; c < end; c++) s += f[c] * f[c];
    out[r] = Math.sqrt(s);
  }
  return out;
}

function cosineNeighbours(
  f: Float32Array,
  norms: Float32Array,
  rows: number,
  k: number,
  row: number,
  count: number,
): TopK {
  const scores = new Float32Array(rows);
  const o = row * k;
  const nr = norms[row];
  for (let r = 0; r < rows; r++) {
    const ro = r * k;
    let s = 0;
    for (let c = 0; c < k; c++) s += f[o + c] * f[ro + c];
    const d = nr * norms[r];
    scores[r] = d > 0 ? s / d : -Infinity;
  }
  scores[row] = -Infinity;
  return topK(scores, count);
}
