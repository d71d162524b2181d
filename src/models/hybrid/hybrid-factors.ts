/**
 * Hybrid factorisation in the manner of LightFM: every user and item is represented by the
 * weighted sum of the embeddings of its features (its identity feature plus metadata features
 * such as genres, categories or user attributes), and an item's bias by the weighted sum of its
 * features' biases. Scores are x_ui = p_u · q_i + b_i. The embeddings are trained with WARP on
 * the positive interactions (negatives drawn until one violates the margin; the step is scaled
 * by the log of the rank estimate), with per-coordinate AdaGrad as in LightFM, on typed arrays
 * and the calling thread, so a fit is reproducible for its seed.
 *
 * Negatives are screened against item representations refreshed at the start of every epoch
 * (cheap), and the violating negative's representation is then computed afresh for the update.
 *
 * An item known by metadata alone (no identity embedding) is the sum of its metadata feature
 * embeddings, so it lands in the same space as the trained items.
 */
import type { FactorArrays } from '../../kernels/bpr-common.js';
import { dot, fillUniform, INV_2_32, rowContains, xorshiftSeed } from '../../kernels/bpr-common.js';
import { featureCount, type FeatureMatrix } from './features.js';

export interface HybridFactorSettings {
  factors: number;
  epochs: number;
  learningRate: number;
  /** Negative draws per positive before giving up. */
  maxSampled: number;
  /** Largest WARP loss weight of one step. */
  maxLoss: number;
  /** L2 penalty on the user feature embeddings per step. */
  userRegularization: number;
  /** L2 penalty on the item feature embeddings and biases per step. */
  itemRegularization: number;
  seed: number;
}

/** Trained feature embeddings. */
export interface HybridEmbeddings {
  factors: number;
  /** userFeatures x factors. */
  userEmbeddings: Float32Array;
  /** itemFeatures x factors. */
  itemEmbeddings: Float32Array;
  /** One bias per item feature. */
  itemFeatureBias: Float32Array;
}

/** Positive interactions: users x items CSR with ascending columns, and a sample weight per entry. */
export interface HybridPositives {
  indptr: Int32Array;
  indices: Int32Array;
  weights: Float32Array;
}

const STREAM_USER = 1;
const STREAM_ITEM = 2;
const STREAM_RUN = 3;

/** row's representation: out[o..o+k) = Σ_f w_f · E[f]. */
export function representation(
  m: FeatureMatrix,
  row: number,
  E: Float32Array,
  k: number,
  out: Float32Array,
  o = 0,
): void {
  out.fill(0, o, o + k);
  for (let p = m.indptr[row]; p < m.indptr[row + 1]; p++) {
    const w = m.weights[p];
    const eo = m.indices[p] * k;
    for (let d = 0; d < k; d++) out[o + d] += w * E[eo + d];
  }
}

/** Σ_f w_f · bias[f] over a row's features. */
export function featureBias(m: FeatureMatrix, row: number, bias: Float32Array): number {
  let b = 0;
  for (let p = m.indptr[row]; p < m.indptr[row + 1]; p++) b += m.weights[p] * bias[m.indices[p]];
  return b;
}

/** Item representations and biases of every row of the item features: the scoring arrays. */
export function itemRepresentations(
  items: FeatureMatrix,
  emb: HybridEmbeddings,
): { itemFactors: Float32Array; itemBias: Float32Array } {
  const k = emb.factors;
  const itemFactors = new Float32Array(items.rows * k);
  const itemBias = new Float32Array(items.rows);
  for (let i = 0; i < items.rows; i++) {
    representation(items, i, emb.itemEmbeddings, k, itemFactors, i * k);
    itemBias[i] = featureBias(items, i, emb.itemFeatureBias);
  }
  return { itemFactors, itemBias };
}

/** User representations of every row of the user features. */
export function userRepresentations(users: FeatureMatrix, emb: HybridEmbeddings): Float32Array {
  const k = emb.factors;
  const out = new Float32Array(users.rows * k);
  for (let u = 0; u < users.rows; u++) representation(users, u, emb.userEmbeddings, k, out, u * k);
  return out;
}

