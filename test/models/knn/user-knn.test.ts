import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { interactionsFromArrays } from '../../../src/data/interactions.js';
import { readRatingFile } from '../../../src/eval/rating-file.js';
import { evaluateTopK } from '../../../src/eval/topk-protocol.js';
import { ItemKnnModel } from '../../../src/models/knn/item-knn.js';
import { UserKnnModel } from '../../../src/models/knn/user-knn.js';
import { hasUserSimilarity } from '../../../src/models/model.js';
import type { Params } from '../../../src/models/params.js';
import { PopularityModel } from '../../../src/models/popularity/popularity.js';
import { trainingContext } from '../../../src/models/recommend.js';
import { modelFromArtifact } from '../../../src/models/registry.js';
import { ctx, list, randomData, roundTrip, toyData } from './helpers.js';

/**
 * Toy rows (./helpers.ts), identity weighting: u0 = (1,1,0,0,0), u1 = (1,0,1,0,0),
 * u2 = (0,1,1,3,0), u3 = (2,0,0,1,0); |u0| = |u1| = √2, |u2| = √11, |u3| = √5.
 *
 *   cos(u0,u1) = 1/2, cos(u0,u2) = 1/√22, cos(u0,u3) = 2/√10,
 *   cos(u1,u2) = 1/√22, cos(u1,u3) = 2/√10, cos(u2,u3) = 3/√55.
 */
const data = toyData();
const C01 = 0.5;
const C02 = 1 / Math.sqrt(22);
const C03 = 2 / Math.sqrt(10);
const C23 = 3 / Math.sqrt(55);

describe('UserKnnModel', () => {
  const model = UserKnnModel.fit(data, { weighting: 'identity', shrink: 0, k: 2 });

  it('keeps the k most cosine-similar users, best first', () => {
    expect(hasUserSimilarity(model)).toBe(true);
    expect(model.userIds).toEqual(['u0', 'u1', 'u2', 'u3']);
    const u0 = list(model.similarUsers(0, 10));
    expect(u0.idx).toEqual([3, 1]);
    expect(u0.sim[0]).toBeCloseTo(C03, 6);
    expect(u0.sim[1]).toBeCloseTo(C01, 6);
    const u2 = list(model.similarUsers(2, 10));
    expect(u2.idx).toEqual([3, 0]); // 3/√55 > 1/√22 = cos(u2,u1), tie to the lower index
    expect(u2.sim).toEqual([Math.fround(C23), Math.fround(C02)]);
    expect(list(model.similarUsers(0, 1)).idx).toEqual([3]);
    expect(model.similarUsers(4, 3)).toBeNull();
  });

  it('scores Σ sim(u,v) over the neighbours v holding the item', () => {
    const out = new Float32Array(5);
    model.score(ctx([], [], 0), out);
    // Neighbours of u0: u3 (i0, i3) and u1 (i0, i2).
    expect(out[0]).toBeCloseTo(C03 + C01, 6);
    expect(out[2]).toBeCloseTo(C01, 6);
    expect(out[3]).toBeCloseTo(C03, 6);
    expect(out[1]).toBe(-Infinity);
    expect(out[4]).toBe(-Infinity);
    const weighted = UserKnnModel.fit(data, {
      weighting: 'identity',
      shrink: 0,
      k: 2,
      neighbourWeighting: 'linear',
    });
    weighted.score(ctx([], [], 0), out);
    expect(out[0]).toBeCloseTo(2 * C03 + C01, 6); // u3 holds i0 with strength 2
  });

  it('folds in a new user from their history', () => {
    const out = new Float32Array(5);
    // The history of u0 matches u0 itself best, then u3 (2/√10).
    model.score(ctx([0, 1], [1, 1]), out);
    expect(out[1]).toBeCloseTo(1, 6); // only u0 holds i1
    expect(out[0]).toBeCloseTo(1 + C03, 6);
    const near = model.neighboursFromHistory(Int32Array.from([0, 1]), Float32Array.from([1, 1]), 5, 0);
    expect(Array.from(near.indices)).toEqual([3, 1, 2]);
  });

  it('reproduces the stored neighbours of training users by fold-in, bitwise, for every measure', () => {
    const big = randomData(5, 400, 250, 8000);
    for (const similarity of ['cosine', 'jaccard', 'tfidf', 'bm25']) {
      for (const extra of [{}, { alpha: 0.7, exponent: 2, shrink: 3 }] as Params[]) {
        const m = UserKnnModel.fit(big, { similarity, k: 25, ...extra });
        for (const u of [0, 7, 99, 250]) {
          const c = trainingContext(big, u);
          const folded = m.neighboursFromHistory(c.history, c.historyWeights, 25, u);
          const stored = m.similarUsers(u, 25);
          expect(folded.indices, `${similarity} user ${u}`).toEqual(stored?.indices);
          expect(folded.scores, `${similarity} user ${u}`).toEqual(stored?.scores);
        }
      }
    }
  });

  it('scores bitwise identically after save and load, known and new users alike', () => {
    const big = randomData(8, 300, 200, 6000);
    for (const similarity of ['cosine', 'bm25']) {
      const m = UserKnnModel.fit(big, { similarity, k: 20, neighbourWeighting: 'log1p' });
      const loaded = modelFromArtifact(roundTrip(m.toArtifact()));
      expect(loaded.info).toEqual(m.info);
      const a = new Float32Array(big.items.size);
      const b = new Float32Array(big.items.size);
      for (const u of [0, 3, 150]) {
        for (const c of [trainingContext(big, u), { ...trainingContext(big, u), userIndex: -1 }]) {
          m.score(c, a);
          loaded.score(c, b);
          expect(b).toEqual(a);
        }
      }
      expect(hasUserSimilarity(loaded) && loaded.similarUsers(4, 5)).toEqual(m.similarUsers(4, 5));
    }
  });

  it('builds the same neighbours on worker threads', async () => {
    const big = randomData(13, 700, 300, 14_000);
    const single = UserKnnModel.fit(big, { similarity: 'jaccard', k: 10 });
    const parallel = await UserKnnModel.fitAsync(big, { similarity: 'jaccard', k: 10, threads: 2 });
    for (const u of [0, 1, 350, 699])
      expect(parallel.similarUsers(u, 10)).toEqual(single.similarUsers(u, 10));
  });

  it('rejects bad parameters', () => {
    expect(() => UserKnnModel.fit(data, { k: 0 })).toThrow(/'k'/);
    expect(() => UserKnnModel.fit(data, { neighbourWeighting: 'square' })).toThrow(/neighbourWeighting/);
    expect(() => UserKnnModel.fit(data, { neighbours: 3 })).toThrow(/unknown parameter/);
  });
});

