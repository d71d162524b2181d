import { describe, expect, it } from 'vitest';
import {
  AlsScratch,
  addGramLower,
  cgRows,
  exactRows,
  finishGram,
  type AlsHalfStep,
} from '../../src/kernels/als-kernels.js';
import { alsWasmSupported, createKernelMemory, instantiateAlsKernel } from '../../src/kernels/als-wasm.js';
import { Rng } from '../../src/ingest/prng.js';

const ROWS = 40;
const FIXED = 60;
const K = 10; // not a multiple of 4: exercises the padded stride
const STRIDE = 12;

/** A random half-step problem laid out at byte `base` of `buffer`. */
function problem(buffer: ArrayBufferLike, base: number, seed: number): { h: AlsHalfStep; offsets: number[] } {
  const rng = new Rng(seed);
  const counts = Array.from({ length: ROWS }, () => 1 + rng.int(12));
  const nnz = counts.reduce((a, b) => a + b, 0);
  let at = base;
  const take = (bytes: number): number => {
    const o = at;
    at += Math.ceil(bytes / 16) * 16;
    return o;
  };
  const offsets = [
    take(4 * (ROWS + 1)),
    take(4 * nnz),
    take(4 * nnz),
    take(4 * FIXED * STRIDE),
    take(8 * K * K),
    take(4 * ROWS * STRIDE),
    take(4 * STRIDE * STRIDE),
    take(4 * (8 * STRIDE + STRIDE * STRIDE)),
  ];
  const indptr = new Int32Array(buffer, offsets[0], ROWS + 1);
  const indices = new Int32Array(buffer, offsets[1], nnz);
  const extra = new Float32Array(buffer, offsets[2], nnz);
  const fixed = new Float32Array(buffer, offsets[3], FIXED * STRIDE);
  const gram = new Float64Array(buffer, offsets[4], K * K);
  const solved = new Float32Array(buffer, offsets[5], ROWS * STRIDE);
  for (let r = 0; r < ROWS; r++) {
    indptr[r + 1] = indptr[r] + counts[r];
    const picked = new Set<number>();
    while (picked.size < counts[r]) picked.add(rng.int(FIXED));
    [...picked]
      .sort((a, b) => a - b)
      .forEach((c, j) => {
        indices[indptr[r] + j] = c;
        extra[indptr[r] + j] = rng.next() < 0.2 ? 0 : rng.next() * 4;
      });
  }
  for (let i = 0; i < FIXED; i++) for (let f = 0; f < K; f++) fixed[i * STRIDE + f] = rng.normal() * 0.3;
  for (let r = 0; r < ROWS; r++) for (let f = 0; f < K; f++) solved[r * STRIDE + f] = rng.normal() * 0.01;
  addGramLower(fixed, STRIDE, K, 0, FIXED, gram);
  finishGram(gram, K, 0.1);
  return {
    h: { rows: { indptr, indices, extra, uniformExtra: 0 }, fixed, gram, solved, k: K, stride: STRIDE },
    offsets,
  };
}

