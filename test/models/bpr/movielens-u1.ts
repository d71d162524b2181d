/** MovieLens 100K split u1 for the ranking-loss model tests (absent data: `null`, with a warning). */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { interactionsFromArrays, type InteractionData } from '../../../src/data/interactions.js';
import { readRatingFile, type RatingRows } from '../../../src/eval/rating-file.js';
import { evaluateTopK } from '../../../src/eval/topk-protocol.js';
import { topK } from '../../../src/kernels/topk.js';
import type { Recommender } from '../../../src/models/model.js';
import { trainingContext } from '../../../src/models/recommend.js';

const ML = path.resolve('../shared/data/ml-100k');

export interface U1 {
  data: InteractionData;
  base: RatingRows;
  test: RatingRows;
}

let cached: U1 | null | undefined;

/** u1.base as implicit data (ratings as strengths) and u1.test; null when the files are absent. */
export function loadU1(): U1 | null {
  if (cached !== undefined) return cached;
  if (!existsSync(path.join(ML, 'u1.base')) || !existsSync(path.join(ML, 'u1.test'))) {
    console.warn(`MovieLens 100K not found at ${ML}: skipping the ranking-quality tests`);
    cached = null;
    return null;
  }
  const base = readRatingFile(path.join(ML, 'u1.base'));
  const test = readRatingFile(path.join(ML, 'u1.test'));
  const data = interactionsFromArrays({
    userIds: base.users,
    itemIds: base.items,
    strengths: base.ratings,
    catalog: [...new Set([...base.items, ...test.items])],
  });
  cached = { data, base, test };
  return cached;
}

/** NDCG@10 of protocol B2 (relevant: u1.test rating >= 4; u1.base items excluded). */
export function ndcgU1(model: Recommender, u1: U1): number {
  return evaluateTopK(model, u1.data, u1.test, { k: 10, threshold: 4, seen: u1.base }).ndcg;
}

/**
 * Mean overlap between the top 10 of a training user scored with their fitted vector and with
 * the fold-in of their history (history items excluded from both), over `users` spread users.
 */
export function foldInOverlap(model: Recommender, data: InteractionData, users: number): number {
  const n = data.items.size;
  const fitted = new Float32Array(n);
  const folded = new Float32Array(n);
  const mask = new Uint8Array(n);
  const step = Math.floor(data.users.size / users);
  let overlap = 0;
  for (let r = 0; r < users; r++) {
    const ctx = trainingContext(data, r * step);
    model.score(ctx, fitted);
    model.score({ ...ctx, userIndex: -1 }, folded);
    mask.fill(0);
    for (const h of ctx.history) mask[h] = 1;
    const a = new Set(topK(fitted, 10, mask).indices);
    for (const i of topK(folded, 10, mask).indices) if (a.has(i)) overlap++;
  }
  return overlap / users;
}
