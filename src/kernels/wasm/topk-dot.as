// AssemblyScript source of the dot-product top-K kernel (compiled by scripts/build-wasm.mjs
// into src/kernels/wasm/topk-dot.wasm.ts; loaded by src/kernels/wasm/topk-dot.ts). It works
// on raw addresses in an imported shared memory laid out by the host and allocates nothing,
// so several threads can run it on the same memory.
//
// Item factors are stored in blocks of 8 items: block b holds, for every factor f, the 8
// floats Q[8b .. 8b+7][f] (32 bytes), so one f32x4 load covers 4 items and no horizontal sum
// is needed. Items past the real count are zero padding and never selected. score(i) =
// bias[i] + Σ_f x[f] · Q[i][f], accumulated in float32 in factor order.
//
// Heaps follow src/kernels/topk.ts exactly: a bounded min-heap per user whose root is the
// worst pair kept; higher score first, equal scores by lower index; -Infinity and NaN never
// enter. Seen items (a sorted list per user) are skipped.

/** (s, i) ranks below (t, j). */
@inline function worse(s: f32, i: i32, t: f32, j: i32): bool {
  return s < t || (s == t && i > j);
}

/** Places (index, s) at the root of the heap (n entries) and restores the order. */
function siftDown(hi: usize, hs: usize, n: i32, index: i32, s: f32): void {
  let pos = 0;
  while (true) {
    let child = 2 * pos + 1;
    if (child >= n) break;
    const right = child + 1;
    if (right < n) {
      const cs = load<f32>(hs + (<usize>child << 2));
      const rs = load<f32>(hs + (<usize>right << 2));
      if (worse(rs, load<i32>(hi + (<usize>right << 2)), cs, load<i32>(hi + (<usize>child << 2)))) child = right;
    }
    const cs = load<f32>(hs + (<usize>child << 2));
    const ci = load<i32>(hi + (<usize>child << 2));
    if (worse(s, index, cs, ci)) break;
    store<i32>(hi + (<usize>pos << 2), ci);
    store<f32>(hs + (<usize>pos << 2), cs);
    pos = child;
  }
  store<i32>(hi + (<usize>pos << 2), index);
  store<f32>(hs + (<usize>pos << 2), s);
}

/** Offers (index, s) to the heap of capacity k whose size is stored at sizePtr. */
function push(hi: usize, hs: usize, sizePtr: usize, k: i32, index: i32, s: f32): void {
  if (!(s > -Infinity)) return;
  const n = load<i32>(sizePtr);
  if (n < k) {
    let pos = n;
    store<i32>(sizePtr, n + 1);
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      const ps = load<f32>(hs + (<usize>parent << 2));
      const pi = load<i32>(hi + (<usize>parent << 2));
      if (worse(ps, pi, s, index)) break;
      store<i32>(hi + (<usize>pos << 2), pi);
      store<f32>(hs + (<usize>pos << 2), ps);
      pos = parent;
    }
    store<i32>(hi + (<usize>pos << 2), index);
    store<f32>(hs + (<usize>pos << 2), s);
    return;
  }
  if (k == 0) return;
  if (worse(s, index, load<f32>(hs), load<i32>(hi))) return;
  siftDown(hi, hs, n, index, s);
}

/** The score a candidate must reach to be looked at: the root when the heap is full. */
@inline function floor(hs: usize, sizePtr: usize, k: i32): f32 {
  return load<i32>(sizePtr) < k || k == 0 ? -Infinity : load<f32>(hs);
}

/**
 * Offers the 8 scores stored at `lanes` (items first .. first+7) to one user's heap, skipping
 * padding and seen items. `cursorPtr` holds the user's position in its sorted seen list,
 * which only moves forward as items ascend.
 */
