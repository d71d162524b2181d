/**
 * Item-item kNN. Training keeps, for every item, its `k` most similar items over the users x
 * items matrix (see ./similarity.ts for the measures):
 *
 *   cosine   x_i·x_j / (|x_i| |x_j| + shrink), x_i item i's column of transformed strengths
 *   jaccard  |U_i ∩ U_j| / (|U_i ∪ U_j| + shrink) over the users of each item
 *   tfidf    cosine after weighting each entry sqrt(v) · idf(user)
 *   bm25     plain dot product after BM25 weighting (k1, b) of the item rows
 *
 * optionally asymmetric (`alpha`) and sharpened (`exponent`). A user's score for item j is
 * Σ_h w_h · sim(h, j) over the distinct items h of the history, with w_h the summed history
 * strength of h transformed by `historyWeighting`. Items that are no neighbour of any history
 * item score -Infinity (no evidence). Nothing is excluded: history items score like any
 * other item, and filtering is the caller's job. `ctx.userIndex` is not used, so new users
 * are scored from their live history.
 */
import { availableParallelism } from 'node:os';
import { transposeCsr, type ValueTransform } from '../../data/csr-build.js';
import type { InteractionData } from '../../data/interactions.js';
import type { NeighbourLists } from '../../kernels/item-neighbours.js';
import { ArtifactError, requireArray, type Artifact, type SavableRecommender } from '../artifact.js';
import { expectModel, fittedInfo, secondsSince } from '../model-kit.js';
import type { Contribution, Explainer, ModelInfo, ScoringContext, TopK } from '../model.js';
import { ParamReader, type Params } from '../params.js';
import { computeNeighbours } from './neighbours.js';
import { computeNeighboursParallel } from './parallel-neighbours.js';
import {
  rowWorkPrefix,
  similarityProblem,
  type KnnSimilarity,
  type SimilarityProblem,
  readSimilaritySettings,
} from './similarity.js';

export type HistoryWeighting = 'linear' | 'log1p' | 'binary';

export interface ItemKnnParams {
  /** Neighbours kept per item. */
  k: number;
  /** Shrinkage added to the cosine / Jaccard denominator (0: none; default 10; unused by bm25). */
  shrink: number;
  /** Transform of the matrix values before similarities are computed (jaccard uses 0/1). */
  weighting: ValueTransform;
  /** The similarity measure and its weighting of the matrix (default cosine). */
  similarity: KnnSimilarity;
  /** BM25 term-frequency saturation (default 1.2). */
  k1: number;
  /** BM25 length normalisation, 0..1 (default 0.75). */
  b: number;
  /** Asymmetric cosine: sim(h→j) = x_h·x_j / (|x_h|^(2α) |x_j|^(2(1−α)) + shrink); 0.5 is symmetric. */
  alpha: number;
  /** Each similarity is raised to this power (1: unchanged), sharpening strong neighbours. */
  exponent: number;
  /** Transform of each history item's summed strength when scoring. */
  historyWeighting: HistoryWeighting;
  /** Worker threads for `fitAsync`; 0 picks by problem size and available cores. */
  threads: number;
}

/** Below this much estimated work (about one unit per product), worker start-up costs more than it saves. */
const PARALLEL_MIN_WORK = 5e7;
const MAX_AUTO_THREADS = 8;

export class ItemKnnModel implements SavableRecommender, Explainer {
  static readonly modelName = 'item-knn';

  /** Settings worth trying on a validation split (each similarity at several neighbourhood sizes). */
  static readonly searchSpace = {
    similarity: ['cosine', 'tfidf', 'bm25', 'jaccard'],
    k: [25, 50, 100, 200, 400],
  } as const satisfies Record<string, readonly (string | number)[]>;

  /** Per-item summed history weight, all zero between calls. */
  private readonly weightScratch: Float32Array;
  /** Distinct history items of the current call. */
  private readonly touched: Int32Array;

  private constructor(
    readonly info: ModelInfo,
    readonly itemIds: readonly string[],
    private readonly neighbours: NeighbourLists,
    private readonly historyWeighting: HistoryWeighting,
  ) {
    this.weightScratch = new Float32Array(itemIds.length);
    this.touched = new Int32Array(itemIds.length);
  }

  static resolveParams(raw?: Params): ItemKnnParams {
    const r = new ParamReader(ItemKnnModel.modelName, raw);
    const params: ItemKnnParams = {
      ...readSimilaritySettings(r, 100),
      historyWeighting: r.choice<HistoryWeighting>('historyWeighting', 'log1p', [
        'linear',
        'log1p',
        'binary',
      ]),
      threads: r.number('threads', 0, { min: 0, max: 256, integer: true }),
    };
    r.done();
    return params;
  }

  /** Fits on the calling thread. */
  static fit(data: InteractionData, raw?: Params): ItemKnnModel {
    const start = performance.now();
    const params = ItemKnnModel.resolveParams(raw);
    const neighbours = computeNeighbours(itemProblem(data, params));
    return ItemKnnModel.fitted(data, params, neighbours, start);
  }

