/**
 * kNN on baseline residuals (KNNBaseline with the Pearson-baseline similarity), item-based by
 * default:
 *
 *   r̂(u, i) = b_ui + Σ_{j ∈ N_k(i; u)} s_ij (r_uj − b_uj) / Σ_{j ∈ N_k(i; u)} s_ij
 *
 * with b_ui = μ + b_u + b_i the baseline predictor (fitted as by the `baseline` model) and
 * N_k(i; u) the (at most) `k` items rated by u with the largest positive similarity to i. With
 * fewer than `minK` such neighbours the prediction is b_ui. The similarity of items i and j over
 * the users U_ij who rated both, on residuals ρ_ui = r_ui − b_ui, is shrunk towards zero:
 *
 *   s_ij = Σ_U ρ_ui ρ_uj / √(Σ_U ρ_ui² · Σ_U ρ_uj²) · (|U_ij| − 1) / (|U_ij| − 1 + shrinkage)
 *
 * and 0 when |U_ij| < max(2, minSupport). Each item keeps its `maxNeighbours` most similar items with
 * positive similarity (0 keeps them all), best first. Predictions are clipped to the rating scale.
 *
 * With `based: 'user'` the roles swap: users' similarities over the items both rated, and the k
 * users most similar to u among those who rated i.
 *
 * `fitAsync` computes the neighbour lists on worker threads when the problem is large enough (or
 * `threads` says so); the lists are the same.
 *
 * The model keeps the training ratings, so training users are predicted from them; a user unknown
 * to the model is folded in from their history (b_u solved with the item biases fixed) and, in the
 * item-based model, predicted from the history's residuals (the user-based model has no
 * neighbours for them and predicts the baseline).
 */
import { availableParallelism } from 'node:os';
import { transposeCsr } from '../../data/csr-build.js';
import type { InteractionData } from '../../data/interactions.js';
import { ArtifactError, requireArray, type Artifact, type SavableRecommender } from '../artifact.js';
import { expectModel, fittedInfo, secondsSince } from '../model-kit.js';
import type { ModelInfo, RatingPredictor, ScoringContext, TopK } from '../model.js';
import { ParamReader, type Params } from '../params.js';
import {
  fitBiases,
  foldInUserBias,
  resolveBaselineParams,
  type BaselineParams,
  type Biases,
} from './baseline.js';
import { neighboursParallel } from './knn-parallel.js';
import {
  neighbourInput,
  NeighbourComputer,
  neighbourWork,
  type NeighbourInput,
  type RatingNeighbours,
} from './pearson-neighbours.js';
import {
  clip,
  ratedHistory,
  ratingSet,
  ratingSetOf,
  scaleExtra,
  scaleFromArtifact,
  scaleOf,
  type RatingScale,
  type RatingSet,
} from './rating-kit.js';

export type KnnBased = 'item' | 'user';

export interface KnnBaselineParams extends BaselineParams {
  /** Which side the neighbours are on. */
  based: KnnBased;
  /** Neighbours used per prediction. */
  k: number;
  /** Fewer usable neighbours than this: the baseline alone. */
  minK: number;
  shrinkage: number;
  /** Pairs rated by fewer common users have similarity 0. */
  minSupport: number;
  /** Neighbours kept per item (0: every positive similarity). */
  maxNeighbours: number;
  /** Worker threads for `fitAsync`; 0 picks by problem size and available cores. */
  threads: number;
  /** What score() ranks by: the neighbourhood sum (`neighbours`) or the predicted rating (`rating`). */
  ranking: KnnRanking;
}

export type KnnRanking = 'neighbours' | 'rating';

export class KnnBaselineModel implements SavableRecommender, RatingPredictor {
  static readonly modelName = 'knn-baseline';

  static readonly searchSpace = {
    k: [20, 40, 60, 100],
    shrinkage: [100, 200, 400, 800],
    regUser: [2, 5, 10],
    regItem: [2, 5, 10],
  } as const satisfies Record<string, readonly (string | number)[]>;

  private readonly seen: Uint8Array;
  /**
   * Residuals of the cached context's ratings (the user's, item-based; the item's, user-based),
   * by neighbour-side index, valid where mark[index] === stamp.
   */
  private readonly res: Float64Array;
  private readonly mark: Int32Array;
  private stamp = 0;
  /** Context whose ratings are cached (-1: none, -2: a folded-in history). */
  private cached = -1;
  private readonly itemBased: boolean;

