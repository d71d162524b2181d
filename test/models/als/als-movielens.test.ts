import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { interactionsFromArrays } from '../../../src/data/interactions.js';
import { readRatingFile } from '../../../src/eval/rating-file.js';
import { evaluateTopK } from '../../../src/eval/topk-protocol.js';
import { AlsModel } from '../../../src/models/als/als.js';
import { PopularityModel } from '../../../src/models/popularity/popularity.js';

const ML = path.resolve('../shared/data/ml-100k');
const available = existsSync(path.join(ML, 'u1.base')) && existsSync(path.join(ML, 'u1.test'));
if (!available) console.warn(`MovieLens 100K not found at ${ML}: skipping the ALS ranking-quality test`);

describe.skipIf(!available)('ALS on MovieLens 100K, split u1 (protocol B2)', () => {
  it('beats popularity on NDCG@10 by a clear margin', async () => {
    const base = readRatingFile(path.join(ML, 'u1.base'));
    const test = readRatingFile(path.join(ML, 'u1.test'));
    const data = interactionsFromArrays({
      userIds: base.users,
      itemIds: base.items,
      strengths: base.ratings,
    });
    const protocol = { k: 10, threshold: 4, seen: base };
    const popularity = evaluateTopK(PopularityModel.fit(data), data, test, protocol);
    const als = evaluateTopK(await AlsModel.fit(data), data, test, protocol);
    // Popularity reaches about 0.25; ALS with its defaults about 0.4.
    expect(als.ndcg).toBeGreaterThan(popularity.ndcg + 0.08);
    expect(als.precision).toBeGreaterThan(popularity.precision + 0.05);
  });
});
