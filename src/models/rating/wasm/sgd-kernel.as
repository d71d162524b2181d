// AssemblyScript source of the SIMD epochs of the SGD rating models (mf-sgd, svdpp).
// Compiled to sgd-kernel-binary.ts by build-kernel.ts (see there); not part of the TypeScript build.
//
// All arrays live in the module's memory at byte offsets chosen by the caller. Factor rows are
// `kp` floats wide (a multiple of 8, padding lanes zero, so they stay zero), 16-byte aligned.
// Biases are f64; factors, ratings and scratch vectors f32; index arrays i32.

@inline
function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

// mulberry32 step: the next state is written back to `state` (a u32 cell); returns [0, 1).
@inline
function nextUniform(state: usize): f64 {
  let a = load<u32>(state) + 0x6d2b79f5;
  store<u32>(state, a);
  let t = a;
  t = (t ^ (t >> 15)) * (t | 1);
  t ^= t + (t ^ (t >> 7)) * (t | 61);
  return <f64>(t ^ (t >> 14)) / 4294967296.0;
}

// Fisher-Yates shuffle of the i32 array out[from .. to), drawing from the mulberry32 state cell.
export function shuffle(out: usize, from: i32, to: i32, state: usize): void {
  for (let i = to - 1; i > from; i--) {
    const j = from + <i32>(nextUniform(state) * <f64>(i - from + 1));
    const pi = out + ((<usize>i) << 2);
    const pj = out + ((<usize>j) << 2);
    const x = load<i32>(pi);
    store<i32>(pi, load<i32>(pj));
    store<i32>(pj, x);
  }
}

// Fisher-Yates shuffle of the 16-byte records rec[from .. to) (see mfEpoch), same draws as `shuffle`.
export function shuffleRecords(rec: usize, from: i32, to: i32, state: usize): void {
  for (let i = to - 1; i > from; i--) {
    const j = from + <i32>(nextUniform(state) * <f64>(i - from + 1));
    const pi = rec + ((<usize>i) << 4);
    const pj = rec + ((<usize>j) << 4);
    const x = v128.load(pi);
    v128.store(pi, v128.load(pj));
    v128.store(pj, x);
  }
}

// Shuffles the users, then each user's own records (rec[userPtr[u] .. userPtr[u+1])).
export function shuffleUserMajor(userOrder: usize, nUsers: i32, userPtr: usize, rec: usize, state: usize): void {
  shuffle(userOrder, 0, nUsers, state);
  for (let s = 0; s < nUsers; s++) {
    const u = <usize>load<i32>(userOrder + ((<usize>s) << 2));
    shuffleRecords(rec, load<i32>(userPtr + (u << 2)), load<i32>(userPtr + ((u + 1) << 2)), state);
  }
}

// One epoch of biased MF over `n` 16-byte rating records (user i32, item i32, rating f32, unused),
// in their current order; returns the sum of squared errors seen.
export function mfEpoch(
  n: i32,
  rec: usize,
  p: usize,
  q: usize,
  bu: usize,
  bi: usize,
  kp: i32,
  mean: f64,
  lr: f64,
  lrb: f64,
  rbu: f64,
  rbi: f64,
  rpu: f64,
  rqi: f64,
): f64 {
  const row = (<usize>kp) << 2;
  const sp = f32x4.splat(<f32>(1 - lr * rpu));
  const sq = f32x4.splat(<f32>(1 - lr * rqi));
  let sse: f64 = 0;
  const end = rec + ((<usize>n) << 4);
  for (let at = rec; at < end; at += 16) {
    const u = <usize>load<i32>(at);
    const i = <usize>load<i32>(at, 4);
    const r = <f64>load<f32>(at, 8);
    const pu = p + u * row;
    const qi = q + i * row;
    let acc = f32x4.splat(0);
    let acc2 = f32x4.splat(0);
    for (let o: usize = 0; o < row; o += 32) {
      acc = f32x4.add(acc, f32x4.mul(v128.load(pu + o), v128.load(qi + o)));
      acc2 = f32x4.add(acc2, f32x4.mul(v128.load(pu + o + 16), v128.load(qi + o + 16)));
    }
    acc = f32x4.add(acc, acc2);
    const bup = bu + (u << 3);
    const bip = bi + (i << 3);
    const b1 = load<f64>(bup);
    const b2 = load<f64>(bip);
    const e = r - mean - b1 - b2 - <f64>hsum(acc);
    sse += e * e;
    store<f64>(bup, b1 + lrb * (e - rbu * b1));
    store<f64>(bip, b2 + lrb * (e - rbi * b2));
    const le = f32x4.splat(<f32>(lr * e));
    for (let o: usize = 0; o < row; o += 16) {
      const pv = v128.load(pu + o);
      const qv = v128.load(qi + o);
      v128.store(pu + o, f32x4.add(f32x4.mul(pv, sp), f32x4.mul(le, qv)));
      v128.store(qi + o, f32x4.add(f32x4.mul(qv, sq), f32x4.mul(le, pv)));
    }
  }
  return sse;
}

