import { describe, expect, it } from 'vitest';
import type { InteractionData } from '../../src/data/interactions.js';
import { topK } from '../../src/kernels/topk.js';
import { DotTopKIndex } from '../../src/kernels/wasm/topk-dot.js';
import type { Artifact, SavableRecommender } from '../../src/models/artifact.js';
import { BatchRecommender, batchRecommend, dotProductArrays, kernelMatches } from '../../src/models/batch.js';
import { ItemKnnModel } from '../../src/models/knn/item-knn.js';
import { UserKnnModel } from '../../src/models/knn/user-knn.js';
import type { ModelInfo, ScoringContext, TopK } from '../../src/models/model.js';
import { recommendTopK, trainingContext } from '../../src/models/recommend.js';
import { randomData } from './knn/helpers.js';

/** A plain dot-product model: score(i) = b_i + p_u · q_i (not registered: the kernel needs no rebuild). */
class DotModel implements SavableRecommender {
  readonly info: ModelInfo;
  constructor(
    readonly itemIds: readonly string[],
    readonly users: number,
    readonly factors: number,
    readonly userFactors: Float32Array,
    readonly itemFactors: Float32Array,
    readonly itemBias: Float32Array,
    /** Added to every score but the first item's: makes the model disagree with the kernel. */
    readonly skew = 0,
  ) {
    this.info = {
      name: 'dot',
      params: {},
      trainedAt: 0,
      users,
      items: itemIds.length,
      interactions: 0,
      fitSeconds: 0,
    };
  }

  score(ctx: ScoringContext, out: Float32Array): void {
    const k = this.factors;
    const u = ctx.userIndex;
    for (let i = 0; i < this.itemIds.length; i++) {
      let s = this.itemBias[i];
      for (let f = 0; f < k; f++) s += this.userFactors[u * k + f] * this.itemFactors[i * k + f];
      out[i] = s + (i > 0 ? this.skew : 0);
    }
  }

  similarItems(): TopK | null {
    return null;
  }

  toArtifact(): Artifact {
    return {
      header: { info: this.info, itemIds: this.itemIds },
      arrays: { userFactors: this.userFactors, itemFactors: this.itemFactors, itemBias: this.itemBias },
    };
  }
}

function dotModel(data: InteractionData, factors: number, seed: number, skew = 0): DotModel {
  let s = seed;
  const rnd = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296 - 0.5;
  const users = data.users.size;
  const items = data.items.size;
  return new DotModel(
    data.items.ids,
    users,
    factors,
    Float32Array.from({ length: users * factors }, rnd),
    Float32Array.from({ length: items * factors }, rnd),
    Float32Array.from({ length: items }, () => rnd() * 0.1),
    skew,
  );
}

function excludeRow(data: InteractionData, u: number): Uint8Array {
  const mask = new Uint8Array(data.items.size);
  for (const i of trainingContext(data, u).history) mask[i] = 1;
  return mask;
}

const data = randomData(21, 500, 300, 12_000);

describe('BatchRecommender on worker threads (model kernel)', () => {
  it('equals recommendTopK for every user, for kNN models, with and without seen items', async () => {
    const users = Int32Array.from([
      5,
      0,
      499,
      17,
      5,
      250,
      ...Array.from({ length: 200 }, (_, j) => (j * 7) % 500),
    ]);
    const models = [ItemKnnModel.fit(data, { k: 30, similarity: 'bm25' }), UserKnnModel.fit(data, { k: 20 })];
    for (const [m, model] of models.entries()) {
      // Two workers split the users for the first model; one is enough for the second.
      const pool = await BatchRecommender.start(model, data, { threads: 2 - m });
      try {
        expect(pool.kernel).toBe('js');
        for (const excludeSeen of [true, false]) {
          const r = await pool.recommend(users, 10, { excludeSeen });
          for (let j = 0; j < users.length; j++) {
            const u = users[j];
            const want = recommendTopK(model, trainingContext(data, u), 10, {
              exclude: excludeSeen ? excludeRow(data, u) : null,
            });
            const n = r.counts[j];
            expect(n).toBe(want.indices.length);
            expect(r.indices.subarray(j * 10, j * 10 + n)).toEqual(want.indices);
            expect(r.scores.subarray(j * 10, j * 10 + n)).toEqual(want.scores);
            if (n < 10) expect(r.indices[j * 10 + n]).toBe(-1);
          }
        }
        const one = pool.recommendOne(17, 5);
        expect(one).toEqual(
          recommendTopK(model, trainingContext(data, 17), 5, { exclude: excludeRow(data, 17) }),
        );
      } finally {
        await pool.close();
      }
    }
  });

  it('rejects users outside the data and requests after close', async () => {
    const model = ItemKnnModel.fit(data, { k: 10 });
    const pool = await BatchRecommender.start(model, data, { threads: 1 });
    await expect(pool.recommend(Int32Array.from([500]), 5)).rejects.toThrow(/outside/);
    await pool.close();
    await expect(pool.recommend(Int32Array.from([1]), 5)).rejects.toThrow(/closed/);
  });
});

