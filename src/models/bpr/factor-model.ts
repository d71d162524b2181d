/**
 * What the ranking-loss factor models (BPR, WARP) share: scores x_ui = p_u · q_i + b_i from
 * user factors P (users x factors), item factors Q (items x factors) and item biases b; fold-in
 * of users the model has not seen; item similarity by the cosine of item factors; artifacts
 * holding `userFactors`, `itemFactors` and `itemBias`; and the training plumbing (shared
 * buffers, user partitions, worker runs).
 */
import { availableParallelism } from 'node:os';
import { transformValues, type ValueTransform } from '../../data/csr-build.js';
import type { InteractionData } from '../../data/interactions.js';
import {
  distinctHistory,
  dot,
  fillUniform,
  type FactorArrays,
  type PositiveRows,
} from '../../kernels/bpr-common.js';
import { TopKHeap } from '../../kernels/topk.js';
import { ArtifactError, requireArray, type Artifact, type SavableRecommender } from '../artifact.js';
import { expectModel } from '../model-kit.js';
import type { ItemUsers } from './item-fold-in.js';
import type { FoldIn, ModelInfo, ScoringContext, TopK } from '../model.js';

/** Generator streams: initial user factors, initial item factors, then one per training run. */
export const STREAM_USER_INIT = 1;
export const STREAM_ITEM_INIT = 2;
export const STREAM_RUN = 16;

/** Below this many multiply-adds of training work, a fit runs on the calling thread. */
const INLINE_MAX_WORK = 3e8;
/** Below this many, one worker thread; above, all cores (Hogwild costs a little quality). */
const PARALLEL_MIN_WORK = 5e9;
const MAX_AUTO_THREADS = 8;

export abstract class RankingFactorModel implements SavableRecommender, FoldIn {
  /** Euclidean norms of the item factor rows, computed on first use by similarItems. */
  private itemNorms: Float32Array | null = null;
  /** Fold-in scratch: per-item summed weight (all zero between calls). */
  private readonly mark: Float32Array;
  private histItems = new Int32Array(0);
  private histWeights = new Float32Array(0);
  private readonly userScratch: Float32Array;
  /** Item fold-in scratch: per-user summed weight (all zero between calls). */
  private userMark: Float32Array | null = null;
  private heap: TopKHeap | null = null;

  protected constructor(
    readonly info: ModelInfo,
    readonly itemIds: readonly string[],
    protected readonly arrays: FactorArrays,
  ) {
    this.mark = new Float32Array(arrays.items);
    this.userScratch = new Float32Array(arrays.factors);
  }

  /** Latent dimensions. */
  get factors(): number {
    return this.arrays.factors;
  }

  /** Users the model was trained on (user indices 0..users-1). */
  get users(): number {
    return this.arrays.users;
  }

  /** A copy of a training user's factor vector, or null for an unknown index. */
  userVector(userIndex: number): Float32Array | null {
    if (!Number.isInteger(userIndex) || userIndex < 0 || userIndex >= this.arrays.users) return null;
    const k = this.arrays.factors;
    return this.arrays.userFactors.slice(userIndex * k, userIndex * k + k);
  }

  /** A copy of an item's factor vector, or null for an unknown index. */
  itemVector(itemIndex: number): Float32Array | null {
    if (!Number.isInteger(itemIndex) || itemIndex < 0 || itemIndex >= this.arrays.items) return null;
    const k = this.arrays.factors;
    return this.arrays.itemFactors.slice(itemIndex * k, itemIndex * k + k);
  }

  /** Scores every item for a training user, or for the fold-in of the history when userIndex is -1. */
  score(ctx: ScoringContext, out: Float32Array): void {
    const u = ctx.userIndex;
    if (Number.isInteger(u) && u >= 0 && u < this.arrays.users) {
      this.scoreVector(this.arrays.userFactors, u * this.arrays.factors, out);
    } else {
      this.foldInto(ctx.history, ctx.historyWeights, this.userScratch);
      this.scoreVector(this.userScratch, 0, out);
    }
  }

  /** out[i] = b_i + Σ_f vec[offset + f] · Q[i, f]. */
  scoreVector(vec: Float32Array, offset: number, out: Float32Array): void {
    const { items, factors: k, itemFactors: Q, itemBias: B } = this.arrays;
    for (let i = 0, io = 0; i < items; i++, io += k) out[i] = B[i] + dot(vec, offset, Q, io, k);
  }

