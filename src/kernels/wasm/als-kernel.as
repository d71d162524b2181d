// AssemblyScript source of the ALS SIMD kernel (compiled by scripts/build-wasm.mjs into
// src/kernels/wasm/als-kernel.wasm.ts). It works on raw addresses in an imported shared
// memory laid out by the host (src/models/als/workspace.ts) and allocates nothing, so several
// threads can run it on the same memory. Same semantics as cgRows / addGramLower in
// src/kernels/als-kernels.ts, with float32 vectors (f32x4) instead of float64 scalars.
//
// Factor rows have `stride` floats (a multiple of 4, zero padding past k); `gram` is a
// stride×stride float32 matrix with zero padding.

@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** a·b over `n` floats (n a multiple of 4). */
@inline function dot(a: usize, b: usize, n: i32): f32 {
  let s0 = f32x4.splat(0);
  let s1 = f32x4.splat(0);
  let s2 = f32x4.splat(0);
  let s3 = f32x4.splat(0);
  const bytes = <usize>n << 2;
  let o: usize = 0;
  for (; o + 64 <= bytes; o += 64) {
    s0 = f32x4.add(s0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    s1 = f32x4.add(s1, f32x4.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
    s2 = f32x4.add(s2, f32x4.mul(v128.load(a + o, 32), v128.load(b + o, 32)));
    s3 = f32x4.add(s3, f32x4.mul(v128.load(a + o, 48), v128.load(b + o, 48)));
  }
  for (; o < bytes; o += 16) s0 = f32x4.add(s0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  return hsum(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)));
}

/** y += t·a over `n` floats. */
@inline function axpy(t: f32, a: usize, y: usize, n: i32): void {
  const tv = f32x4.splat(t);
  const bytes = <usize>n << 2;
  let o: usize = 0;
  for (; o + 64 <= bytes; o += 64) {
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(tv, v128.load(a + o))));
    v128.store(y + o, f32x4.add(v128.load(y + o, 16), f32x4.mul(tv, v128.load(a + o, 16))), 16);
    v128.store(y + o, f32x4.add(v128.load(y + o, 32), f32x4.mul(tv, v128.load(a + o, 32))), 32);
    v128.store(y + o, f32x4.add(v128.load(y + o, 48), f32x4.mul(tv, v128.load(a + o, 48))), 48);
  }
  for (; o < bytes; o += 16) v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(tv, v128.load(a + o))));
}

/** y = sign·G·x for the stride×stride matrix G (symmetric, so rows serve as columns). */
@inline function gramTimes(g: usize, x: usize, y: usize, k: i32, stride: i32, sign: f32): void {
  const rowBytes = <usize>stride << 2;
  let a = 0;
  for (; a + 4 <= k; a += 4) {
    const r0 = g + <usize>a * rowBytes;
    const r1 = r0 + rowBytes;
    const r2 = r1 + rowBytes;
    const r3 = r2 + rowBytes;
    let s0 = f32x4.splat(0);
    let s1 = f32x4.splat(0);
    let s2 = f32x4.splat(0);
    let s3 = f32x4.splat(0);
    for (let o: usize = 0; o < rowBytes; o += 16) {
      const xv = v128.load(x + o);
      s0 = f32x4.add(s0, f32x4.mul(v128.load(r0 + o), xv));
      s1 = f32x4.add(s1, f32x4.mul(v128.load(r1 + o), xv));
      s2 = f32x4.add(s2, f32x4.mul(v128.load(r2 + o), xv));
      s3 = f32x4.add(s3, f32x4.mul(v128.load(r3 + o), xv));
    }
    const base = y + (<usize>a << 2);
    store<f32>(base, sign * hsum(s0));
    store<f32>(base, sign * hsum(s1), 4);
    store<f32>(base, sign * hsum(s2), 8);
    store<f32>(base, sign * hsum(s3), 12);
  }
  for (; a < k; a++) store<f32>(y + (<usize>a << 2), sign * dot(g + <usize>a * rowBytes, x, stride));
  for (; a < stride; a++) store<f32>(y + (<usize>a << 2), 0);
}

/**
 * Conjugate-gradient update of rows [from, to) (see cgRows in als-kernels.ts). `scratch`
 * holds four stride-long float32 vectors. `extra` 0 means every entry has `uniform`.
 */
