/**
 * The hybrid recommender: a LightFM-style factorisation over user and item features
 * (hybrid-factors.ts), a collaborative model (ALS by default), and a popularity prior, blended
 * per user by how much the user has done:
 *
 *   score_i = (1 − λ) · z(prior)_i + λ · (β · z(cf)_i + (1 − β) · z(hybrid)_i)
 *   λ = n / (n + c),   β = n² / (n² + c_cf²)
 *
 * where z() standardises a score vector over the catalogue (mean 0, deviation 1), n is the
 * number of interactions in the user's history, c (`shrinkage`) is the history length at which
 * the personal scores weigh as much as the prior, and c_cf (`cfShrinkage`) the one at which the
 * collaborative model weighs as much as the feature model (which knows user and item metadata
 * and so carries the cold part). β rises as a square, later and faster than λ: a
 * collaborative fold-in of three or four interactions is noisy, while the feature model draws
 * on the metadata of those items and of the user. A user with no history gets the
 * popularity prior exactly; a user with a few onboarding answers gets the prior nudged by them;
 * a user with a long history gets, in effect, the collaborative model.
 *
 * Fitted through the registry the feature model knows identities only (plain matrix
 * factorisation); `fitWithFeatures` adds user and item metadata features. An item unknown to
 * the interactions is scored from its metadata alone (`scoreNewItem`).
 */
import { buildFeatures } from './features.js';
import { attachedItemContent } from '../content/item-content.js';
import { attachedUserLabels } from './user-attributes.js';
import { columnCounts, transformValues, type ValueTransform } from '../../data/csr-build.js';
import type { InteractionData } from '../../data/interactions.js';
import { distinctHistory, dot, type FactorArrays } from '../../kernels/bpr-common.js';
import { AlsModel } from '../als/als.js';
import {
  ArtifactError,
  requireArray,
  type Artifact,
  type ArtifactArray,
  type SavableRecommender,
} from '../artifact.js';
import { EaseModel } from '../ease/ease.js';
import { ItemKnnModel } from '../knn/item-knn.js';
import { expectModel, fittedInfo, secondsSince } from '../model-kit.js';
import type { FoldIn, ModelInfo, Recommender, ScoringContext, TopK } from '../model.js';
import { ParamReader, type Params } from '../params.js';
import type { ModelFamily } from '../registry.js';
import { featureCount, identityFeatures, metadataRow, type FeatureMatrix } from './features.js';
import {
  foldInUserVector,
  itemRepresentations,
  trainHybridFactors,
  userRepresentations,
  type HybridEmbeddings,
  type HybridFactorSettings,
} from './hybrid-factors.js';

export type HybridCf = 'als' | 'ease' | 'item-knn' | 'none';

export interface HybridParams extends HybridFactorSettings {
  /** Sample weight of a positive from its summed strength. */
  weighting: ValueTransform;
  /** WARP passes over a new user's history when folding them in. */
  foldInEpochs: number;
  /** Collaborative model blended in for users with a history. */
  cf: HybridCf;
  /** Latent factors of the collaborative model (ALS). */
  cfFactors: number;
  /** History length at which the personal scores weigh as much as the popularity prior. */
  shrinkage: number;
  /**
   * History length at which the collaborative model weighs as much as the feature model in the
   * personal part (0: the collaborative model alone).
   */
  cfShrinkage: number;
}

/** User and item metadata for a fit; rows must match the data's users and items. */
export interface HybridFeatures {
  users?: FeatureMatrix;
  items?: FeatureMatrix;
}

export class HybridModel implements SavableRecommender, FoldIn {
  static readonly modelName = 'hybrid';

  static readonly searchSpace = {
    shrinkage: [0.5, 1, 2, 3, 5, 8],
    cfShrinkage: [5, 10, 15, 20, 30],
    epochs: [20, 40],
  } as const satisfies Record<string, readonly (number | string | boolean)[]>;

  /** Scoring arrays of the feature model: user and item representations. */
  private readonly arrays: FactorArrays;
  private readonly z1: Float32Array;
  private readonly z2: Float32Array;
  private readonly userVec: Float32Array;
  private readonly mark: Float32Array;
  private histItems = new Int32Array(0);
  private histWeights = new Float32Array(0);

