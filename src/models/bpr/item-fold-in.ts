/**
 * Fold-in of an item the ranking-loss models (BPR, WARP) have not seen: its bias and factors
 * fitted by the model's own SGD steps with every user vector and every other item fixed, starting
 * from zero, with a fixed seed, so the result depends only on the item's users and their weights.
 *
 * In training an item takes part in steps in two roles, and the fold-in replays both at the rates
 * of training, one pass standing for one epoch:
 *
 * - as a positive, once per pass for each of its users u (drawn uniformly, each step scaled by
 *   the user's sample weight), against negatives j drawn uniformly over the catalogue;
 * - as a negative, `negativesPerPass` times per pass (the rate at which training draws a given
 *   item as a negative: interactions / items with uniform draws, the item's own user count with
 *   popularity draws), for a training user u' drawn uniformly among those who are not its users.
 *   Training compares it there with a positive of u'; the model keeps no interaction rows, so a
 *   uniformly drawn item stands in for that positive.
 *
 * Nor can the negatives of the first role be redrawn when they are positives of u, as training
 * does: with a catalogue much larger than a user's history this changes few draws.
 */
import { dot, INV_2_32, rowContains, xorshiftSeed, type FactorArrays } from '../../kernels/bpr-common.js';
import type { BprSettings } from '../../kernels/bpr-sgd.js';
import type { WarpSettings } from '../../kernels/warp-sgd.js';

/** Generator stream of the item fold-in (apart from training runs and user fold-in). */
const STREAM_ITEM_FOLD_IN = 0x7ffffffe;
/** Draws of a negative-role user before accepting one of the item's own users. */
const USER_TRIES = 16;

type FixedSide = Pick<
  FactorArrays,
  'users' | 'items' | 'factors' | 'userFactors' | 'itemFactors' | 'itemBias'
>;

/** The item's distinct users (ascending) with their sample weights, and how many. */
export interface ItemUsers {
  users: Int32Array;
  weights: Float32Array;
  count: number;
}

/** The step schedule of an item fold-in. */
export interface ItemFoldInSchedule {
  /** Passes over the item's users. */
  epochs: number;
  /** Negative-role steps per pass. */
  negativesPerPass: number;
  seed: number;
}

/** Negative-role steps per pass: the rate at which training draws one given item as a negative. */
export function negativesPerPass(
  interactions: number,
  items: number,
  popularity: boolean,
  users: number,
): number {
  if (popularity) return users;
  return Math.max(1, Math.round(interactions / Math.max(1, items)));
}

/** Draws a training user who is not one of the item's users (after a few tries, any user). */
function otherUser(s: number, nUsers: number, it: ItemUsers): [number, number] {
  let u = 0;
  for (let tries = 0; tries < USER_TRIES; tries++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    u = ((s >>> 0) * nUsers * INV_2_32) | 0;
    if (!rowContains(it.users, 0, it.count, u)) break;
  }
  return [u, s];
}

/**
 * BPR fold-in of an item: `epochs × (count + negativesPerPass)` steps, each a positive-role step
 * with probability count / (count + negativesPerPass), with the training learning rate falling
 * linearly as in training, regularisation λ (factors) and λ_b (bias). With g = w σ(−(x_ui − x_uj))
 * a positive-role step is q += η (g p_u − λ q), b += η (g − λ_b b); a negative-role step, with
 * g = σ(−(x_u'j − x_u'i)), is q += η (−g p_u' − λ q), b += η (−g − λ_b b). Writes [b, q_0 ..
 * q_{k−1}] into `out` (b stays 0 without item biases).
 */
export function bprItemFoldIn(
  model: FixedSide,
  it: ItemUsers,
  settings: BprSettings,
  schedule: ItemFoldInSchedule,
  out: Float32Array,
): void {
  const k = model.factors;
  const { users: nUsers, items: nItems, userFactors: P, itemFactors: Q, itemBias: B } = model;
  out.fill(0, 0, k + 1);
  const count = it.count;
  const nNeg = schedule.negativesPerPass;
  if (count === 0 || schedule.epochs <= 0 || nItems === 0) return;
  const lr0 = settings.learningRate;
  const reg = settings.regularization;
  const breg = settings.biasRegularization;
  const useBias = settings.itemBias;
  const perPass = count + nNeg;
  const total = schedule.epochs * perPass;
  const lrSlope = (lr0 * settings.learningRateDecay) / total;
  const q = out.subarray(1, k + 1);
  let b = 0;
  let s = xorshiftSeed(schedule.seed, STREAM_ITEM_FOLD_IN);
  for (let t = 0; t < total; t++) {
    const lr = lr0 - lrSlope * t;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const r = ((s >>> 0) * perPass * INV_2_32) | 0;
    let u: number;
    let w = 1;
    let sign: number;
    if (r < count) {
      u = it.users[r];
      w = it.weights[r];
      sign = 1;
    } else {
      [u, s] = otherUser(s, nUsers, it);
      sign = -1;
    }
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const j = ((s >>> 0) * nItems * INV_2_32) | 0;
    const uo = u * k;
    // x = x_ui − x_uj for a positive-role step, x_uj − x_ui for a negative-role one.
    const xi = (useBias ? b : 0) + dot(P, uo, q, 0, k);
    const xj = (useBias ? B[j] : 0) + dot(P, uo, Q, j * k, k);
    const x = sign * (xi - xj);
    const g = (sign * w) / (1 + Math.exp(x));
    const step = lr * g;
    const keep = 1 - lr * reg;
    for (let f = 0; f < k; f++) q[f] = keep * q[f] + step * P[uo + f];
    if (useBias) b += lr * (g - breg * b);
  }
  out[0] = b;
}