describe('ALS kernels', () => {
  it('computes the Gram matrix FᵀF + λI', () => {
    const f = Float32Array.from([1, 2, 0, 0, 3, 4, 0, 0]); // two rows, k 2, stride 4
    const g = new Float64Array(4);
    addGramLower(f, 4, 2, 0, 2, g);
    finishGram(g, 2, 0.5);
    expect(Array.from(g)).toEqual([1 + 9 + 0.5, 2 + 12, 2 + 12, 4 + 16 + 0.5]);
  });

  it('conjugate gradient converges to the exact (Cholesky) row solutions', () => {
    const a = problem(new ArrayBuffer(1 << 16), 0, 1);
    const b = problem(new ArrayBuffer(1 << 16), 0, 1);
    exactRows(a.h, 0, ROWS, new AlsScratch(K));
    cgRows(b.h, 0, ROWS, 50, new AlsScratch(K));
    for (let i = 0; i < a.h.solved.length; i++) expect(b.h.solved[i]).toBeCloseTo(a.h.solved[i], 4);
    // Padding past k stays zero.
    for (let r = 0; r < ROWS; r++) expect(b.h.solved[r * STRIDE + K]).toBe(0);
  });

  it('treats a null extra array as the uniform extra confidence on every entry', () => {
    const a = problem(new ArrayBuffer(1 << 16), 0, 4);
    const b = problem(new ArrayBuffer(1 << 16), 0, 4);
    a.h.rows.extra?.fill(2);
    b.h.rows.extra = null;
    b.h.rows.uniformExtra = 2;
    cgRows(a.h, 0, ROWS, 3, new AlsScratch(K));
    cgRows(b.h, 0, ROWS, 3, new AlsScratch(K));
    expect(b.h.solved).toEqual(a.h.solved);
    exactRows(a.h, 0, ROWS, new AlsScratch(K));
    exactRows(b.h, 0, ROWS, new AlsScratch(K));
    expect(b.h.solved).toEqual(a.h.solved);
  });

  it('three warm-started CG steps land close to the exact solution', () => {
    const a = problem(new ArrayBuffer(1 << 16), 0, 2);
    const b = problem(new ArrayBuffer(1 << 16), 0, 2);
    exactRows(a.h, 0, ROWS, new AlsScratch(K));
    cgRows(b.h, 0, ROWS, 3, new AlsScratch(K));
    let num = 0;
    let den = 0;
    for (let i = 0; i < a.h.solved.length; i++) {
      num += (a.h.solved[i] - b.h.solved[i]) ** 2;
      den += a.h.solved[i] ** 2;
    }
    expect(Math.sqrt(num / den)).toBeLessThan(0.1);
  });

  it.skipIf(!alsWasmSupported())('the SIMD kernel matches the reference kernel', () => {
    const memory = createKernelMemory(1 << 17);
    const base = 65536;
    const w = problem(memory.buffer, base, 3);
    const ref = problem(new ArrayBuffer(1 << 16), 0, 3);
    const kernel = instantiateAlsKernel(memory);
    // gram32: stride×stride float32 copy of the Gram matrix, zero padded.
    const g32 = new Float32Array(memory.buffer, w.offsets[6], STRIDE * STRIDE);
    for (let a = 0; a < K; a++) for (let b = 0; b < K; b++) g32[a * STRIDE + b] = w.h.gram[a * K + b];
    const [indptr, indices, extra, fixed, , solved, gram32, scratch] = w.offsets;
    kernel.cgRows(indptr, indices, extra, 0, fixed, gram32, solved, K, STRIDE, 0, ROWS, 3, scratch);
    cgRows(ref.h, 0, ROWS, 3, new AlsScratch(K));
    for (let i = 0; i < ref.h.solved.length; i++) expect(w.h.solved[i]).toBeCloseTo(ref.h.solved[i], 4);

    // A uniform extra confidence (no per-entry array) solves like the array filled with it.
    const u = problem(new ArrayBuffer(1 << 16), 0, 3);
    u.h.rows.extra?.fill(1.5);
    cgRows(u.h, 0, ROWS, 3, new AlsScratch(K));
    const solvedU = new Float32Array(memory.buffer, solved, ROWS * STRIDE);
    problem(memory.buffer, base, 3); // restores the warm start
    kernel.cgRows(indptr, indices, 0, 1.5, fixed, gram32, solved, K, STRIDE, 0, ROWS, 3, scratch);
    for (let i = 0; i < solvedU.length; i++) expect(solvedU[i]).toBeCloseTo(u.h.solved[i], 4);

    // Gram of the fixed factors, lower triangle, float32 accumulation.
    const out = new Float64Array(memory.buffer, w.offsets[4], K * K);
    out.fill(0);
    kernel.gramLower(fixed, STRIDE, K, 0, FIXED, w.offsets[4], scratch);
    const expected = new Float64Array(K * K);
    addGramLower(ref.h.fixed, STRIDE, K, 0, FIXED, expected);
    for (let a = 0; a < K; a++) {
      for (let b = 0; b <= a; b++) expect(out[a * K + b]).toBeCloseTo(expected[a * K + b], 4);
      for (let b = a + 1; b < K; b++) expect(out[a * K + b]).toBe(0);
    }

    // Scoring rows: scores[i] = x·F[i].
    const x = new Float32Array(memory.buffer, scratch, STRIDE);
    for (let f = 0; f < K; f++) x[f] = f - 4;
    const scores = new Float32Array(memory.buffer, w.offsets[5], FIXED);
    kernel.scoreRows(fixed, STRIDE, scratch, 0, FIXED, w.offsets[5]);
    for (let i = 0; i < FIXED; i++) {
      let s = 0;
      for (let f = 0; f < K; f++) s += (f - 4) * ref.h.fixed[i * STRIDE + f];
      expect(scores[i]).toBeCloseTo(s, 4);
    }
  });
});
