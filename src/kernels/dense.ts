/**
 * Dense linear algebra on row-major typed arrays: Cholesky factorisation and solves, the
 * inverse of a symmetric positive definite matrix, and conjugate gradient. No allocation in
 * the inner loops; the hot loops work on contiguous rows (dot products of rows), four rows at
 * a time so that every load of the shared row feeds four accumulators.
 */

import { choleskyFourRows } from './cholesky-blocked.js';

export type DenseMatrix = Float64Array | Float32Array;

/**
 * Cholesky factorisation A = L·Lᵀ in place. `a` holds an n×n symmetric positive definite
 * matrix (row-major, row stride `ld`, starting at `offset`); only its lower triangle is read,
 * and L overwrites it. The strict upper triangle is left untouched. Returns false (with `a`
 * partly overwritten) when the matrix is not positive definite.
 */
export function choleskyInPlace(a: DenseMatrix, n: number, ld: number = n, offset = 0): boolean {
  for (let i = 0; i < n; i++) {
    const ri = offset + i * ld;
    for (let j = 0; j < i; j++) {
      const rj = offset + j * ld;
      let s = a[ri + j];
      for (let p = 0; p < j; p++) s -= a[ri + p] * a[rj + p];
      a[ri + j] = s / a[rj + j];
    }
    let d = a[ri + i];
    for (let p = 0; p < i; p++) d -= a[ri + p] * a[ri + p];
    if (!(d > 0)) return false;
    a[ri + i] = Math.sqrt(d);
  }
  return true;
}

/**
 * Solves L·Lᵀ·x = b in place (b becomes x), with L from `choleskyInPlace` (lower triangle of
 * `l`, row stride `ld`, starting at `offset`).
 */
export function choleskySolveInPlace(
  l: DenseMatrix,
  n: number,
  b: Float64Array | Float32Array,
  ld: number = n,
  offset = 0,
): void {
  // Forward: L·y = b.
  for (let i = 0; i < n; i++) {
    const ri = offset + i * ld;
    let s = b[i];
    for (let p = 0; p < i; p++) s -= l[ri + p] * b[p];
    b[i] = s / l[ri + i];
  }
  // Backward: Lᵀ·x = y.
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let p = i + 1; p < n; p++) s -= l[offset + p * ld + i] * b[p];
    b[i] = s / l[offset + i * ld + i];
  }
}

/**
 * Solves A·x = b in place for a symmetric positive definite A (n×n, row-major, overwritten by
 * its Cholesky factor; b becomes x). Returns false when A is not positive definite.
 */
export function solveSpdInPlace(a: DenseMatrix, b: Float64Array | Float32Array, n: number): boolean {
  if (!choleskyInPlace(a, n)) return false;
  choleskySolveInPlace(a, n, b);
  return true;
}

/**
 * Inverse of a symmetric positive definite n×n matrix (row-major, full storage) in place; on
 * return both triangles hold the inverse. Only the lower triangle of the input is read.
 * Returns false when the matrix is not positive definite (contents then undefined).
 *
 * Steps, each about n³/6 multiply-adds over contiguous rows:
 * 1. A = L·Lᵀ (lower triangle);
 * 2. W = L⁻¹, written transposed into the strict upper triangle (Wt[j][i] = W[i][j], i > j),
 *    via W[i][j] = −(Σ_{j≤p<i} L[i][p]·W[p][j]) / L[i][i];
 * 3. A⁻¹ = Wᵀ·W, i.e. P[a][b] = Σ_{i≥a} Wt[a][i]·Wt[b][i] (a ≥ b), into the lower triangle;
 *    then mirrored.
 */
export function spdInverseInPlace(a: DenseMatrix, n: number): boolean {
  if (!choleskyFourRows(a, n)) return false;
  const diag = new Float64Array(n); // L[i][i]
  const inv = new Float64Array(n); // W[i][i] = 1 / L[i][i]
  for (let i = 0; i < n; i++) {
    diag[i] = a[i * n + i];
    inv[i] = 1 / diag[i];
  }
  lowerInverseTransposed(a, n, diag, inv);
  gramOfUpper(a, n, inv);
  for (let r = 0; r < n; r++) {
    const rr = r * n;
    for (let c = 0; c < r; c++) a[c * n + r] = a[rr + c];
  }
  return true;
}

