/**
 * Cholesky factorisation and solve of symmetric positive definite systems, four rows at a time:
 * the same arithmetic in the same order as the row-by-row versions in dense.ts (so bitwise the
 * same results), with each earlier row read once per block of four.
 */
import type { DenseMatrix } from './dense.js';

/**
 * `choleskyInPlace` of the n×n row-major `a` (lower triangle), rows four at a time: each
 * earlier row is read once per block, and the sums of four rows × two columns (and of the
 * diagonal block's ten entries) run side by side instead of one after the other. Every entry
 * subtracts the same products in the same order as row by row, so L is bitwise the same.
 */
export function choleskyFourRows(a: DenseMatrix, n: number): boolean {
  let i0 = 0;
  for (; i0 + 4 <= n; i0 += 4) {
    const r0 = i0 * n;
    const r1 = r0 + n;
    const r2 = r1 + n;
    const r3 = r2 + n;
    let j = 0;
    for (; j + 2 <= i0; j += 2) {
      const rj = j * n;
      const rk = rj + n;
      let s0 = a[r0 + j];
      let s1 = a[r1 + j];
      let s2 = a[r2 + j];
      let s3 = a[r3 + j];
      let t0 = a[r0 + j + 1];
      let t1 = a[r1 + j + 1];
      let t2 = a[r2 + j + 1];
      let t3 = a[r3 + j + 1];
      for (let p = 0; p < j; p++) {
        const v = a[rj + p];
        const u = a[rk + p];
        const b0 = a[r0 + p];
        const b1 = a[r1 + p];
        const b2 = a[r2 + p];
        const b3 = a[r3 + p];
        s0 -= b0 * v;
        s1 -= b1 * v;
        s2 -= b2 * v;
        s3 -= b3 * v;
        t0 -= b0 * u;
        t1 -= b1 * u;
        t2 -= b2 * u;
        t3 -= b3 * u;
      }
      const d = a[rj + j];
      s0 /= d;
      s1 /= d;
      s2 /= d;
      s3 /= d;
      a[r0 + j] = s0;
      a[r1 + j] = s1;
      a[r2 + j] = s2;
      a[r3 + j] = s3;
      // Column j + 1's last term is the entry of column j just found.
      const u = a[rk + j];
      const e = a[rk + j + 1];
      a[r0 + j + 1] = (t0 - s0 * u) / e;
      a[r1 + j + 1] = (t1 - s1 * u) / e;
      a[r2 + j + 1] = (t2 - s2 * u) / e;
      a[r3 + j + 1] = (t3 - s3 * u) / e;
    }
    for (; j < i0; j++) {
      const rj = j * n;
      let s0 = a[r0 + j];
      let s1 = a[r1 + j];
      let s2 = a[r2 + j];
      let s3 = a[r3 + j];
      for (let p = 0; p < j; p++) {
        const v = a[rj + p];
        s0 -= a[r0 + p] * v;
        s1 -= a[r1 + p] * v;
        s2 -= a[r2 + p] * v;
        s3 -= a[r3 + p] * v;
      }
      const d = a[rj + j];
      a[r0 + j] = s0 / d;
      a[r1 + j] = s1 / d;
      a[r2 + j] = s2 / d;
      a[r3 + j] = s3 / d;
    }
    if (!diagonalBlock(a, n, i0)) return false;
  }
  // The last n mod 4 rows one by one.
  for (let i = i0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let s = a[ri + j];
      for (let p = 0; p < j; p++) s -= a[ri + p] * a[rj + p];
      if (j < i) {
        a[ri + j] = s / a[rj + j];
      } else {
        if (!(s > 0)) return false;
        a[ri + i] = Math.sqrt(s);
      }
    }
  }
  return true;
}

/**
 * The 4×4 diagonal block of rows i0..i0+3 (their columns before i0 done): the ten entries'
 * sums over the columns before the block side by side, then the terms inside the block in
 * row order.
 */
