import { describe, expect, it } from 'vitest';
import { ExactIndex } from '../../src/retrieval/exact-index.js';
import { bruteForce, factorLike, vectorIndexContract } from './contract.js';

vectorIndexContract({
  name: 'ExactIndex (SIMD kernel)',
  build: (v, n, d) => ExactIndex.build(v, n, d),
  exact: true,
  load: (file) => ExactIndex.load(file),
});

vectorIndexContract({
  name: 'ExactIndex (plain scan)',
  build: (v, n, d) => ExactIndex.build(v, n, d, { kernel: false }),
  exact: true,
  load: (file) => ExactIndex.load(file, { kernel: false }),
});

describe('ExactIndex', () => {
  const dim = 16;
  const n = 3000;
  const vectors = factorLike(n, dim, 3);
  const queries = Array.from({ length: 10 }, (_, q) => factorLike(1, dim, 200 + q));

  it('stays exact through more changes than its kernel snapshot absorbs', () => {
    const index = ExactIndex.build(vectors, n, dim);
    const expected = vectors.slice();
    index.search(queries[0], 10);
    // Thousands of updates and additions, interleaved with searches.
    const changes = factorLike(5000, dim, 9);
    for (let c = 0; c < 5000; c++) {
      const v = changes.subarray(c * dim, (c + 1) * dim);
      const item = (c * 7919) % n;
      index.update(item, v);
      expected.set(v, item * dim);
      if (c % 500 === 0) {
        for (const q of queries.slice(0, 3)) {
          expect(Array.from(index.search(q, 10).indices)).toEqual(bruteForce(expected, n, q, 10));
        }
      }
    }
    const grown = new Float32Array((n + 2500) * dim);
    grown.set(expected);
    const added = factorLike(2500, dim, 10);
    grown.set(added, n * dim);
    for (let a = 0; a < 2500; a++) index.add(added.subarray(a * dim, (a + 1) * dim));
    for (const q of queries) {
      expect(Array.from(index.search(q, 10).indices)).toEqual(bruteForce(grown, n + 2500, q, 10));
      const few = (i: number): boolean => i % 1000 === 1;
      expect(Array.from(index.search(q, 10, few).indices)).toEqual(bruteForce(grown, n + 2500, q, 10, few));
    }
  });

  it('agrees with the plain scan for large k and for filters of every selectivity', () => {
    const simd = ExactIndex.build(vectors, n, dim);
    const plain = ExactIndex.build(vectors, n, dim, { kernel: false });
    const filters = [(i: number) => i % 2 === 0, (i: number) => i % 97 === 0, (i: number) => i === n - 1];
    for (const q of queries) {
      for (const k of [1, 10, 2500, 3000]) {
        expect(Array.from(simd.search(q, k).indices)).toEqual(Array.from(plain.search(q, k).indices));
      }
      for (const f of filters) {
        expect(Array.from(simd.search(q, 20, f).indices)).toEqual(Array.from(plain.search(q, 20, f).indices));
      }
    }
  });

  it('refuses a file of another kind', async () => {
    const { HnswIndex } = await import('../../src/retrieval/hnsw-index.js');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(tmpdir(), 'kindred-exact-'));
    try {
      const file = path.join(dir, 'h.kdvi');
      HnswIndex.build(vectors.subarray(0, 10 * dim), 10, dim).save(file);
      expect(() => ExactIndex.load(file)).toThrow(/holds a hnsw index/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
