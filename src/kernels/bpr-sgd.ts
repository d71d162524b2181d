/**
 * Bayesian Personalised Ranking (Rendle et al. 2009) by stochastic gradient ascent on
 * ln σ(x_ui − x_uj) with x_ui = p_u · q_i + b_i.
 *
 * Each step draws a user uniformly (from the run's users), a positive item uniformly from the
 * user's row, and a negative item uniformly over the catalogue (or in proportion to item
 * popularity), redrawn while it is one of the user's positives. Then, with
 * g = w_ui σ(−(x_ui − x_uj)) (w_ui the positive's sample weight) and the learning rate η falling linearly from `learningRate` to
 * `learningRate · (1 − learningRateDecay)` over the run:
 *
 *   p_u += η (g (q_i − q_j) − λ p_u),  q_i += η (g p_u − λ q_i),  q_j += η (−g p_u − λ q_j),
 *   b_i += η (g − λ_b b_i),            b_j += η (−g − λ_b b_j).
 *
 * Several runs may update the same shared arrays at once (Hogwild: lock-free, races are rare
 * and harmless for SGD); a single run is deterministic for its seed.
 */
import { INV_2_32, rowContains, xorshiftSeed, type FactorArrays, type PositiveRows } from './bpr-common.js';

export type NegativeSampling = 'uniform' | 'popularity';

export interface BprSettings {
  epochs: number;
  learningRate: number;
  /** Fraction of the learning rate shed linearly over the run (0: constant). */
  learningRateDecay: number;
  /** L2 weight λ on the factors touched by a step. */
  regularization: number;
  /** L2 weight λ_b on the item biases touched by a step. */
  biasRegularization: number;
  /** Whether item biases are learnt (otherwise they stay zero). */
  itemBias: boolean;
  negativeSampling: NegativeSampling;
}

export interface BprTask {
  model: FactorArrays;
  rows: PositiveRows;
  settings: BprSettings;
  /** Sample weight of each stored positive (parallel to rows.indices); scales its steps. */
  weights: Float32Array;
  /** Users this run draws from; each must have at least one positive and one negative item. */
  sampleUsers: Int32Array;
  /** Steps per epoch. */
  samplesPerEpoch: number;
  seed: number;
  /** Generator stream of this run (runs sharing a seed use distinct streams). */
  stream: number;
}

/** Σ_f p[po + f] · (q[io + f] − q[jo + f]) over f < k, with four independent partial sums. */
function dotDiff(p: Float32Array, po: number, q: Float32Array, io: number, jo: number, k: number): number {
  let x0 = 0;
  let x1 = 0;
  let x2 = 0;
  let x3 = 0;
  let f = 0;
  for (; f + 3 < k; f += 4) {
    x0 += p[po + f] * (q[io + f] - q[jo + f]);
    x1 += p[po + f + 1] * (q[io + f + 1] - q[jo + f + 1]);
    x2 += p[po + f + 2] * (q[io + f + 2] - q[jo + f + 2]);
    x3 += p[po + f + 3] * (q[io + f + 3] - q[jo + f + 3]);
  }
  for (; f < k; f++) x0 += p[po + f] * (q[io + f] - q[jo + f]);
  return x0 + x1 + (x2 + x3);
}

/** Draws of a popularity-proportional negative before falling back to uniform draws. */
const POPULAR_TRIES = 32;

/** Users with at least one positive and at least one negative item, ascending. */
export function trainableUsers(rows: PositiveRows, users: number, items: number): Int32Array {
  const out = new Int32Array(users);
  let n = 0;
  for (let u = 0; u < users; u++) {
    const d = rows.indptr[u + 1] - rows.indptr[u];
    if (d > 0 && d < items) out[n++] = u;
  }
  return out.slice(0, n);
}

/**
 * Runs `epochs × samplesPerEpoch` BPR steps on the task's arrays, calling `afterEpoch` (if
 * given) after each epoch.
 */
