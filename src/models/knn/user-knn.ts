/**
 * User-user kNN. Training keeps, for every user, the `k` most similar users over the users x
 * items matrix (same measures and weightings as item-kNN, see ./similarity.ts, with users as
 * the rows). A user's score for item j is
 *
 *   Σ_v sim(u→v) · r_vj      over the neighbours v of u,
 *
 * r_vj being the neighbour's summed strength on j transformed by `neighbourWeighting` (0 when
 * v never touched j). Items no neighbour touched score -Infinity. Nothing is excluded:
 * filtering is the caller's job.
 *
 * Users the model was trained on use their stored neighbours. Any other user (userIndex -1)
 * is folded in: their history is weighted exactly like a training row and compared with every
 * training user who shares an item, which yields the same neighbours a training user with
 * that history would have had.
 */
import { availableParallelism } from 'node:os';
import type { CsrMatrix } from '../../data/csr.js';
import { transformValues, transposeCsr, type ValueTransform } from '../../data/csr-build.js';
import type { InteractionData } from '../../data/interactions.js';
import type { NeighbourLists } from '../../kernels/item-neighbours.js';
import { TopKHeap } from '../../kernels/topk.js';
import { ArtifactError, requireArray, type Artifact, type SavableRecommender } from '../artifact.js';
import { expectModel, fittedInfo, secondsSince } from '../model-kit.js';
import type { ModelInfo, ScoringContext, TopK, UserSimilarity } from '../model.js';
import { ParamReader, type Params } from '../params.js';
import { computeNeighbours } from './neighbours.js';
import { computeNeighboursParallel } from './parallel-neighbours.js';
import {
  rowWorkPrefix,
  similarityProblem,
  weightValue,
  type KnnSimilarity,
  type RowWeighting,
  type SimilarityMeasure,
  readSimilaritySettings,
} from './similarity.js';

export type NeighbourWeighting = 'binary' | 'log1p' | 'linear';

export interface UserKnnParams {
  /** Neighbours kept per user. */
  k: number;
  /** Shrinkage added to the cosine / Jaccard denominator (unused by bm25). */
  shrink: number;
  /** Transform of the matrix values before similarities are computed (jaccard uses 0/1). */
  weighting: ValueTransform;
  similarity: KnnSimilarity;
  /** BM25 term-frequency saturation. */
  k1: number;
  /** BM25 length normalisation, 0..1. */
  b: number;
  /** Asymmetric cosine exponent (0.5: symmetric). */
  alpha: number;
  /** Each similarity is raised to this power. */
  exponent: number;
  /** How a neighbour's strength on an item counts in the score. */
  neighbourWeighting: NeighbourWeighting;
  /** Worker threads for `fitAsync`; 0 picks by problem size and available cores. */
  threads: number;
}

/** Below this much estimated work (about one unit per product), worker start-up costs more than it saves. */
const PARALLEL_MIN_WORK = 5e7;
const MAX_AUTO_THREADS = 8;

/** The arrays a user-kNN model keeps. */
interface UserKnnArrays {
  neighbours: NeighbourLists;
  /** users x items: the neighbour values r_vj used in scores. */
  ratings: CsrMatrix;
  /** items x users: the weighted training rows, transposed (for folding in new users). */
  itemUsers: CsrMatrix;
  /** |x_v| of every weighted training row. */
  norms: Float64Array;
  /** Per-item IDF (tfidf, bm25; empty otherwise). */
  idf: Float32Array;
}

export class UserKnnModel implements SavableRecommender, UserSimilarity {
  static readonly modelName = 'user-knn';

  /** Settings worth trying on a validation split. */
  static readonly searchSpace = {
    similarity: ['cosine', 'bm25', 'jaccard'],
    k: [25, 50, 100, 200],
  } as const satisfies Record<string, readonly (string | number)[]>;

  private readonly params: UserKnnParams;
  private readonly weighting: RowWeighting | null;
  private readonly measure: SimilarityMeasure;
  /** Per item summed history strength, all zero between calls. */
  private readonly itemScratch: Float32Array;
  private readonly itemTouched: Int32Array;
  /** Per user dot product with the folded-in history, all zero between calls. */
  private readonly userAcc: Float32Array;
  private readonly userTouched: Int32Array;
  private readonly heap = new TopKHeap(16);
  /** Fold-in neighbours of the current call. */
  private readonly foldUsers: Int32Array;
  private readonly foldSims: Float32Array;

