// AssemblyScript source of the dense SIMD kernel (compiled by scripts/build-wasm.mjs into
// src/kernels/wasm/dense-kernel.wasm.ts): the three steps of spdInverseInPlace in
// src/kernels/dense.ts on an n×n row-major matrix at address `a` of the imported memory, for
// float64 (f64x2) and float32 (f32x4) storage. float32 dot products accumulate in f32x4 over
// blocks of BLOCK elements and in f64 across blocks. Same loop structure and semantics as the
// TypeScript reference; `diag` and `inv` are float64 arrays of n entries.

const BLOCK: i32 = 256;

// Results of the four-way dot products (per instance, so threads never share them).
let q0: f64 = 0;
let q1: f64 = 0;
let q2: f64 = 0;
let q3: f64 = 0;

@inline function lanes<T>(): i32 {
  return 16 / sizeof<T>();
}

@inline function hsum<T>(v: v128): f64 {
  if (sizeof<T>() == 8) return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
  return <f64>(f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + <f64>(f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

@inline function at<T>(base: usize, i: i32): usize {
  return base + (<usize>i << alignof<T>());
}

/** Σ x[p]·y[p] for p in [from, to). */
function dot<T>(x: usize, y: usize, from: i32, to: i32): f64 {
  const L = lanes<T>();
  let total: f64 = 0;
  let p = from;
  while (p + L <= to) {
    const end = min(to, p + BLOCK);
    let s = v128.splat<T>(0);
    for (; p + L <= end; p += L) s = v128.add<T>(s, v128.mul<T>(v128.load(at<T>(x, p)), v128.load(at<T>(y, p))));
    total += hsum<T>(s);
  }
  for (; p < to; p++) total += <f64>load<T>(at<T>(x, p)) * <f64>load<T>(at<T>(y, p));
  return total;
}

/** q_k = Σ x_k[p]·y[p] for p in [from, to), k = 0..3. */
function dot4<T>(x0: usize, x1: usize, x2: usize, x3: usize, y: usize, from: i32, to: i32): void {
  const L = lanes<T>();
  let t0: f64 = 0;
  let t1: f64 = 0;
  let t2: f64 = 0;
  let t3: f64 = 0;
  let p = from;
  while (p + L <= to) {
    const end = min(to, p + BLOCK);
    let s0 = v128.splat<T>(0);
    let s1 = v128.splat<T>(0);
    let s2 = v128.splat<T>(0);
    let s3 = v128.splat<T>(0);
    for (; p + L <= end; p += L) {
      const v = v128.load(at<T>(y, p));
      s0 = v128.add<T>(s0, v128.mul<T>(v128.load(at<T>(x0, p)), v));
      s1 = v128.add<T>(s1, v128.mul<T>(v128.load(at<T>(x1, p)), v));
      s2 = v128.add<T>(s2, v128.mul<T>(v128.load(at<T>(x2, p)), v));
      s3 = v128.add<T>(s3, v128.mul<T>(v128.load(at<T>(x3, p)), v));
    }
    t0 += hsum<T>(s0);
    t1 += hsum<T>(s1);
    t2 += hsum<T>(s2);
    t3 += hsum<T>(s3);
  }
  for (; p < to; p++) {
    const v = <f64>load<T>(at<T>(y, p));
    t0 += <f64>load<T>(at<T>(x0, p)) * v;
    t1 += <f64>load<T>(at<T>(x1, p)) * v;
    t2 += <f64>load<T>(at<T>(x2, p)) * v;
    t3 += <f64>load<T>(at<T>(x3, p)) * v;
  }
  q0 = t0;
  q1 = t1;
  q2 = t2;
  q3 = t3;
}

@inline function get<T>(a: usize, n: i32, r: i32, c: i32): f64 {
  return <f64>load<T>(at<T>(a, r * n + c));
}

@inline function set<T>(a: usize, n: i32, r: i32, c: i32, v: f64): void {
  store<T>(at<T>(a, r * n + c), <T>v);
}

@inline function row<T>(a: usize, n: i32, r: i32): usize {
  return at<T>(a, r * n);
}

/** Step 1: lower Cholesky factor in place; 0 when not positive definite. */
function cholesky<T>(a: usize, n: i32): i32 {
  let i0 = 0;
  for (; i0 + 4 <= n; i0 += 4) {
    const r0 = row<T>(a, n, i0);
    const r1 = row<T>(a, n, i0 + 1);
    const r2 = row<T>(a, n, i0 + 2);
    const r3 = row<T>(a, n, i0 + 3);
    for (let j = 0; j < i0; j++) {
      const rj = row<T>(a, n, j);
      dot4<T>(r0, r1, r2, r3, rj, 0, j);
      const d = get<T>(a, n, j, j);
      set<T>(a, n, i0, j, (get<T>(a, n, i0, j) - q0) / d);
      set<T>(a, n, i0 + 1, j, (get<T>(a, n, i0 + 1, j) - q1) / d);
      set<T>(a, n, i0 + 2, j, (get<T>(a, n, i0 + 2, j) - q2) / d);
      set<T>(a, n, i0 + 3, j, (get<T>(a, n, i0 + 3, j) - q3) / d);
    }
    for (let i = i0; i < i0 + 4; i++) {
      if (!factorRowTail<T>(a, n, i, i0)) return 0;
    }
  }
  for (let i = i0; i < n; i++) {
    if (!factorRowTail<T>(a, n, i, 0)) return 0;
  }
  return 1;
}

/** Columns from..i of row i of the factor (earlier columns done). */
function factorRowTail<T>(a: usize, n: i32, i: i32, from: i32): bool {
  const ri = row<T>(a, n, i);
  for (let j = from; j <= i; j++) {
    const s = get<T>(a, n, i, j) - dot<T>(ri, row<T>(a, n, j), 0, j);
    if (j < i) {
      set<T>(a, n, i, j, s / get<T>(a, n, j, j));
    } else {
      if (!(s > 0)) return false;
      set<T>(a, n, i, i, Math.sqrt(s));
    }
  }
  return true;
}

/**
 * Step 2: W = L⁻¹ into the strict upper triangle, transposed: Wt[j][i] = W[i][j] for j < i,
 * W[i][j] = −(L[i][j]·W[j][j] + Σ_{j<p<i} L[i][p]·Wt[j][p]) / L[i][i]. Rows i go four at a
 * time, so every row j of Wt is streamed once per block of four.
 */
function lowerInverseTransposed<T>(a: usize, n: i32, diag: usize, inv: usize): void {
  let i0 = 0;
  for (; i0 + 4 <= n; i0 += 4) {
    const l0 = row<T>(a, n, i0);
    const l1 = row<T>(a, n, i0 + 1);
    const l2 = row<T>(a, n, i0 + 2);
    const l3 = row<T>(a, n, i0 + 3);
    const d0 = load<f64>(diag + (<usize>i0 << 3));
    const d1 = load<f64>(diag + (<usize>(i0 + 1) << 3));
    const d2 = load<f64>(diag + (<usize>(i0 + 2) << 3));
    const d3 = load<f64>(diag + (<usize>(i0 + 3) << 3));
    for (let j = 0; j < i0; j++) {
      const wj = row<T>(a, n, j);
      const ij = load<f64>(inv + (<usize>j << 3));
      // Terms p in (j, i0): shared by the four rows.
      dot4<T>(l0, l1, l2, l3, wj, j + 1, i0);
      const w0 = -(get<T>(a, n, i0, j) * ij + q0) / d0;
      set<T>(a, n, j, i0, w0);
      const w1 = -(get<T>(a, n, i0 + 1, j) * ij + q1 + get<T>(a, n, i0 + 1, i0) * get<T>(a, n, j, i0)) / d1;
      set<T>(a, n, j, i0 + 1, w1);
      const w2 =
        -(
          get<T>(a, n, i0 + 2, j) * ij +
          q2 +
          get<T>(a, n, i0 + 2, i0) * get<T>(a, n, j, i0) +
          get<T>(a, n, i0 + 2, i0 + 1) * get<T>(a, n, j, i0 + 1)
        ) / d2;
      set<T>(a, n, j, i0 + 2, w2);
      const w3 =
        -(
          get<T>(a, n, i0 + 3, j) * ij +
          q3 +
          get<T>(a, n, i0 + 3, i0) * get<T>(a, n, j, i0) +
          get<T>(a, n, i0 + 3, i0 + 1) * get<T>(a, n, j, i0 + 1) +
          get<T>(a, n, i0 + 3, i0 + 2) * get<T>(a, n, j, i0 + 2)
        ) / d3;
      set<T>(a, n, j, i0 + 3, w3);
    }
    // Columns inside the block.
    for (let i = i0 + 1; i < i0 + 4; i++) inverseRowFrom<T>(a, n, diag, inv, i, i0);
  }
  for (let i = i0; i < n; i++) inverseRowFrom<T>(a, n, diag, inv, i, 0);
}

/** W[i][j] for j in [from, i), all earlier entries of column j done. */
function inverseRowFrom<T>(a: usize, n: i32, diag: usize, inv: usize, i: i32, from: i32): void {
  const ri = row<T>(a, n, i);
  const di = load<f64>(diag + (<usize>i << 3));
  for (let j = from; j < i; j++) {
    const s = get<T>(a, n, i, j) * load<f64>(inv + (<usize>j << 3)) + dot<T>(ri, row<T>(a, n, j), j + 1, i);
    set<T>(a, n, j, i, -s / di);
  }
}

/**
 * Step 3: P = WᵀW into the lower triangle, P[r][b] = Σ_{i≥r} Wt[r][i]·Wt[b][i] (b ≤ r), with
 * Wt[x][x] = inv[x]; row r overwrites the dead L[r][0..r]. Rows r go four at a time, so every
 * row b of Wt is streamed once per block of four.
 */
function gramOfUpper<T>(a: usize, n: i32, inv: usize): void {
  let r0 = 0;
  for (; r0 + 4 <= n; r0 += 4) {
    const x0 = row<T>(a, n, r0);
    const x1 = row<T>(a, n, r0 + 1);
    const x2 = row<T>(a, n, r0 + 2);
    const x3 = row<T>(a, n, r0 + 3);
    const v0 = load<f64>(inv + (<usize>r0 << 3));
    const v1 = load<f64>(inv + (<usize>(r0 + 1) << 3));
    const v2 = load<f64>(inv + (<usize>(r0 + 2) << 3));
    const v3 = load<f64>(inv + (<usize>(r0 + 3) << 3));
    for (let b = 0; b < r0; b++) {
      const yb = row<T>(a, n, b);
      // Terms i > r0 + 3: shared by the four rows.
      dot4<T>(x0, x1, x2, x3, yb, r0 + 4, n);
      const b0 = get<T>(a, n, b, r0);
      const b1 = get<T>(a, n, b, r0 + 1);
      const b2 = get<T>(a, n, b, r0 + 2);
      const b3 = get<T>(a, n, b, r0 + 3);
      const t3 = v3 * b3 + q3;
      const t2 = v2 * b2 + get<T>(a, n, r0 + 2, r0 + 3) * b3 + q2;
      const t1 = v1 * b1 + get<T>(a, n, r0 + 1, r0 + 2) * b2 + get<T>(a, n, r0 + 1, r0 + 3) * b3 + q1;
      const t0 =
        v0 * b0 + get<T>(a, n, r0, r0 + 1) * b1 + get<T>(a, n, r0, r0 + 2) * b2 + get<T>(a, n, r0, r0 + 3) * b3 + q0;
      set<T>(a, n, r0, b, t0);
      set<T>(a, n, r0 + 1, b, t1);
      set<T>(a, n, r0 + 2, b, t2);
      set<T>(a, n, r0 + 3, b, t3);
    }
    // Entries inside the block, diagonal last in each row (it overwrites the diagonal slot,
    // which holds no value that is read: the diagonal of W comes from inv).
    for (let r = r0; r < r0 + 4; r++) gramRowFrom<T>(a, n, inv, r, r0);
  }
  for (let r = r0; r < n; r++) gramRowFrom<T>(a, n, inv, r, 0);
}

/** P[r][b] for b in [from, r]. */
function gramRowFrom<T>(a: usize, n: i32, inv: usize, r: i32, from: i32): void {
  const rr = row<T>(a, n, r);
  const wd = load<f64>(inv + (<usize>r << 3));
  for (let b = from; b < r; b++) set<T>(a, n, r, b, wd * get<T>(a, n, b, r) + dot<T>(rr, row<T>(a, n, b), r + 1, n));
  set<T>(a, n, r, r, wd * wd + dot<T>(rr, rr, r + 1, n));
}

export function cholesky64(a: usize, n: i32): i32 {
  return cholesky<f64>(a, n);
}

export function cholesky32(a: usize, n: i32): i32 {
  return cholesky<f32>(a, n);
}

export function lowerInverseTransposed64(a: usize, n: i32, diag: usize, inv: usize): void {
  lowerInverseTransposed<f64>(a, n, diag, inv);
}

export function lowerInverseTransposed32(a: usize, n: i32, diag: usize, inv: usize): void {
  lowerInverseTransposed<f32>(a, n, diag, inv);
}

export function gramOfUpper64(a: usize, n: i32, inv: usize): void {
  gramOfUpper<f64>(a, n, inv);
}

export function gramOfUpper32(a: usize, n: i32, inv: usize): void {
  gramOfUpper<f32>(a, n, inv);
}
