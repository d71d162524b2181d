import { describe, expect, it } from 'vitest';
import { transposeCsr } from '../../../src/data/csr-build.js';
import {
  NeighbourAccumulator,
  NeighbourHeaps,
  neighbourCount,
} from '../../../src/kernels/item-neighbours.js';
import { ItemKnnModel } from '../../../src/models/knn/item-knn.js';
import { computeNeighbours } from '../../../src/models/knn/neighbours.js';
import { similarityProblem } from '../../../src/models/knn/similarity.js';
import { modelFromArtifact } from '../../../src/models/registry.js';
import { ctx, list, randomData, roundTrip, toyData } from './helpers.js';

/**
 * Hand-computed similarities on the toy matrix of ./helpers.ts (identity weighting, shrink 0).
 * Item columns over users u0..u3: i0 = (1,1,0,2), i1 = (1,0,1,0), i2 = (0,1,1,0), i3 = (0,0,3,1).
 */
const data = toyData();
const base = { weighting: 'identity', shrink: 0, historyWeighting: 'linear' } as const;

function sims(model: ItemKnnModel, item: number): Map<number, number> {
  const l = list(model.similarItems(item, 100));
  return new Map(l.idx.map((j, r) => [j, l.sim[r]]));
}

describe('item-kNN similarity measures', () => {
  it('jaccard: |U_i ∩ U_j| / (|U_i ∪ U_j| + shrink) over who interacted, whatever the strengths', () => {
    // Users: i0 {u0,u1,u3}, i1 {u0,u2}, i2 {u1,u2}, i3 {u2,u3}.
    const m = ItemKnnModel.fit(data, { ...base, similarity: 'jaccard' });
    expect(list(m.similarItems(0, 10)).idx).toEqual([1, 2, 3]); // all 1/4, ties to the lower index
    expect(list(m.similarItems(1, 10)).idx).toEqual([2, 3, 0]);
    const s1 = sims(m, 1);
    expect(s1.get(2)).toBeCloseTo(1 / 3, 6);
    expect(s1.get(3)).toBeCloseTo(1 / 3, 6);
    expect(s1.get(0)).toBeCloseTo(1 / 4, 6);
    const shrunk = ItemKnnModel.fit(data, { ...base, similarity: 'jaccard', shrink: 1 });
    expect(sims(shrunk, 1).get(2)).toBeCloseTo(1 / 4, 6); // 1 / (3 + 1)
    expect(sims(shrunk, 0).get(3)).toBeCloseTo(1 / 5, 6); // 1 / (4 + 1)
  });

  it('tfidf: cosine of sqrt(v) · ln(items / (1 + df_user))', () => {
    const a = Math.log(5 / 3); // u0, u1, u3 hold two items each
    const c = Math.log(5 / 4); // u2 holds three
    // Weighted columns: i0 = (a, a, 0, √2 a), i1 = (a, 0, c, 0), i2 = (0, a, c, 0), i3 = (0, 0, √3 c, a).
    const n0 = 2 * a;
    const n1 = Math.sqrt(a * a + c * c);
    const n3 = Math.sqrt(3 * c * c + a * a);
    const m = ItemKnnModel.fit(data, { ...base, similarity: 'tfidf' });
    const s0 = sims(m, 0);
    expect(s0.get(1)).toBeCloseTo((a * a) / (n0 * n1), 6);
    expect(s0.get(3)).toBeCloseTo((Math.SQRT2 * a * a) / (n0 * n3), 6);
    const s1 = sims(m, 1);
    expect(s1.get(2)).toBeCloseTo((c * c) / (n1 * n1), 6);
    expect(s1.get(3)).toBeCloseTo((Math.sqrt(3) * c * c) / (n1 * n3), 6);
  });

  it('bm25: plain dot product of BM25-weighted item rows (k1, b)', () => {
    const k1 = 1.2;
    const b = 0.75;
    const meanLength = 12 / 5; // item rows sum to 4, 2, 2, 4, 0
    const a = Math.log(5 / 3);
    const c = Math.log(5 / 4);
    const bm = (v: number, len: number, idf: number): number =>
      ((v * (k1 + 1)) / (k1 * (1 - b + (b * len) / meanLength) + v)) * idf;
    const m = ItemKnnModel.fit(data, { ...base, similarity: 'bm25', k1, b });
    const s0 = sims(m, 0);
    expect(s0.get(1)).toBeCloseTo(bm(1, 4, a) * bm(1, 2, a), 6); // through u0
    expect(s0.get(2)).toBeCloseTo(bm(1, 4, a) * bm(1, 2, a), 6); // through u1
    expect(s0.get(3)).toBeCloseTo(bm(2, 4, a) * bm(1, 4, a), 6); // through u3
    const s1 = sims(m, 1);
    expect(s1.get(2)).toBeCloseTo(bm(1, 2, c) ** 2, 6);
    expect(s1.get(3)).toBeCloseTo(bm(1, 2, c) * bm(3, 4, c), 6);
    // Other k1 and b change the weights accordingly.
    const m2 = ItemKnnModel.fit(data, { ...base, similarity: 'bm25', k1: 3, b: 0 });
    const bm2 = (v: number, idf: number): number => ((v * 4) / (3 + v)) * idf;
    expect(sims(m2, 1).get(3)).toBeCloseTo(bm2(1, c) * bm2(3, c), 6);
  });

  it('gives, row by row, exactly the lists of the half-matrix cosine kernel', () => {
    const big = randomData(17, 700, 400, 20_000);
    const settings = {
      similarity: 'cosine',
      weighting: 'log1p',
      k: 30,
      shrink: 5,
      k1: 1.2,
      b: 0.75,
      alpha: 0.5,
      exponent: 1,
    } as const;
    const { problem } = similarityProblem(transposeCsr(big.matrix), settings);
    const heaps = new NeighbourHeaps(problem.items, neighbourCount(problem));
    new NeighbourAccumulator(problem).run(0, problem.items, heaps);
    const reference = heaps.toLists();
    const mine = computeNeighbours(problem);
    expect(mine.indptr).toEqual(reference.indptr);
    expect(mine.indices).toEqual(reference.indices);
    expect(mine.scores).toEqual(reference.scores);
  });

  it('asymmetric cosine and sharpening', () => {
    // |i1| = √2, |i3| = √10, i1·i3 = 3.
    const m = ItemKnnModel.fit(data, { ...base, alpha: 0.8 });
    expect(sims(m, 1).get(3)).toBeCloseTo(3 / (2 ** 0.8 * 10 ** 0.2), 6);
    expect(sims(m, 3).get(1)).toBeCloseTo(3 / (10 ** 0.8 * 2 ** 0.2), 6);
    const sharp = ItemKnnModel.fit(data, { ...base, exponent: 2 });
    expect(sims(sharp, 1).get(3)).toBeCloseTo(9 / 20, 6);
  });

  it('rejects bad new parameters', () => {
    expect(() => ItemKnnModel.fit(data, { similarity: 'pearson' })).toThrow(/similarity/);
    expect(() => ItemKnnModel.fit(data, { b: 2 })).toThrow(/'b'/);
    expect(() => ItemKnnModel.fit(data, { alpha: -1 })).toThrow(/alpha/);
  });
});

