/**
 * WARP (Weighted Approximate-Rank Pairwise loss; Weston, Bengio, Usunier 2011), as LightFM
 * trains it. Scores are x_ui = p_u · q_i + b_i.
 *
 * Every epoch visits each positive (u, i) of the run once, in a fresh random order. Negatives j
 * are drawn uniformly over the catalogue until one violates the margin (x_uj > x_ui − 1) and is
 * not a positive of u, or `maxSampled` draws have been made (no step then). After N draws the
 * rank of i is estimated as floor((items − 1) / N), and the step on the hinge 1 − x_ui + x_uj
 * is scaled by L = w_ui · ln(max(1, that estimate)) (capped at `maxLoss`), where w_ui is the
 * interaction's sample weight. Gradients:
 *
 *   ∂/∂p_u = L (q_j − q_i) + λ p_u,   ∂/∂q_i = −L p_u + λ q_i,   ∂/∂q_j = L p_u + λ q_j,
 *   ∂/∂b_i = −L + λ_b b_i,            ∂/∂b_j = L + λ_b b_j,
 *
 * applied with per-parameter learning rates: AdaGrad (η / √(1 + Σ g²), LightFM's default) or
 * Adadelta (ρ, ε). Several runs may update the same shared arrays at once (Hogwild); a single
 * run is deterministic for its seed.
 */
import {
  dot,
  INV_2_32,
  rowContains,
  xorshiftSeed,
  type FactorArrays,
  type PositiveRows,
} from './bpr-common.js';

export type WarpOptimizer = 'adagrad' | 'adadelta';

export interface WarpSettings {
  epochs: number;
  /** AdaGrad step size η (unused by Adadelta). */
  learningRate: number;
  optimizer: WarpOptimizer;
  /** Adadelta decay ρ. */
  rho: number;
  /** Adadelta ε. */
  epsilon: number;
  /** Negative draws per positive before giving up. */
  maxSampled: number;
  /** Cap on the rank weight L. */
  maxLoss: number;
  /** L2 weight λ on the factors touched by a step. */
  regularization: number;
  /** L2 weight λ_b on the item biases touched by a step. */
  biasRegularization: number;
  /** Whether item biases are learnt (otherwise they stay zero). */
  itemBias: boolean;
}

/**
 * Per-parameter optimiser state, shaped like the parameters. AdaGrad keeps Σ g² (starting at 1)
 * in the `*Grad` arrays; Adadelta keeps the running mean of g² there and that of the squared
 * updates in the `*Delta` arrays (starting at 0).
 */
export interface WarpAccumulators {
  userGrad: Float32Array;
  itemGrad: Float32Array;
  biasGrad: Float32Array;
  userDelta: Float32Array;
  itemDelta: Float32Array;
  biasDelta: Float32Array;
}

export interface WarpTask {
  model: FactorArrays;
  rows: PositiveRows;
  /** Sample weight of each stored positive (parallel to rows.indices). */
  weights: Float32Array;
  acc: WarpAccumulators;
  settings: WarpSettings;
  /** This run visits the positives of users [userStart, userEnd). */
  userStart: number;
  userEnd: number;
  seed: number;
  /** Generator stream of this run (runs sharing a seed use distinct streams). */
  stream: number;
}

/** Optimiser state for a model of the given shape, in its starting values. */
export function warpAccumulators(
  users: number,
  items: number,
  factors: number,
  optimizer: WarpOptimizer,
  alloc: (bytes: number) => ArrayBufferLike = (b) => new ArrayBuffer(b),
): WarpAccumulators {
  const make = (n: number): Float32Array => new Float32Array(alloc(n * 4));
  const start = optimizer === 'adagrad' ? 1 : 0;
  const acc: WarpAccumulators = {
    userGrad: make(users * factors).fill(start),
    itemGrad: make(items * factors).fill(start),
    biasGrad: make(items).fill(start),
    userDelta: make(optimizer === 'adadelta' ? users * factors : 0),
    itemDelta: make(optimizer === 'adadelta' ? items * factors : 0),
    biasDelta: make(optimizer === 'adadelta' ? items : 0),
  };
  return acc;
}

/**
 * The rank weight after `sampled` draws found the first violator among `items` items:
 * ln(max(1, floor((items − 1) / sampled))).
 */
export function warpRankWeight(items: number, sampled: number): number {
  return Math.log(Math.max(1, Math.floor((items - 1) / sampled)));
}