  private constructor(
    readonly info: ModelInfo,
    readonly itemIds: readonly string[],
    readonly userIds: readonly string[],
    private readonly arrays: UserKnnArrays,
    meanLength: number,
  ) {
    this.params = UserKnnModel.resolveParams(info.params);
    const p = this.params;
    this.weighting =
      p.similarity === 'tfidf' || p.similarity === 'bm25'
        ? { scheme: p.similarity, idf: arrays.idf, meanLength, k1: p.k1, b: p.b }
        : null;
    this.measure = p.similarity === 'jaccard' ? 'jaccard' : p.similarity === 'bm25' ? 'dot' : 'cosine';
    this.itemScratch = new Float32Array(itemIds.length);
    this.itemTouched = new Int32Array(itemIds.length);
    this.userAcc = new Float32Array(userIds.length);
    this.userTouched = new Int32Array(userIds.length);
    this.foldUsers = new Int32Array(p.k);
    this.foldSims = new Float32Array(p.k);
  }

  static resolveParams(raw?: Params): UserKnnParams {
    const r = new ParamReader(UserKnnModel.modelName, raw);
    const params: UserKnnParams = {
      ...readSimilaritySettings(r, 50),
      neighbourWeighting: r.choice<NeighbourWeighting>('neighbourWeighting', 'binary', [
        'binary',
        'log1p',
        'linear',
      ]),
      threads: r.number('threads', 0, { min: 0, max: 256, integer: true }),
    };
    r.done();
    return params;
  }

  /** Fits on the calling thread. */
  static fit(data: InteractionData, raw?: Params): UserKnnModel {
    const start = performance.now();
    const params = UserKnnModel.resolveParams(raw);
    const built = similarityProblem(data.matrix, params);
    const neighbours = computeNeighbours(built.problem);
    return UserKnnModel.fitted(data, params, built, neighbours, start);
  }

  /** Fits on worker threads when `threads` (or, with 0, the problem size) calls for it. */
  static async fitAsync(data: InteractionData, raw?: Params): Promise<UserKnnModel> {
    const start = performance.now();
    const params = UserKnnModel.resolveParams(raw);
    const built = similarityProblem(data.matrix, params);
    const problem = built.problem;
    let threads = params.threads;
    let prefix: Float64Array | undefined;
    if (threads === 0) {
      prefix = rowWorkPrefix(problem);
      const cores = Math.min(availableParallelism(), MAX_AUTO_THREADS);
      threads = prefix[problem.items] < PARALLEL_MIN_WORK ? 1 : cores;
    }
    const neighbours =
      threads <= 1 ? computeNeighbours(problem) : await computeNeighboursParallel(problem, threads, prefix);
    return UserKnnModel.fitted(data, params, built, neighbours, start);
  }

  private static fitted(
    data: InteractionData,
    params: UserKnnParams,
    built: ReturnType<typeof similarityProblem>,
    neighbours: NeighbourLists,
    start: number,
  ): UserKnnModel {
    const { problem, weighting } = built;
    const weighted: CsrMatrix = { ...problem.itemUsers, rows: data.users.size, cols: data.items.size };
    const arrays: UserKnnArrays = {
      neighbours,
      ratings: transformValues(data.matrix, neighbourTransform(params.neighbourWeighting)),
      itemUsers: transposeCsr(weighted),
      norms: problem.norms,
      idf: weighting?.idf ?? new Float32Array(0),
    };
    const info = fittedInfo(UserKnnModel.modelName, { ...params }, data, secondsSince(start));
    return new UserKnnModel(
      info,
      data.items.ids.slice(),
      data.users.ids.slice(),
      arrays,
      weighting?.meanLength ?? 0,
    );
  }

