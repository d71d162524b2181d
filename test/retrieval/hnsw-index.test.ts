import { describe, expect, it } from 'vitest';
import { ExactIndex } from '../../src/retrieval/exact-index.js';
import { HnswIndex } from '../../src/retrieval/hnsw-index.js';
import { recallAtK } from '../../src/retrieval/recall.js';
import { COUNT, factorLike, vectorIndexContract } from './contract.js';

// efSearch above the item count: on the contract's small data the graph search is exhaustive.
for (const space of ['ip', 'mips'] as const) {
  vectorIndexContract({
    name: `HnswIndex (${space})`,
    build: (v, n, d) => HnswIndex.build(v, n, d, { space, efSearch: 2 * COUNT }),
    exact: false,
    load: (file) => HnswIndex.load(file),
  });
}

describe('HnswIndex', () => {
  const dim = 16;

  it('loads the same index without blocking as it does blocking, outliers included', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(tmpdir(), 'kindred-hnsw-async-'));
    try {
      const n = 300;
      const index = HnswIndex.build(factorLike(n, dim, 7), n, dim, { space: 'mips' });
      index.add(factorLike(1, dim, 8).map((x) => x * 1000));
      const file = path.join(dir, 'i.kdvi');
      index.save(file);
      const sync = HnswIndex.load(file);
      const async = await HnswIndex.loadAsync(file);
      expect(async.size).toBe(sync.size);
      expect(async.outliers).toBe(sync.outliers);
      for (let q = 0; q < 20; q++) {
        const query = factorLike(1, dim, 100 + q);
        const a = async.search(query, 10);
        const b = sync.search(query, 10);
        expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
        expect(Array.from(a.scores)).toEqual(Array.from(b.scores));
      }
      await expect(HnswIndex.loadAsync(path.join(dir, 'none.kdvi'))).rejects.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('grows its capacity as items are added', () => {
    const index = HnswIndex.build(factorLike(40, dim, 1), 40, dim, { capacity: 50 });
    expect(index.capacity).toBe(50);
    const extra = factorLike(100, dim, 2);
    for (let i = 0; i < 100; i++) index.add(extra.subarray(i * dim, (i + 1) * dim));
    expect(index.size).toBe(140);
    expect(index.capacity).toBeGreaterThanOrEqual(140);
  });

  it('in the mips space, scores items above the build-time norm bound directly', () => {
    const n = 500;
    const vectors = factorLike(n, dim, 4);
    const index = HnswIndex.build(vectors, n, dim, { space: 'mips' });
    expect(index.outliers).toBe(0);
    const q = factorLike(1, dim, 5);
    const huge = q.map((x) => x * 1000);
    const at = index.add(huge);
    expect(index.outliers).toBe(1);
    expect(index.search(q, 1).indices[0]).toBe(at);
    // Filtered out, it is not returned; moved back under the bound, it is no longer an outlier.
    expect(Array.from(index.search(q, 5, (i) => i !== at).indices)).not.toContain(at);
    index.update(
      at,
      q.map((x) => x * 1e-3),
    );
    expect(index.outliers).toBe(0);
    expect(index.search(q, 1).indices[0]).not.toBe(at);
  });

  it('keeps its settings and checks them', () => {
    const index = HnswIndex.build(factorLike(10, dim, 1), 10, dim, {
      m: 8,
      efConstruction: 50,
      efSearch: 20,
    });
    expect(index.settings).toMatchObject({ m: 8, efConstruction: 50, efSearch: 20, space: 'ip' });
    index.efSearch = 33;
    expect(index.efSearch).toBe(33);
    expect(() => (index.efSearch = 0)).toThrow(/efSearch/);
    expect(() => HnswIndex.build(factorLike(10, dim, 1), 10, dim, { m: 1 })).toThrow(/m must be/);
    expect(() => HnswIndex.build(factorLike(10, dim, 1), 10, dim, { space: 'l2' as 'ip' })).toThrow(/space/);
  });

  it('searches with the candidate list a caller gives, and keeps its own for the next search', () => {
    const n = 3000;
    const vectors = factorLike(n, dim, 11);
    const exact = ExactIndex.build(vectors, n, dim);
    const hnsw = HnswIndex.build(vectors, n, dim, { efSearch: 10 });
    const queries = Array.from({ length: 100 }, (_, q) => factorLike(1, dim, 500 + q));
    const truth = queries.map((q) => exact.search(q, 10));
    const wide = recallAtK(
      truth,
      queries.map((q) => hnsw.search(q, 10, undefined, 400)),
      10,
    );
    const own = recallAtK(
      truth,
      queries.map((q) => hnsw.search(q, 10)),
      10,
    );
    expect(wide).toBeGreaterThanOrEqual(0.99);
    expect(wide).toBeGreaterThan(own);
    expect(hnsw.efSearch).toBe(10);
    // A list shorter than k still finds k items (the search takes at least k).
    expect(hnsw.search(queries[0], 10, undefined, 2).indices.length).toBe(10);
  });

  it('reaches recall@10 >= 0.95 with its defaults on low-rank vectors with skewed norms', () => {
    const n = 5000;
    const vectors = factorLike(n, dim, 6);
    const exact = ExactIndex.build(vectors, n, dim);
    const hnsw = HnswIndex.build(vectors, n, dim);
    const queries = Array.from({ length: 200 }, (_, q) => factorLike(1, dim, 1000 + q));
    const recall = recallAtK(
      queries.map((q) => exact.search(q, 10)),
      queries.map((q) => hnsw.search(q, 10)),
      10,
    );
    expect(recall).toBeGreaterThanOrEqual(0.95);
  });
});

describe('recallAtK', () => {
  it('is the mean share of exact items found', () => {
    const r = (xs: number[]) => ({ indices: Int32Array.from(xs), scores: new Float32Array(xs.length) });
    // Query 1: 2 of 4 found; query 2: 4 of 4; query 3 (empty exact result) is skipped.
    expect(
      recallAtK([r([1, 2, 3, 4]), r([5, 6, 7, 8]), r([])], [r([1, 9, 3, 0]), r([8, 7, 6, 5]), r([1])], 4),
    ).toBe(0.75);
    expect(recallAtK([r([1, 2, 3])], [r([3])], 2)).toBe(0);
  });
});