/**
 * WARP fold-in of an item with AdaGrad (fresh state, step `learningRate`): `epochs × (count +
 * negativesPerPass)` steps, each a positive-role step with probability count / (count +
 * negativesPerPass).
 *
 * A positive-role step for user u draws up to maxSampled negatives j until one violates the
 * margin (x_uj > x_ui − 1); after N draws L = w_u ln(max(1, floor((items − 1) / N))) (capped at
 * maxLoss) and the gradients are −L p_u + λ q and −L + λ_b b. A negative-role step for user u'
 * and a stand-in positive j steps when the item violates the margin (x_u'i > x_u'j − 1), as
 * training's first draw does, with L = ln(items − 1) (capped) and gradients L p_u' + λ q and
 * L + λ_b b: the first draw carries the largest rank weight, the later draws' share is left out.
 * Writes [b, q_0 .. q_{k−1}] into `out` (b stays 0 without item biases).
 */
export function warpItemFoldIn(
  model: FixedSide,
  it: ItemUsers,
  settings: WarpSettings,
  learningRate: number,
  schedule: ItemFoldInSchedule,
  out: Float32Array,
): void {
  const k = model.factors;
  const { users: nUsers, items: nItems, userFactors: P, itemFactors: Q, itemBias: B } = model;
  out.fill(0, 0, k + 1);
  const count = it.count;
  const nNeg = schedule.negativesPerPass;
  if (count === 0 || schedule.epochs <= 0 || nItems < 2) return;
  const maxSampled = Math.max(1, settings.maxSampled | 0);
  const reg = settings.regularization;
  const breg = settings.biasRegularization;
  const maxLoss = settings.maxLoss;
  const useBias = settings.itemBias;
  const lr = learningRate;
  const firstDrawLoss = Math.min(maxLoss, Math.log(nItems - 1));
  const q = out.subarray(1, k + 1);
  const grad = new Float64Array(k).fill(1);
  let b = 0;
  let biasGrad = 1;
  const perPass = count + nNeg;
  let s = xorshiftSeed(schedule.seed, STREAM_ITEM_FOLD_IN);
  for (let t = 0, total = schedule.epochs * perPass; t < total; t++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const r = ((s >>> 0) * perPass * INV_2_32) | 0;
    let u: number;
    let loss = 0;
    if (r < count) {
      u = it.users[r];
      const uo = u * k;
      const threshold = (useBias ? b : 0) + dot(P, uo, q, 0, k) - 1;
      let sampled = 0;
      let found = false;
      while (sampled < maxSampled) {
        sampled++;
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        const c = ((s >>> 0) * nItems * INV_2_32) | 0;
        if ((useBias ? B[c] : 0) + dot(P, uo, Q, c * k, k) > threshold) {
          found = true;
          break;
        }
      }
      if (!found) continue;
      loss = it.weights[r] * Math.log(Math.max(1, Math.floor((nItems - 1) / sampled)));
      if (loss > maxLoss) loss = maxLoss;
      loss = -loss;
    } else {
      [u, s] = otherUser(s, nUsers, it);
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const j = ((s >>> 0) * nItems * INV_2_32) | 0;
      const uo = u * k;
      const threshold = (useBias ? B[j] : 0) + dot(P, uo, Q, j * k, k) - 1;
      if (!((useBias ? b : 0) + dot(P, uo, q, 0, k) > threshold)) continue;
      loss = firstDrawLoss;
    }
    if (loss === 0) continue;
    // loss < 0: the item as a positive (pushed up); > 0: as a negative (pushed down).
    const uo = u * k;
    for (let f = 0; f < k; f++) {
      const g = loss * P[uo + f] + reg * q[f];
      const a = grad[f] + g * g;
      grad[f] = a;
      q[f] -= (lr * g) / Math.sqrt(a);
    }
    if (useBias) {
      const g = loss + breg * b;
      biasGrad += g * g;
      b -= (lr * g) / Math.sqrt(biasGrad);
    }
  }
  out[0] = b;
}