export function runBpr(task: BprTask, afterEpoch?: (epoch: number) => void): void {
  const { model, rows, settings, sampleUsers, weights } = task;
  const k = model.factors;
  const nItems = model.items;
  const P = model.userFactors;
  const Q = model.itemFactors;
  const B = model.itemBias;
  const indptr = rows.indptr;
  const indices = rows.indices;
  const nnz = indices.length;
  const nUsers = sampleUsers.length;
  if (nUsers === 0 || task.samplesPerEpoch <= 0 || settings.epochs <= 0) return;
  const lr0 = settings.learningRate;
  const reg = settings.regularization;
  const breg = settings.biasRegularization;
  const useBias = settings.itemBias;
  const popular = settings.negativeSampling === 'popularity';
  const total = settings.epochs * task.samplesPerEpoch;
  const lrSlope = (lr0 * settings.learningRateDecay) / total;
  let s = xorshiftSeed(task.seed, task.stream);

  const perEpoch = task.samplesPerEpoch;
  for (let epoch = 0, t = 0; epoch < settings.epochs; epoch++) {
    for (const epochEnd = t + perEpoch; t < epochEnd; t++) {
      const lr = lr0 - lrSlope * t;
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const u = sampleUsers[((s >>> 0) * nUsers * INV_2_32) | 0];
      const start = indptr[u];
      const end = indptr[u + 1];
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const ip = start + (((s >>> 0) * (end - start) * INV_2_32) | 0);
      const i = indices[ip];
      let j = 0;
      for (let tries = 0; ; tries++) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        j =
          popular && tries < POPULAR_TRIES
            ? indices[((s >>> 0) * nnz * INV_2_32) | 0]
            : ((s >>> 0) * nItems * INV_2_32) | 0;
        if (!rowContains(indices, start, end, j)) break;
      }
      const uo = u * k;
      const io = i * k;
      const jo = j * k;
      const x = (useBias ? B[i] - B[j] : 0) + dotDiff(P, uo, Q, io, jo, k);
      const g = weights[ip] / (1 + Math.exp(x));
      const step = lr * g;
      const keep = 1 - lr * reg;
      for (let f = 0; f < k; f++) {
        const pu = P[uo + f];
        const qi = Q[io + f];
        const qj = Q[jo + f];
        P[uo + f] = keep * pu + step * (qi - qj);
        Q[io + f] = keep * qi + step * pu;
        Q[jo + f] = keep * qj - step * pu;
      }
      if (useBias) {
        B[i] += lr * (g - breg * B[i]);
        B[j] -= lr * (g + breg * B[j]);
      }
    }
    afterEpoch?.(epoch);
  }
}

/**
 * Fold-in of one user: BPR steps on a fresh user vector (starting at zero) with the item
 * factors and biases fixed, `epochs × count` steps over the user's distinct positives
 * `items[0..count)` (ascending) with sample weights `weights`, seeded by `seed` so the result depends only on the inputs.
 * Writes the vector into `out` (length = factors).
 */
export function bprFoldIn(
  model: Pick<FactorArrays, 'items' | 'factors' | 'itemFactors' | 'itemBias'>,
  items: Int32Array,
  weights: Float32Array,
  count: number,
  settings: BprSettings,
  epochs: number,
  seed: number,
  out: Float32Array,
): void {
  const k = model.factors;
  const nItems = model.items;
  const Q = model.itemFactors;
  const B = model.itemBias;
  out.fill(0, 0, k);
  if (count === 0 || count >= nItems || epochs <= 0) return;
  const lr0 = settings.learningRate;
  const reg = settings.regularization;
  const useBias = settings.itemBias;
  const total = epochs * count;
  const lrSlope = (lr0 * settings.learningRateDecay) / total;
  let s = xorshiftSeed(seed, 0x7fffffff);
  for (let t = 0; t < total; t++) {
    const lr = lr0 - lrSlope * t;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const ip = ((s >>> 0) * count * INV_2_32) | 0;
    const i = items[ip];
    let j = 0;
    do {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      j = ((s >>> 0) * nItems * INV_2_32) | 0;
    } while (rowContains(items, 0, count, j));
    const io = i * k;
    const jo = j * k;
    const x = (useBias ? B[i] - B[j] : 0) + dotDiff(out, 0, Q, io, jo, k);
    const step = (lr * weights[ip]) / (1 + Math.exp(x));
    const keep = 1 - lr * reg;
    for (let f = 0; f < k; f++) out[f] = keep * out[f] + step * (Q[io + f] - Q[jo + f]);
  }
}
