// AssemblyScript source of the SIMD training loops of the ranking-loss factor models (BPR and
// WARP with AdaGrad). Compiled into ranking-kernel.wasm.ts by build-kernel.ts (see there); not
// part of the TypeScript build. The loops follow src/kernels/bpr-sgd.ts and
// src/kernels/warp-sgd.ts step for step (same generator, same draws), but compute in float32
// four lanes at a time, so their results differ from those kernels in rounding.
//
// Everything lives in an imported shared memory laid out by the host, at byte offsets passed
// in; the module allocates nothing, so several threads can run it on the same memory (Hogwild).
// Factor rows are `kp` floats wide (a multiple of 4; the padding lanes are zero and stay zero),
// 16-byte aligned. Index arrays are i32, weights and biases f32.

@inline
function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// One xorshift32 step.
@inline
function next(s: u32): u32 {
  s ^= s << 13;
  s ^= s >> 17;
  s ^= s << 5;
  return s;
}

// floor(s * n / 2^32): maps a 32-bit state to [0, n).
@inline
function below(s: u32, n: u32): u32 {
  return <u32>((<u64>s * <u64>n) >> 32);
}

// Whether `item` occurs in the ascending i32 run [start, end) at `indices`.
@inline
function contains(indices: usize, start: i32, end: i32, item: i32): bool {
  let lo = start;
  let hi = end - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = load<i32>(indices + ((<usize>mid) << 2));
    if (v < item) lo = mid + 1;
    else if (v > item) hi = mid - 1;
    else return true;
  }
  return false;
}

// Σ a[f] · b[f] over a row of `row` bytes.
@inline
function dot(a: usize, b: usize, row: usize): f32 {
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let o: usize = 0;
  for (; o + 32 <= row; o += 32) {
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    acc1 = f32x4.add(acc1, f32x4.mul(v128.load(a + o + 16), v128.load(b + o + 16)));
  }
  if (o < row) acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  return hsum(f32x4.add(acc0, acc1));
}

// `steps` BPR steps (see src/kernels/bpr-sgd.ts) with the learning rate lr0 - slope * t at step
// t; users are drawn from the `nUsers` i32 entries at `sampleUsers`. Returns the generator state.
export function bprSteps(
  steps: i32,
  lr0: f64,
  slope: f64,
  sampleUsers: usize,
  nUsers: i32,
  indptr: usize,
  indices: usize,
  weights: usize,
  nnz: i32,
  items: i32,
  p: usize,
  q: usize,
  b: usize,
  kp: i32,
  reg: f64,
  breg: f64,
  useBias: i32,
  popular: i32,
  state: u32,
): u32 {
  const row = (<usize>kp) << 2;
  let s = state;
  for (let t = 0; t < steps; t++) {
    const lr = lr0 - slope * <f64>t;
    s = next(s);
    const u = load<i32>(sampleUsers + ((<usize>below(s, <u32>nUsers)) << 2));
    const start = load<i32>(indptr + ((<usize>u) << 2));
    const end = load<i32>(indptr + ((<usize>(u + 1)) << 2));
    s = next(s);
    const ip = start + <i32>below(s, <u32>(end - start));
    const i = load<i32>(indices + ((<usize>ip) << 2));
    let j = 0;
    for (let tries = 0; ; tries++) {
      s = next(s);
      j =
        popular != 0 && tries < 32
          ? load<i32>(indices + ((<usize>below(s, <u32>nnz)) << 2))
          : <i32>below(s, <u32>items);
      if (!contains(indices, start, end, j)) break;
    }
    const pu = p + (<usize>u) * row;
    const qi = q + (<usize>i) * row;
    const qj = q + (<usize>j) * row;
    const bi = b + ((<usize>i) << 2);
    const bj = b + ((<usize>j) << 2);
    let acc0 = f32x4.splat(0);
    let acc1 = f32x4.splat(0);
    let o: usize = 0;
    for (; o + 32 <= row; o += 32) {
      acc0 = f32x4.add(acc0, f32x4.mul(v128.load(pu + o), f32x4.sub(v128.load(qi + o), v128.load(qj + o))));
      acc1 = f32x4.add(
        acc1,
        f32x4.mul(v128.load(pu + o + 16), f32x4.sub(v128.load(qi + o + 16), v128.load(qj + o + 16))),
      );
    }
    if (o < row) acc0 = f32x4.add(acc0, f32x4.mul(v128.load(pu + o), f32x4.sub(v128.load(qi + o), v128.load(qj + o))));
    let x = <f64>hsum(f32x4.add(acc0, acc1));
    if (useBias != 0) x += <f64>load<f32>(bi) - <f64>load<f32>(bj);
    const g = <f64>load<f32>(weights + ((<usize>ip) << 2)) / (1 + Math.exp(x));
    const step = f32x4.splat(<f32>(lr * g));
    const keep = f32x4.splat(<f32>(1 - lr * reg));
    for (let o: usize = 0; o < row; o += 16) {
      const pv = v128.load(pu + o);
      const iv = v128.load(qi + o);
      const jv = v128.load(qj + o);
      const sp = f32x4.mul(step, pv);
      v128.store(pu + o, f32x4.add(f32x4.mul(keep, pv), f32x4.mul(step, f32x4.sub(iv, jv))));
      v128.store(qi + o, f32x4.add(f32x4.mul(keep, iv), sp));
      v128.store(qj + o, f32x4.sub(f32x4.mul(keep, jv), sp));
    }
    if (useBias != 0) {
      const b1 = <f64>load<f32>(bi);
      store<f32>(bi, <f32>(b1 + lr * (g - breg * b1)));
      const b2 = <f64>load<f32>(bj);
      store<f32>(bj, <f32>(b2 - lr * (g + breg * b2)));
    }
  }
  return s;
}