describe('BatchRecommender with the SIMD dot-product kernel', () => {
  const model = dotModel(data, 24, 3);

  it('recognises dot-product artifacts and checks that the kernel reproduces the model', () => {
    const dot = dotProductArrays(model.toArtifact(), data.users.size);
    expect(dot?.factors).toBe(24);
    expect(dotProductArrays(ItemKnnModel.fit(data).toArtifact(), data.users.size)).toBeNull();
    if (!dot) return;
    const searcher = DotTopKIndex.create(dot.itemFactors, data.items.size, 24, {
      bias: dot.itemBias,
    }).searcher();
    expect(kernelMatches(model, data, dot, searcher)).toBe(true);
    expect(kernelMatches(dotModel(data, 24, 3, 0.01), data, dot, searcher)).toBe(false);
  });

  it('agrees with recommendTopK up to float32 rounding, for all users', async () => {
    const users = Int32Array.from({ length: data.users.size }, (_, u) => u);
    const r = await batchRecommend(model, data, users, 10, { threads: 2, kernel: 'auto' });
    expect(r.kernel).toBe('wasm');
    let exact = 0;
    for (let u = 0; u < users.length; u++) {
      const want = recommendTopK(model, trainingContext(data, u), 10, { exclude: excludeRow(data, u) });
      expect(r.counts[u]).toBe(10);
      const got = Array.from(r.indices.subarray(u * 10, u * 10 + 10));
      for (let p = 0; p < 10; p++) expect(r.scores[u * 10 + p]).toBeCloseTo(want.scores[p], 5);
      if (got.join() === Array.from(want.indices).join()) exact++;
      else {
        // Only near-ties may swap.
        const gaps = Array.from(want.scores).map((s, p) => (p > 0 ? want.scores[p - 1] - s : 1));
        expect(Math.min(...gaps)).toBeLessThan(1e-5);
      }
    }
    expect(exact).toBeGreaterThan(users.length * 0.98);
  });

  it('skips seen items inside the kernel and serves single users the same way', async () => {
    const pool = await BatchRecommender.start(model, data, { threads: 1, kernel: 'wasm' });
    try {
      const users = Int32Array.from([3, 4, 3, 100]);
      const r = await pool.recommend(users, 300);
      for (let j = 0; j < users.length; j++) {
        const seen = new Set(trainingContext(data, users[j]).history);
        // All unseen items come back, ranked by score, and no seen item does.
        expect(r.counts[j]).toBe(data.items.size - seen.size);
        const got = Array.from(r.indices.subarray(j * 300, j * 300 + r.counts[j]));
        expect(got.some((i) => seen.has(i))).toBe(false);
        const sc = r.scores.subarray(j * 300, j * 300 + r.counts[j]);
        for (let p = 1; p < sc.length; p++) expect(sc[p]).toBeLessThanOrEqual(sc[p - 1]);
        const one = pool.recommendOne(users[j], 300);
        expect(Array.from(one.indices)).toEqual(got);
      }
      const all = await pool.recommend(Int32Array.from([3]), 10, { excludeSeen: false });
      expect(all.indices.subarray(0, 10)).toEqual(recommendTopK(model, trainingContext(data, 3), 10).indices);
    } finally {
      await pool.close();
    }
  });
});