  private constructor(
    readonly info: ModelInfo,
    readonly itemIds: readonly string[],
    private readonly params: HybridParams,
    private readonly users: FeatureMatrix,
    private readonly items: FeatureMatrix,
    private readonly embeddings: HybridEmbeddings,
    /** Popularity prior by item: ln(1 + distinct users). */
    private readonly prior: Float32Array,
    private readonly cf: SavableRecommender | null,
  ) {
    const reps = itemRepresentations(items, embeddings);
    this.arrays = {
      users: users.rows,
      items: items.rows,
      factors: embeddings.factors,
      userFactors: userRepresentations(users, embeddings),
      itemFactors: reps.itemFactors,
      itemBias: reps.itemBias,
    };
    const n = itemIds.length;
    this.z1 = new Float32Array(n);
    this.z2 = new Float32Array(n);
    this.userVec = new Float32Array(embeddings.factors);
    this.mark = new Float32Array(n);
  }

  static resolveParams(raw?: Params): HybridParams {
    const r = new ParamReader(HybridModel.modelName, raw);
    const params: HybridParams = {
      factors: r.number('factors', 64, { min: 1, max: 1024, integer: true }),
      epochs: r.number('epochs', 30, { min: 0, max: 10_000, integer: true }),
      learningRate: r.number('learningRate', 0.05, { min: 0, max: 10 }),
      maxSampled: r.number('maxSampled', 10, { min: 1, max: 100_000, integer: true }),
      maxLoss: r.number('maxLoss', 10, { min: 0 }),
      userRegularization: r.number('userRegularization', 0, { min: 0, max: 10 }),
      itemRegularization: r.number('itemRegularization', 0, { min: 0, max: 10 }),
      seed: r.number('seed', 1, { min: 0, max: 2 ** 32 - 1, integer: true }),
      weighting: r.choice<ValueTransform>('weighting', 'binary', ['identity', 'binary', 'log1p']),
      foldInEpochs: r.number('foldInEpochs', 20, { min: 0, max: 10_000, integer: true }),
      cf: r.choice<HybridCf>('cf', 'als', ['als', 'ease', 'item-knn', 'none']),
      cfFactors: r.number('cfFactors', 128, { min: 1, max: 1024, integer: true }),
      shrinkage: r.number('shrinkage', 5, { min: 0 }),
      cfShrinkage: r.number('cfShrinkage', 10, { min: 0 }),
    };
    r.done();
    return params;
  }

  /** Fits with identity features only (the registry's entry point). */
  static fit(data: InteractionData, raw?: Params): Promise<HybridModel> {
    return HybridModel.fitWithFeatures(data, raw, {});
  }

  /** Fits the feature model on `features` (identities only where absent) and the collaborative model. */
  static async fitWithFeatures(
    data: InteractionData,
    raw: Params | undefined,
    features: HybridFeatures,
  ): Promise<HybridModel> {
    const start = performance.now();
    const params = HybridModel.resolveParams(raw);
    const users = features.users ?? identityFeatures(data.users.size);
    const items = features.items ?? identityFeatures(data.items.size);
    if (users.rows !== data.users.size) {
      throw new RangeError(`user features have ${users.rows} rows for ${data.users.size} users`);
    }
    if (items.rows !== data.items.size) {
      throw new RangeError(`item features have ${items.rows} rows for ${data.items.size} items`);
    }
    const m = data.matrix;
    const values = transformValues(m, params.weighting).data;
    let sum = 0;
    for (let p = 0; p < values.length; p++) sum += values[p];
    const weights = new Float32Array(values.length);
    const scale = sum > 0 ? values.length / sum : 1;
    for (let p = 0; p < values.length; p++) weights[p] = values[p] * scale;
    const embeddings = trainHybridFactors(
      { indptr: m.indptr, indices: m.indices, weights },
      users,
      items,
      params,
    );
    const counts = columnCounts(m);
    const prior = new Float32Array(counts.length);
    for (let i = 0; i < counts.length; i++) prior[i] = Math.log1p(counts[i]);
    const cf = await fitCf(data, params);
    const info = fittedInfo(HybridModel.modelName, { ...params }, data, secondsSince(start));
    return new HybridModel(info, data.items.ids.slice(), params, users, items, embeddings, prior, cf);
  }