  /** Fits on worker threads when `threads` (or, with 0, the problem size) calls for it. */
  static async fitAsync(data: InteractionData, raw?: Params): Promise<ItemKnnModel> {
    const start = performance.now();
    const params = ItemKnnModel.resolveParams(raw);
    const problem = itemProblem(data, params);
    let threads = params.threads;
    let prefix: Float64Array | undefined;
    if (threads === 0) {
      prefix = rowWorkPrefix(problem);
      const cores = Math.min(availableParallelism(), MAX_AUTO_THREADS);
      threads = prefix[problem.items] < PARALLEL_MIN_WORK ? 1 : cores;
    }
    const neighbours =
      threads <= 1 ? computeNeighbours(problem) : await computeNeighboursParallel(problem, threads, prefix);
    return ItemKnnModel.fitted(data, params, neighbours, start);
  }

  private static fitted(
    data: InteractionData,
    params: ItemKnnParams,
    neighbours: NeighbourLists,
    start: number,
  ): ItemKnnModel {
    const info = fittedInfo(ItemKnnModel.modelName, { ...params }, data, secondsSince(start));
    return new ItemKnnModel(info, data.items.ids.slice(), neighbours, params.historyWeighting);
  }

  static fromArtifact(artifact: Artifact): ItemKnnModel {
    const { info, itemIds } = artifact.header;
    expectModel(info, ItemKnnModel.modelName);
    const n = itemIds.length;
    const indptr = requireArray(artifact, 'indptr', Int32Array, n + 1);
    const nnz = indptr[n];
    const indices = requireArray(artifact, 'indices', Int32Array, nnz);
    const scores = requireArray(artifact, 'scores', Float32Array, nnz);
    if (indptr[0] !== 0) throw new ArtifactError('item-knn artifact: indptr must start at 0');
    for (let i = 0; i < n; i++) {
      if (indptr[i + 1] < indptr[i]) throw new ArtifactError('item-knn artifact: indptr is not monotone');
    }
    for (let p = 0; p < nnz; p++) {
      if (indices[p] < 0 || indices[p] >= n)
        throw new ArtifactError('item-knn artifact: neighbour index out of range');
    }
    const { historyWeighting } = ItemKnnModel.resolveParams(info.params);
    return new ItemKnnModel(info, itemIds, { indptr, indices, scores }, historyWeighting);
  }

  score(ctx: ScoringContext, out: Float32Array): void {
    const n = this.itemIds.length;
    const { history, historyWeights } = ctx;
    const { indptr, indices, scores } = this.neighbours;
    const w = this.weightScratch;
    const touched = this.touched;
    out.fill(0, 0, n);
    let nt = 0;
    for (let e = 0; e < history.length; e++) {
      const h = history[e];
      const s = historyWeights[e];
      if (h < 0 || h >= n || !(s > 0)) continue;
      if (w[h] === 0) touched[nt++] = h;
      w[h] += s;
    }
    const mode = this.historyWeighting;
    for (let t = 0; t < nt; t++) {
      const h = touched[t];
      const wh = mode === 'linear' ? w[h] : mode === 'log1p' ? Math.log1p(w[h]) : 1;
      w[h] = 0;
      for (let p = indptr[h], end = indptr[h + 1]; p < end; p++) out[indices[p]] += wh * scores[p];
    }
    for (let i = 0; i < n; i++) if (out[i] === 0) out[i] = -Infinity;
  }

  /** The history items behind the item's score: w_h · sim(h, item), largest first. */
  explain(ctx: ScoringContext, itemIndex: number, max: number): Contribution[] {
    const n = this.itemIds.length;
    if (!Number.isInteger(itemIndex) || itemIndex < 0 || itemIndex >= n || !(max >= 1)) return [];
    const { history, historyWeights } = ctx;
    const { indptr, indices, scores } = this.neighbours;
    const summed = new Map<number, number>();
    for (let e = 0; e < history.length; e++) {
      const h = history[e];
      const s = historyWeights[e];
      if (h < 0 || h >= n || !(s > 0)) continue;
      summed.set(h, Math.fround((summed.get(h) ?? 0) + s));
    }
    const out: Contribution[] = [];
    for (const [h, total] of summed) {
      const wh = this.historyWeight(total);
      for (let p = indptr[h], end = indptr[h + 1]; p < end; p++) {
        if (indices[p] !== itemIndex) continue;
        out.push({ itemIndex: h, weight: wh * scores[p] });
        break;
      }
    }
    out.sort((a, b) => b.weight - a.weight || a.itemIndex - b.itemIndex);
    return out.slice(0, Math.floor(max));
  }

  private historyWeight(w: number): number {
    const mode = this.historyWeighting;
    return mode === 'linear' ? w : mode === 'log1p' ? Math.log1p(w) : 1;
  }

  similarItems(itemIndex: number, k: number): TopK | null {
    if (!Number.isInteger(itemIndex) || itemIndex < 0 || itemIndex >= this.itemIds.length) return null;
    const { indptr, indices, scores } = this.neighbours;
    const start = indptr[itemIndex];
    const end = Math.min(indptr[itemIndex + 1], start + Math.max(0, Math.floor(k)));
    // Views, not copies: this runs for every recent item of every request.
    return { indices: indices.subarray(start, end), scores: scores.subarray(start, end) };
  }

  /** Neighbour lists, best first per item (do not modify). */
  get neighbourLists(): Readonly<NeighbourLists> {
    return this.neighbours;
  }

  toArtifact(): Artifact {
    const { indptr, indices, scores } = this.neighbours;
    return { header: { info: this.info, itemIds: this.itemIds }, arrays: { indptr, indices, scores } };
  }
}

function itemProblem(data: InteractionData, params: ItemKnnParams): SimilarityProblem {
  return similarityProblem(transposeCsr(data.matrix), params).problem;
}