  static fromArtifact(artifact: Artifact): UserKnnModel {
    const { info, itemIds, extra } = artifact.header;
    expectModel(info, UserKnnModel.modelName);
    const userIds = extra?.userIds;
    if (!Array.isArray(userIds) || !userIds.every((u) => typeof u === 'string')) {
      throw new ArtifactError('user-knn artifact: userIds missing from the header');
    }
    const meanLength = typeof extra?.meanLength === 'number' ? extra.meanLength : 0;
    const users = userIds.length;
    const items = itemIds.length;
    const params = UserKnnModel.resolveParams(info.params);
    const neighbours = checkedRows(artifact, 'neighbour', users, users, Float32Array);
    const ratings = checkedRows(artifact, 'rating', users, items, Float32Array);
    const itemUsers = checkedRows(artifact, 'itemUser', items, users, Float32Array);
    const weighted = params.similarity === 'tfidf' || params.similarity === 'bm25';
    const arrays: UserKnnArrays = {
      neighbours: { indptr: neighbours.indptr, indices: neighbours.indices, scores: neighbours.data },
      ratings,
      itemUsers,
      norms: requireArray(artifact, 'norms', Float64Array, users),
      idf: requireArray(artifact, 'idf', Float32Array, weighted ? items : 0),
    };
    return new UserKnnModel(info, itemIds, userIds as string[], arrays, meanLength);
  }

  toArtifact(): Artifact {
    const { neighbours, ratings, itemUsers, norms, idf } = this.arrays;
    return {
      header: {
        info: this.info,
        itemIds: this.itemIds,
        extra: { userIds: [...this.userIds], meanLength: this.weighting?.meanLength ?? 0 },
      },
      arrays: {
        neighbourIndptr: neighbours.indptr,
        neighbourIndices: neighbours.indices,
        neighbourData: neighbours.scores,
        ratingIndptr: ratings.indptr,
        ratingIndices: ratings.indices,
        ratingData: ratings.data,
        itemUserIndptr: itemUsers.indptr,
        itemUserIndices: itemUsers.indices,
        itemUserData: itemUsers.data,
        norms,
        idf,
      },
    };
  }

  score(ctx: ScoringContext, out: Float32Array): void {
    const n = this.itemIds.length;
    out.fill(0, 0, n);
    const u = ctx.userIndex;
    if (Number.isInteger(u) && u >= 0 && u < this.userIds.length) {
      const { indptr, indices, scores } = this.arrays.neighbours;
      this.accumulate(indices, scores, indptr[u], indptr[u + 1], out);
    } else {
      const heap = this.foldIn(ctx.history, ctx.historyWeights, this.params.k, -1);
      const count = heap.drainInto(this.foldUsers, this.foldSims, 0);
      this.accumulate(this.foldUsers, this.foldSims, 0, count, out);
    }
    for (let i = 0; i < n; i++) if (out[i] === 0) out[i] = -Infinity;
  }

  /** Adds Σ sim · r_vj over the neighbours in [start, end) of the given lists. */
  private accumulate(
    users: Int32Array,
    sims: Float32Array,
    start: number,
    end: number,
    out: Float32Array,
  ): void {
    const { indptr, indices, data } = this.arrays.ratings;
    for (let p = start; p < end; p++) {
      const v = users[p];
      const s = sims[p];
      for (let q = indptr[v], qEnd = indptr[v + 1]; q < qEnd; q++) out[indices[q]] += s * data[q];
    }
  }

  similarUsers(userIndex: number, k: number): TopK | null {
    if (!Number.isInteger(userIndex) || userIndex < 0 || userIndex >= this.userIds.length) return null;
    const { indptr, indices, scores } = this.arrays.neighbours;
    const start = indptr[userIndex];
    const end = Math.min(indptr[userIndex + 1], start + Math.max(0, Math.floor(k)));
    return { indices: indices.slice(start, end), scores: scores.slice(start, end) };
  }

  /**
   * The `k` training users most similar to a user with this history, best first; `exclude`
   * (a user index, or -1) is left out, so a training user's own history reproduces its stored
   * neighbours.
   */
  neighboursFromHistory(history: Int32Array, weights: Float32Array, k: number, exclude = -1): TopK {
    const heap = this.foldIn(history, weights, Math.max(0, Math.floor(k)), exclude);
    const indices = new Int32Array(heap.size);
    const scores = new Float32Array(heap.size);
    heap.drainInto(indices, scores, 0);
    return { indices, scores };
  }

  similarItems(): TopK | null {
    return null;
  }