// One SVD++ epoch, user by user in `userOrder`; user u's ratings are the 16-byte records
// rec[userPtr[u] .. userPtr[u+1]) (see mfEpoch), in their current order. `z` and `c` are
// kp-float scratch vectors. Returns the sum of squared errors seen.
export function svdppEpoch(
  nUsers: i32,
  userOrder: usize,
  userPtr: usize,
  rec: usize,
  p: usize,
  q: usize,
  y: usize,
  z: usize,
  c: usize,
  bu: usize,
  bi: usize,
  kp: i32,
  mean: f64,
  lr: f64,
  lrb: f64,
  lry: f64,
  rbu: f64,
  rbi: f64,
  rpu: f64,
  rqi: f64,
  ry: f64,
): f64 {
  const row = (<usize>kp) << 2;
  const sp = f32x4.splat(<f32>(1 - lr * rpu));
  const sq = f32x4.splat(<f32>(1 - lr * rqi));
  const shrinkY = <f32>(1 - lry * ry);
  const sy = f32x4.splat(shrinkY);
  const zero = f32x4.splat(0);
  let sse: f64 = 0;
  for (let s = 0; s < nUsers; s++) {
    const u = <usize>load<i32>(userOrder + ((<usize>s) << 2));
    const first = rec + ((<usize>load<i32>(userPtr + (u << 2))) << 4);
    const last = rec + ((<usize>load<i32>(userPtr + ((u + 1) << 2))) << 4);
    if (first == last) continue;
    const norm = <f32>(1 / Math.sqrt(<f64>((last - first) >> 4)));
    for (let o: usize = 0; o < row; o += 16) {
      v128.store(z + o, zero);
      v128.store(c + o, zero);
    }
    for (let at = first; at < last; at += 16) {
      const yj = y + (<usize>load<i32>(at, 4)) * row;
      for (let o: usize = 0; o < row; o += 16) v128.store(z + o, f32x4.add(v128.load(z + o), v128.load(yj + o)));
    }
    const vn = f32x4.splat(norm);
    for (let o: usize = 0; o < row; o += 16) v128.store(z + o, f32x4.mul(v128.load(z + o), vn));
    const pu = p + u * row;
    const bup = bu + (u << 3);
    let a: f32 = 1;
    for (let at = first; at < last; at += 16) {
      const i = <usize>load<i32>(at, 4);
      const r = <f64>load<f32>(at, 8);
      const qi = q + i * row;
      let acc = f32x4.splat(0);
      let acc2 = f32x4.splat(0);
      for (let o: usize = 0; o < row; o += 32) {
        acc = f32x4.add(acc, f32x4.mul(v128.load(qi + o), f32x4.add(v128.load(pu + o), v128.load(z + o))));
        acc2 = f32x4.add(
          acc2,
          f32x4.mul(v128.load(qi + o + 16), f32x4.add(v128.load(pu + o + 16), v128.load(z + o + 16))),
        );
      }
      acc = f32x4.add(acc, acc2);
      const bip = bi + (i << 3);
      const b1 = load<f64>(bup);
      const b2 = load<f64>(bip);
      const e = r - mean - b1 - b2 - <f64>hsum(acc);
      sse += e * e;
      store<f64>(bup, b1 + lrb * (e - rbu * b1));
      store<f64>(bip, b2 + lrb * (e - rbi * b2));
      const le = f32x4.splat(<f32>(lr * e));
      const ley = f32x4.splat(<f32>(lry * e));
      const leyn = f32x4.splat(<f32>(lry * e) * norm);
      for (let o: usize = 0; o < row; o += 16) {
        const pv = v128.load(pu + o);
        const qv = v128.load(qi + o);
        const zv = v128.load(z + o);
        v128.store(pu + o, f32x4.add(f32x4.mul(pv, sp), f32x4.mul(le, qv)));
        v128.store(qi + o, f32x4.add(f32x4.mul(qv, sq), f32x4.mul(le, f32x4.add(pv, zv))));
        v128.store(z + o, f32x4.add(f32x4.mul(zv, sy), f32x4.mul(ley, qv)));
        v128.store(c + o, f32x4.add(f32x4.mul(v128.load(c + o), sy), f32x4.mul(leyn, qv)));
      }
      a *= shrinkY;
    }
    const va = f32x4.splat(a);
    for (let at = first; at < last; at += 16) {
      const yj = y + (<usize>load<i32>(at, 4)) * row;
      for (let o: usize = 0; o < row; o += 16) {
        v128.store(yj + o, f32x4.add(f32x4.mul(v128.load(yj + o), va), v128.load(c + o)));
      }
    }
  }
  return sse;
}
