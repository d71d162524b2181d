/**
 * Ridge regression from sparse content rows to dense targets, solved by conjugate gradients:
 *
 *   W = argmin Σ_{r ∈ rows} |y_r − μ − x_r W|² + λ|W|²,   μ the mean target over `rows`
 *
 * with x_r a CSR row (features), y_r a row of `targets` (d values). The normal equations
 * (XᵀX + λI) W = Xᵀ(Y − μ) are solved for the d columns at once, each by its own CG recurrence,
 * with XᵀX applied through the sparse rows (never formed), so the cost per step is
 * O(nnz · d) whatever the number of features.
 */
import type { CsrMatrix } from '../../data/csr.js';

export interface RidgeFit {
  /** features × d, row-major. */
  weights: Float32Array;
  /** The mean target (d). */
  intercept: Float32Array;
  d: number;
}

export interface RidgeOptions {
  lambda: number;
  /** Conjugate-gradient steps (default 60). */
  steps?: number;
}

/** Fits the ridge regression on the listed rows of `x` against the same rows of `targets` (rows × d). */
export function fitRidge(
  x: CsrMatrix,
  rows: Int32Array,
  targets: Float32Array,
  d: number,
  options: RidgeOptions,
): RidgeFit {
  const f = x.cols;
  const { indptr, indices, data } = x;
  const lambda = options.lambda;
  const steps = options.steps ?? 60;
  const intercept = new Float64Array(d);
  for (const r of rows) for (let c = 0; c < d; c++) intercept[c] += targets[r * d + c];
  if (rows.length > 0) for (let c = 0; c < d; c++) intercept[c] /= rows.length;

  // b = Xᵀ(Y − μ)
  const bVec = new Float64Array(f * d);
  for (const r of rows) {
    for (let p = indptr[r]; p < indptr[r + 1]; p++) {
      const o = indices[p] * d;
      const v = data[p];
      for (let c = 0; c < d; c++) bVec[o + c] += v * (targets[r * d + c] - intercept[c]);
    }
  }
  const w = new Float64Array(f * d);
  const res = bVec.slice();
  const dir = bVec.slice();
  const ad = new Float64Array(f * d);
  const rowDot = new Float64Array(d);
  const rr = new Float64Array(d);
  const dAd = new Float64Array(d);
  for (let i = 0; i < f; i++) for (let c = 0; c < d; c++) rr[c] += res[i * d + c] * res[i * d + c];
  const rr0 = rr.slice();

  for (let s = 0; s < steps; s++) {
    // ad = (XᵀX + λI) dir
    for (let i = 0; i < f * d; i++) ad[i] = lambda * dir[i];
    for (const r of rows) {
      rowDot.fill(0);
      for (let p = indptr[r]; p < indptr[r + 1]; p++) {
        const o = indices[p] * d;
        const v = data[p];
        for (let c = 0; c < d; c++) rowDot[c] += v * dir[o + c];
      }
      for (let p = indptr[r]; p < indptr[r + 1]; p++) {
        const o = indices[p] * d;
        const v = data[p];
        for (let c = 0; c < d; c++) ad[o + c] += v * rowDot[c];
      }
    }
    dAd.fill(0);
    for (let i = 0; i < f; i++) for (let c = 0; c < d; c++) dAd[c] += dir[i * d + c] * ad[i * d + c];
    let active = false;
    const alpha = new Float64Array(d);
    for (let c = 0; c < d; c++) {
      if (rr[c] > 1e-12 * rr0[c] && dAd[c] > 0) {
        alpha[c] = rr[c] / dAd[c];
        active = true;
      }
    }
    if (!active) break;
    const rrNew = new Float64Array(d);
    for (let i = 0; i < f; i++) {
      for (let c = 0; c < d; c++) {
        const o = i * d + c;
        w[o] += alpha[c] * dir[o];
        res[o] -= alpha[c] * ad[o];
        rrNew[c] += res[o] * res[o];
      }
    }
    for (let c = 0; c < d; c++) {
      const beta = rr[c] > 0 ? rrNew[c] / rr[c] : 0;
      rr[c] = rrNew[c];
      for (let i = 0; i < f; i++) dir[i * d + c] = res[i * d + c] + beta * dir[i * d + c];
    }
  }
  return { weights: Float32Array.from(w), intercept: Float32Array.from(intercept), d };
}

/** x_r W + μ for every row of `x`, into a rows × d array. */
export function predictRidge(x: CsrMatrix, fit: RidgeFit): Float32Array {
  const { d, weights, intercept } = fit;
  const out = new Float32Array(x.rows * d);
  for (let r = 0; r < x.rows; r++) {
    const o = r * d;
    for (let c = 0; c < d; c++) out[o + c] = intercept[c];
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) {
      const wo = x.indices[p] * d;
      const v = x.data[p];
      for (let c = 0; c < d; c++) out[o + c] += v * weights[wo + c];
    }
  }
  return out;
}
