import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { interactionsFromArrays } from '../../../src/data/interactions.js';
import { readRatingFile, selectRows } from '../../../src/eval/rating-file.js';
import { evaluateTopK } from '../../../src/eval/topk-protocol.js';
import { buildFeatures } from '../../../src/models/hybrid/features.js';
import { HybridModel } from '../../../src/models/hybrid/hybrid.js';
import { movieLabels, userLabels } from '../../../src/models/hybrid/movielens-features.js';
import { PopularityModel } from '../../../src/models/popularity/popularity.js';

const ML = path.resolve('../shared/data/ml-100k');
const C2 = path.resolve('../shared/data/coldstart/ml-100k/C2');
const available = existsSync(path.join(C2, 'train.tsv')) && existsSync(path.join(ML, 'u.item'));
if (!available) console.warn(`MovieLens 100K C2 split not found at ${C2}: skipping the cold-user test`);

describe.skipIf(!available)('hybrid on C2 cold users (ml-100k, three onboarding ratings)', () => {
  it('ranks better than popularity', async () => {
    const train = readRatingFile(path.join(C2, 'train.tsv'));
    const cold = new Set(
      readFileSync(path.join(C2, 'cold_users.txt'), 'utf8').split(/\r?\n/).filter(Boolean),
    );
    const all = readRatingFile(path.join(C2, 'test.tsv'));
    const test = selectRows(
      all,
      all.users.reduce<number[]>((a, u, i) => (cold.has(u) ? (a.push(i), a) : a), []),
    );
    const items = movieLabels(ML);
    const users = userLabels(ML);
    const data = interactionsFromArrays({
      userIds: train.users,
      itemIds: train.items,
      strengths: train.ratings,
      catalog: [...items.keys()],
    });
    const features = {
      items: buildFeatures(data.items.size, (i) => items.get(data.items.id(i)) ?? []),
      users: buildFeatures(data.users.size, (u) => users.get(data.users.id(u)) ?? []),
    };
    const protocol = { k: 10, threshold: 4, seen: train };
    const popularity = evaluateTopK(PopularityModel.fit(data, { mode: 'users' }), data, test, protocol);
    // blend settings as chosen on the validation carve, without the collaborative part (cold users only)
    const model = await HybridModel.fitWithFeatures(data, { cf: 'none', shrinkage: 1 }, features);
    const hybrid = evaluateTopK(model, data, test, protocol);
    expect(hybrid.users).toBe(popularity.users);
    expect(popularity.ndcg).toBeGreaterThan(0.3);
    expect(hybrid.ndcg).toBeGreaterThan(popularity.ndcg + 0.01);
  }, 120_000);
});