function offerBlock(
  lanes: usize,
  first: i32,
  items: i32,
  hi: usize,
  hs: usize,
  sizePtr: usize,
  k: i32,
  seen: usize,
  cursorPtr: usize,
  seenEnd: i32,
): void {
  let cursor = load<i32>(cursorPtr);
  for (let l = 0; l < 8; l++) {
    const i = first + l;
    if (i >= items) break;
    const s = load<f32>(lanes + (<usize>l << 2));
    if (s < floor(hs, sizePtr, k)) continue;
    while (cursor < seenEnd && load<i32>(seen + (<usize>cursor << 2)) < i) cursor++;
    if (cursor < seenEnd && load<i32>(seen + (<usize>cursor << 2)) == i) continue;
    push(hi, hs, sizePtr, k, i, s);
  }
  store<i32>(cursorPtr, cursor);
}

/**
 * Top-k for a group of `count` users over all items. User r's vector (`factors` floats) is at
 * users + 4·factors·r; the vectors of the last tile are padded with zeros up to a multiple of
 * four. Per user r: heap indices at heapIdx + 4·k·r, scores at heapScore + 4·k·r, size at
 * sizes + 4r, seen-list cursor at cursors + 4r (all reset here); seen items
 * seen[seenStart[r] .. seenStart[r + 1]). Items are visited in chunks of `chunkBlocks` blocks
 * of 8, each chunk scored for every user of the group before the next one is read, so a chunk
 * stays in cache across the group. `scratch` holds 32 bytes.
 */
export function topKGroup(
  itemPtr: usize,
  biasPtr: usize,
  items: i32,
  factors: i32,
  users: usize,
  count: i32,
  k: i32,
  seen: usize,
  seenStart: usize,
  heapIdx: usize,
  heapScore: usize,
  sizes: usize,
  cursors: usize,
  scratch: usize,
  chunkBlocks: i32,
): void {
  const blocks = (items + 7) >> 3;
  const fBytes = <usize>factors << 2;
  const blockBytes = <usize>factors << 5;
  for (let r = 0; r < count; r++) {
    store<i32>(sizes + (<usize>r << 2), 0);
    store<i32>(cursors + (<usize>r << 2), load<i32>(seenStart + (<usize>r << 2)));
  }
  const hb = <usize>k << 2;
  const step = chunkBlocks > 0 ? chunkBlocks : blocks;
  for (let from = 0; from < blocks; from += step) {
    const to = min(blocks, from + step);
    for (let t = 0; t < count; t += 4) {
      const u0 = users + <usize>t * fBytes;
      const u1 = u0 + fBytes;
      const u2 = u1 + fBytes;
      const u3 = u2 + fBytes;
      const inTile = min(4, count - t);
      for (let b = from; b < to; b++) {
        const q = itemPtr + <usize>b * blockBytes;
        let a0 = f32x4.splat(0);
        let a1 = f32x4.splat(0);
        if (biasPtr != 0) {
          a0 = v128.load(biasPtr + (<usize>b << 5));
          a1 = v128.load(biasPtr + (<usize>b << 5), 16);
        }
        let b0 = a0;
        let b1 = a1;
        let c0 = a0;
        let c1 = a1;
        let d0 = a0;
        let d1 = a1;
        for (let o: usize = 0; o < fBytes; o += 4) {
          const y0 = v128.load(q + (o << 3));
          const y1 = v128.load(q + (o << 3), 16);
          const s0 = v128.load32_splat(u0 + o);
          a0 = f32x4.add(a0, f32x4.mul(s0, y0));
          a1 = f32x4.add(a1, f32x4.mul(s0, y1));
          const s1 = v128.load32_splat(u1 + o);
          b0 = f32x4.add(b0, f32x4.mul(s1, y0));
          b1 = f32x4.add(b1, f32x4.mul(s1, y1));
          const s2 = v128.load32_splat(u2 + o);
          c0 = f32x4.add(c0, f32x4.mul(s2, y0));
          c1 = f32x4.add(c1, f32x4.mul(s2, y1));
          const s3 = v128.load32_splat(u3 + o);
          d0 = f32x4.add(d0, f32x4.mul(s3, y0));
          d1 = f32x4.add(d1, f32x4.mul(s3, y1));
        }
        const first = b << 3;
        for (let l = 0; l < inTile; l++) {
          let x0 = a0;
          let x1 = a1;
          if (l == 1) {
            x0 = b0;
            x1 = b1;
          } else if (l == 2) {
            x0 = c0;
            x1 = c1;
          } else if (l == 3) {
            x0 = d0;
            x1 = d1;
          }
          const r = t + l;
          const ro = <usize>r << 2;
          const hs = heapScore + <usize>r * hb;
          const th = f32x4.splat(floor(hs, sizes + ro, k));
          if (!v128.any_true(v128.or(f32x4.ge(x0, th), f32x4.ge(x1, th)))) continue;
          v128.store(scratch, x0);
          v128.store(scratch, x1, 16);
          offerBlock(
            scratch,
            first,
            items,
            heapIdx + <usize>r * hb,
            hs,
            sizes + ro,
            k,
            seen,
            cursors + ro,
            load<i32>(seenStart + ro + 4),
          );
        }
      }
    }
  }
}

