import { describe, expect, it } from 'vitest';
import {
  choleskyInPlace,
  choleskySolveInPlace,
  conjugateGradient,
  matVec,
  spdInverseInPlace,
} from '../../src/kernels/dense.js';
import { denseWasmFits, WasmSpdMatrix } from '../../src/kernels/dense-wasm.js';
import { Rng } from '../../src/ingest/prng.js';

/** A random n×n SPD matrix MᵀM/m + shift·I. */
function randomSpd(n: number, seed: number, shift = 0.1): Float64Array {
  const rng = new Rng(seed);
  const m = 2 * n;
  const x = new Float64Array(m * n);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let r = 0; r < m; r++) s += x[r * n + i] * x[r * n + j];
      a[i * n + j] = s / m + (i === j ? shift : 0);
    }
  }
  return a;
}

describe('dense kernels', () => {
  it('factors and solves a hand-checked 3×3 system', () => {
    // A = L·Lᵀ with L = [[2,0,0],[1,3,0],[−1,2,1]]: A = [[4,2,−2],[2,10,5],[−2,5,6]].
    const a = Float64Array.from([4, 2, -2, 2, 10, 5, -2, 5, 6]);
    expect(choleskyInPlace(a, 3)).toBe(true);
    expect([a[0], a[3], a[4], a[6], a[7], a[8]]).toEqual([2, 1, 3, -1, 2, 1]);
    // A·[1, −1, 2] = [4−2−4, 2−10+10, −2−5+12] = [−2, 2, 5].
    const b = Float64Array.from([-2, 2, 5]);
    choleskySolveInPlace(a, 3, b);
    expect(Array.from(b).map((v) => Number(v.toFixed(12)))).toEqual([1, -1, 2]);
  });

  it('rejects a matrix that is not positive definite', () => {
    expect(choleskyInPlace(Float64Array.from([1, 2, 2, 1]), 2)).toBe(false);
    expect(spdInverseInPlace(Float64Array.from([1, 2, 2, 1]), 2)).toBe(false);
  });

  it('inverts SPD matrices of every size class (blocked and remainder paths)', () => {
    for (const n of [1, 2, 4, 7, 33]) {
      const a = randomSpd(n, n);
      const inv = a.slice();
      expect(spdInverseInPlace(inv, n)).toBe(true);
      let err = 0;
      let asym = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < n; p++) s += a[i * n + p] * inv[p * n + j];
          err = Math.max(err, Math.abs(s - (i === j ? 1 : 0)));
          asym = Math.max(asym, Math.abs(inv[i * n + j] - inv[j * n + i]));
        }
      }
      expect(err).toBeLessThan(1e-9);
      expect(asym).toBe(0);
    }
  });

  it('inverts in float32 storage to float32 accuracy', () => {
    const n = 20;
    const a = randomSpd(n, 5, 1);
    const inv = Float32Array.from(a);
    expect(spdInverseInPlace(inv, n)).toBe(true);
    const y = new Float64Array(n);
    const e0 = new Float64Array(n);
    e0[3] = 1;
    matVec(inv, n, e0, y); // column 3 of the inverse
    const back = new Float64Array(n);
    matVec(a, n, y, back);
    for (let i = 0; i < n; i++) expect(back[i]).toBeCloseTo(i === 3 ? 1 : 0, 4);
  });

  it('conjugate gradient reaches the Cholesky solution on a random SPD system', () => {
    const n = 24;
    const a = randomSpd(n, 11, 0.5);
    const rng = new Rng(3);
    const b = Float64Array.from({ length: n }, () => rng.normal());
    const l = a.slice();
    choleskyInPlace(l, n);
    const exact = b.slice();
    choleskySolveInPlace(l, n, exact);
    const x = new Float64Array(n);
    conjugateGradient(a, n, b, x, 200, 1e-26);
    for (let i = 0; i < n; i++) expect(x[i]).toBeCloseTo(exact[i], 8);
    // A few warm-started steps only improve: the residual shrinks monotonically in A-norm.
    const y = new Float64Array(n);
    const errAfter = (steps: number): number => {
      y.fill(0);
      conjugateGradient(a, n, b, y, steps);
      let e = 0;
      for (let i = 0; i < n; i++) e += (y[i] - exact[i]) ** 2;
      return e;
    };
    expect(errAfter(3)).toBeLessThan(errAfter(1));
  });

  it.skipIf(!denseWasmFits(64, false))(
    'the SIMD kernel inverts like the reference, in both precisions',
    () => {
      for (const n of [1, 3, 4, 6, 13, 64]) {
        const a = randomSpd(n, 100 + n, 0.5);
        const ref = a.slice();
        expect(spdInverseInPlace(ref, n)).toBe(true);
        for (const float32 of [false, true]) {
          const m = new WasmSpdMatrix(n, float32);
          m.data.set(a);
          expect(m.invert()).toBe(true);
          let scale = 0;
          for (let i = 0; i < n * n; i++) scale = Math.max(scale, Math.abs(ref[i]));
          for (let i = 0; i < n * n; i++) {
            expect(Math.abs(m.data[i] - ref[i]) / scale).toBeLessThan(float32 ? 1e-5 : 1e-12);
          }
        }
      }
      const bad = new WasmSpdMatrix(2, false);
      bad.data.set([1, 2, 2, 1]);
      expect(bad.invert()).toBe(false);
    },
  );
});