export function cgRows(
  indptr: usize,
  indices: usize,
  extra: usize,
  uniform: f32,
  fixed: usize,
  gram: usize,
  solved: usize,
  k: i32,
  stride: i32,
  from: i32,
  to: i32,
  steps: i32,
  scratch: usize,
): void {
  const rowBytes = <usize>stride << 2;
  const x = scratch;
  const r = x + rowBytes;
  const p = r + rowBytes;
  const ap = p + rowBytes;
  for (let u = from; u < to; u++) {
    const xu = solved + <usize>u * rowBytes;
    for (let o: usize = 0; o < rowBytes; o += 16) v128.store(x + o, v128.load(xu + o));
    gramTimes(gram, x, r, k, stride, -1);
    const start = load<i32>(indptr + (<usize>u << 2));
    const end = load<i32>(indptr + (<usize>u << 2), 4);
    for (let q = start; q < end; q++) {
      const fo = fixed + <usize>load<i32>(indices + (<usize>q << 2)) * rowBytes;
      const e = extra ? load<f32>(extra + (<usize>q << 2)) : uniform;
      const d = dot(fo, x, stride);
      axpy(1 + e - e * d, fo, r, stride);
    }
    let rs: f64 = 0;
    {
      let acc = f32x4.splat(0);
      for (let o: usize = 0; o < rowBytes; o += 16) {
        const rv = v128.load(r + o);
        v128.store(p + o, rv);
        acc = f32x4.add(acc, f32x4.mul(rv, rv));
      }
      rs = <f64>hsum(acc);
    }
    if (rs < 1e-20) continue;
    for (let it = 0; it < steps; it++) {
      gramTimes(gram, p, ap, k, stride, 1);
      for (let q = start; q < end; q++) {
        const e = extra ? load<f32>(extra + (<usize>q << 2)) : uniform;
        if (e == 0) continue;
        const fo = fixed + <usize>load<i32>(indices + (<usize>q << 2)) * rowBytes;
        axpy(e * dot(fo, p, stride), fo, ap, stride);
      }
      const pap = <f64>dot(p, ap, stride);
      if (!(pap > 0)) break;
      const alpha = f32x4.splat(<f32>(rs / pap));
      let acc = f32x4.splat(0);
      for (let o: usize = 0; o < rowBytes; o += 16) {
        v128.store(x + o, f32x4.add(v128.load(x + o), f32x4.mul(alpha, v128.load(p + o))));
        const rv = f32x4.sub(v128.load(r + o), f32x4.mul(alpha, v128.load(ap + o)));
        v128.store(r + o, rv);
        acc = f32x4.add(acc, f32x4.mul(rv, rv));
      }
      const rsNew = <f64>hsum(acc);
      if (rsNew < 1e-20) break;
      const beta = f32x4.splat(<f32>(rsNew / rs));
      for (let o: usize = 0; o < rowBytes; o += 16) {
        v128.store(p + o, f32x4.add(v128.load(r + o), f32x4.mul(beta, v128.load(p + o))));
      }
      rs = rsNew;
    }
    for (let o: usize = 0; o < rowBytes; o += 16) v128.store(xu + o, v128.load(x + o));
  }
}

/**
 * Writes FᵀF over rows [from, to) of `factors` into the lower triangle of the k×k float64
 * matrix at `out` (upper triangle untouched). Accumulates in float32 in `scratch`
 * (8·stride + stride·stride floats; the matrix part is used).
 */
export function gramLower(
  factors: usize,
  stride: i32,
  k: i32,
  from: i32,
  to: i32,
  out: usize,
  scratch: usize,
): void {
  const rowBytes = <usize>stride << 2;
  const acc = scratch + 8 * rowBytes;
  const accBytes = <usize>stride * rowBytes;
  for (let o: usize = 0; o < accBytes; o += 16) v128.store(acc + o, f32x4.splat(0));
  let r = from;
  for (; r + 4 <= to; r += 4) {
    const y0 = factors + <usize>r * rowBytes;
    const y1 = y0 + rowBytes;
    const y2 = y1 + rowBytes;
    const y3 = y2 + rowBytes;
    for (let a = 0; a < k; a++) {
      const ao = <usize>a << 2;
      const c0 = v128.load32_splat(y0 + ao);
      const c1 = v128.load32_splat(y1 + ao);
      const c2 = v128.load32_splat(y2 + ao);
      const c3 = v128.load32_splat(y3 + ao);
      const row = acc + <usize>a * rowBytes;
      const lim = (<usize>(a + 4) >> 2) << 4; // bytes covering columns 0..a
      for (let o: usize = 0; o < lim; o += 16) {
        let s = v128.load(row + o);
        s = f32x4.add(s, f32x4.mul(c0, v128.load(y0 + o)));
        s = f32x4.add(s, f32x4.mul(c1, v128.load(y1 + o)));
        s = f32x4.add(s, f32x4.mul(c2, v128.load(y2 + o)));
        s = f32x4.add(s, f32x4.mul(c3, v128.load(y3 + o)));
        v128.store(row + o, s);
      }
    }
  }
  for (; r < to; r++) {
    const y0 = factors + <usize>r * rowBytes;
    for (let a = 0; a < k; a++) {
      const c0 = v128.load32_splat(y0 + (<usize>a << 2));
      const row = acc + <usize>a * rowBytes;
      const lim = (<usize>(a + 4) >> 2) << 4;
      for (let o: usize = 0; o < lim; o += 16) {
        v128.store(row + o, f32x4.add(v128.load(row + o), f32x4.mul(c0, v128.load(y0 + o))));
      }
    }
  }
  for (let a = 0; a < k; a++) {
    const row = acc + <usize>a * rowBytes;
    const dst = out + (<usize>(a * k) << 3);
    for (let b = 0; b <= a; b++) store<f64>(dst + (<usize>b << 3), <f64>load<f32>(row + (<usize>b << 2)));
  }
}

/**
 * scores[i] = x·F[i] for rows [from, to) of `factors` (row stride `stride`), `x` a stride-long
 * vector: the scoring pass of a factor model.
 */
export function scoreRows(factors: usize, stride: i32, x: usize, from: i32, to: i32, scores: usize): void {
  const rowBytes = <usize>stride << 2;
  for (let i = from; i < to; i++) {
    store<f32>(scores + (<usize>i << 2), dot(factors + <usize>i * rowBytes, x, stride));
  }
}