/**
 * Top-k for one user (vector at `user`): the same as topKTile with count 1, working on 16
 * items per step. Heap at heapIdx / heapScore, its size at sizes (reset here).
 */
export function topKOne(
  itemPtr: usize,
  biasPtr: usize,
  items: i32,
  factors: i32,
  user: usize,
  k: i32,
  seen: usize,
  seenFrom: i32,
  seenTo: i32,
  heapIdx: usize,
  heapScore: usize,
  sizes: usize,
  scratch: usize,
): void {
  const blocks = (items + 7) >> 3;
  const fBytes = <usize>factors << 2;
  const blockBytes = <usize>factors << 5;
  const cursor = scratch + 64;
  store<i32>(sizes, 0);
  store<i32>(cursor, seenFrom);
  let b = 0;
  for (; b + 1 < blocks; b += 2) {
    const q = itemPtr + <usize>b * blockBytes;
    const p = q + blockBytes;
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0);
    if (biasPtr != 0) {
      const bb = biasPtr + (<usize>b << 5);
      a0 = v128.load(bb);
      a1 = v128.load(bb, 16);
      a2 = v128.load(bb, 32);
      a3 = v128.load(bb, 48);
    }
    for (let o: usize = 0; o < fBytes; o += 4) {
      const s = v128.load32_splat(user + o);
      a0 = f32x4.add(a0, f32x4.mul(s, v128.load(q + (o << 3))));
      a1 = f32x4.add(a1, f32x4.mul(s, v128.load(q + (o << 3), 16)));
      a2 = f32x4.add(a2, f32x4.mul(s, v128.load(p + (o << 3))));
      a3 = f32x4.add(a3, f32x4.mul(s, v128.load(p + (o << 3), 16)));
    }
    const t = f32x4.splat(floor(heapScore, sizes, k));
    if (v128.any_true(v128.or(f32x4.ge(a0, t), f32x4.ge(a1, t)))) {
      v128.store(scratch, a0);
      v128.store(scratch, a1, 16);
      offerBlock(scratch, b << 3, items, heapIdx, heapScore, sizes, k, seen, cursor, seenTo);
    }
    const t2 = f32x4.splat(floor(heapScore, sizes, k));
    if (v128.any_true(v128.or(f32x4.ge(a2, t2), f32x4.ge(a3, t2)))) {
      v128.store(scratch, a2);
      v128.store(scratch, a3, 16);
      offerBlock(scratch, (b + 1) << 3, items, heapIdx, heapScore, sizes, k, seen, cursor, seenTo);
    }
  }
  for (; b < blocks; b++) {
    const q = itemPtr + <usize>b * blockBytes;
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    if (biasPtr != 0) {
      a0 = v128.load(biasPtr + (<usize>b << 5));
      a1 = v128.load(biasPtr + (<usize>b << 5), 16);
    }
    for (let o: usize = 0; o < fBytes; o += 4) {
      const s = v128.load32_splat(user + o);
      a0 = f32x4.add(a0, f32x4.mul(s, v128.load(q + (o << 3))));
      a1 = f32x4.add(a1, f32x4.mul(s, v128.load(q + (o << 3), 16)));
    }
    const t = f32x4.splat(floor(heapScore, sizes, k));
    if (v128.any_true(v128.or(f32x4.ge(a0, t), f32x4.ge(a1, t)))) {
      v128.store(scratch, a0);
      v128.store(scratch, a1, 16);
      offerBlock(scratch, b << 3, items, heapIdx, heapScore, sizes, k, seen, cursor, seenTo);
    }
  }
}