/** Trains the feature embeddings with WARP on `positives` (rows = users.rows, columns = items.rows). */
export function trainHybridFactors(
  positives: HybridPositives,
  users: FeatureMatrix,
  items: FeatureMatrix,
  s: HybridFactorSettings,
): HybridEmbeddings {
  const k = s.factors;
  const nItems = items.rows;
  const nUsers = users.rows;
  const U = new Float32Array(featureCount(users) * k);
  const V = new Float32Array(featureCount(items) * k);
  const B = new Float32Array(featureCount(items));
  fillUniform(U, 1 / k, s.seed, STREAM_USER);
  fillUniform(V, 1 / k, s.seed, STREAM_ITEM);
  const gU = new Float32Array(U.length).fill(1);
  const gV = new Float32Array(V.length).fill(1);
  const gB = new Float32Array(B.length).fill(1);
  const emb: HybridEmbeddings = { factors: k, userEmbeddings: U, itemEmbeddings: V, itemFeatureBias: B };

  const { indptr, indices, weights } = positives;
  const nnz = indptr[nUsers];
  const owner = new Int32Array(nnz);
  for (let u = 0; u < nUsers; u++) owner.fill(u, indptr[u], indptr[u + 1]);
  const order = new Int32Array(nnz);
  for (let p = 0; p < nnz; p++) order[p] = p;
  const pu = new Float32Array(k);
  const qi = new Float32Array(k);
  const qj = new Float32Array(k);
  const gradU = new Float32Array(k);
  let rng = xorshiftSeed(s.seed, STREAM_RUN);
  const lr = s.learningRate;

  /** AdaGrad step on every feature of `row` along direction `grad` (scaled by the feature weight). */
  const stepEmbeddings = (
    m: FeatureMatrix,
    row: number,
    E: Float32Array,
    G: Float32Array,
    grad: Float32Array,
    scale: number,
    reg: number,
  ): void => {
    for (let p = m.indptr[row]; p < m.indptr[row + 1]; p++) {
      const w = m.weights[p] * scale;
      const eo = m.indices[p] * k;
      for (let d = 0; d < k; d++) {
        const g = w * grad[d] + reg * E[eo + d];
        G[eo + d] += g * g;
        E[eo + d] -= (lr * g) / Math.sqrt(G[eo + d]);
      }
    }
  };
  const stepBias = (row: number, g0: number): void => {
    for (let p = items.indptr[row]; p < items.indptr[row + 1]; p++) {
      const f = items.indices[p];
      const g = items.weights[p] * g0 + s.itemRegularization * B[f];
      gB[f] += g * g;
      B[f] -= (lr * g) / Math.sqrt(gB[f]);
    }
  };

  for (let epoch = 0; epoch < s.epochs; epoch++) {
    const cache = itemRepresentations(items, emb);
    for (let p = nnz - 1; p > 0; p--) {
      rng ^= rng << 13;
      rng ^= rng >>> 17;
      rng ^= rng << 5;
      const q = Math.floor((rng >>> 0) * INV_2_32 * (p + 1));
      const t = order[p];
      order[p] = order[q];
      order[q] = t;
    }
    for (let n = 0; n < nnz; n++) {
      const e = order[n];
      const u = owner[e];
      const i = indices[e];
      const start = indptr[u];
      const end = indptr[u + 1];
      if (end - start >= nItems) continue;
      representation(users, u, U, k, pu);
      representation(items, i, V, k, qi);
      const pos = dot(pu, 0, qi, 0, k) + featureBias(items, i, B);
      let j = -1;
      let trials = 0;
      while (trials < s.maxSampled) {
        trials++;
        rng ^= rng << 13;
        rng ^= rng >>> 17;
        rng ^= rng << 5;
        const c = Math.floor((rng >>> 0) * INV_2_32 * nItems);
        if (rowContains(indices, start, end, c)) continue;
        const neg = dot(pu, 0, cache.itemFactors, c * k, k) + cache.itemBias[c];
        if (neg > pos - 1) {
          j = c;
          break;
        }
      }
      if (j < 0) continue;
      representation(items, j, V, k, qj);
      const negFresh = dot(pu, 0, qj, 0, k) + featureBias(items, j, B);
      if (negFresh <= pos - 1) continue;
      const loss = Math.min(s.maxLoss, Math.log(Math.max(1, Math.floor((nItems - 1) / trials))));
      const L = weights[e] * loss;
      for (let d = 0; d < k; d++) gradU[d] = L * (qj[d] - qi[d]);
      // item i: d/dq_i = -L p_u; item j: +L p_u
      stepEmbeddings(items, i, V, gV, pu, -L, s.itemRegularization);
      stepEmbeddings(items, j, V, gV, pu, L, s.itemRegularization);
      stepBias(i, -L);
      stepBias(j, L);
      stepEmbeddings(users, u, U, gU, gradU, 1, s.userRegularization);
    }
  }
  return emb;
}

/**
 * WARP fold-in of a user vector from distinct history items (items fixed): `epochs` passes over
 * the history in a seeded order, AdaGrad from zero, starting from `base` (the sum of the user's
 * metadata embeddings, or zeros). Written into `out`.
 */
export function foldInUserVector(
  arrays: FactorArrays,
  history: Int32Array,
  weights: Float32Array,
  count: number,
  base: Float32Array | null,
  s: HybridFactorSettings,
  epochs: number,
  out: Float32Array,
): void {
  const k = arrays.factors;
  const { items, itemFactors: Q, itemBias: B } = arrays;
  if (base) out.set(base.subarray(0, k));
  else out.fill(0);
  if (count === 0 || count >= items) return;
  const g = new Float32Array(k).fill(1);
  let rng = xorshiftSeed(s.seed, STREAM_RUN + 1);
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let step = 0; step < count; step++) {
      rng ^= rng << 13;
      rng ^= rng >>> 17;
      rng ^= rng << 5;
      const e = Math.floor((rng >>> 0) * INV_2_32 * count);
      const i = history[e];
      const pos = dot(out, 0, Q, i * k, k) + B[i];
      let j = -1;
      let trials = 0;
      while (trials < s.maxSampled) {
        trials++;
        rng ^= rng << 13;
        rng ^= rng >>> 17;
        rng ^= rng << 5;
        const c = Math.floor((rng >>> 0) * INV_2_32 * items);
        if (rowContains(history, 0, count, c)) continue;
        if (dot(out, 0, Q, c * k, k) + B[c] > pos - 1) {
          j = c;
          break;
        }
      }
      if (j < 0) continue;
      const L = weights[e] * Math.min(s.maxLoss, Math.log(Math.max(1, Math.floor((items - 1) / trials))));
      const io = i * k;
      const jo = j * k;
      for (let d = 0; d < k; d++) {
        const gr = L * (Q[jo + d] - Q[io + d]) + s.userRegularization * out[d];
        g[d] += gr * gr;
        out[d] -= (s.learningRate * gr) / Math.sqrt(g[d]);
      }
    }
  }
}