  private constructor(
    readonly info: ModelInfo,
    readonly itemIds: readonly string[],
    private readonly scale: RatingScale,
    private readonly params: KnnBaselineParams,
    readonly userBias: Float64Array,
    readonly itemBias: Float64Array,
    /** Neighbours of every item (item-based) or user (user-based). */
    private readonly nb: RatingNeighbours,
    /** Training ratings by context (users' rated items, item-based; items' raters, user-based). */
    private readonly ctxPtr: Int32Array,
    private readonly ctxIndex: Int32Array,
    private readonly ctxRatings: Float32Array,
  ) {
    this.itemBased = params.based === 'item';
    const side = this.itemBased ? itemIds.length : userBias.length;
    this.seen = new Uint8Array(itemIds.length);
    this.res = new Float64Array(side);
    this.mark = new Int32Array(side);
  }

  static resolveParams(raw?: Params): KnnBaselineParams {
    const r = new ParamReader(KnnBaselineModel.modelName, raw);
    const params: KnnBaselineParams = {
      ...resolveBaselineParams(r),
      based: r.choice<KnnBased>('based', 'item', ['item', 'user']),
      k: r.number('k', 40, { min: 1, max: 100_000, integer: true }),
      minK: r.number('minK', 1, { min: 0, max: 100_000, integer: true }),
      shrinkage: r.number('shrinkage', 100, { min: 0 }),
      minSupport: r.number('minSupport', 1, { min: 0, integer: true }),
      maxNeighbours: r.number('maxNeighbours', 500, { min: 0, integer: true }),
      threads: r.number('threads', 0, { min: 0, max: 256, integer: true }),
      ranking: r.choice<KnnRanking>('ranking', 'neighbours', ['neighbours', 'rating']),
    };
    r.done();
    return params;
  }

  /** Fits on the calling thread. */
  static fit(data: InteractionData, raw?: Params): KnnBaselineModel {
    const start = performance.now();
    const plan = knnPlan(data, KnnBaselineModel.resolveParams(raw));
    return KnnBaselineModel.fitted(plan, new NeighbourComputer(plan.input).run(0, plan.input.items), start);
  }

  /**
   * Computes the neighbour lists on worker threads when `threads` (or, with 0, the number of
   * co-rating pairs to visit) calls for it; the result equals `fit`'s.
   */
  static async fitAsync(data: InteractionData, raw?: Params): Promise<KnnBaselineModel> {
    const start = performance.now();
    const plan = knnPlan(data, KnnBaselineModel.resolveParams(raw));
    let threads = plan.params.threads;
    if (threads === 0) {
      const work = neighbourWork(plan.input);
      const big = work[plan.input.items] >= PARALLEL_MIN_PAIRS;
      threads = big ? Math.min(availableParallelism(), MAX_AUTO_THREADS) : 1;
    }
    const nb =
      threads <= 1
        ? new NeighbourComputer(plan.input).run(0, plan.input.items)
        : await neighboursParallel(plan.input, threads);
    return KnnBaselineModel.fitted(plan, nb, start);
  }

  private static fitted(plan: KnnPlan, nb: RatingNeighbours, start: number): KnnBaselineModel {
    const { data, params, set, biases, ctx } = plan;
    const info = fittedInfo(KnnBaselineModel.modelName, { ...params }, data, secondsSince(start));
    return new KnnBaselineModel(
      info,
      data.items.ids.slice(),
      scaleOf(set),
      params,
      biases.user,
      biases.item,
      nb,
      ctx.ptr,
      ctx.index,
      ctx.ratings,
    );
  }

  static fromArtifact(artifact: Artifact): KnnBaselineModel {
    const { info, itemIds } = artifact.header;
    expectModel(info, KnnBaselineModel.modelName);
    const params = KnnBaselineModel.resolveParams(info.params);
    const items = itemIds.length;
    const users = info.users;
    const [targets, contexts] = params.based === 'item' ? [items, users] : [users, items];
    const nbPtr = requireArray(artifact, 'nbPtr', Int32Array, targets + 1);
    const nbIndex = requireArray(artifact, 'nbIndex', Int32Array, nbPtr[targets]);
    const ctxPtr = requireArray(artifact, 'ctxPtr', Int32Array, contexts + 1);
    const ctxIndex = requireArray(artifact, 'ctxIndex', Int32Array, ctxPtr[contexts]);
    checkIndex(nbPtr, nbIndex, targets, 'neighbour');
    checkIndex(ctxPtr, ctxIndex, targets, 'rating');
    return new KnnBaselineModel(
      info,
      itemIds,
      scaleFromArtifact(artifact),
      params,
      requireArray(artifact, 'userBias', Float64Array, users),
      requireArray(artifact, 'itemBias', Float64Array, items),
      { ptr: nbPtr, index: nbIndex, sim: requireArray(artifact, 'nbSim', Float32Array, nbIndex.length) },
      ctxPtr,
      ctxIndex,
      requireArray(artifact, 'ctxRatings', Float32Array, ctxIndex.length),
    );
  }