/** Writes the score of every item (out: items floats) for the user vector at `user`. */
export function scoreAll(itemPtr: usize, biasPtr: usize, items: i32, factors: i32, user: usize, out: usize): void {
  const blocks = (items + 7) >> 3;
  const fBytes = <usize>factors << 2;
  const blockBytes = <usize>factors << 5;
  for (let b = 0; b < blocks; b++) {
    const q = itemPtr + <usize>b * blockBytes;
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    if (biasPtr != 0) {
      a0 = v128.load(biasPtr + (<usize>b << 5));
      a1 = v128.load(biasPtr + (<usize>b << 5), 16);
    }
    for (let o: usize = 0; o < fBytes; o += 4) {
      const s = v128.load32_splat(user + o);
      a0 = f32x4.add(a0, f32x4.mul(s, v128.load(q + (o << 3))));
      a1 = f32x4.add(a1, f32x4.mul(s, v128.load(q + (o << 3), 16)));
    }
    const first = b << 3;
    for (let l = 0; l < 8; l++) {
      if (first + l >= items) break;
      const v = l < 4 ? a0 : a1;
      const lane = l & 3;
      let x: f32 = 0;
      if (lane == 0) x = f32x4.extract_lane(v, 0);
      else if (lane == 1) x = f32x4.extract_lane(v, 1);
      else if (lane == 2) x = f32x4.extract_lane(v, 2);
      else x = f32x4.extract_lane(v, 3);
      store<f32>(out + (<usize>(first + l) << 2), x);
    }
  }
}

/**
 * topKOne through a compact first pass. Item factors are quantised to int8 per item
 * (q ≈ code · scale[i]) and stored per block of 8 items as factor pairs (16 bytes: item 0
 * factors f, f+1, item 1 factors f, f+1, ...); the user vector is quantised to int16 pairs at
 * `xq` (x ≈ xq · xScale). Integer dot products (exact in int32) give approximate scores with
 * |exact − approx| ≤ scale[i] · bound + slack, so every item whose upper bound reaches the k-th
 * best lower bound is kept as a candidate, and only those are scored exactly (float32, factor
 * order, as topKOne) into the heap: the result equals topKOne's. Returns the candidates scored,
 * or -1 when more than `candCap` were needed (the caller then runs topKOne). `bound*` is a
 * second heap of capacity k for the lower bounds; `candIdx` holds 2 · candCap words.
 */
