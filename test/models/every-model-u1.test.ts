/**
 * Every registered model ranks clearly better than popularity on MovieLens 100K u1 (protocol B2:
 * top-10 of the items outside the user's u1.base history, relevant = u1.test rating >= 4).
 *
 * Exceptions: popularity itself and trending (not personalised, and u1 has no recency signal),
 * and `baseline`, whose ranking is the same for every user by construction (μ + b_u + b_i): it
 * ranks by its popularity-aware item biases and is held to matching popularity instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { interactionsFromArrays, type InteractionData } from '../../src/data/interactions.js';
import { readRatingFile, type RatingRows } from '../../src/eval/rating-file.js';
import { evaluateTopK } from '../../src/eval/topk-protocol.js';
import type { Params } from '../../src/models/params.js';
import { attachItemContent } from '../../src/models/content/item-content.js';
import { ML100K_GENRES } from '../../src/models/hybrid/movielens-features.js';
import { createModel, modelNames } from '../../src/models/registry.js';

const ML = path.resolve('../shared/data/ml-100k');
const available = existsSync(path.join(ML, 'u1.base')) && existsSync(path.join(ML, 'u.item'));
if (!available) console.warn(`MovieLens 100K not found at ${ML}: skipping the every-model B2 test`);

/** Clear margin over popularity, in NDCG@10 and in P@10. */
const MARGIN = 0.05;
const NOT_PERSONALISED = new Set(['popularity', 'trending', 'baseline']);

/** Lighter settings where the defaults take long; they still have to beat popularity. */
const FAST: Record<string, Params> = {
  'rating-blend': { folds: 1 },
};

describe.skipIf(!available)('every model on MovieLens 100K u1 (B2)', () => {
  let setup: { data: InteractionData; train: RatingRows; test: RatingRows } | null = null;
  const load = () => {
    if (setup) return setup;
    const train = readRatingFile(path.join(ML, 'u1.base'));
    const test = readRatingFile(path.join(ML, 'u1.test'));
    const lines = readFileSync(path.join(ML, 'u.item'), 'latin1').split('\n').filter(Boolean);
    const catalog = lines.map((l) => l.split('|')[0]);
    const data = interactionsFromArrays({
      userIds: train.users,
      itemIds: train.items,
      strengths: train.ratings,
      timestamps: train.timestamps,
      catalog,
    });
    // The content model reads item metadata: titles and genres (the last 19 fields are genre flags).
    attachItemContent(
      data,
      lines.map((l) => {
        const f = l.split('|');
        return { title: f[1], categories: ML100K_GENRES.filter((_, g) => f[5 + g] === '1') };
      }),
    );
    setup = { data, train, test };
    return setup;
  };
  const measure = async (name: string) => {
    const { data, train, test } = load();
    const model = await createModel(name, FAST[name] ?? {}).fit(data);
    return evaluateTopK(model, data, test, { k: 10, threshold: 4, seen: train });
  };

  it('beats popularity by a clear margin with every personalised model', async () => {
    const pop = await measure('popularity');
    expect(pop.users).toBe(456);
    const failures: string[] = [];
    for (const name of modelNames()) {
      if (NOT_PERSONALISED.has(name)) continue;
      const r = await measure(name);
      if (!(r.ndcg >= pop.ndcg + MARGIN && r.precision >= pop.precision + MARGIN)) {
        failures.push(`${name}: NDCG@10 ${r.ndcg.toFixed(4)}, P@10 ${r.precision.toFixed(4)}`);
      }
    }
    expect(failures, `popularity NDCG@10 ${pop.ndcg.toFixed(4)}, P@10 ${pop.precision.toFixed(4)}`).toEqual(
      [],
    );
  }, 120_000);

  it('ranks with the baseline at least as well as popularity (its documented exception)', async () => {
    const pop = await measure('popularity');
    const base = await measure('baseline');
    expect(base.ndcg).toBeGreaterThanOrEqual(pop.ndcg - 0.005);
    expect(base.precision).toBeGreaterThanOrEqual(pop.precision - 0.005);
  });
});