function diagonalBlock(a: DenseMatrix, n: number, i0: number): boolean {
  const r0 = i0 * n;
  const r1 = r0 + n;
  const r2 = r1 + n;
  const r3 = r2 + n;
  let s00 = a[r0 + i0];
  let s10 = a[r1 + i0];
  let s11 = a[r1 + i0 + 1];
  let s20 = a[r2 + i0];
  let s21 = a[r2 + i0 + 1];
  let s22 = a[r2 + i0 + 2];
  let s30 = a[r3 + i0];
  let s31 = a[r3 + i0 + 1];
  let s32 = a[r3 + i0 + 2];
  let s33 = a[r3 + i0 + 3];
  for (let p = 0; p < i0; p++) {
    const b0 = a[r0 + p];
    const b1 = a[r1 + p];
    const b2 = a[r2 + p];
    const b3 = a[r3 + p];
    s00 -= b0 * b0;
    s10 -= b1 * b0;
    s11 -= b1 * b1;
    s20 -= b2 * b0;
    s21 -= b2 * b1;
    s22 -= b2 * b2;
    s30 -= b3 * b0;
    s31 -= b3 * b1;
    s32 -= b3 * b2;
    s33 -= b3 * b3;
  }
  const c = i0;
  // Row i0.
  if (!(s00 > 0)) return false;
  const l00 = Math.sqrt(s00);
  a[r0 + c] = l00;
  // Row i0 + 1.
  const l10 = s10 / l00;
  a[r1 + c] = l10;
  s11 -= l10 * l10;
  if (!(s11 > 0)) return false;
  const l11 = Math.sqrt(s11);
  a[r1 + c + 1] = l11;
  // Row i0 + 2.
  const l20 = s20 / l00;
  a[r2 + c] = l20;
  const l21 = (s21 - l20 * l10) / l11;
  a[r2 + c + 1] = l21;
  s22 = s22 - l20 * l20 - l21 * l21;
  if (!(s22 > 0)) return false;
  const l22 = Math.sqrt(s22);
  a[r2 + c + 2] = l22;
  // Row i0 + 3.
  const l30 = s30 / l00;
  a[r3 + c] = l30;
  const l31 = (s31 - l30 * l10) / l11;
  a[r3 + c + 1] = l31;
  const l32 = (s32 - l30 * l20 - l31 * l21) / l22;
  a[r3 + c + 2] = l32;
  s33 = s33 - l30 * l30 - l31 * l31 - l32 * l32;
  if (!(s33 > 0)) return false;
  a[r3 + c + 3] = Math.sqrt(s33);
  return true;
}

/**
 * `choleskySolveInPlace` (L·Lᵀ·x = b, b becomes x, L the n×n row-major lower triangle of `l`)
 * with the forward substitution four rows at a time: their sums over the solved entries run
 * side by side. Each entry subtracts the same products in the same order, so x is bitwise the
 * same.
 */
export function choleskySolveFourRows(l: Float64Array, n: number, b: Float64Array): void {
  let i0 = 0;
  for (; i0 + 4 <= n; i0 += 4) {
    const r0 = i0 * n;
    const r1 = r0 + n;
    const r2 = r1 + n;
    const r3 = r2 + n;
    let s0 = b[i0];
    let s1 = b[i0 + 1];
    let s2 = b[i0 + 2];
    let s3 = b[i0 + 3];
    for (let p = 0; p < i0; p++) {
      const v = b[p];
      s0 -= l[r0 + p] * v;
      s1 -= l[r1 + p] * v;
      s2 -= l[r2 + p] * v;
      s3 -= l[r3 + p] * v;
    }
    const x0 = s0 / l[r0 + i0];
    const x1 = (s1 - l[r1 + i0] * x0) / l[r1 + i0 + 1];
    const x2 = (s2 - l[r2 + i0] * x0 - l[r2 + i0 + 1] * x1) / l[r2 + i0 + 2];
    const x3 = (s3 - l[r3 + i0] * x0 - l[r3 + i0 + 1] * x1 - l[r3 + i0 + 2] * x2) / l[r3 + i0 + 3];
    b[i0] = x0;
    b[i0 + 1] = x1;
    b[i0 + 2] = x2;
    b[i0 + 3] = x3;
  }
  for (let i = i0; i < n; i++) {
    const ri = i * n;
    let s = b[i];
    for (let p = 0; p < i; p++) s -= l[ri + p] * b[p];
    b[i] = s / l[ri + i];
  }
  // Backward: Lᵀ·x = y, one row after the other (each needs the one before first).
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let p = i + 1; p < n; p++) s -= l[p * n + i] * b[p];
    b[i] = s / l[i * n + i];
  }
}