export function topKOneQuantised(
  codePtr: usize,
  scalePtr: usize,
  itemPtr: usize,
  biasPtr: usize,
  items: i32,
  factors: i32,
  user: usize,
  xq: usize,
  xScale: f32,
  bound: f32,
  slack: f32,
  k: i32,
  seen: usize,
  seenFrom: i32,
  seenTo: i32,
  boundIdx: usize,
  boundScore: usize,
  candIdx: usize,
  candCap: i32,
  heapIdx: usize,
  heapScore: usize,
  sizes: usize,
  scratch: usize,
): i32 {
  const blocks = (items + 7) >> 3;
  const pairs = (factors + 1) >> 1;
  const codeBlock = <usize>pairs << 4;
  const boundSize = sizes + 4;
  store<i32>(sizes, 0);
  store<i32>(boundSize, 0);
  let cursor = seenFrom;
  let nc = 0;
  const bv = f32x4.splat(bound);
  const sl = f32x4.splat(slack);
  const xs = f32x4.splat(xScale);
  for (let b = 0; b < blocks; b++) {
    const c = codePtr + <usize>b * codeBlock;
    let a0 = i32x4.splat(0);
    let a1 = i32x4.splat(0);
    for (let p = 0; p < pairs; p++) {
      const v = v128.load(c + (<usize>p << 4));
      const x = v128.load32_splat(xq + (<usize>p << 2));
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(v), x));
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(v), x));
    }
    const sc0 = v128.load(scalePtr + (<usize>b << 5));
    const sc1 = v128.load(scalePtr + (<usize>b << 5), 16);
    let s0 = f32x4.mul(f32x4.convert_i32x4_s(a0), f32x4.mul(sc0, xs));
    let s1 = f32x4.mul(f32x4.convert_i32x4_s(a1), f32x4.mul(sc1, xs));
    if (biasPtr != 0) {
      s0 = f32x4.add(s0, v128.load(biasPtr + (<usize>b << 5)));
      s1 = f32x4.add(s1, v128.load(biasPtr + (<usize>b << 5), 16));
    }
    const e0 = f32x4.add(f32x4.mul(sc0, bv), sl);
    const e1 = f32x4.add(f32x4.mul(sc1, bv), sl);
    const u0 = f32x4.add(s0, e0);
    const u1 = f32x4.add(s1, e1);
    const fl = f32x4.splat(floor(boundScore, boundSize, k));
    if (!v128.any_true(v128.or(f32x4.ge(u0, fl), f32x4.ge(u1, fl)))) continue;
    v128.store(scratch, u0);
    v128.store(scratch, u1, 16);
    v128.store(scratch, f32x4.sub(s0, e0), 32);
    v128.store(scratch, f32x4.sub(s1, e1), 48);
    const first = b << 3;
    for (let l = 0; l < 8; l++) {
      const i = first + l;
      if (i >= items) break;
      const up = load<f32>(scratch + (<usize>l << 2));
      if (!(up >= floor(boundScore, boundSize, k))) continue;
      while (cursor < seenTo && load<i32>(seen + (<usize>cursor << 2)) < i) cursor++;
      if (cursor < seenTo && load<i32>(seen + (<usize>cursor << 2)) == i) continue;
      if (nc == candCap) return -1;
      store<i32>(candIdx + (<usize>nc << 2), i);
      store<f32>(candIdx + (<usize>(candCap + nc) << 2), up);
      nc++;
      const low = load<f32>(scratch + 32 + (<usize>l << 2));
      if (low > -Infinity) push(boundIdx, boundScore, boundSize, k, i, low);
    }
  }
  // Exact scores of the candidates that can still make it.
  const fl = floor(boundScore, boundSize, k);
  const blockBytes = <usize>factors << 5;
  let scored = 0;
  for (let c = 0; c < nc; c++) {
    if (!(load<f32>(candIdx + (<usize>(candCap + c) << 2)) >= fl)) continue;
    const i = load<i32>(candIdx + (<usize>c << 2));
    const q = itemPtr + <usize>(i >> 3) * blockBytes + (<usize>(i & 7) << 2);
    let s: f32 = biasPtr != 0 ? load<f32>(biasPtr + (<usize>i << 2)) : 0;
    for (let f = 0; f < factors; f++) s = s + load<f32>(user + (<usize>f << 2)) * load<f32>(q + (<usize>f << 5));
    push(heapIdx, heapScore, sizes, k, i, s);
    scored++;
  }
  return scored;
}

/**
 * topKGroup through the quantised first pass of topKOneQuantised, for `count` users: user r's
 * int16 vector at xq + 4·pairs·r (pairs of factors, zero padded to a multiple of four users),
 * its float vector at users + 4·factors·r, its scale and bound at xScales / bounds + 4r. Per
 * user: lower-bound heap at boundIdx / boundScore + 4·k·r (size at boundSizes + 4r), result
 * heap at heapIdx / heapScore + 4·k·r (size at sizes + 4r), candidates at
 * candIdx + 8·candCap·r (indices, then upper bounds). candCounts[r] receives the candidates
 * scored exactly, or -1 when the user needed more than candCap (the caller then runs topKOne
 * for that user).
 */