  foldInUser(history: Int32Array, weights: Float32Array): Float32Array {
    const out = new Float32Array(this.arrays.factors);
    this.foldInto(history, weights, out);
    return out;
  }

  /** The fold-in vector of a history, written into `out` (length = factors). */
  protected foldInto(history: Int32Array, weights: Float32Array, out: Float32Array): void {
    if (this.histItems.length < history.length) {
      this.histItems = new Int32Array(history.length);
      this.histWeights = new Float32Array(history.length);
    }
    const n = distinctHistory(
      history,
      weights,
      this.arrays.items,
      this.mark,
      this.histItems,
      this.histWeights,
    );
    this.foldInDistinct(this.histItems, this.histWeights, n, out);
  }

  /**
   * [b_i, q_0 .. q_{k−1}] of an item from the users who interacted with it (summed weights per
   * distinct user, turned into sample weights as in training), user side fixed: the model's SGD
   * steps replayed for the item alone (see item-fold-in.ts). A training user u would score it
   * b_i + p_u · q_i. b_i is 0 when the model has no item biases. Length factors + 1.
   */
  foldInItem(users: Int32Array, weights: Float32Array): Float32Array {
    const nUsers = this.arrays.users;
    this.userMark ??= new Float32Array(nUsers);
    const distinct = new Int32Array(users.length);
    const summed = new Float32Array(users.length);
    const n = distinctHistory(users, weights, nUsers, this.userMark, distinct, summed);
    const out = new Float32Array(this.arrays.factors + 1);
    this.foldInItemDistinct({ users: distinct, weights: summed, count: n }, out);
    return out;
  }

  /**
   * Model-specific item fold-in from the distinct users `it.users[0..count)` (ascending) and
   * their summed weights, into `out` ([b, q_0 .. q_{k−1}]); must depend on nothing else.
   */
  protected abstract foldInItemDistinct(it: ItemUsers, out: Float32Array): void;

  /**
   * Model-specific fold-in from the distinct history items `items[0..count)` (ascending) and
   * their summed weights; must depend on nothing else.
   */
  protected abstract foldInDistinct(
    items: Int32Array,
    weights: Float32Array,
    count: number,
    out: Float32Array,
  ): void;

  /** The k items whose factor vectors have the highest cosine with the item's (itself excluded). */
  similarItems(itemIndex: number, k: number): TopK | null {
    const { items, factors, itemFactors: Q } = this.arrays;
    if (!Number.isInteger(itemIndex) || itemIndex < 0 || itemIndex >= items) return null;
    const norms = this.norms();
    const kk = Math.min(Math.max(0, Math.floor(k)), items - 1);
    if (this.heap === null || this.heap.capacity < kk) this.heap = new TopKHeap(Math.max(kk, 16));
    const heap = this.heap;
    heap.reset(kk);
    const ni = norms[itemIndex];
    const ao = itemIndex * factors;
    if (ni > 0) {
      for (let j = 0, jo = 0; j < items; j++, jo += factors) {
        if (j === itemIndex || !(norms[j] > 0)) continue;
        heap.push(j, dot(Q, ao, Q, jo, factors) / (ni * norms[j]));
      }
    }
    const indices = new Int32Array(heap.size);
    const scores = new Float32Array(heap.size);
    heap.drainInto(indices, scores, 0);
    return { indices, scores };
  }

  private norms(): Float32Array {
    if (this.itemNorms) return this.itemNorms;
    const { items, factors, itemFactors: Q } = this.arrays;
    const norms = new Float32Array(items);
    for (let i = 0, io = 0; i < items; i++, io += factors) {
      norms[i] = Math.sqrt(dot(Q, io, Q, io, factors));
    }
    this.itemNorms = norms;
    return norms;
  }

  toArtifact(): Artifact {
    const { userFactors, itemFactors, itemBias, factors } = this.arrays;
    return {
      header: { info: this.info, itemIds: this.itemIds, extra: { factors } },
      arrays: { userFactors, itemFactors, itemBias },
    };
  }
}

/** The factor arrays stored in an artifact of model family `name`, checked for shape. */
export function factorArraysFromArtifact(artifact: Artifact, name: string): FactorArrays {
  const { info, itemIds, extra } = artifact.header;
  expectModel(info, name);
  const factors = extra?.factors;
  if (typeof factors !== 'number' || !Number.isInteger(factors) || factors < 1) {
    throw new ArtifactError(`${name} artifact: header lacks a valid factor count`);
  }
  const items = itemIds.length;
  const itemFactors = requireArray(artifact, 'itemFactors', Float32Array, items * factors);
  const itemBias = requireArray(artifact, 'itemBias', Float32Array, items);
  const userFactors = requireArray(artifact, 'userFactors', Float32Array);
  if (userFactors.length % factors !== 0) {
    throw new ArtifactError(`${name} artifact: userFactors is not a whole number of ${factors}-vectors`);
  }
  return { users: userFactors.length / factors, items, factors, userFactors, itemFactors, itemBias };
}