  /** Neighbour lists, best first (items' when item-based, users' when user-based; do not modify). */
  get neighbours(): Readonly<RatingNeighbours> {
    return this.nb;
  }

  /** Caches the residuals of a context's training ratings. */
  private load(c: number): void {
    if (this.cached === c) return;
    const stamp = this.nextStamp();
    const mean = this.scale.mean;
    const { ctxPtr, ctxIndex, ctxRatings, mark, res } = this;
    if (this.itemBased) {
      const base = mean + this.userBias[c];
      for (let p = ctxPtr[c], end = ctxPtr[c + 1]; p < end; p++) {
        const j = ctxIndex[p];
        mark[j] = stamp;
        res[j] = ctxRatings[p] - base - this.itemBias[j];
      }
    } else {
      const base = mean + this.itemBias[c];
      for (let p = ctxPtr[c], end = ctxPtr[c + 1]; p < end; p++) {
        const v = ctxIndex[p];
        mark[v] = stamp;
        res[v] = ctxRatings[p] - base - this.userBias[v];
      }
    }
    this.cached = c;
  }

  /** Caches a history's residuals (item-based) and returns its folded-in bias. */
  private loadHistory(history: Int32Array, weights: Float32Array): number {
    const h = ratedHistory(history, weights, this.seen);
    const bu = foldInUserBias(h.items, h.ratings, h.count, this.scale.mean, this.itemBias, this.params);
    if (this.itemBased) {
      const stamp = this.nextStamp();
      for (let e = 0; e < h.count; e++) {
        const j = h.items[e];
        this.mark[j] = stamp;
        this.res[j] = h.ratings[e] - this.scale.mean - bu - this.itemBias[j];
      }
      this.cached = -2;
    }
    return bu;
  }

  private nextStamp(): number {
    if (this.stamp === 0x7fffffff) {
      this.mark.fill(0);
      this.stamp = 0;
    }
    return ++this.stamp;
  }

  /** The neighbourhood term of target t over the cached context's residuals. */
  private neighbourhood(t: number): number {
    const { ptr, index, sim } = this.nb;
    const { mark, res } = this;
    const stamp = this.stamp;
    const k = this.params.k;
    let used = 0;
    let num = 0;
    let den = 0;
    for (let p = ptr[t], end = ptr[t + 1]; p < end && used < k; p++) {
      const j = index[p];
      if (mark[j] !== stamp) continue;
      const s = sim[p];
      num += s * res[j];
      den += s;
      used++;
    }
    return used >= this.params.minK && den > 0 ? num / den : 0;
  }

  /** The unnormalised neighbourhood sum of target t over the cached context. */
  private neighbourSum(t: number): number {
    const { ptr, index, sim } = this.nb;
    const { mark, res } = this;
    const stamp = this.stamp;
    const k = this.params.k;
    let used = 0;
    let sum = 0;
    for (let p = ptr[t], end = ptr[t + 1]; p < end && used < k; p++) {
      const j = index[p];
      if (mark[j] !== stamp) continue;
      const s = sim[p];
      sum += s * (1 + res[j]);
      used++;
    }
    return sum;
  }

  predict(userIndex: number, itemIndex: number): number {
    const knownUser = userIndex >= 0 && userIndex < this.userBias.length;
    const knownItem = itemIndex >= 0 && itemIndex < this.itemBias.length;
    let x = this.scale.mean;
    if (knownUser) x += this.userBias[userIndex];
    if (knownItem) x += this.itemBias[itemIndex];
    if (knownUser && knownItem) {
      if (this.itemBased) {
        this.load(userIndex);
        x += this.neighbourhood(itemIndex);
      } else {
        this.load(itemIndex);
        x += this.neighbourhood(userIndex);
      }
    }
    return clip(x, this.scale);
  }

  /** Predicted rating of every item. */
  score(ctx: ScoringContext, out: Float32Array): void {
    if (this.params.ranking !== 'rating') {
      this.scoreNeighbours(ctx, out);
      return;
    }
    const u = ctx.userIndex;
    const known = u >= 0 && u < this.userBias.length;
    const { min, max } = this.scale;
    const n = this.itemBias.length;
    let base: number;
    if (known) {
      base = this.scale.mean + this.userBias[u];
      if (this.itemBased) this.load(u);
    } else {
      base = this.scale.mean + this.loadHistory(ctx.history, ctx.historyWeights);
    }
    for (let i = 0; i < n; i++) {
      let x = base + this.itemBias[i];
      if (this.itemBased) {
        if (known || this.cached === -2) x += this.neighbourhood(i);
      } else if (known) {
        this.load(i);
        x += this.neighbourhood(u);
      }
      out[i] = x < min ? min : x > max ? max : x;
    }
  }

