/**
 * The personal model's source explains from the system its fold-in factorised: the exact
 * solve gives bitwise what adding each history item and factorising row by row gives, and the
 * explanation keeps the largest contributions in the order a full sort gives.
 */
import { describe, expect, it } from 'vitest';
import { interactionsFromArrays } from '../../../src/data/interactions.js';
import { Rng } from '../../../src/ingest/prng.js';
import { AlsScratch, addGramLower, finishGram, solveExact } from '../../../src/kernels/als-kernels.js';
import { choleskyFourRows, choleskySolveFourRows } from '../../../src/kernels/cholesky-blocked.js';
import { choleskyInPlace, choleskySolveInPlace } from '../../../src/kernels/dense.js';
import { AlsModel } from '../../../src/models/als/als.js';
import { ExactIndex } from '../../../src/retrieval/exact-index.js';
import { AnnSource } from '../../../src/pipeline/sources/ann-source.js';
import { makeContext } from '../ranking/fixtures.js';

/** The exact solve entry by entry and row by row, on dense.ts's Cholesky. */
function solveExactReference(
  indices: Int32Array,
  extra: Float32Array | null,
  uniformExtra: number,
  start: number,
  end: number,
  fixed: Float32Array,
  stride: number,
  k: number,
  gram: Float64Array,
): { a: Float64Array; x: Float64Array; ok: boolean } {
  const a = Float64Array.from(gram.subarray(0, k * k));
  const x = new Float64Array(k);
  for (let q = start; q < end; q++) {
    const fo = indices[q] * stride;
    const e = extra ? extra[q] : uniformExtra;
    const c = 1 + e;
    for (let i = 0; i < k; i++) {
      const yi = fixed[fo + i];
      x[i] += c * yi;
      if (e === 0) continue;
      const w = e * yi;
      for (let j = 0; j <= i; j++) a[i * k + j] += w * fixed[fo + j];
    }
  }
  if (!choleskyInPlace(a, k)) return { a, x: new Float64Array(k), ok: false };
  choleskySolveInPlace(a, k, x);
  return { a, x, ok: true };
}

function lowerOf(a: Float64Array, k: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < k; i++) for (let j = 0; j <= i; j++) out.push(a[i * k + j]);
  return out;
}

describe('exact ALS solve', () => {
  for (const k of [1, 3, 4, 7, 16, 19]) {
    it(`is bitwise the row-by-row solve (k ${k})`, () => {
      const rng = new Rng(k);
      const rows = 60;
      const stride = k + (k % 3);
      const fixed = new Float32Array(rows * stride);
      for (let r = 0; r < rows; r++) for (let f = 0; f < k; f++) fixed[r * stride + f] = rng.next() - 0.4;
      const gram = new Float64Array(k * k);
      addGramLower(fixed, stride, k, 0, rows, gram, 0);
      finishGram(gram, k, 0.5);
      const s = new AlsScratch(k);
      for (let t = 0; t < 20; t++) {
        const n = rng.int(12);
        const indices = Int32Array.from({ length: n }, () => rng.int(rows));
        const extra = Float32Array.from({ length: n }, () => (rng.next() < 0.2 ? 0 : rng.next() * 4));
        const uniform = t % 3 === 0;
        const ok = solveExact(indices, uniform ? null : extra, 1.5, 0, n, fixed, stride, k, gram, s);
        const ref = solveExactReference(indices, uniform ? null : extra, 1.5, 0, n, fixed, stride, k, gram);
        expect(ok).toBe(ref.ok);
        expect(Array.from(s.x)).toEqual(Array.from(ref.x));
        expect(lowerOf(s.a, k)).toEqual(lowerOf(ref.a, k));
      }
    });
  }

  it('factorises and solves like dense.ts, and fails where it fails', () => {
    const rng = new Rng(3);
    for (const n of [1, 2, 5, 8, 13, 64]) {
      const m = Float64Array.from({ length: n * n }, () => rng.next() - 0.5);
      const spd = new Float64Array(n * n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          let v = i === j ? n : 0;
          for (let p = 0; p < n; p++) v += m[i * n + p] * m[j * n + p];
          spd[i * n + j] = v;
        }
      const a = Float64Array.from(spd);
      const ref = Float64Array.from(spd);
      expect(choleskyFourRows(a, n)).toBe(choleskyInPlace(ref, n));
      expect(lowerOf(a, n)).toEqual(lowerOf(ref, n));
      const b = Float64Array.from({ length: n }, () => rng.next());
      const bRef = Float64Array.from(b);
      choleskySolveFourRows(a, n, b);
      choleskySolveInPlace(ref, n, bRef);
      expect(Array.from(b)).toEqual(Array.from(bRef));
      const indefinite = Float64Array.from(spd);
      indefinite[(n - 1) * n + (n - 1)] = -1;
      expect(choleskyFourRows(Float64Array.from(indefinite), n)).toBe(false);
    }
  });
});

/** Users in two taste groups over 30 items. */
async function toyAls(): Promise<AlsModel> {
  const rng = new Rng(11);
  const u: string[] = [];
  const i: string[] = [];
  const s: number[] = [];
  for (let user = 0; user < 80; user++) {
    for (let item = 0; item < 30; item++) {
      if (rng.next() < (item % 2 === user % 2 ? 0.45 : 0.08)) {
        u.push(`u${user}`);
        i.push(`i${item}`);
        s.push(1 + rng.int(5));
      }
    }
  }
  const data = interactionsFromArrays({ userIds: u, itemIds: i, strengths: s });
  return AlsModel.fit(data, { factors: 8, iterations: 5, kernel: 'js', threads: 1 });
}

describe('ALS explanations', () => {
  it('keep the largest contributions in the order of a full sort', async () => {
    const model = await toyAls();
    const history = Int32Array.from([0, 2, 4, 6, 8, 10, 12, 3]);
    const weights = Float32Array.from([1, 2, 1, 3, 1, 1, 2, 1]);
    const ctx = { userIndex: -1, history, historyWeights: weights };
    for (let item = 0; item < 30; item++) {
      const all = model.explain(ctx, item, Infinity);
      expect(all).toHaveLength(8);
      for (const max of [0, 1, 2, 3, 5, 8]) expect(model.explain(ctx, item, max)).toEqual(all.slice(0, max));
    }
  });

  it('are the same after the source folded the user in as for the history alone', async () => {
    const model = await toyAls();
    const index = ExactIndex.build(
      model.toArtifact().arrays.itemFactors as Float32Array,
      model.itemIds.length,
      model.factors,
    );
    const source = new AnnSource('als', model, index, model.info.users);
    const names = { itemId: (i: number) => `i${i}`, title: (i: number) => `Item ${i}`, category: () => null };
    const ctx = makeContext({
      history: Int32Array.from([1, 3, 5, 7, 2]),
      historyWeights: Float32Array.from([1, 1, 2, 1, 1]),
    });
    const proposed: number[] = [];
    source.generate(ctx, 10, (item) => proposed.push(item));
    const afterGenerate = proposed.map((item) => source.explain(ctx, item, names));
    // A copy of the history is another request to the model: it factorises afresh.
    const fresh = makeContext({ history: ctx.history.slice(), historyWeights: ctx.historyWeights.slice() });
    expect(afterGenerate).toEqual(proposed.map((item) => source.explain(fresh, item, names)));
    expect(afterGenerate.every((e) => e !== null)).toBe(true);
  });
});