describe('DotTopKIndex (WebAssembly SIMD top-K)', () => {
  const items = 3001;
  const factors = 19;
  let s = 99;
  const rnd = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296 - 0.5;
  // Item norms spread over a wide range, as trained factors have.
  const Q = Float32Array.from(
    { length: items * factors },
    (_, j) => rnd() * (0.1 + 3 * ((j / factors) % 7) ** 2),
  );
  const X = Float32Array.from({ length: 40 * factors }, rnd);
  const bias = Float32Array.from({ length: items }, () => rnd() * 2);

  /** Reference: every score from the kernel itself, then the plain heap selection. */
  function reference(index: DotTopKIndex, u: number, k: number, seen: Int32Array): ReturnType<typeof topK> {
    const all = new Float32Array(items);
    index.searcher().scoreAll(X, u * factors, all);
    const mask = new Uint8Array(items);
    for (const i of seen) mask[i] = 1;
    return topK(all, k, mask);
  }

  it('scores b_i + x·q_i in float32 and selects exactly the plain heap top-k, with or without quantisation', () => {
    const exact = new Float32Array(items);
    for (const withBias of [false, true]) {
      for (const options of [{ quantised: true }, { quantised: false }, { quantised: true, candidates: 3 }]) {
        const index = DotTopKIndex.create(Q, items, factors, {
          ...options,
          bias: withBias ? bias : null,
          maxK: items,
        });
        const searcher = index.searcher();
        searcher.scoreAll(X, 0, exact);
        let want = withBias ? bias[5] : 0;
        for (let f = 0; f < factors; f++) want = Math.fround(want + Math.fround(X[f] * Q[5 * factors + f]));
        expect(exact[5]).toBe(want);
        const outIndex = new Int32Array(items);
        const outScore = new Float32Array(items);
        for (let u = 0; u < 40; u++) {
          const seen = Int32Array.from(
            new Set(Array.from({ length: 30 }, () => Math.floor((rnd() + 0.5) * items))),
          ).sort();
          const k = [1, 10, 64, items][u % 4];
          const n = searcher.topK(X, u * factors, k, seen, 0, seen.length, outIndex, outScore, 0);
          const ref = reference(index, u, k, seen);
          expect(n).toBe(ref.indices.length);
          expect(outIndex.subarray(0, n)).toEqual(ref.indices);
          expect(outScore.subarray(0, n)).toEqual(ref.scores);
        }
      }
    }
  });

  it.each([
    ['quantised', {}],
    ['quantised, falling back', { candidates: 3 }],
    ['float32', { quantised: false }],
  ])('gives many users at once the same lists as one by one (%s)', (_, options) => {
    const index = DotTopKIndex.create(Q, items, factors, { bias, group: 8, ...options });
    const searcher = index.searcher();
    const n = 21;
    const offsets = Int32Array.from({ length: n }, (_, j) => ((j * 7) % 40) * factors);
    const from = new Int32Array(n);
    const to = new Int32Array(n);
    const seen = Int32Array.from({ length: n * 3 }, (_, j) => Math.floor(j / 3) * 11 + (j % 3) * 500);
    for (let j = 0; j < n; j++) {
      from[j] = 3 * j;
      to[j] = 3 * j + 3;
    }
    const idx = new Int32Array(n * 10);
    const sc = new Float32Array(n * 10);
    const counts = new Int32Array(n);
    searcher.topKMany(X, offsets, 0, n, 10, seen, from, to, idx, sc, counts);
    const oneIdx = new Int32Array(10);
    const oneSc = new Float32Array(10);
    for (let j = 0; j < n; j++) {
      expect(counts[j]).toBe(10);
      searcher.topK(X, offsets[j], 10, seen, from[j], to[j], oneIdx, oneSc);
      expect(idx.subarray(j * 10, j * 10 + 10)).toEqual(oneIdx);
      expect(sc.subarray(j * 10, j * 10 + 10)).toEqual(oneSc);
      const ref = reference(index, offsets[j] / factors, 10, seen.subarray(from[j], to[j]));
      expect(oneIdx).toEqual(ref.indices);
    }
  });
});