  /** Fills the heap with the best `k` users for the history. */
  private foldIn(history: Int32Array, weights: Float32Array, k: number, exclude: number): TopKHeap {
    const items = this.itemIds.length;
    const { itemScratch: w, itemTouched: touched, userAcc: acc, userTouched } = this;
    let nt = 0;
    for (let e = 0; e < history.length; e++) {
      const h = history[e];
      const s = weights[e];
      if (h < 0 || h >= items || !(s > 0)) continue;
      if (w[h] === 0) touched[nt++] = h;
      w[h] += s;
    }
    // Ascending items: the same order a training row is accumulated in.
    const order = touched.subarray(0, nt).sort();
    const p = this.params;
    const transform = this.measure === 'jaccard' ? 'binary' : p.weighting;
    let length = 0;
    for (let t = 0; t < nt; t++) {
      const h = order[t];
      const v = Math.fround(transformValue(w[h], transform));
      w[h] = v;
      length += v;
    }
    const weighting = this.weighting;
    let sq = 0;
    for (let t = 0; t < nt; t++) {
      const h = order[t];
      const v = weighting ? Math.fround(weightValue(weighting, w[h], length, weighting.idf[h])) : w[h];
      w[h] = v;
      sq += v * v;
    }
    const { indptr, indices, data } = this.arrays.itemUsers;
    let nu = 0;
    for (let t = 0; t < nt; t++) {
      const h = order[t];
      const a = w[h];
      w[h] = 0;
      for (let q = indptr[h], end = indptr[h + 1]; q < end; q++) {
        const v = indices[q];
        const prev = acc[v];
        if (prev === 0) userTouched[nu++] = v;
        acc[v] = prev + a * data[q];
      }
    }
    const heap = this.heap;
    heap.reset(k);
    const norms = this.arrays.norms;
    const norm = Math.sqrt(sq);
    const { shrink, exponent, alpha } = p;
    const measure = this.measure;
    const own = measure === 'cosine' && alpha !== 0.5 ? Math.pow(norm, 2 * alpha) : norm;
    const otherPower = 2 * (1 - alpha);
    for (let c = 0; c < nu; c++) {
      const v = userTouched[c];
      const d = acc[v];
      acc[v] = 0;
      if (v === exclude) continue;
      let s: number;
      if (measure === 'cosine') {
        const nv = alpha !== 0.5 ? Math.pow(norms[v], otherPower) : norms[v];
        s = d / (own * nv + shrink);
      } else if (measure === 'jaccard') {
        s = d / (norm * norm + norms[v] * norms[v] - d + shrink);
      } else {
        s = d;
      }
      if (!(s > 0)) continue;
      if (exponent !== 1) s = Math.pow(s, exponent);
      heap.push(v, s);
    }
    return heap;
  }
}

function transformValue(v: number, t: ValueTransform): number {
  return t === 'identity' ? v : t === 'binary' ? 1 : Math.log1p(v);
}

function neighbourTransform(w: NeighbourWeighting): ValueTransform {
  return w === 'linear' ? 'identity' : w;
}

/** A CSR matrix stored under `${prefix}Indptr/Indices/Data`, validated. */
function checkedRows(
  artifact: Artifact,
  prefix: string,
  rows: number,
  cols: number,
  data: typeof Float32Array,
): CsrMatrix {
  const indptr = requireArray(artifact, `${prefix}Indptr`, Int32Array, rows + 1);
  const nnz = indptr[rows];
  const indices = requireArray(artifact, `${prefix}Indices`, Int32Array, nnz);
  const values = requireArray(artifact, `${prefix}Data`, data, nnz);
  if (indptr[0] !== 0) throw new ArtifactError(`user-knn artifact: ${prefix} indptr must start at 0`);
  for (let r = 0; r < rows; r++) {
    if (indptr[r + 1] < indptr[r])
      throw new ArtifactError(`user-knn artifact: ${prefix} indptr is not monotone`);
  }
  for (let p = 0; p < nnz; p++) {
    if (indices[p] < 0 || indices[p] >= cols) {
      throw new ArtifactError(`user-knn artifact: ${prefix} index out of range`);
    }
  }
  return { rows, cols, indptr, indices, data: values };
}
