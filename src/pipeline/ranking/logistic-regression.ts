/**
 * L2-regularised logistic regression by Newton's method on standardised features.
 *
 * Minimises (1/W) Σ w_i · logloss(y_i, σ(b + β·z_i)) + (λ/2)·|β|², where z are the features
 * standardised to mean 0 and variance 1 over the training rows (constant features get weight
 * 0), W the sum of the example weights, and the bias b is not penalised. Each iteration builds
 * the (F+1)² Hessian in O(n F²) and solves it by Cholesky; a backtracking step keeps the
 * objective decreasing. With a few dozen features this converges in under 15 iterations.
 * Labels may be soft (in [0, 1]).
 *
 * The result is folded back to the raw feature space: score(x) = bias + Σ weights_f x_f.
 */
import { solveSpdInPlace } from '../../kernels/dense.js';

export interface LogisticFitInput {
  /** Row-major rows x cols. */
  features: Float32Array;
  rows: number;
  cols: number;
  labels: Float32Array;
  weights?: Float32Array | null;
  /** Rows to use (all when absent). */
  use?: Uint8Array | null;
}

export interface LogisticFitOptions {
  /** λ, on standardised features (default 1e-4). */
  l2?: number;
  /** Newton iterations at most (default 30). */
  maxIterations?: number;
  /** Stop when the largest gradient entry is below this (default 1e-7). */
  tolerance?: number;
}

export interface LogisticFit {
  /** Raw-space weights, one per column. */
  weights: Float64Array;
  bias: number;
  /** Weights on standardised features: the change in log-odds per standard deviation. */
  standardisedWeights: Float64Array;
  /** Per-column mean and standard deviation used for the standardisation. */
  mean: Float64Array;
  std: Float64Array;
  iterations: number;
  /** The minimised objective (mean weighted log loss plus the penalty) at the end. */
  objective: number;
  rowsUsed: number;
}

function sigmoid(t: number): number {
  return t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t));
}

/** log(1 + e^t) without overflow. */
function softplus(t: number): number {
  return t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t));
}

export function fitLogistic(input: LogisticFitInput, options: LogisticFitOptions = {}): LogisticFit {
  const { features, rows, cols, labels } = input;
  const w = input.weights ?? null;
  const use = input.use ?? null;
  const lambda = options.l2 ?? 1e-4;
  const maxIter = options.maxIterations ?? 30;
  const tol = options.tolerance ?? 1e-7;
  if (features.length < rows * cols)
    throw new RangeError(`features hold ${features.length} values, need ${rows * cols}`);
  if (labels.length < rows) throw new RangeError('fewer labels than rows');

  // Standardisation.
  const mean = new Float64Array(cols);
  const std = new Float64Array(cols);
  let used = 0;
  let W = 0;
  for (let i = 0; i < rows; i++) {
    if (use && use[i] === 0) continue;
    const wi = w ? w[i] : 1;
    if (!(wi > 0)) continue;
    used++;
    W += wi;
    for (let f = 0; f < cols; f++) mean[f] += features[i * cols + f];
  }
  if (used === 0) throw new RangeError('no training rows');
  for (let f = 0; f < cols; f++) mean[f] /= used;
  for (let i = 0; i < rows; i++) {
    if (use && use[i] === 0) continue;
    if (!((w ? w[i] : 1) > 0)) continue;
    for (let f = 0; f < cols; f++) {
      const d = features[i * cols + f] - mean[f];
      std[f] += d * d;
    }
  }
  const inv = new Float64Array(cols);
  for (let f = 0; f < cols; f++) {
    std[f] = Math.sqrt(std[f] / used);
    inv[f] = std[f] > 1e-12 ? 1 / std[f] : 0;
  }

  // Parameters: beta[0..cols) on standardised features, beta[cols] the bias.
  const P = cols + 1;
  const beta = new Float64Array(P);
  const z = new Float64Array(P);
  const grad = new Float64Array(P);
  const hess = new Float64Array(P * P);
  const step = new Float64Array(P);
  const trial = new Float64Array(P);

  const loadRow = (i: number): void => {
    for (let f = 0; f < cols; f++) z[f] = (features[i * cols + f] - mean[f]) * inv[f];
    z[cols] = 1;
  };
  const objective = (b: Float64Array): number => {
    let loss = 0;
    for (let i = 0; i < rows; i++) {
      if (use && use[i] === 0) continue;
      const wi = w ? w[i] : 1;
      if (!(wi > 0)) continue;
      loadRow(i);
      let t = 0;
      for (let f = 0; f < P; f++) t += b[f] * z[f];
      const y = labels[i];
      loss += wi * (softplus(t) - y * t);
    }
    let reg = 0;
    for (let f = 0; f < cols; f++) reg += b[f] * b[f];
    return loss / W + 0.5 * lambda * reg;
  };

  // Initial bias at the weighted base rate.
  let pos = 0;
  for (let i = 0; i < rows; i++) {
    if (use && use[i] === 0) continue;
    const wi = w ? w[i] : 1;
    if (wi > 0) pos += wi * labels[i];
  }
  const base = Math.min(1 - 1e-6, Math.max(1e-6, pos / W));
  beta[cols] = Math.log(base / (1 - base));

  let current = objective(beta);
  let iterations = 0;
  while (iterations < maxIter) {
    grad.fill(0);
    hess.fill(0);
    for (let i = 0; i < rows; i++) {
      if (use && use[i] === 0) continue;
      const wi = w ? w[i] : 1;
      if (!(wi > 0)) continue;
      loadRow(i);
      let t = 0;
      for (let f = 0; f < P; f++) t += beta[f] * z[f];
      const p = sigmoid(t);
      const r = wi * (p - labels[i]);
      const h = wi * Math.max(p * (1 - p), 1e-10);
      for (let a = 0; a < P; a++) {
        const za = z[a];
        if (za === 0) continue;
        grad[a] += r * za;
        const hz = h * za;
        const rowA = a * P;
        for (let b = 0; b <= a; b++) hess[rowA + b] += hz * z[b];
      }
    }
    let gmax = 0;
    for (let a = 0; a < P; a++) {
      grad[a] /= W;
      if (a < cols) grad[a] += lambda * beta[a];
      for (let b = 0; b <= a; b++) {
        let v = hess[a * P + b] / W;
        if (a === b) v += a < cols ? lambda : 0;
        if (a === b && a < cols && inv[a] === 0) v += 1; // constant column: keep the system definite
        hess[a * P + b] = v;
        hess[b * P + a] = v;
      }
      gmax = Math.max(gmax, Math.abs(grad[a]));
    }
    if (gmax < tol) break;
    iterations++;
    step.set(grad);
    if (!solveSpdInPlace(hess, step, P)) {
      // Fall back to a gradient step when the Hessian is not numerically definite.
      step.set(grad);
    }
    let scale = 1;
    let gain = -1;
    for (let tries = 0; tries < 30; tries++) {
      for (let a = 0; a < P; a++) trial[a] = beta[a] - scale * step[a];
      const next = objective(trial);
      if (next <= current) {
        beta.set(trial);
        gain = current - next;
        current = next;
        break;
      }
      scale *= 0.5;
    }
    if (gain < 1e-14) break;
  }

  const weights = new Float64Array(cols);
  let bias = beta[cols];
  for (let f = 0; f < cols; f++) {
    weights[f] = beta[f] * inv[f];
    bias -= weights[f] * mean[f];
  }
  return {
    weights,
    bias,
    standardisedWeights: beta.slice(0, cols),
    mean,
    std,
    iterations,
    objective: current,
    rowsUsed: used,
  };
}