// One WARP epoch with AdaGrad (see src/kernels/warp-sgd.ts) over the `count` positives whose
// local positions (0..count-1, position base + local in `indices`) are listed at `order`; the
// list is shuffled first. `owner` gives the user of each local position, `rankWeight` the f32
// rank weight for 0..maxSampled draws. Returns the generator state.
export function warpEpoch(
  order: usize,
  owner: usize,
  count: i32,
  base: i32,
  indptr: usize,
  indices: usize,
  weights: usize,
  items: i32,
  p: usize,
  q: usize,
  b: usize,
  gp: usize,
  gq: usize,
  gb: usize,
  kp: i32,
  lr: f64,
  reg: f64,
  breg: f64,
  maxSampled: i32,
  maxLoss: f64,
  rankWeight: usize,
  useBias: i32,
  state: u32,
): u32 {
  const row = (<usize>kp) << 2;
  let s = state;
  for (let n = count - 1; n > 0; n--) {
    s = next(s);
    const m = <i32>below(s, <u32>(n + 1));
    const pn = order + ((<usize>n) << 2);
    const pm = order + ((<usize>m) << 2);
    const tmp = load<i32>(pn);
    store<i32>(pn, load<i32>(pm));
    store<i32>(pm, tmp);
  }
  const vreg = f32x4.splat(<f32>reg);
  const vlr = f32x4.splat(<f32>lr);
  for (let n = 0; n < count; n++) {
    const local = load<i32>(order + ((<usize>n) << 2));
    const u = load<i32>(owner + ((<usize>local) << 2));
    const pos = base + local;
    const i = load<i32>(indices + ((<usize>pos) << 2));
    const w = <f64>load<f32>(weights + ((<usize>pos) << 2));
    const start = load<i32>(indptr + ((<usize>u) << 2));
    const end = load<i32>(indptr + ((<usize>(u + 1)) << 2));
    const pu = p + (<usize>u) * row;
    const qi = q + (<usize>i) * row;
    let threshold = dot(pu, qi, row) - 1;
    if (useBias != 0) threshold += load<f32>(b + ((<usize>i) << 2));
    let j = -1;
    let sampled = 0;
    while (sampled < maxSampled) {
      sampled++;
      s = next(s);
      const c = <i32>below(s, <u32>items);
      let neg = dot(pu, q + (<usize>c) * row, row);
      if (useBias != 0) neg += load<f32>(b + ((<usize>c) << 2));
      if (neg > threshold && !contains(indices, start, end, c)) {
        j = c;
        break;
      }
    }
    if (j < 0) continue;
    let loss = w * <f64>load<f32>(rankWeight + ((<usize>sampled) << 2));
    if (loss > maxLoss) loss = maxLoss;
    if (!(loss > 0)) continue;
    const qj = q + (<usize>j) * row;
    const gpu = gp + (<usize>u) * row;
    const gqi = gq + (<usize>i) * row;
    const gqj = gq + (<usize>j) * row;
    const vl = f32x4.splat(<f32>loss);
    for (let o: usize = 0; o < row; o += 16) {
      const pv = v128.load(pu + o);
      const iv = v128.load(qi + o);
      const jv = v128.load(qj + o);
      const lp = f32x4.mul(vl, pv);
      const gu = f32x4.add(f32x4.mul(vl, f32x4.sub(jv, iv)), f32x4.mul(vreg, pv));
      const gi = f32x4.sub(f32x4.mul(vreg, iv), lp);
      const gj = f32x4.add(f32x4.mul(vreg, jv), lp);
      const au = f32x4.add(v128.load(gpu + o), f32x4.mul(gu, gu));
      v128.store(gpu + o, au);
      v128.store(pu + o, f32x4.sub(pv, f32x4.div(f32x4.mul(vlr, gu), f32x4.sqrt(au))));
      const ai = f32x4.add(v128.load(gqi + o), f32x4.mul(gi, gi));
      v128.store(gqi + o, ai);
      v128.store(qi + o, f32x4.sub(iv, f32x4.div(f32x4.mul(vlr, gi), f32x4.sqrt(ai))));
      const aj = f32x4.add(v128.load(gqj + o), f32x4.mul(gj, gj));
      v128.store(gqj + o, aj);
      v128.store(qj + o, f32x4.sub(jv, f32x4.div(f32x4.mul(vlr, gj), f32x4.sqrt(aj))));
    }
    if (useBias != 0) {
      const bi = b + ((<usize>i) << 2);
      const gbi = gb + ((<usize>i) << 2);
      const b1 = <f64>load<f32>(bi);
      const g1 = breg * b1 - loss;
      const a1 = <f64>load<f32>(gbi) + g1 * g1;
      store<f32>(gbi, <f32>a1);
      store<f32>(bi, <f32>(b1 - (lr * g1) / Math.sqrt(a1)));
      const bj = b + ((<usize>j) << 2);
      const gbj = gb + ((<usize>j) << 2);
      const b2 = <f64>load<f32>(bj);
      const g2 = breg * b2 + loss;
      const a2 = <f64>load<f32>(gbj) + g2 * g2;
      store<f32>(gbj, <f32>a2);
      store<f32>(bj, <f32>(b2 - (lr * g2) / Math.sqrt(a2)));
    }
  }
  return s;
}
