// AssemblyScript source of the ALS fold-in kernel (compiled by scripts/build-wasm.mjs into
// src/kernels/wasm/foldin-kernel.wasm.ts): the exact user half-step of one history
// (solveExact in src/kernels/als-kernels.ts) and the solves with its Cholesky factor that
// explanations need (choleskySolveFourRows in src/kernels/cholesky-blocked.ts), on raw
// addresses in an imported memory laid out by src/kernels/foldin-wasm.ts.
//
// Every result is bitwise the one of the TypeScript reference: each element sums the same
// float64 products in the same order. The f64x2 lanes always hold two different output
// elements (two columns of a row, two right-hand-side entries, two history items), never two
// terms of one sum, and wasm has no fused multiply-add, so only the order of the terms matters.
//
// Layout. k factors; every row below has `kp` = k rounded up to even entries, so rows start
// 16-byte aligned and pairs never straddle a row; the padding entries start at zero and no
// result reads them.
// - factors: items rows of kp float32.
// - a: the system, k rows of kp float64. The reference keeps the factor L in the lower
//   triangle; here its transpose U = Lᵀ fills the upper triangle (a[j][i] = L[i][j], i ≥ j),
//   so that every column of L that the factorisation and the forward substitution stream is
//   a contiguous row. A pass over row l starts at the even column at or below l: the lane
//   left of the diagonal is a lower-triangle entry that nothing reads as a result.
// - gram: YᵀY + λI in the same layout (both triangles).
// - x, z: kp float64 vectors; indices (int32) and extra (float32) of the history entries.
// - batch: BATCH rows of kp float64 (history rows being added), interleaved by column pairs
//   (see promoteToSlot), then their BATCH float64 extra confidences.

/** History entries whose rank-one terms one pass over the system adds. */
const BATCH: i32 = 8;

@inline function evenStride(k: i32): i32 {
  return (k + 1) & ~1;
}

@inline function f64At(base: usize, i: i32): usize {
  return base + (<usize>i << 3);
}