export function topKGroupQuantised(
  codePtr: usize,
  scalePtr: usize,
  itemPtr: usize,
  biasPtr: usize,
  items: i32,
  factors: i32,
  users: usize,
  xq: usize,
  xScales: usize,
  bounds: usize,
  slack: f32,
  count: i32,
  k: i32,
  seen: usize,
  seenStart: usize,
  boundIdx: usize,
  boundScore: usize,
  boundSizes: usize,
  heapIdx: usize,
  heapScore: usize,
  sizes: usize,
  cursors: usize,
  candIdx: usize,
  candCounts: usize,
  candCap: i32,
  scratch: usize,
  chunkBlocks: i32,
): void {
  const blocks = (items + 7) >> 3;
  const pairs = (factors + 1) >> 1;
  const codeBlock = <usize>pairs << 4;
  const xBytes = <usize>pairs << 2;
  const hb = <usize>k << 2;
  const cb = <usize>candCap << 3;
  for (let r = 0; r < count; r++) {
    const ro = <usize>r << 2;
    store<i32>(sizes + ro, 0);
    store<i32>(boundSizes + ro, 0);
    store<i32>(candCounts + ro, 0);
    store<i32>(cursors + ro, load<i32>(seenStart + ro));
  }
  const sl = f32x4.splat(slack);
  const step = chunkBlocks > 0 ? chunkBlocks : blocks;
  for (let from = 0; from < blocks; from += step) {
    const to = min(blocks, from + step);
    for (let t = 0; t < count; t += 4) {
      const x0 = xq + <usize>t * xBytes;
      const x1 = x0 + xBytes;
      const x2 = x1 + xBytes;
      const x3 = x2 + xBytes;
      const inTile = min(4, count - t);
      for (let b = from; b < to; b++) {
        const c = codePtr + <usize>b * codeBlock;
        let a0 = i32x4.splat(0);
        let a1 = i32x4.splat(0);
        let b0 = a0;
        let b1 = a0;
        let c0 = a0;
        let c1 = a0;
        let d0 = a0;
        let d1 = a0;
        for (let p: usize = 0; p < <usize>pairs; p++) {
          const v = v128.load(c + (p << 4));
          const lo = i16x8.extend_low_i8x16_s(v);
          const hi = i16x8.extend_high_i8x16_s(v);
          const po = p << 2;
          const y0 = v128.load32_splat(x0 + po);
          a0 = i32x4.add(a0, i32x4.dot_i16x8_s(lo, y0));
          a1 = i32x4.add(a1, i32x4.dot_i16x8_s(hi, y0));
          const y1 = v128.load32_splat(x1 + po);
          b0 = i32x4.add(b0, i32x4.dot_i16x8_s(lo, y1));
          b1 = i32x4.add(b1, i32x4.dot_i16x8_s(hi, y1));
          const y2 = v128.load32_splat(x2 + po);
          c0 = i32x4.add(c0, i32x4.dot_i16x8_s(lo, y2));
          c1 = i32x4.add(c1, i32x4.dot_i16x8_s(hi, y2));
          const y3 = v128.load32_splat(x3 + po);
          d0 = i32x4.add(d0, i32x4.dot_i16x8_s(lo, y3));
          d1 = i32x4.add(d1, i32x4.dot_i16x8_s(hi, y3));
        }
        const sc0 = v128.load(scalePtr + (<usize>b << 5));
        const sc1 = v128.load(scalePtr + (<usize>b << 5), 16);
        const first = b << 3;
        for (let l = 0; l < inTile; l++) {
          let i0 = a0;
          let i1 = a1;
          if (l == 1) {
            i0 = b0;
            i1 = b1;
          } else if (l == 2) {
            i0 = c0;
            i1 = c1;
          } else if (l == 3) {
            i0 = d0;
            i1 = d1;
          }
          const r = t + l;
          const ro = <usize>r << 2;
          const cnt = load<i32>(candCounts + ro);
          if (cnt < 0) continue;
          const bs = boundScore + <usize>r * hb;
          const fl = f32x4.splat(floor(bs, boundSizes + ro, k));
          const xs = f32x4.splat(load<f32>(xScales + ro));
          const bv = f32x4.splat(load<f32>(bounds + ro));
          let s0 = f32x4.mul(f32x4.convert_i32x4_s(i0), f32x4.mul(sc0, xs));
          let s1 = f32x4.mul(f32x4.convert_i32x4_s(i1), f32x4.mul(sc1, xs));
          if (biasPtr != 0) {
            s0 = f32x4.add(s0, v128.load(biasPtr + (<usize>b << 5)));
            s1 = f32x4.add(s1, v128.load(biasPtr + (<usize>b << 5), 16));
          }
          const e0 = f32x4.add(f32x4.mul(sc0, bv), sl);
          const e1 = f32x4.add(f32x4.mul(sc1, bv), sl);
          const u0 = f32x4.add(s0, e0);
          const u1 = f32x4.add(s1, e1);
          if (!v128.any_true(v128.or(f32x4.ge(u0, fl), f32x4.ge(u1, fl)))) continue;
          v128.store(scratch, u0);
          v128.store(scratch, u1, 16);
          v128.store(scratch, f32x4.sub(s0, e0), 32);
          v128.store(scratch, f32x4.sub(s1, e1), 48);
          const bi = boundIdx + <usize>r * hb;
          const cand = candIdx + <usize>r * cb;
          const seenEnd = load<i32>(seenStart + ro + 4);
          let cursor = load<i32>(cursors + ro);
          let n = cnt;
          for (let m = 0; m < 8; m++) {
            const i = first + m;
            if (i >= items) break;
            const up = load<f32>(scratch + (<usize>m << 2));
            if (!(up >= floor(bs, boundSizes + ro, k))) continue;
            while (cursor < seenEnd && load<i32>(seen + (<usize>cursor << 2)) < i) cursor++;
            if (cursor < seenEnd && load<i32>(seen + (<usize>cursor << 2)) == i) continue;
            if (n == candCap) {
              n = -1;
              break;
            }
            store<i32>(cand + (<usize>n << 2), i);
            store<f32>(cand + (<usize>(candCap + n) << 2), up);
            n++;
            const low = load<f32>(scratch + 32 + (<usize>m << 2));
            if (low > -Infinity) push(bi, bs, boundSizes + ro, k, i, low);
          }
          store<i32>(cursors + ro, cursor);
          store<i32>(candCounts + ro, n);
        }
      }
    }
  }
  // Exact scores of the candidates that can still make it, per user.
  const fBytes = <usize>factors << 2;
  const blockBytes = <usize>factors << 5;
  for (let r = 0; r < count; r++) {
    const ro = <usize>r << 2;
    const n = load<i32>(candCounts + ro);
    if (n < 0) continue;
    const fl = floor(boundScore + <usize>r * hb, boundSizes + ro, k);
    const cand = candIdx + <usize>r * cb;
    const x = users + <usize>r * fBytes;
    let scored = 0;
    for (let c = 0; c < n; c++) {
      if (!(load<f32>(cand + (<usize>(candCap + c) << 2)) >= fl)) continue;
      const i = load<i32>(cand + (<usize>c << 2));
      const q = itemPtr + <usize>(i >> 3) * blockBytes + (<usize>(i & 7) << 2);
      let s: f32 = biasPtr != 0 ? load<f32>(biasPtr + (<usize>i << 2)) : 0;
      for (let f = 0; f < factors; f++) s = s + load<f32>(x + (<usize>f << 2)) * load<f32>(q + (<usize>f << 5));
      push(heapIdx + <usize>r * hb, heapScore + <usize>r * hb, sizes + ro, k, i, s);
      scored++;
    }
    store<i32>(candCounts + ro, scored);
  }
}