describe('item-kNN explanations and artifacts', () => {
  const model = ItemKnnModel.fit(data, base);

  it('explains a score by the history items behind it, largest first, summing to the score', () => {
    const c = ctx([0, 3], [1, 2]);
    const why = model.explain(c, 1, 5);
    // score(i1) = 1 · cos(i0,i1) + 2 · cos(i3,i1) = 1/√12 + 2 · 3/√20
    expect(why.map((w) => w.itemIndex)).toEqual([3, 0]);
    expect(why[0].weight).toBeCloseTo((2 * 3) / Math.sqrt(20), 6);
    expect(why[1].weight).toBeCloseTo(1 / Math.sqrt(12), 6);
    const out = new Float32Array(5);
    model.score(c, out);
    expect(why[0].weight + why[1].weight).toBeCloseTo(out[1], 5);
    expect(model.explain(c, 1, 1)).toHaveLength(1);
    expect(model.explain(c, 4, 5)).toEqual([]); // no history item reaches i4
    expect(model.explain(c, 99, 5)).toEqual([]);
  });

  it('scores bitwise identically after save and load, for every measure', () => {
    const big = randomData(3, 300, 200, 6000);
    for (const similarity of ['cosine', 'jaccard', 'tfidf', 'bm25']) {
      const m = ItemKnnModel.fit(big, { similarity, k: 20 });
      const loaded = modelFromArtifact(roundTrip(m.toArtifact()));
      expect(loaded.info).toEqual(m.info);
      const a = new Float32Array(big.items.size);
      const b = new Float32Array(big.items.size);
      for (const u of [0, 5, 17]) {
        const start = big.matrix.indptr[u];
        const end = big.matrix.indptr[u + 1];
        const c = {
          userIndex: u,
          history: big.matrix.indices.subarray(start, end),
          historyWeights: big.matrix.data.subarray(start, end),
        };
        m.score(c, a);
        loaded.score(c, b);
        expect(b).toEqual(a);
      }
    }
  });

  it('builds the same lists on worker threads with an asymmetric measure', async () => {
    const big = randomData(9, 600, 300, 15_000);
    const params = { similarity: 'tfidf', k: 15, alpha: 0.7, exponent: 1.5 };
    const single = ItemKnnModel.fit(big, params).neighbourLists;
    const parallel = (await ItemKnnModel.fitAsync(big, { ...params, threads: 2 })).neighbourLists;
    expect(parallel.indices).toEqual(single.indices);
    expect(parallel.scores).toEqual(single.scores);
  });
});