  static fromArtifact(artifact: Artifact): HybridModel {
    const { info, itemIds, extra } = artifact.header;
    expectModel(info, HybridModel.modelName);
    const params = HybridModel.resolveParams(info.params);
    const users = featuresFromArtifact(artifact, 'user', extra?.userIdentities, extra?.userVocabulary);
    const items = featuresFromArtifact(artifact, 'item', extra?.itemIdentities, extra?.itemVocabulary);
    if (items.rows !== itemIds.length)
      throw new ArtifactError('hybrid artifact: item features do not match the items');
    const k = params.factors;
    const embeddings: HybridEmbeddings = {
      factors: k,
      userEmbeddings: requireArray(artifact, 'userEmbeddings', Float32Array, featureCount(users) * k),
      itemEmbeddings: requireArray(artifact, 'itemEmbeddings', Float32Array, featureCount(items) * k),
      itemFeatureBias: requireArray(artifact, 'itemFeatureBias', Float32Array, featureCount(items)),
    };
    const prior = requireArray(artifact, 'prior', Float32Array, itemIds.length);
    let cf: SavableRecommender | null = null;
    const cfHeader = extra?.cf;
    if (cfHeader && typeof cfHeader === 'object' && !Array.isArray(cfHeader)) {
      const arrays: Record<string, ArtifactArray> = {};
      for (const [name, a] of Object.entries(artifact.arrays)) {
        if (name.startsWith('cf:')) arrays[name.slice(3)] = a;
      }
      const sub = cfHeader as unknown as { info: ModelInfo; extra?: Artifact['header']['extra'] };
      cf = cfFromArtifact({
        header: { info: sub.info, itemIds, ...(sub.extra ? { extra: sub.extra } : {}) },
        arrays,
      });
    }
    return new HybridModel(info, itemIds, params, users, items, embeddings, prior, cf);
  }

  /** The blended score of every item (see the module comment). */
  score(ctx: ScoringContext, out: Float32Array): void {
    const p = this.params;
    let n = 0;
    for (let e = 0; e < ctx.historyWeights.length; e++) if (ctx.historyWeights[e] > 0) n++;
    const lambda = n + p.shrinkage > 0 ? n / (n + p.shrinkage) : 1;
    standardise(this.prior, out, 1 - lambda);
    if (lambda === 0) return;
    const cfWeight = this.cf
      ? n > 0 || p.cfShrinkage > 0
        ? (n * n) / (n * n + p.cfShrinkage * p.cfShrinkage)
        : 1
      : 0;
    const hybridShare = 1 - cfWeight;
    if (hybridShare > 0) {
      this.scoreFactors(ctx, this.z1);
      addStandardised(this.z1, out, lambda * hybridShare);
    }
    if (this.cf && hybridShare < 1) {
      this.cf.score(ctx, this.z2);
      addStandardised(this.z2, out, lambda * (1 - hybridShare));
    }
  }

  /** Scores of the feature model alone: p_u · q_i + b_i (fold-in for users it has not seen). */
  scoreFactors(ctx: ScoringContext, out: Float32Array): void {
    const u = ctx.userIndex;
    if (Number.isInteger(u) && u >= 0 && u < this.arrays.users) {
      this.scoreVector(this.arrays.userFactors, u * this.arrays.factors, out);
    } else {
      this.foldInto(ctx.history, ctx.historyWeights, null, this.userVec);
      this.scoreVector(this.userVec, 0, out);
    }
  }

  /** out[i] = b_i + vec · q_i. */
  scoreVector(vec: Float32Array, offset: number, out: Float32Array): void {
    const { items, factors: k, itemFactors: Q, itemBias: B } = this.arrays;
    for (let i = 0, io = 0; i < items; i++, io += k) out[i] = B[i] + dot(vec, offset, Q, io, k);
  }

  /** The feature-model vector of a user from their history (WARP fold-in, items fixed). */
  foldInUser(history: Int32Array, weights: Float32Array): Float32Array {
    const out = new Float32Array(this.arrays.factors);
    this.foldInto(history, weights, null, out);
    return out;
  }

  /**
   * The vector of a new user known by metadata labels (e.g. `age:25-34`, `gender:F`) and
   * optionally a few interactions: the sum of the labels' embeddings, refined by fold-in.
   */
  newUserVector(labels: readonly string[], history?: Int32Array, weights?: Float32Array): Float32Array {
    const k = this.arrays.factors;
    const base = new Float32Array(k);
    const row = metadataRow(this.users, labels);
    const E = this.embeddings.userEmbeddings;
    for (let p = 0; p < row.indices.length; p++) {
      const eo = row.indices[p] * k;
      for (let d = 0; d < k; d++) base[d] += row.weights[p] * E[eo + d];
    }
    const out = new Float32Array(k);
    this.foldInto(history ?? new Int32Array(0), weights ?? new Float32Array(0), base, out);
    return out;
  }