@inline function f32At(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

/** x[0..kp) += c·y for the float32 row y (x float64). */
function addScaledRow(x: usize, y: usize, c: f64, kp: i32): void {
  const cv = f64x2.splat(c);
  for (let i = 0; i < kp; i += 2) {
    const yv = f64x2.promote_low_f32x4(v128.load64_zero(f32At(y, i)));
    v128.store(f64At(x, i), f64x2.add(v128.load(f64At(x, i)), f64x2.mul(cv, yv)));
  }
}

/** The float32 row y as float64 into `out` (kp entries). */
function promoteRow(y: usize, out: usize, kp: i32): void {
  for (let i = 0; i < kp; i += 2) {
    v128.store(f64At(out, i), f64x2.promote_low_f32x4(v128.load64_zero(f32At(y, i))));
  }
}

/**
 * The float32 row y as float64 into slot `slot` of the interleaved batch: the pair of columns
 * 2t of slot b is at batch + t·16·BATCH + b·16, so that one pointer and constant offsets
 * reach the pairs of every slot.
 */
function promoteToSlot(y: usize, batch: usize, slot: i32, kp: i32): void {
  let out = batch + (<usize>slot << 4);
  for (let i = 0; i < kp; i += 2) {
    v128.store(out, f64x2.promote_low_f32x4(v128.load64_zero(f32At(y, i))));
    out += BATCH << 4;
  }
}

/** Column l of batch slot b. */
@inline function slotAt(batch: usize, b: i32, l: i32): f64 {
  return load<f64>(batch + (<usize>(l >> 1) * (BATCH << 4)) + (<usize>b << 4) + (<usize>(l & 1) << 3));
}

/**
 * a[l][i] += Σ_b e_b·y_b[l]·y_b[i] for i ≥ l over the eight batch slots, in slot order. The
 * reference adds (e·y[i])·y[l] to its lower entry [i][l]; e and y are float32, so e·y is exact
 * in float64 and both products are the one rounding of the same real number.
 */
function rank8(a: usize, n: i32, kp: i32, batch: usize, es: usize): void {
  const rowBytes = <usize>kp << 3;
  const e0 = load<f64>(es);
  const e1 = load<f64>(es, 8);
  const e2 = load<f64>(es, 16);
  const e3 = load<f64>(es, 24);
  const e4 = load<f64>(es, 32);
  const e5 = load<f64>(es, 40);
  const e6 = load<f64>(es, 48);
  const e7 = load<f64>(es, 56);
  for (let l = 0; l < n; l++) {
    const w0 = f64x2.splat(e0 * slotAt(batch, 0, l));
    const w1 = f64x2.splat(e1 * slotAt(batch, 1, l));
    const w2 = f64x2.splat(e2 * slotAt(batch, 2, l));
    const w3 = f64x2.splat(e3 * slotAt(batch, 3, l));
    const w4 = f64x2.splat(e4 * slotAt(batch, 4, l));
    const w5 = f64x2.splat(e5 * slotAt(batch, 5, l));
    const w6 = f64x2.splat(e6 * slotAt(batch, 6, l));
    const w7 = f64x2.splat(e7 * slotAt(batch, 7, l));
    const end = a + <usize>l * rowBytes + rowBytes;
    let y = batch + <usize>(l >> 1) * (BATCH << 4);
    let r = a + <usize>l * rowBytes + (<usize>(l & ~1) << 3);
    // Two column pairs per step: two independent chains of eight additions.
    for (; r + 32 <= end; r += 32) {
      let s = v128.load(r);
      let t = v128.load(r, 16);
      s = f64x2.add(s, f64x2.mul(w0, v128.load(y)));
      t = f64x2.add(t, f64x2.mul(w0, v128.load(y, 128)));
      s = f64x2.add(s, f64x2.mul(w1, v128.load(y, 16)));
      t = f64x2.add(t, f64x2.mul(w1, v128.load(y, 144)));
      s = f64x2.add(s, f64x2.mul(w2, v128.load(y, 32)));
      t = f64x2.add(t, f64x2.mul(w2, v128.load(y, 160)));
      s = f64x2.add(s, f64x2.mul(w3, v128.load(y, 48)));
      t = f64x2.add(t, f64x2.mul(w3, v128.load(y, 176)));
      s = f64x2.add(s, f64x2.mul(w4, v128.load(y, 64)));
      t = f64x2.add(t, f64x2.mul(w4, v128.load(y, 192)));
      s = f64x2.add(s, f64x2.mul(w5, v128.load(y, 80)));
      t = f64x2.add(t, f64x2.mul(w5, v128.load(y, 208)));
      s = f64x2.add(s, f64x2.mul(w6, v128.load(y, 96)));
      t = f64x2.add(t, f64x2.mul(w6, v128.load(y, 224)));
      s = f64x2.add(s, f64x2.mul(w7, v128.load(y, 112)));
      t = f64x2.add(t, f64x2.mul(w7, v128.load(y, 240)));
      v128.store(r, s);
      v128.store(r, t, 16);
      y += BATCH << 5;
    }
    if (r < end) {
      let s = v128.load(r);
      s = f64x2.add(s, f64x2.mul(w0, v128.load(y)));
      s = f64x2.add(s, f64x2.mul(w1, v128.load(y, 16)));
      s = f64x2.add(s, f64x2.mul(w2, v128.load(y, 32)));
      s = f64x2.add(s, f64x2.mul(w3, v128.load(y, 48)));
      s = f64x2.add(s, f64x2.mul(w4, v128.load(y, 64)));
      s = f64x2.add(s, f64x2.mul(w5, v128.load(y, 80)));
      s = f64x2.add(s, f64x2.mul(w6, v128.load(y, 96)));
      s = f64x2.add(s, f64x2.mul(w7, v128.load(y, 112)));
      v128.store(r, s);
    }
  }
}

/** rank8 for batch slots [0, 4). */
function rank4(a: usize, n: i32, kp: i32, batch: usize, es: usize): void {
  const rowBytes = <usize>kp << 3;
  const e0 = load<f64>(es);
  const e1 = load<f64>(es, 8);
  const e2 = load<f64>(es, 16);
  const e3 = load<f64>(es, 24);
  for (let l = 0; l < n; l++) {
    const w0 = f64x2.splat(e0 * slotAt(batch, 0, l));
    const w1 = f64x2.splat(e1 * slotAt(batch, 1, l));
    const w2 = f64x2.splat(e2 * slotAt(batch, 2, l));
    const w3 = f64x2.splat(e3 * slotAt(batch, 3, l));
    const end = a + <usize>l * rowBytes + rowBytes;
    let y = batch + <usize>(l >> 1) * (BATCH << 4);
    for (let r = a + <usize>l * rowBytes + (<usize>(l & ~1) << 3); r < end; r += 16) {
      let s = v128.load(r);
      s = f64x2.add(s, f64x2.mul(w0, v128.load(y)));
      s = f64x2.add(s, f64x2.mul(w1, v128.load(y, 16)));
      s = f64x2.add(s, f64x2.mul(w2, v128.load(y, 32)));
      s = f64x2.add(s, f64x2.mul(w3, v128.load(y, 48)));
      v128.store(r, s);
      y += BATCH << 4;
    }
  }
}

/** rank8 for the one batch slot b. */
function rank1(a: usize, n: i32, kp: i32, batch: usize, es: usize, b: i32): void {
  const rowBytes = <usize>kp << 3;
  const e = load<f64>(f64At(es, b));
  for (let l = 0; l < n; l++) {
    const w = f64x2.splat(e * slotAt(batch, b, l));
    const end = a + <usize>l * rowBytes + rowBytes;
    let y = batch + <usize>(l >> 1) * (BATCH << 4) + (<usize>b << 4);
    for (let r = a + <usize>l * rowBytes + (<usize>(l & ~1) << 3); r < end; r += 16) {
      v128.store(r, f64x2.add(v128.load(r), f64x2.mul(w, v128.load(y))));
      y += BATCH << 4;
    }
  }
}

/**
 * One step j of the right-looking factorisation of the upper triangle: the pivot, row j
 * divided by it, and the rank-one downdate of rows (j, to) (their columns from the row on).
 * Returns false when the pivot is not positive.
 */
function pivotStep(a: usize, n: i32, kp: i32, j: i32, to: i32): bool {
  const rowBytes = <usize>kp << 3;
  const rj = a + <usize>j * rowBytes;
  const s = load<f64>(f64At(rj, j));
  if (!(s > 0)) return false;
  const d = Math.sqrt(s);
  const dv = f64x2.splat(d);
  // From the even column at or below j + 1: when that is j, the diagonal is divided as well
  // and overwritten just after.
  for (let o = <usize>((j + 1) & ~1) << 3; o < rowBytes; o += 16) v128.store(rj + o, f64x2.div(v128.load(rj + o), dv));
  store<f64>(f64At(rj, j), d);
  for (let l = j + 1; l < to; l++) {
    const u = f64x2.splat(load<f64>(f64At(rj, l)));
    const rl = a + <usize>l * rowBytes;
    for (let o = <usize>(l & ~1) << 3; o < rowBytes; o += 16) {
      v128.store(rl + o, f64x2.sub(v128.load(rl + o), f64x2.mul(u, v128.load(rj + o))));
    }
  }
  return true;
}

/**
 * U with UᵀU = A in place (see the layout). Every entry subtracts the products of the earlier
 * columns in column order and is then divided by (or, on the diagonal, is the square root
 * of) the same numbers as in choleskyFourRows, so U is bitwise the transpose of its L; the
 * factorisation fails at the same first non-positive pivot. Four steps at a time: the rows
 * past the block take the block's four downdates in one pass.
 */
function cholesky(a: usize, n: i32, kp: i32): bool {
  const rowBytes = <usize>kp << 3;
  let j0 = 0;
  for (; j0 + 4 <= n; j0 += 4) {
    const end = j0 + 4;
    for (let j = j0; j < end; j++) if (!pivotStep(a, n, kp, j, end)) return false;
    const p0 = a + <usize>j0 * rowBytes;
    const p1 = p0 + rowBytes;
    const p2 = p1 + rowBytes;
    const p3 = p2 + rowBytes;
    // Two rows per step (l even: both start at column pair l), two independent chains of
    // four subtractions sharing the loads of the block's rows.
    let l = end;
    for (; l + 2 <= n; l += 2) {
      const u0 = f64x2.splat(load<f64>(f64At(p0, l)));
      const u1 = f64x2.splat(load<f64>(f64At(p1, l)));
      const u2 = f64x2.splat(load<f64>(f64At(p2, l)));
      const u3 = f64x2.splat(load<f64>(f64At(p3, l)));
      const v0 = f64x2.splat(load<f64>(f64At(p0, l + 1)));
      const v1 = f64x2.splat(load<f64>(f64At(p1, l + 1)));
      const v2 = f64x2.splat(load<f64>(f64At(p2, l + 1)));
      const v3 = f64x2.splat(load<f64>(f64At(p3, l + 1)));
      const rl = a + <usize>l * rowBytes;
      const rm = rl + rowBytes;
      for (let o = <usize>l << 3; o < rowBytes; o += 16) {
        const b0 = v128.load(p0 + o);
        const b1 = v128.load(p1 + o);
        const b2 = v128.load(p2 + o);
        const b3 = v128.load(p3 + o);
        let s = v128.load(rl + o);
        let t = v128.load(rm + o);
        s = f64x2.sub(s, f64x2.mul(u0, b0));
        t = f64x2.sub(t, f64x2.mul(v0, b0));
        s = f64x2.sub(s, f64x2.mul(u1, b1));
        t = f64x2.sub(t, f64x2.mul(v1, b1));
        s = f64x2.sub(s, f64x2.mul(u2, b2));
        t = f64x2.sub(t, f64x2.mul(v2, b2));
        s = f64x2.sub(s, f64x2.mul(u3, b3));
        t = f64x2.sub(t, f64x2.mul(v3, b3));
        v128.store(rl + o, s);
        v128.store(rm + o, t);
      }
    }
    if (l < n) {
      const u0 = f64x2.splat(load<f64>(f64At(p0, l)));
      const u1 = f64x2.splat(load<f64>(f64At(p1, l)));
      const u2 = f64x2.splat(load<f64>(f64At(p2, l)));
      const u3 = f64x2.splat(load<f64>(f64At(p3, l)));
      const rl = a + <usize>l * rowBytes;
      for (let o = <usize>l << 3; o < rowBytes; o += 16) {
        let s = v128.load(rl + o);
        s = f64x2.sub(s, f64x2.mul(u0, v128.load(p0 + o)));
        s = f64x2.sub(s, f64x2.mul(u1, v128.load(p1 + o)));
        s = f64x2.sub(s, f64x2.mul(u2, v128.load(p2 + o)));
        s = f64x2.sub(s, f64x2.mul(u3, v128.load(p3 + o)));
        v128.store(rl + o, s);
      }
    }
  }
  for (let j = j0; j < n; j++) if (!pivotStep(a, n, kp, j, n)) return false;
  return true;
}

/**
 * b ← (UᵀU)⁻¹·b with the factor in `a`, as choleskySolveFourRows: forward, y_i = (b_i −
 * Σ_{p<i} L[i][p]·y_p)/L[i][i] with the terms in p order, taken column by column (a row of
 * U); backward, x_i = (y_i − Σ_{p>i} L[p][i]·x_p)/L[i][i] with the terms in increasing p, a
 * row of U, one scalar sum per entry (each needs the one after it first).
 */
function solveFactored(a: usize, n: i32, kp: i32, b: usize): void {
  const rowBytes = <usize>kp << 3;
  for (let p = 0; p < n; p++) {
    const rp = a + <usize>p * rowBytes;
    const y = load<f64>(f64At(b, p)) / load<f64>(f64At(rp, p));
    const yv = f64x2.splat(y);
    // From the even entry at or below p + 1: when that is p, it is overwritten just after.
    for (let o = <usize>((p + 1) & ~1) << 3; o < rowBytes; o += 16) {
      v128.store(b + o, f64x2.sub(v128.load(b + o), f64x2.mul(v128.load(rp + o), yv)));
    }
    store<f64>(f64At(b, p), y);
  }
  for (let i = n - 1; i >= 0; i--) {
    const ri = a + <usize>i * rowBytes;
    let s = load<f64>(f64At(b, i));
    for (let p = i + 1; p < n; p++) s -= load<f64>(f64At(ri, p)) * load<f64>(f64At(b, p));
    store<f64>(f64At(b, i), s / load<f64>(f64At(ri, i)));
  }
}

/**
 * The user system of `count` history entries (item `indices[q]`, extra confidence
 * `extra[q]`): a = gram + Σ e·y·yᵀ (entries with e = 0 left out), x = Σ (1 + e)·y, both in
 * entry order; then a is factorised and x solved in place. Returns 0, with x zero, when the
 * system is not positive definite.
 */
export function solveHistory(
  factors: usize,
  k: i32,
  gram: usize,
  a: usize,
  x: usize,
  indices: usize,
  extra: usize,
  count: i32,
  batch: usize,
): i32 {
  const kp = evenStride(k);
  const rowBytes = <usize>kp << 3;
  memory.copy(a, gram, <usize>k * rowBytes);
  for (let i = 0; i < kp; i += 2) v128.store(f64At(x, i), f64x2.splat(0));
  const factorBytes = <usize>kp << 2;
  for (let q = 0; q < count; q++) {
    const y = factors + <usize>load<i32>(f32At(indices, q)) * factorBytes;
    addScaledRow(x, y, 1 + <f64>load<f32>(f32At(extra, q)), kp);
  }
  const es = batch + (<usize>kp << 3) * BATCH;
  let pending = 0;
  for (let q = 0; q < count; q++) {
    const e = <f64>load<f32>(f32At(extra, q));
    if (e == 0) continue;
    const y = factors + <usize>load<i32>(f32At(indices, q)) * factorBytes;
    promoteToSlot(y, batch, pending, kp);
    store<f64>(f64At(es, pending), e);
    if (++pending == BATCH) {
      rank8(a, k, kp, batch, es);
      pending = 0;
    }
  }
  let b = 0;
  if (pending >= 4) {
    rank4(a, k, kp, batch, es);
    b = 4;
  }
  for (; b < pending; b++) rank1(a, k, kp, batch, es, b);
  if (!cholesky(a, k, kp)) {
    for (let i = 0; i < kp; i += 2) v128.store(f64At(x, i), f64x2.splat(0));
    return 0;
  }
  solveFactored(a, k, kp, x);
  return 1;
}

/** b ← W·b (W the inverse of the system factorised in `a` by solveHistory). */
export function solveWithFactor(a: usize, k: i32, b: usize): void {
  solveFactored(a, k, evenStride(k), b);
}

/**
 * out[q] = y_{indices[q]}·z for q < count, each a sum over the k factors in order; two
 * vectors of two history items side by side.
 */
export function historyDots(factors: usize, k: i32, indices: usize, count: i32, z: usize, out: usize): void {
  const factorBytes = <usize>evenStride(k) << 2;
  let q = 0;
  for (; q + 4 <= count; q += 4) {
    const r0 = factors + <usize>load<i32>(f32At(indices, q)) * factorBytes;
    const r1 = factors + <usize>load<i32>(f32At(indices, q + 1)) * factorBytes;
    const r2 = factors + <usize>load<i32>(f32At(indices, q + 2)) * factorBytes;
    const r3 = factors + <usize>load<i32>(f32At(indices, q + 3)) * factorBytes;
    let s01 = f64x2.splat(0);
    let s23 = f64x2.splat(0);
    for (let f = 0; f < k; f++) {
      const o = <usize>f << 2;
      const zv = v128.load64_splat(f64At(z, f));
      const v01 = f64x2.promote_low_f32x4(v128.load32_lane(r1 + o, v128.load32_zero(r0 + o), 1));
      const v23 = f64x2.promote_low_f32x4(v128.load32_lane(r3 + o, v128.load32_zero(r2 + o), 1));
      s01 = f64x2.add(s01, f64x2.mul(v01, zv));
      s23 = f64x2.add(s23, f64x2.mul(v23, zv));
    }
    v128.store(f64At(out, q), s01);
    v128.store(f64At(out, q + 2), s23);
  }
  for (; q < count; q++) {
    const r = factors + <usize>load<i32>(f32At(indices, q)) * factorBytes;
    let s: f64 = 0;
    for (let f = 0; f < k; f++) s += <f64>load<f32>(f32At(r, f)) * load<f64>(f64At(z, f));
    store<f64>(f64At(out, q), s);
  }
}

/**
 * The explanation weights of item `item` against the history of the last solveHistory:
 * z = W·y_item, then out[q] = y_{indices[q]}·z.
 */
export function itemDots(
  factors: usize,
  k: i32,
  a: usize,
  z: usize,
  item: i32,
  indices: usize,
  count: i32,
  out: usize,
): void {
  const kp = evenStride(k);
  promoteRow(factors + <usize>item * (<usize>kp << 2), z, kp);
  solveFactored(a, k, kp, z);
  historyDots(factors, k, indices, count, z, out);
}