/** Step 2 of spdInverseInPlace. */
function lowerInverseTransposed(a: DenseMatrix, n: number, diag: Float64Array, inv: Float64Array): void {
  for (let i = 1; i < n; i++) {
    const ri = i * n;
    const di = diag[i];
    let j = 0;
    // Four columns j at a time share the loads of row i of L.
    for (; j + 4 <= i; j += 4) {
      const w0 = j * n;
      const w1 = w0 + n;
      const w2 = w1 + n;
      const w3 = w2 + n;
      // Terms with p = j .. j+3 (where W[p][j..] has its diagonal or is still partial).
      let s0 = a[ri + j] * inv[j];
      let s1 = a[ri + j + 1] * inv[j + 1];
      let s2 = a[ri + j + 2] * inv[j + 2];
      let s3 = a[ri + j + 3] * inv[j + 3];
      // p = j+1 .. j+3 for the columns that start earlier.
      s0 += a[ri + j + 1] * a[w0 + j + 1] + a[ri + j + 2] * a[w0 + j + 2] + a[ri + j + 3] * a[w0 + j + 3];
      s1 += a[ri + j + 2] * a[w1 + j + 2] + a[ri + j + 3] * a[w1 + j + 3];
      s2 += a[ri + j + 3] * a[w2 + j + 3];
      for (let p = j + 4; p < i; p++) {
        const l = a[ri + p];
        s0 += l * a[w0 + p];
        s1 += l * a[w1 + p];
        s2 += l * a[w2 + p];
        s3 += l * a[w3 + p];
      }
      a[w0 + i] = -s0 / di;
      a[w1 + i] = -s1 / di;
      a[w2 + i] = -s2 / di;
      a[w3 + i] = -s3 / di;
    }
    for (; j < i; j++) {
      const wj = j * n;
      let s = a[ri + j] * inv[j];
      for (let p = j + 1; p < i; p++) s += a[ri + p] * a[wj + p];
      a[wj + i] = -s / di;
    }
  }
}

/** Step 3 of spdInverseInPlace (lower triangle; the diagonal of W comes from `inv`). */
function gramOfUpper(a: DenseMatrix, n: number, inv: Float64Array): void {
  // Row a of the result needs Wt[a][a..] and Wt[b][a..] for b ≤ a; it overwrites L[a][0..a],
  // which is dead, and the diagonal, whose W value lives in `inv`.
  for (let r = 0; r < n; r++) {
    const rr = r * n;
    const wd = inv[r];
    let b = 0;
    for (; b + 4 <= r; b += 4) {
      const b0 = b * n;
      const b1 = b0 + n;
      const b2 = b1 + n;
      const b3 = b2 + n;
      let s0 = wd * a[b0 + r];
      let s1 = wd * a[b1 + r];
      let s2 = wd * a[b2 + r];
      let s3 = wd * a[b3 + r];
      for (let i = r + 1; i < n; i++) {
        const v = a[rr + i];
        s0 += v * a[b0 + i];
        s1 += v * a[b1 + i];
        s2 += v * a[b2 + i];
        s3 += v * a[b3 + i];
      }
      a[rr + b] = s0;
      a[rr + b + 1] = s1;
      a[rr + b + 2] = s2;
      a[rr + b + 3] = s3;
    }
    for (; b < r; b++) {
      const bb = b * n;
      let s = wd * a[bb + r];
      for (let i = r + 1; i < n; i++) s += a[rr + i] * a[bb + i];
      a[rr + b] = s;
    }
    let s = wd * wd;
    for (let i = r + 1; i < n; i++) s += a[rr + i] * a[rr + i];
    a[rr + r] = s;
  }
}

/** y = A·x for an n×n row-major matrix. */
export function matVec(
  a: DenseMatrix,
  n: number,
  x: ArrayLike<number>,
  y: Float64Array | Float32Array,
): void {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let s = 0;
    for (let j = 0; j < n; j++) s += a[ri + j] * x[j];
    y[i] = s;
  }
}

/**
 * Conjugate gradient on A·x = b (A symmetric positive definite, n×n row-major), starting
 * from the given x, for at most `steps` steps or until |r|² < tol. Returns the steps taken.
 */
export function conjugateGradient(
  a: DenseMatrix,
  n: number,
  b: ArrayLike<number>,
  x: Float64Array,
  steps: number,
  tol = 1e-20,
): number {
  const r = new Float64Array(n);
  const p = new Float64Array(n);
  const ap = new Float64Array(n);
  matVec(a, n, x, ap);
  let rs = 0;
  for (let i = 0; i < n; i++) {
    r[i] = b[i] - ap[i];
    p[i] = r[i];
    rs += r[i] * r[i];
  }
  let taken = 0;
  while (taken < steps && rs >= tol) {
    matVec(a, n, p, ap);
    let pap = 0;
    for (let i = 0; i < n; i++) pap += p[i] * ap[i];
    const alpha = rs / pap;
    let rsNew = 0;
    for (let i = 0; i < n; i++) {
      x[i] += alpha * p[i];
      r[i] -= alpha * ap[i];
      rsNew += r[i] * r[i];
    }
    taken++;
    const beta = rsNew / rs;
    for (let i = 0; i < n; i++) p[i] = r[i] + beta * p[i];
    rs = rsNew;
  }
  return taken;
}
