import { describe, expect, it, vi } from 'vitest';
import { Rng } from '../../src/ingest/prng.js';
import { AlsScratch, addGramLower, finishGram, solveExact } from '../../src/kernels/als-kernels.js';
import { alsWasmSupported } from '../../src/kernels/als-wasm.js';
import { choleskySolveFourRows } from '../../src/kernels/cholesky-blocked.js';
import { WasmFoldIn } from '../../src/kernels/foldin-wasm.js';
import { interactionsFromArrays } from '../../src/data/interactions.js';
import { AlsModel } from '../../src/models/als/als.js';

const ITEMS = 120;

/** The float64 bit patterns of a vector, so that equality is bitwise (−0, NaN payloads included). */
function bits(v: ArrayLike<number>): bigint[] {
  const f = Float64Array.from(v);
  return Array.from(new BigInt64Array(f.buffer));
}

/** Random item factors (items × k) and their Gram matrix YᵀY + λI. */
function itemSide(
  rng: Rng,
  items: number,
  k: number,
  lambda: number,
): { y: Float32Array; gram: Float64Array } {
  const y = new Float32Array(items * k);
  for (let i = 0; i < y.length; i++) y[i] = rng.normal() * 0.3;
  const gram = new Float64Array(k * k);
  addGramLower(y, k, k, 0, items, gram);
  finishGram(gram, k, lambda);
  return { y, gram };
}

/** A history of `count` entries: with `duplicates`, items repeat; about a fifth of the weights are zero. */
function history(
  rng: Rng,
  count: number,
  items: number,
  duplicates: boolean,
): { idx: Int32Array; ex: Float32Array } {
  const idx = new Int32Array(count);
  const ex = new Float32Array(count);
  for (let q = 0; q < count; q++) {
    idx[q] = duplicates && q > 0 && rng.next() < 0.4 ? idx[rng.int(q)] : rng.int(items);
    ex[q] = rng.next() < 0.2 ? 0 : rng.next() * 5;
  }
  return { idx, ex };
}

/** y_idx[q]·z summed in factor order, as the TypeScript explanation does. */
function dotsOf(y: Float32Array, k: number, idx: Int32Array, count: number, z: Float64Array): Float64Array {
  const out = new Float64Array(count);
  for (let q = 0; q < count; q++) {
    let d = 0;
    for (let f = 0; f < k; f++) d += y[idx[q] * k + f] * z[f];
    out[q] = d;
  }
  return out;
}

function lowerOf(a: Float64Array, k: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < k; i++) for (let j = 0; j <= i; j++) out.push(a[i * k + j]);
  return out;
}

const supported = alsWasmSupported();

