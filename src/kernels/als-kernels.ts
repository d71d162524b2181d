/**
 * Implicit-feedback ALS (Hu, Koren, Volinsky 2008) half-step kernels on typed arrays.
 *
 * For every row u being solved (a user, or an item on the other half-step), with the other
 * side's factors F fixed, the row vector x solves
 *
 *   (FᵀF + λI + Σ_{i∈u} e_ui·f_i·f_iᵀ) · x = Σ_{i∈u} (1 + e_ui)·f_i
 *
 * where e_ui = c_ui − 1 is the extra confidence of an observed pair (stored per entry in
 * `extra`) and G = FᵀF + λI is precomputed once per half-step. Two solvers:
 * - conjugate gradient (Takács et al. 2011), warm-started from the current x, a few steps,
 *   each costing O(nnz_u·k + k²);
 * - exact: the k×k system is formed and Cholesky-factored, O(nnz_u·k² + k³).
 *
 * Factor matrices are row-major Float32Arrays with a row stride ≥ k (padding stays zero).
 * Each row's result depends only on its own inputs, so any partition of the rows over threads
 * gives bitwise-identical factors.
 */
import { choleskyFourRows, choleskySolveFourRows } from './cholesky-blocked.js';

/** The rows being solved, as CSR with the extra confidence of every stored pair. */
export interface AlsRows {
  indptr: Int32Array;
  indices: Int32Array;
  /** c − 1 ≥ 0 for each stored entry; null when every entry has `uniformExtra`. */
  extra: Float32Array | null;
  uniformExtra: number;
}

export interface AlsHalfStep {
  rows: AlsRows;
  /** Fixed-side factors, row stride `stride`. */
  fixed: Float32Array;
  /** G = FᵀF + λI, k×k row-major. */
  gram: Float64Array;
  /** Solved-side factors (current values in, solution out), row stride `stride`. */
  solved: Float32Array;
  k: number;
  stride: number;
}

/** Residual norm² below which a CG solve stops. */
export const CG_TOLERANCE = 1e-20;

/** Per-thread scratch vectors for the row solvers. */
export class AlsScratch {
  readonly x: Float64Array;
  readonly r: Float64Array;
  readonly p: Float64Array;
  readonly ap: Float64Array;
  /** k×k system matrix for the exact solver. */
  readonly a: Float64Array;

  constructor(readonly k: number) {
    this.x = new Float64Array(k);
    this.r = new Float64Array(k);
    this.p = new Float64Array(k);
    this.ap = new Float64Array(k);
    this.a = new Float64Array(k * k);
  }
}

/**
 * Conjugate-gradient update of rows [from, to): starting from the current row vector, the
 * residual is formed and `steps` CG steps are taken (fewer if the residual vanishes).
 */
export function cgRows(h: AlsHalfStep, from: number, to: number, steps: number, s: AlsScratch): void {
  const { indptr, indices, extra, uniformExtra } = h.rows;
  const { fixed, gram, solved, k, stride } = h;
  const x = s.x;
  const r = s.r;
  const p = s.p;
  const ap = s.ap;
  for (let u = from; u < to; u++) {
    const base = u * stride;
    for (let f = 0; f < k; f++) x[f] = solved[base + f];
    // r = b − A·x = Σ (1 + e − e·(f_i·x))·f_i − G·x
    for (let a = 0; a < k; a++) {
      const ga = a * k;
      let acc = 0;
      for (let b = 0; b < k; b++) acc += gram[ga + b] * x[b];
      r[a] = -acc;
    }
    const start = indptr[u];
    const end = indptr[u + 1];
    for (let q = start; q < end; q++) {
      const fo = indices[q] * stride;
      const e = extra ? extra[q] : uniformExtra;
      let d = 0;
      for (let f = 0; f < k; f++) d += fixed[fo + f] * x[f];
      const t = 1 + e - e * d;
      for (let f = 0; f < k; f++) r[f] += t * fixed[fo + f];
    }
    let rs = 0;
    for (let f = 0; f < k; f++) {
      p[f] = r[f];
      rs += r[f] * r[f];
    }
    if (rs < CG_TOLERANCE) continue;
    for (let it = 0; it < steps; it++) {
      // ap = A·p = G·p + Σ e·(f_i·p)·f_i
      for (let a = 0; a < k; a++) {
        const ga = a * k;
        let acc = 0;
        for (let b = 0; b < k; b++) acc += gram[ga + b] * p[b];
        ap[a] = acc;
      }
      for (let q = start; q < end; q++) {
        const e = extra ? extra[q] : uniformExtra;
        if (e === 0) continue;
        const fo = indices[q] * stride;
        let d = 0;
        for (let f = 0; f < k; f++) d += fixed[fo + f] * p[f];
        const t = e * d;
        for (let f = 0; f < k; f++) ap[f] += t * fixed[fo + f];
      }
      let pap = 0;
      for (let f = 0; f < k; f++) pap += p[f] * ap[f];
      if (!(pap > 0)) break;
      const alpha = rs / pap;
      let rsNew = 0;
      for (let f = 0; f < k; f++) {
        x[f] += alpha * p[f];
        r[f] -= alpha * ap[f];
        rsNew += r[f] * r[f];
      }
      if (rsNew < CG_TOLERANCE) break;
      const beta = rsNew / rs;
      for (let f = 0; f < k; f++) p[f] = r[f] + beta * p[f];
      rs = rsNew;
    }
    for (let f = 0; f < k; f++) solved[base + f] = x[f];
  }
}

