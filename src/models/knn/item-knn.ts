/**
 * Item-item kNN. Training computes, for every item, its `k` most cosine-similar items over
 * the weighted user x item matrix:
 *
 *   sim(i, j) = x_i · x_j / (|x_i| |x_j| + shrink)
 *
 * where x_i is item i's column (matrix values transformed by `weighting`). A user's score for
 * item j is Σ_h w_h · sim(h, j) over the distinct items h of the history, with w_h the summed
 * history strength of h transformed by `historyWeighting`. Items that are no neighbour of any
 * history item score -Infinity (no evidence). Nothing is excluded: history items score like
 * any other item, and filtering is the caller's job. `ctx.userIndex` is not used, so new
 * users are scored from their live history.
 */
import { availableParallelism } from 'node:os';
import { rowNorms, transformValues, transposeCsr, type ValueTransform } from '../../data/csr-build.js';
import type { InteractionData } from '../../data/interactions.js';
import { workPrefix, type NeighbourLists, type NeighbourProblem } from '../../kernels/item-neighbours.js';
import { ArtifactError, requireArray, type Artifact, type SavableRecommender } from '../artifact.js';
import { expectModel, fittedInfo, secondsSince } from '../model-kit.js';
import type { ModelInfo, ScoringContext, TopK } from '../model.js';
import { ParamReader, type Params } from '../params.js';
import { computeNeighbours } from './neighbours.js';
import { computeNeighboursParallel } from './parallel-neighbours.js';

export type HistoryWeighting = 'linear' | 'log1p' | 'binary';

export interface ItemKnnParams {
  /** Neighbours kept per item. */
  k: number;
  /** Shrinkage added to the cosine denominator (0: plain cosine; default 10). */
  shrink: number;
  /** Transform of the matrix values before similarities are computed. */
  weighting: ValueTransform;
  /** Transform of each history item's summed strength when scoring. */
  historyWeighting: HistoryWeighting;
  /** Worker threads for `fitAsync`; 0 picks by problem size and available cores. */
  threads: number;
}

/** Below this many accumulator updates, worker start-up costs more than it saves. */
const PARALLEL_MIN_WORK = 5e7;
const MAX_AUTO_THREADS = 8;

export class ItemKnnModel implements SavableRecommender {
  static readonly modelName = 'item-knn';

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
      k: r.number('k', 100, { min: 1, max: 100_000, integer: true }),
      shrink: r.number('shrink', 10, { min: 0 }),
      weighting: r.choice<ValueTransform>('weighting', 'log1p', ['identity', 'binary', 'log1p']),
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
    const neighbours = computeNeighbours(neighbourProblem(data, params));
    return ItemKnnModel.fitted(data, params, neighbours, start);
  }

  /** Fits on worker threads when `threads` (or, with 0, the problem size) calls for it. */
  static async fitAsync(data: InteractionData, raw?: Params): Promise<ItemKnnModel> {
    const start = performance.now();
    const params = ItemKnnModel.resolveParams(raw);
    const problem = neighbourProblem(data, params);
    let threads = params.threads;
    let prefix: Float64Array | undefined;
    if (threads === 0) {
      prefix = workPrefix(problem);
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

  similarItems(itemIndex: number, k: number): TopK | null {
    if (!Number.isInteger(itemIndex) || itemIndex < 0 || itemIndex >= this.itemIds.length) return null;
    const { indptr, indices, scores } = this.neighbours;
    const start = indptr[itemIndex];
    const end = Math.min(indptr[itemIndex + 1], start + Math.max(0, Math.floor(k)));
    return { indices: indices.slice(start, end), scores: scores.slice(start, end) };
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

function neighbourProblem(data: InteractionData, params: ItemKnnParams): NeighbourProblem {
  const userItems = transformValues(data.matrix, params.weighting);
  const itemUsers = transposeCsr(userItems);
  return {
    userItems,
    itemUsers,
    norms: rowNorms(itemUsers),
    items: data.items.size,
    k: params.k,
    shrink: params.shrink,
  };
}