/** warpRankWeight(items, n) for n = 0..maxSampled (entry 0 unused). */
function rankWeightTable(items: number, maxSampled: number): Float64Array {
  const t = new Float64Array(maxSampled + 1);
  for (let n = 1; n <= maxSampled; n++) t[n] = warpRankWeight(items, n);
  return t;
}

/** Runs the task's epochs over its users' positives, calling `afterEpoch` (if given) after each. */
export function runWarp(task: WarpTask, afterEpoch?: (epoch: number) => void): void {
  const { model, rows, weights, acc, settings } = task;
  const k = model.factors;
  const nItems = model.items;
  const P = model.userFactors;
  const Q = model.itemFactors;
  const B = model.itemBias;
  const GP = acc.userGrad;
  const GQ = acc.itemGrad;
  const GB = acc.biasGrad;
  const DP = acc.userDelta;
  const DQ = acc.itemDelta;
  const DB = acc.biasDelta;
  const indptr = rows.indptr;
  const indices = rows.indices;
  const base = indptr[task.userStart];
  const count = indptr[task.userEnd] - base;
  if (count <= 0 || settings.epochs <= 0 || nItems < 2) return;
  const owner = new Int32Array(count);
  for (let u = task.userStart; u < task.userEnd; u++) owner.fill(u, indptr[u] - base, indptr[u + 1] - base);
  const order = new Int32Array(count);
  for (let p = 0; p < count; p++) order[p] = p;
  const maxSampled = Math.max(1, settings.maxSampled | 0);
  const rankWeight = rankWeightTable(nItems, maxSampled);
  const lr = settings.learningRate;
  const reg = settings.regularization;
  const breg = settings.biasRegularization;
  const maxLoss = settings.maxLoss;
  const useBias = settings.itemBias;
  const adadelta = settings.optimizer === 'adadelta';
  const rho = settings.rho;
  const rho1 = 1 - rho;
  const eps = settings.epsilon;
  let s = xorshiftSeed(task.seed, task.stream);

  for (let epoch = 0; epoch < settings.epochs; epoch++) {
    for (let p = count - 1; p > 0; p--) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const q = ((s >>> 0) * (p + 1) * INV_2_32) | 0;
      const tmp = order[p];
      order[p] = order[q];
      order[q] = tmp;
    }
    for (let n = 0; n < count; n++) {
      const local = order[n];
      const u = owner[local];
      const i = indices[base + local];
      const w = weights[base + local];
      const uo = u * k;
      const io = i * k;
      const threshold = (useBias ? B[i] : 0) + dot(P, uo, Q, io, k) - 1;
      let j = -1;
      let sampled = 0;
      while (sampled < maxSampled) {
        sampled++;
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        const c = ((s >>> 0) * nItems * INV_2_32) | 0;
        const neg = (useBias ? B[c] : 0) + dot(P, uo, Q, c * k, k);
        if (neg > threshold && !rowContains(indices, indptr[u], indptr[u + 1], c)) {
          j = c;
          break;
        }
      }
      if (j < 0) continue;
      let loss = w * rankWeight[sampled];
      if (loss > maxLoss) loss = maxLoss;
      if (!(loss > 0)) continue;
      const jo = j * k;
      if (!adadelta) {
        for (let f = 0; f < k; f++) {
          const pu = P[uo + f];
          const qi = Q[io + f];
          const qj = Q[jo + f];
          const gu = loss * (qj - qi) + reg * pu;
          const gi = reg * qi - loss * pu;
          const gj = reg * qj + loss * pu;
          const au = GP[uo + f] + gu * gu;
          GP[uo + f] = au;
          P[uo + f] = pu - (lr * gu) / Math.sqrt(au);
          const ai = GQ[io + f] + gi * gi;
          GQ[io + f] = ai;
          Q[io + f] = qi - (lr * gi) / Math.sqrt(ai);
          const aj = GQ[jo + f] + gj * gj;
          GQ[jo + f] = aj;
          Q[jo + f] = qj - (lr * gj) / Math.sqrt(aj);
        }
        if (useBias) {
          const gi = breg * B[i] - loss;
          const ai = GB[i] + gi * gi;
          GB[i] = ai;
          B[i] -= (lr * gi) / Math.sqrt(ai);
          const gj = breg * B[j] + loss;
          const aj = GB[j] + gj * gj;
          GB[j] = aj;
          B[j] -= (lr * gj) / Math.sqrt(aj);
        }
      } else {
        for (let f = 0; f < k; f++) {
          const pu = P[uo + f];
          const qi = Q[io + f];
          const qj = Q[jo + f];
          const gu = loss * (qj - qi) + reg * pu;
          const gi = reg * qi - loss * pu;
          const gj = reg * qj + loss * pu;
          let a = rho * GP[uo + f] + rho1 * gu * gu;
          GP[uo + f] = a;
          let d = (Math.sqrt(DP[uo + f] + eps) / Math.sqrt(a + eps)) * gu;
          DP[uo + f] = rho * DP[uo + f] + rho1 * d * d;
          P[uo + f] = pu - d;
          a = rho * GQ[io + f] + rho1 * gi * gi;
          GQ[io + f] = a;
          d = (Math.sqrt(DQ[io + f] + eps) / Math.sqrt(a + eps)) * gi;
          DQ[io + f] = rho * DQ[io + f] + rho1 * d * d;
          Q[io + f] = qi - d;
          a = rho * GQ[jo + f] + rho1 * gj * gj;
          GQ[jo + f] = a;
          d = (Math.sqrt(DQ[jo + f] + eps) / Math.sqrt(a + eps)) * gj;
          DQ[jo + f] = rho * DQ[jo + f] + rho1 * d * d;
          Q[jo + f] = qj - d;
        }
        if (useBias) {
          const gi = breg * B[i] - loss;
          let a = rho * GB[i] + rho1 * gi * gi;
          GB[i] = a;
          let d = (Math.sqrt(DB[i] + eps) / Math.sqrt(a + eps)) * gi;
          DB[i] = rho * DB[i] + rho1 * d * d;
          B[i] -= d;
          const gj = breg * B[j] + loss;
          a = rho * GB[j] + rho1 * gj * gj;
          GB[j] = a;
          d = (Math.sqrt(DB[j] + eps) / Math.sqrt(a + eps)) * gj;
          DB[j] = rho * DB[j] + rho1 * d * d;
          B[j] -= d;
        }
      }
    }
    afterEpoch?.(epoch);
  }
}