/** A Float32Array of n zeros, on a SharedArrayBuffer when `shared`. */
export function float32(n: number, shared: boolean): Float32Array {
  return shared ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float32Array(n);
}

/** `a` itself, or a copy on a SharedArrayBuffer when `shared` and it is not on one yet. */
export function sharedCopy<T extends Int32Array | Float32Array>(a: T, shared: boolean): T {
  if (!shared || a.buffer instanceof SharedArrayBuffer) return a;
  const buffer = new SharedArrayBuffer(a.byteLength);
  new Uint8Array(buffer).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  const ctor = a.constructor as new (buffer: SharedArrayBuffer) => T;
  return new ctor(buffer);
}

/** Freshly initialised factors for `data`: uniform in ±0.5/factors, biases zero. */
export function initialFactors(
  data: InteractionData,
  factors: number,
  seed: number,
  shared: boolean,
): FactorArrays {
  const users = data.users.size;
  const items = data.items.size;
  const userFactors = float32(users * factors, shared);
  const itemFactors = float32(items * factors, shared);
  fillUniform(userFactors, 1 / factors, seed, STREAM_USER_INIT);
  fillUniform(itemFactors, 1 / factors, seed, STREAM_ITEM_INIT);
  return { users, items, factors, userFactors, itemFactors, itemBias: float32(items, shared) };
}

/** The positive rows of the data, on shared buffers when `shared`. */
export function positiveRows(data: InteractionData, shared: boolean): PositiveRows {
  return { indptr: sharedCopy(data.matrix.indptr, shared), indices: sharedCopy(data.matrix.indices, shared) };
}

/** Where a fit runs: on the calling thread (one task), or on `threads` worker threads. */
export interface Placement {
  threads: number;
  inline: boolean;
}

/**
 * Placement of a fit of about `work` multiply-adds: `requested` worker threads when positive;
 * otherwise the calling thread for small fits, one worker for medium ones (the caller stays
 * responsive) and all cores (up to MAX_AUTO_THREADS) for large ones.
 */
export function placeFit(requested: number, work: number): Placement {
  if (requested > 0) return { threads: requested, inline: false };
  if (work < INLINE_MAX_WORK) return { threads: 1, inline: true };
  if (work < PARALLEL_MIN_WORK) return { threads: 1, inline: false };
  return { threads: Math.max(1, Math.min(availableParallelism(), MAX_AUTO_THREADS)), inline: false };
}

/**
 * Cuts users 0..users-1 into `parts` contiguous ranges of about equal positives; returns the
 * parts + 1 boundaries.
 */
export function userRanges(indptr: Int32Array, users: number, parts: number): Int32Array {
  const bounds = new Int32Array(parts + 1);
  const total = indptr[users];
  let u = 0;
  for (let p = 1; p < parts; p++) {
    const target = (total * p) / parts;
    while (u < users && indptr[u] < target) u++;
    bounds[p] = u;
  }
  bounds[parts] = users;
  return bounds;
}

/** Sample weights of the stored positives (summed strength through `weighting`), normalised to mean 1. */
export function sampleWeights(
  data: InteractionData,
  weighting: ValueTransform,
  shared: boolean,
): Float32Array {
  const values = transformValues(data.matrix, weighting).data;
  let sum = 0;
  for (let p = 0; p < values.length; p++) sum += values[p];
  const scale = sum > 0 ? values.length / sum : 1;
  const out = float32(values.length, shared);
  for (let p = 0; p < values.length; p++) out[p] = values[p] * scale;
  return out;
}

/** Summed history strengths turned into sample weights in place, as in training (mean 1). */
export function historySampleWeights(weights: Float32Array, count: number, weighting: ValueTransform): void {
  let sum = 0;
  for (let e = 0; e < count; e++) {
    const v = weights[e];
    const w = weighting === 'binary' ? 1 : weighting === 'log1p' ? Math.log1p(v) : v;
    weights[e] = w;
    sum += w;
  }
  if (sum > 0) for (let e = 0; e < count; e++) weights[e] *= count / sum;
}