/** Exact update of rows [from, to): each row's system is formed and solved by Cholesky. */
export function exactRows(h: AlsHalfStep, from: number, to: number, s: AlsScratch): void {
  const { indptr, indices, extra, uniformExtra } = h.rows;
  for (let u = from; u < to; u++) {
    solveExact(indices, extra, uniformExtra, indptr[u], indptr[u + 1], h.fixed, h.stride, h.k, h.gram, s);
    const base = u * h.stride;
    for (let f = 0; f < h.k; f++) h.solved[base + f] = s.x[f];
  }
}

/**
 * Builds the system of one row from entries [start, end) of `indices`/`extra` (or
 * `uniformExtra` for every entry when `extra` is null) into `s.a`
 * (Cholesky-factored on return, lower triangle) and its solution into `s.x`. Returns false
 * when the system is not positive definite (λ = 0 with too few entries); `s.x` is then zero.
 *
 * The rank-one terms are added four entries at a time and the factorisation runs four rows at
 * a time; every element still sums its terms in entry order, so the result is bitwise the one
 * of adding the entries one by one and factorising row by row.
 */
export function solveExact(
  indices: Int32Array,
  extra: Float32Array | null,
  uniformExtra: number,
  start: number,
  end: number,
  fixed: Float32Array,
  stride: number,
  k: number,
  gram: Float64Array,
  s: AlsScratch,
): boolean {
  const a = s.a;
  const x = s.x;
  a.set(gram.subarray(0, k * k));
  x.fill(0);
  // Right-hand side: Σ (1 + e)·f_i.
  for (let q = start; q < end; q++) {
    const fo = indices[q] * stride;
    const c = 1 + (extra ? extra[q] : uniformExtra);
    for (let i = 0; i < k; i++) x[i] += c * fixed[fo + i];
  }
  // Lower triangle of Σ e·f_i·f_iᵀ, entries with e = 0 left out, four at a time.
  let pending = 0;
  let o0 = 0;
  let o1 = 0;
  let o2 = 0;
  let e0 = 0;
  let e1 = 0;
  let e2 = 0;
  for (let q = start; q < end; q++) {
    const e = extra ? extra[q] : uniformExtra;
    if (e === 0) continue;
    const fo = indices[q] * stride;
    if (pending === 0) {
      o0 = fo;
      e0 = e;
    } else if (pending === 1) {
      o1 = fo;
      e1 = e;
    } else if (pending === 2) {
      o2 = fo;
      e2 = e;
    } else {
      addOuterLower4(a, k, fixed, o0, e0, o1, e1, o2, e2, fo, e);
      pending = 0;
      continue;
    }
    pending++;
  }
  if (pending > 0) addOuterLower(a, k, fixed, o0, e0);
  if (pending > 1) addOuterLower(a, k, fixed, o1, e1);
  if (pending > 2) addOuterLower(a, k, fixed, o2, e2);
  if (!choleskyFourRows(a, k)) {
    x.fill(0);
    return false;
  }
  choleskySolveFourRows(a, k, x);
  return true;
}

/** a += e·f·fᵀ (lower triangle) for the k floats of `fixed` at `o`. */
function addOuterLower(a: Float64Array, k: number, fixed: Float32Array, o: number, e: number): void {
  for (let i = 0; i < k; i++) {
    const w = e * fixed[o + i];
    const ai = i * k;
    for (let j = 0; j <= i; j++) a[ai + j] += w * fixed[o + j];
  }
}

/** Four addOuterLower calls in one pass over `a`, each element summing the terms in argument order. */
function addOuterLower4(
  a: Float64Array,
  k: number,
  fixed: Float32Array,
  o0: number,
  e0: number,
  o1: number,
  e1: number,
  o2: number,
  e2: number,
  o3: number,
  e3: number,
): void {
  for (let i = 0; i < k; i++) {
    const w0 = e0 * fixed[o0 + i];
    const w1 = e1 * fixed[o1 + i];
    const w2 = e2 * fixed[o2 + i];
    const w3 = e3 * fixed[o3 + i];
    const ai = i * k;
    for (let j = 0; j <= i; j++) {
      a[ai + j] =
        a[ai + j] + w0 * fixed[o0 + j] + w1 * fixed[o1 + j] + w2 * fixed[o2 + j] + w3 * fixed[o3 + j];
    }
  }
}

/**
 * Adds FᵀF over rows [from, to) of `factors` into the lower triangle of the k×k `out`
 * (starting at `outOffset`); the upper triangle is not touched.
 */
export function addGramLower(
  factors: Float32Array,
  stride: number,
  k: number,
  from: number,
  to: number,
  out: Float64Array,
  outOffset = 0,
): void {
  let r = from;
  for (; r + 2 <= to; r += 2) {
    const o0 = r * stride;
    const o1 = o0 + stride;
    for (let a = 0; a < k; a++) {
      const f0 = factors[o0 + a];
      const f1 = factors[o1 + a];
      const oa = outOffset + a * k;
      for (let b = 0; b <= a; b++) out[oa + b] += f0 * factors[o0 + b] + f1 * factors[o1 + b];
    }
  }
  for (; r < to; r++) {
    const o0 = r * stride;
    for (let a = 0; a < k; a++) {
      const f0 = factors[o0 + a];
      const oa = outOffset + a * k;
      for (let b = 0; b <= a; b++) out[oa + b] += f0 * factors[o0 + b];
    }
  }
}

/** Copies the lower triangle of the k×k matrix into its upper triangle and adds λ to the diagonal. */
export function finishGram(g: Float64Array, k: number, lambda: number): void {
  for (let a = 0; a < k; a++) {
    g[a * k + a] += lambda;
    for (let b = 0; b < a; b++) g[b * k + a] = g[a * k + b];
  }
}
