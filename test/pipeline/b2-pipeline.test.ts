/**
 * Protocol B2 (MovieLens 100K u1, top-10) through the full home pipeline: every candidate
 * source, the filters and the blend ranker, against the primary model alone.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { interactionsFromArrays } from '../../src/data/interactions.js';
import { DEFAULT_EVENT_TYPES, type EventType, type Item } from '../../src/domain/types.js';
import { rankingMetrics } from '../../src/eval/metrics.js';
import { readRatingFile } from '../../src/eval/rating-file.js';
import { evaluateTopK } from '../../src/eval/topk-protocol.js';
import type { Recommender } from '../../src/models/model.js';
import { createModel } from '../../src/models/registry.js';
import { buildCatalog } from '../../src/pipeline/catalog.js';
import { buildPipelines } from '../../src/pipeline/placements.js';
import { requestContext } from '../../src/pipeline/request-context.js';
import type { HistoryEntry } from '../../src/store/store.js';

const ML = path.resolve('../shared/data/ml-100k');
const present = existsSync(path.join(ML, 'u1.base'));
if (!present) console.warn(`skipping the B2 pipeline check: ${ML} is absent`);

describe.skipIf(!present)('home pipeline on ML-100K u1 (protocol B2)', () => {
  it('loses no more than 2% NDCG@10 against its primary model alone', async () => {
    const base = readRatingFile(path.join(ML, 'u1.base'));
    const test = readRatingFile(path.join(ML, 'u1.test'));
    const ids = readFileSync(path.join(ML, 'u.item'), 'latin1')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('|')[0]);
    const data = interactionsFromArrays({
      userIds: base.users,
      itemIds: base.items,
      strengths: base.ratings,
      timestamps: base.timestamps,
      catalog: ids,
    });
    const models = new Map<string, Recommender>();
    for (const [name, params] of [
      ['ease', { lambda: 400 }],
      ['item-knn', { similarity: 'bm25', k: 400 }],
      ['popularity', {}],
      ['trending', {}],
      ['assoc', {}],
    ] as const)
      models.set(name, await createModel(name, params).fit(data));
    const alone = evaluateTopK(models.get('ease')!, data, test, { k: 10, threshold: 4 });

    const items: Item[] = ids.map((id) => ({
      id,
      title: id,
      text: null,
      categories: [],
      tags: [],
      attributes: {},
      available: true,
      publishedAt: 0,
      createdAt: 0,
      updatedAt: 0,
    }));
    const catalog = buildCatalog(ids, items);
    const now = (data.lastEventTime ?? 0) + 1;
    const pipeline = buildPipelines({ catalog, models, now }).get('home')!;
    const types = new Map<string, EventType>(DEFAULT_EVENT_TYPES.map((t) => [t.name, t]));

    const history = new Map<string, HistoryEntry[]>();
    for (let i = 0; i < base.length; i++) {
      const list = history.get(base.users[i]) ?? [];
      list.push({
        itemId: base.items[i],
        type: 'rating',
        value: base.ratings[i],
        timestamp: base.timestamps[i],
      });
      history.set(base.users[i], list);
    }
    const relevant = new Map<string, Set<number>>();
    for (let i = 0; i < test.length; i++) {
      if (test.ratings[i] < 4) continue;
      const set = relevant.get(test.users[i]) ?? new Set<number>();
      set.add(catalog.indexOf.get(test.items[i]) ?? -1 - i);
      relevant.set(test.users[i], set);
    }
    let ndcg = 0;
    let precision = 0;
    for (const [user, rel] of relevant) {
      const h = (history.get(user) ?? []).sort((a, b) => b.timestamp - a.timestamp);
      const ctx = requestContext(catalog, h, types, {
        userId: user,
        userIndex: data.users.index(user),
        placement: 'home',
        k: 10,
        now,
      });
      const top = pipeline.run(ctx).items.map((it) => it.item);
      const m = rankingMetrics(top, rel, 10);
      ndcg += m.ndcg;
      precision += m.precision;
    }
    ndcg /= relevant.size;
    precision /= relevant.size;
    console.log(
      `B2 NDCG@10: ease alone ${alone.ndcg.toFixed(4)}, home pipeline ${ndcg.toFixed(4)}; ` +
        `P@10 ${alone.precision.toFixed(4)} vs ${precision.toFixed(4)}`,
    );
    expect(relevant.size).toBe(alone.users);
    expect(ndcg).toBeGreaterThanOrEqual(alone.ndcg * 0.98);
  });
});
