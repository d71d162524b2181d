import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { interactionsFromArrays } from '../../src/data/interactions.js';
import { readRatingFile } from '../../src/eval/rating-file.js';
import { AlsModel } from '../../src/models/als/als.js';
import { ExactIndex } from '../../src/retrieval/exact-index.js';
import { HnswIndex } from '../../src/retrieval/hnsw-index.js';
import { recallAtK } from '../../src/retrieval/recall.js';

const ML = path.resolve('../shared/data/ml-100k');
const available = existsSync(path.join(ML, 'u1.base'));
if (!available)
  console.warn(`MovieLens 100K not found at ${ML}: skipping the HNSW recall test on ALS factors`);

describe.skipIf(!available)('HNSW recall on ALS factors of MovieLens 100K (u1.base)', () => {
  it('finds at least 95% of the exact top-10 for every user with the default settings', async () => {
    const base = readRatingFile(path.join(ML, 'u1.base'));
    const data = interactionsFromArrays({
      userIds: base.users,
      itemIds: base.items,
      strengths: base.ratings,
    });
    const model = await AlsModel.fit(data, { threads: 1 });
    const { arrays } = model.toArtifact();
    const items = arrays.itemFactors as Float32Array;
    const users = arrays.userFactors as Float32Array;
    const k = model.factors;
    const nItems = model.itemIds.length;
    const nUsers = model.userIds.length;
    expect(items.length).toBe(nItems * k);

    const exact = ExactIndex.build(items, nItems, k);
    const hnsw = HnswIndex.build(items, nItems, k);
    const queries = Array.from({ length: nUsers }, (_, u) => users.subarray(u * k, (u + 1) * k));
    const truth = queries.map((q) => exact.search(q, 10));
    const found = queries.map((q) => hnsw.search(q, 10));
    expect(recallAtK(truth, found, 10)).toBeGreaterThanOrEqual(0.95);

    // With each user's training items filtered out, as when serving recommendations.
    const seen = data.matrix;
    const filtered = (q: Float32Array, u: number, index: ExactIndex | HnswIndex) => {
      const own = new Set(seen.indices.subarray(seen.indptr[u], seen.indptr[u + 1]));
      return index.search(q, 10, (i) => !own.has(i));
    };
    const truthUnseen = queries.map((q, u) => filtered(q, u, exact));
    const foundUnseen = queries.map((q, u) => filtered(q, u, hnsw));
    expect(recallAtK(truthUnseen, foundUnseen, 10)).toBeGreaterThanOrEqual(0.95);
  });
});