/**
 * Fold-in of one user: WARP epochs on a fresh user vector (starting at zero, with fresh
 * AdaGrad state) with the item factors and biases fixed, over the user's distinct positives
 * `items[0..count)` (ascending) with sample weights `weights`, seeded by `seed` so the result
 * depends only on the inputs. AdaGrad is used whatever the training optimiser. `grad` is
 * scratch of length factors. Writes the vector into `out`.
 */
export function warpFoldIn(
  model: Pick<FactorArrays, 'items' | 'factors' | 'itemFactors' | 'itemBias'>,
  items: Int32Array,
  weights: Float32Array,
  count: number,
  settings: WarpSettings,
  epochs: number,
  learningRate: number,
  seed: number,
  grad: Float32Array,
  out: Float32Array,
): void {
  const k = model.factors;
  const nItems = model.items;
  const Q = model.itemFactors;
  const B = model.itemBias;
  out.fill(0, 0, k);
  grad.fill(1, 0, k);
  if (count === 0 || count >= nItems || epochs <= 0) return;
  const maxSampled = Math.max(1, settings.maxSampled | 0);
  const reg = settings.regularization;
  const maxLoss = settings.maxLoss;
  const useBias = settings.itemBias;
  const lr = learningRate;
  let s = xorshiftSeed(seed, 0x7fffffff);
  for (let t = 0, total = epochs * count; t < total; t++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const p = ((s >>> 0) * count * INV_2_32) | 0;
    const i = items[p];
    const io = i * k;
    const threshold = (useBias ? B[i] : 0) + dot(out, 0, Q, io, k) - 1;
    let j = -1;
    let sampled = 0;
    while (sampled < maxSampled) {
      sampled++;
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const c = ((s >>> 0) * nItems * INV_2_32) | 0;
      const neg = (useBias ? B[c] : 0) + dot(out, 0, Q, c * k, k);
      if (neg > threshold && !rowContains(items, 0, count, c)) {
        j = c;
        break;
      }
    }
    if (j < 0) continue;
    let loss = weights[p] * Math.log(Math.max(1, Math.floor((nItems - 1) / sampled)));
    if (loss > maxLoss) loss = maxLoss;
    if (!(loss > 0)) continue;
    const jo = j * k;
    for (let f = 0; f < k; f++) {
      const pu = out[f];
      const g = loss * (Q[jo + f] - Q[io + f]) + reg * pu;
      const a = grad[f] + g * g;
      grad[f] = a;
      out[f] = pu - (lr * g) / Math.sqrt(a);
    }
  }
}