describe.skipIf(!supported)('WasmFoldIn', () => {
  for (const k of [1, 2, 3, 8, 13, 64]) {
    it(`solves histories bitwise like solveExact and choleskySolveFourRows (k ${k})`, () => {
      const rng = new Rng(100 + k);
      const { y, gram } = itemSide(rng, ITEMS, k, 0.5);
      const kernel = WasmFoldIn.create(y, ITEMS, k, gram);
      expect(kernel).not.toBeNull();
      if (!kernel) return;
      const s = new AlsScratch(k);
      const factorW = new Float64Array(k * k);
      for (const count of [0, 1, 3, 5, 7, 9, 12, 40]) {
        for (const duplicates of [false, true]) {
          const { idx, ex } = history(rng, count, ITEMS, duplicates);
          const ok = solveExact(idx, ex, 0, 0, count, y, k, k, gram, s);
          expect(ok).toBe(true);
          expect(kernel.solve(idx, ex, count)).toBe(ok);
          expect(bits(kernel.solution)).toEqual(bits(s.x));
          kernel.lowerFactor(factorW);
          expect(bits(lowerOf(factorW, k))).toEqual(bits(lowerOf(s.a, k)));

          // An arbitrary right-hand side with the kept factor.
          const rhs = Float64Array.from({ length: k }, () => rng.normal());
          const z = rhs.slice();
          choleskySolveFourRows(s.a, k, z);
          expect(bits(kernel.solveWithFactor(rhs))).toEqual(bits(z));
          expect(bits(kernel.historyDots(z))).toEqual(bits(dotsOf(y, k, idx, count, z)));

          // Explanation weights of an item: y_j·W·y_item.
          const item = rng.int(ITEMS);
          const zi = Float64Array.from(y.subarray(item * k, (item + 1) * k));
          choleskySolveFourRows(s.a, k, zi);
          expect(bits(kernel.itemDots(item))).toEqual(bits(dotsOf(y, k, idx, count, zi)));
        }
      }
    });
  }

  it('gives the same result for every split of the rank-one terms into passes', () => {
    // Histories of 0..30 entries (some with zero weight) cover every remainder after the passes
    // of eight: a pass of four and up to three single ones.
    const k = 13;
    const rng = new Rng(3);
    const { y, gram } = itemSide(rng, ITEMS, k, 0.2);
    const kernel = WasmFoldIn.create(y, ITEMS, k, gram);
    if (!kernel) throw new Error('kernel expected');
    const s = new AlsScratch(k);
    for (let count = 0; count <= 30; count++) {
      const { idx, ex } = history(rng, count, ITEMS, true);
      expect(kernel.solve(idx, ex, count)).toBe(solveExact(idx, ex, 0, 0, count, y, k, k, gram, s));
      expect(bits(kernel.solution)).toEqual(bits(s.x));
    }
  });

  it('returns false with a zero solution when the system is not positive definite, like solveExact', () => {
    for (const k of [8, 13]) {
      const rng = new Rng(k);
      // λ = 0 and only 4 items: the Gram matrix and every system from them have rank ≤ 4 < k.
      const { y, gram } = itemSide(rng, 4, k, 0);
      const kernel = WasmFoldIn.create(y, 4, k, gram);
      if (!kernel) throw new Error('kernel expected');
      const s = new AlsScratch(k);
      for (const count of [0, 1, 3]) {
        const { idx, ex } = history(rng, count, 4, false);
        expect(solveExact(idx, ex, 0, 0, count, y, k, k, gram, s)).toBe(false);
        expect(kernel.solve(idx, ex, count)).toBe(false);
        expect(Array.from(kernel.solution)).toEqual(new Array(k).fill(0));
        expect(() => kernel.itemDots(0)).toThrow();
        expect(() => kernel.solveWithFactor(new Float64Array(k))).toThrow();
      }
    }
  });

  for (const k of [9, 12]) {
    it(`decides positive definiteness like the reference at the last pivot (k ${k})`, () => {
      // The Gram matrix with its last diagonal entry lowered by just under / just over the
      // last pivot: the first stays (barely) positive definite, the second is indefinite. k 9
      // puts that pivot among the rows after the blocks of four, k 12 inside the last block.
      const rng = new Rng(k);
      const { y, gram } = itemSide(rng, 30, k, 0.1);
      const s = new AlsScratch(k);
      const none = new Int32Array(0);
      const noExtra = new Float32Array(0);
      const last = (k - 1) * k + k - 1;
      expect(solveExact(none, noExtra, 0, 0, 0, y, k, k, gram, s)).toBe(true);
      const pivot = s.a[last] ** 2;
      for (const [scale, definite] of [
        [0.999, true],
        [1.001, false],
      ] as const) {
        const g = gram.slice();
        g[last] -= scale * pivot;
        const kernel = WasmFoldIn.create(y, 30, k, g);
        if (!kernel) throw new Error('kernel expected');
        expect(solveExact(none, noExtra, 0, 0, 0, y, k, k, g, s)).toBe(definite);
        expect(kernel.solve(none, noExtra, 0)).toBe(definite);
        expect(bits(kernel.solution)).toEqual(bits(s.x));
        for (const count of [1, 2, 6]) {
          const { idx, ex } = history(rng, count, 30, false);
          const ok = solveExact(idx, ex, 0, 0, count, y, k, k, g, s);
          expect(kernel.solve(idx, ex, count)).toBe(ok);
          expect(bits(kernel.solution)).toEqual(bits(s.x));
        }
      }
    });
  }

  it('rejects items out of range and histories longer than the items', () => {
    const { y, gram } = itemSide(new Rng(1), 10, 4, 1);
    const kernel = WasmFoldIn.create(y, 10, 4, gram);
    if (!kernel) throw new Error('kernel expected');
    expect(() => kernel.solve(Int32Array.of(3, 10), Float32Array.of(1, 1), 2)).toThrow(RangeError);
    expect(() => kernel.solve(Int32Array.of(-1), Float32Array.of(1), 1)).toThrow(RangeError);
    expect(() => kernel.solve(new Int32Array(11), new Float32Array(11), 11)).toThrow(RangeError);
    expect(kernel.solve(Int32Array.of(3), Float32Array.of(1), 1)).toBe(true);
    expect(() => kernel.itemDots(10)).toThrow(RangeError);
  });
});