  private scoreNeighbours(ctx: ScoringContext, out: Float32Array): void {
    const u = ctx.userIndex;
    const known = u >= 0 && u < this.userBias.length;
    if (known) {
      if (this.itemBased) this.load(u);
    } else {
      this.loadHistory(ctx.history, ctx.historyWeights);
    }
    const n = this.itemBias.length;
    for (let i = 0; i < n; i++) {
      if (this.itemBased) {
        out[i] = known || this.cached === -2 ? this.neighbourSum(i) : 0;
      } else if (known) {
        this.load(i);
        out[i] = this.neighbourSum(u);
      } else out[i] = 0;
    }
  }

  similarItems(itemIndex: number, k: number): TopK | null {
    if (!this.itemBased) return null;
    if (!Number.isInteger(itemIndex) || itemIndex < 0 || itemIndex >= this.itemIds.length) return null;
    const { ptr, index, sim } = this.nb;
    const start = ptr[itemIndex];
    const end = Math.min(ptr[itemIndex + 1], start + Math.max(0, Math.floor(k)));
    return { indices: index.slice(start, end), scores: sim.slice(start, end) };
  }

  toArtifact(): Artifact {
    return {
      header: { info: this.info, itemIds: this.itemIds, extra: scaleExtra(this.scale) },
      arrays: {
        userBias: this.userBias,
        itemBias: this.itemBias,
        nbPtr: this.nb.ptr,
        nbIndex: this.nb.index,
        nbSim: this.nb.sim,
        ctxPtr: this.ctxPtr,
        ctxIndex: this.ctxIndex,
        ctxRatings: this.ctxRatings,
      },
    };
  }
}

/** Below this many co-rating pairs, worker start-up costs more than it saves. */
const PARALLEL_MIN_PAIRS = 3e7;
const MAX_AUTO_THREADS = 8;

interface KnnPlan {
  data: InteractionData;
  params: KnnBaselineParams;
  set: RatingSet;
  biases: Biases;
  /** The neighbour problem: over items (item-based) or users (user-based). */
  input: NeighbourInput;
  /** Training ratings by context entity. */
  ctx: { ptr: Int32Array; index: Int32Array; ratings: Float32Array };
}

/** Baselines, residuals and the neighbour problem of a fit. */
function knnPlan(data: InteractionData, params: KnnBaselineParams): KnnPlan {
  const set = ratingSet(data);
  const biases = fitBiases(set, params);
  const { user, item } = biases;
  const mean = set.mean;
  if (params.based === 'item') {
    const residual = new Float64Array(set.n);
    for (let pos = 0; pos < set.n; pos++) {
      residual[pos] = set.value[pos] - mean - user[set.userOf[pos]] - item[set.itemOf[pos]];
    }
    return {
      data,
      params,
      set,
      biases,
      input: neighbourInput(set, residual, params),
      ctx: { ptr: set.userPtr, index: set.itemOf, ratings: set.value },
    };
  }
  // Items as rows: the neighbours come out between users.
  const byItem = ratingSetOf(transposeCsr(data.matrix));
  const residual = new Float64Array(byItem.n);
  for (let pos = 0; pos < byItem.n; pos++) {
    residual[pos] = byItem.value[pos] - mean - item[byItem.userOf[pos]] - user[byItem.itemOf[pos]];
  }
  return {
    data,
    params,
    set,
    biases,
    input: neighbourInput(byItem, residual, params),
    ctx: { ptr: byItem.userPtr, index: byItem.itemOf, ratings: byItem.value },
  };
}

function checkIndex(ptr: Int32Array, index: Int32Array, bound: number, what: string): void {
  if (ptr[0] !== 0) throw new ArtifactError(`knn-baseline artifact: ${what} pointers must start at 0`);
  for (let r = 0; r + 1 < ptr.length; r++) {
    if (ptr[r + 1] < ptr[r])
      throw new ArtifactError(`knn-baseline artifact: ${what} pointers are not monotone`);
  }
  for (let p = 0; p < index.length; p++) {
    if (index[p] < 0 || index[p] >= bound)
      throw new ArtifactError(`knn-baseline artifact: ${what} index out of range`);
  }
}