  /**
   * [b, q_0 .. q_{k−1}] of an item known by metadata labels alone (genres, categories): the
   * weighted sum of those features' embeddings and biases, without an identity feature.
   */
  newItemVector(labels: readonly string[]): Float32Array {
    const k = this.arrays.factors;
    const out = new Float32Array(k + 1);
    const row = metadataRow(this.items, labels);
    const E = this.embeddings.itemEmbeddings;
    const B = this.embeddings.itemFeatureBias;
    for (let p = 0; p < row.indices.length; p++) {
      const f = row.indices[p];
      const w = row.weights[p];
      out[0] += w * B[f];
      for (let d = 0; d < k; d++) out[1 + d] += w * E[f * k + d];
    }
    return out;
  }

  /** The feature-model score of a new item (from newItemVector) for a user vector. */
  scoreNewItem(userVector: Float32Array, itemVector: Float32Array): number {
    return itemVector[0] + dot(userVector, 0, itemVector, 1, this.arrays.factors);
  }

  /** A copy of a training user's feature-model vector, or null for an unknown index. */
  userVector(userIndex: number): Float32Array | null {
    if (!Number.isInteger(userIndex) || userIndex < 0 || userIndex >= this.arrays.users) return null;
    const k = this.arrays.factors;
    return this.arrays.userFactors.slice(userIndex * k, userIndex * k + k);
  }

  /** Items whose feature-model vectors have the highest cosine with the item's. */
  similarItems(itemIndex: number, k: number): TopK | null {
    const { items, factors, itemFactors: Q } = this.arrays;
    if (!Number.isInteger(itemIndex) || itemIndex < 0 || itemIndex >= items) return null;
    const ao = itemIndex * factors;
    const na = Math.sqrt(dot(Q, ao, Q, ao, factors));
    const cos = new Float32Array(items);
    for (let j = 0, jo = 0; j < items; j++, jo += factors) {
      const nb = Math.sqrt(dot(Q, jo, Q, jo, factors));
      cos[j] = j === itemIndex || !(na > 0 && nb > 0) ? -Infinity : dot(Q, ao, Q, jo, factors) / (na * nb);
    }
    const order = Array.from(cos.keys())
      .filter((j) => cos[j] > -Infinity)
      .sort((a, b) => cos[b] - cos[a] || a - b)
      .slice(0, Math.max(0, Math.floor(k)));
    return { indices: Int32Array.from(order), scores: Float32Array.from(order, (j) => cos[j]) };
  }

  /** The same trained model with other blend settings (for tuning the blend without refitting). */
  withBlend(shrinkage: number, cfShrinkage: number): HybridModel {
    const params = HybridModel.resolveParams({ ...this.info.params, shrinkage, cfShrinkage });
    const info = { ...this.info, params: { ...this.info.params, shrinkage, cfShrinkage } };
    return new HybridModel(
      info,
      this.itemIds,
      params,
      this.users,
      this.items,
      this.embeddings,
      this.prior,
      this.cf,
    );
  }

  /** The collaborative model inside the blend, if any. */
  get collaborative(): Recommender | null {
    return this.cf;
  }

  toArtifact(): Artifact {
    const arrays: Record<string, ArtifactArray> = {
      userEmbeddings: this.embeddings.userEmbeddings,
      itemEmbeddings: this.embeddings.itemEmbeddings,
      itemFeatureBias: this.embeddings.itemFeatureBias,
      prior: this.prior,
      userIndptr: this.users.indptr,
      userIndices: this.users.indices,
      userWeights: this.users.weights,
      itemIndptr: this.items.indptr,
      itemIndices: this.items.indices,
      itemWeights: this.items.weights,
    };
    const extra: NonNullable<Artifact['header']['extra']> = {
      factors: this.arrays.factors,
      userIdentities: this.users.identities,
      userVocabulary: [...this.users.vocabulary],
      itemIdentities: this.items.identities,
      itemVocabulary: [...this.items.vocabulary],
    };
    if (this.cf) {
      const sub = this.cf.toArtifact();
      for (const [name, a] of Object.entries(sub.arrays)) arrays[`cf:${name}`] = a;
      extra.cf = JSON.parse(
        JSON.stringify({ info: sub.header.info, ...(sub.header.extra ? { extra: sub.header.extra } : {}) }),
      );
    }
    return { header: { info: this.info, itemIds: this.itemIds, extra }, arrays };
  }