describe.skipIf(!supported)('AlsModel fold-in and explanations with the SIMD kernel', () => {
  /** Users in two taste groups over 40 items. */
  function data(): ReturnType<typeof interactionsFromArrays> {
    const rng = new Rng(5);
    const u: string[] = [];
    const i: string[] = [];
    const s: number[] = [];
    for (let user = 0; user < 120; user++) {
      for (let item = 0; item < 40; item++) {
        if (rng.next() < (item % 2 === user % 2 ? 0.4 : 0.07)) {
          u.push(`u${user}`);
          i.push(`i${item}`);
          s.push(1 + rng.int(5));
        }
      }
    }
    return interactionsFromArrays({ userIds: u, itemIds: i, strengths: s });
  }

  for (const factors of [8, 13]) {
    it(`folds in and explains bitwise like the TypeScript path (k ${factors})`, async () => {
      const fitted = await AlsModel.fit(data(), {
        factors,
        regularization: 0.5,
        alpha: 2,
        iterations: 4,
        threads: 1,
        kernel: 'js',
      });
      const artifact = fitted.toArtifact();
      const js = AlsModel.fromArtifact(artifact);
      const simd = AlsModel.fromArtifact({
        ...artifact,
        header: {
          ...artifact.header,
          info: { ...artifact.header.info, params: { ...artifact.header.info.params, kernel: 'auto' } },
        },
      });
      const solves = vi.spyOn(WasmFoldIn.prototype, 'solve');
      const rng = new Rng(factors);
      for (let r = 0; r < 25; r++) {
        const n = r === 0 ? 0 : 1 + rng.int(30);
        const h = Int32Array.from({ length: n }, () => rng.int(42) - 1); // some out of range
        const w = Float32Array.from({ length: n }, () => (rng.next() < 0.1 ? 0 : 1 + rng.int(4)));
        const ctx = { userIndex: -1, history: h, historyWeights: w };
        expect(bits(simd.foldInUser(h, w))).toEqual(bits(js.foldInUser(h, w)));
        for (let e = 0; e < 4; e++) {
          const item = rng.int(40);
          const a = simd.explain(ctx, item, 100);
          const b = js.explain(ctx, item, 100);
          expect(a.map((c) => c.itemIndex)).toEqual(b.map((c) => c.itemIndex));
          expect(bits(a.map((c) => c.weight))).toEqual(bits(b.map((c) => c.weight)));
        }
        // A fresh history object: explain() factorises it itself rather than after foldInUser.
        const again = { userIndex: -1, history: h.slice(), historyWeights: w.slice() };
        expect(simd.explain(again, 3, 3)).toEqual(js.explain(again, 3, 3));
      }
      // The instance not forced to the TypeScript kernel used the SIMD one: every fold-in solved there.
      expect(solves.mock.calls.length).toBeGreaterThanOrEqual(25);
      solves.mockRestore();
    });
  }
});