const ML = path.resolve('../shared/data/ml-100k');
const available = existsSync(path.join(ML, 'u1.base'));
if (!available) console.warn(`MovieLens 100K not found at ${ML}: skipping the kNN ranking-quality test`);

describe.skipIf(!available)('kNN on MovieLens 100K, split u1 (protocol B2)', () => {
  it('user-kNN and BM25 item-kNN beat popularity clearly and reach the peers', async () => {
    const base = readRatingFile(path.join(ML, 'u1.base'));
    const test = readRatingFile(path.join(ML, 'u1.test'));
    const catalog = readFileSync(path.join(ML, 'u.item'), 'latin1')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('|')[0]);
    const data = interactionsFromArrays({
      userIds: base.users,
      itemIds: base.items,
      strengths: base.ratings,
      catalog,
    });
    const ndcg = (m: Parameters<typeof evaluateTopK>[0]): number =>
      evaluateTopK(m, data, test, { seen: base }).ndcg;
    const popularity = ndcg(PopularityModel.fit(data));
    const bm25 = ndcg(ItemKnnModel.fit(data, { similarity: 'bm25', k: 100 }));
    const users = ndcg(UserKnnModel.fit(data));
    console.log(
      `B2 NDCG@10: popularity ${popularity.toFixed(4)}, item-knn bm25 ${bm25.toFixed(4)}, user-knn ${users.toFixed(4)}`,
    );
    // Peers: implicit cosine item-kNN 0.3616, BM25 item-kNN 0.3601 (all ratings).
    expect(bm25).toBeGreaterThan(0.37);
    expect(users).toBeGreaterThan(0.37);
    expect(bm25).toBeGreaterThan(popularity + 0.1);
    expect(users).toBeGreaterThan(popularity + 0.1);
  });
});
