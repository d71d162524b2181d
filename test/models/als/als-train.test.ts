import { describe, expect, it } from 'vitest';
import { csrFromCoo } from '../../../src/data/csr-build.js';
import { Rng } from '../../../src/ingest/prng.js';
import { alsWasmSupported } from '../../../src/kernels/als-wasm.js';
import { trainAls, type AlsTrainOptions } from '../../../src/models/als/als-train.js';

function pattern(users: number, items: number, pairs: number) {
  const rng = new Rng(9);
  const r = new Int32Array(pairs);
  const c = new Int32Array(pairs);
  for (let e = 0; e < pairs; e++) {
    r[e] = rng.int(users);
    c[e] = Math.min(items - 1, Math.floor(items * rng.next() ** 2));
  }
  return csrFromCoo(users, items, r, c, new Float32Array(pairs).fill(1));
}

describe('trainAls', () => {
  const m = pattern(300, 120, 4000);
  const base: AlsTrainOptions = {
    factors: 7,
    regularization: 0.3,
    iterations: 4,
    cgSteps: 3,
    solver: 'cg',
    kernel: 'js',
    threads: 1,
    seed: 2,
  };

  for (const kernel of alsWasmSupported() ? (['js', 'wasm'] as const) : (['js'] as const)) {
    it(`stores no per-pair confidences when they are uniform, with the same result (${kernel})`, async () => {
      const rows = { rows: m.rows, cols: m.cols, indptr: m.indptr, indices: m.indices };
      const uniform = await trainAls(
        { ...rows, uniformExtra: 1.5, writeExtra: () => undefined },
        { ...base, kernel },
      );
      const perPair = await trainAls(
        { ...rows, uniformExtra: null, writeExtra: (out) => out.fill(1.5) },
        { ...base, kernel },
      );
      expect(uniform.userFactors).toEqual(perPair.userFactors);
      expect(uniform.itemFactors).toEqual(perPair.itemFactors);
    });
  }

  it('reports every iteration and every phase', async () => {
    const iterations: number[] = [];
    const phases: string[] = [];
    await trainAls(
      {
        rows: m.rows,
        cols: m.cols,
        indptr: m.indptr,
        indices: m.indices,
        uniformExtra: 1,
        writeExtra: () => undefined,
      },
      { ...base, iterations: 2, onIteration: (i) => iterations.push(i), onPhase: (p) => phases.push(p) },
    );
    expect(iterations).toEqual([0, 1]);
    expect(phases).toEqual([
      'gram-users',
      'solve-items',
      'gram-items',
      'solve-users',
      'gram-users',
      'solve-items',
      'gram-items',
      'solve-users',
    ]);
  });
});