  private foldInto(
    history: Int32Array,
    weights: Float32Array,
    base: Float32Array | null,
    out: Float32Array,
  ): void {
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
    const w = this.histWeights;
    let sum = 0;
    for (let e = 0; e < n; e++) {
      const v =
        this.params.weighting === 'binary' ? 1 : this.params.weighting === 'log1p' ? Math.log1p(w[e]) : w[e];
      w[e] = v;
      sum += v;
    }
    if (sum > 0) for (let e = 0; e < n; e++) w[e] *= n / sum;
    foldInUserVector(this.arrays, this.histItems, w, n, base, this.params, this.params.foldInEpochs, out);
  }
}

/** out = weight · (x − mean) / sd over the finite entries of x (non-finite entries give -Infinity). */
function standardise(x: Float32Array, out: Float32Array, weight: number): void {
  out.fill(0);
  addStandardised(x, out, weight);
}

/** out += weight · (x − mean) / sd over the finite entries of x; non-finite x makes out -Infinity. */
function addStandardised(x: Float32Array, out: Float32Array, weight: number): void {
  let n = 0;
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (!Number.isFinite(v)) continue;
    n++;
    const d = v - mean;
    mean += d / n;
    m2 += d * (v - mean);
  }
  const sd = n > 1 ? Math.sqrt(m2 / n) : 0;
  const scale = sd > 0 ? weight / sd : 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    out[i] = Number.isFinite(v) ? out[i] + scale * (v - mean) : -Infinity;
  }
}

async function fitCf(data: InteractionData, p: HybridParams): Promise<SavableRecommender | null> {
  switch (p.cf) {
    case 'als':
      return AlsModel.fit(data, { factors: p.cfFactors, regularization: 30, alpha: 0.3, confidence: 'bm25' });
    case 'ease':
      return EaseModel.fitAsync(data, { lambda: 400, weighting: 'binary' });
    case 'item-knn':
      return ItemKnnModel.fitAsync(data, { similarity: 'bm25', k: 400 });
    case 'none':
      return null;
  }
}

function cfFromArtifact(a: Artifact): SavableRecommender {
  switch (a.header.info.name) {
    case AlsModel.modelName:
      return AlsModel.fromArtifact(a);
    case EaseModel.modelName:
      return EaseModel.fromArtifact(a);
    case ItemKnnModel.modelName:
      return ItemKnnModel.fromArtifact(a);
    default:
      throw new ArtifactError(`hybrid artifact: unknown collaborative model '${a.header.info.name}'`);
  }
}

function featuresFromArtifact(
  artifact: Artifact,
  side: 'user' | 'item',
  identities: unknown,
  vocabulary: unknown,
): FeatureMatrix {
  if (typeof identities !== 'number' || !Array.isArray(vocabulary)) {
    throw new ArtifactError(`hybrid artifact: header lacks the ${side} feature layout`);
  }
  const indptr = requireArray(artifact, `${side}Indptr`, Int32Array);
  const rows = indptr.length - 1;
  const nnz = indptr[rows];
  const indices = requireArray(artifact, `${side}Indices`, Int32Array, nnz);
  const weights = requireArray(artifact, `${side}Weights`, Float32Array, nnz);
  const vocab = vocabulary.map(String);
  const total = identities + vocab.length;
  for (let p = 0; p < nnz; p++) {
    if (indices[p] < 0 || indices[p] >= total)
      throw new ArtifactError(`hybrid artifact: ${side} feature out of range`);
  }
  return { rows, identities, vocabulary: vocab, indptr, indices, weights };
}

/** The registry entry of the hybrid family. */
export const hybridFamily: ModelFamily = {
  name: HybridModel.modelName,
  resolveParams: (p) => HybridModel.resolveParams(p),
  // With metadata beside the data (item categories and tags, user attributes, as the training
  // run attaches them from the store), users and items are represented by their features too.
  fit: (data, p) => {
    const content = attachedItemContent(data);
    const userLabels = attachedUserLabels(data);
    if (!content && !userLabels) return HybridModel.fit(data, p);
    const items = content
      ? buildFeatures(data.items.size, (i) => [
          ...(content[i]?.categories ?? []).map((c) => `category:${c}`),
          ...(content[i]?.tags ?? []).map((t) => `tag:${t}`),
        ])
      : undefined;
    const users = userLabels ? buildFeatures(data.users.size, (u) => userLabels[u] ?? []) : undefined;
    return HybridModel.fitWithFeatures(data, p, { items, users });
  },
  fromArtifact: (a) => HybridModel.fromArtifact(a),
  searchSpace: HybridModel.searchSpace,
};
