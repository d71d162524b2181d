import type { InteractionData } from '../data/interactions.js';
import type { Recommender } from '../models/model.js';
import { recommendTopK, trainingContext } from '../models/recommend.js';
import { meanMetrics, rankingMetrics, type RankingMetrics } from './metrics.js';
import type { RatingRows } from './rating-file.js';

export interface TopKProtocol {
  /** List length (default 10). */
  k?: number;
  /** A test row is relevant when its rating is at least this (default 4; 0 counts every row). */
  threshold?: number;
  /** Rows whose items are excluded too (e.g. every training rating when only some were trained on). */
  seen?: RatingRows;
}

export interface TopKResult extends RankingMetrics {
  /** Users with at least one relevant test item, over whom the means are taken. */
  users: number;
}

/**
 * Protocol B2 of the benchmarks: for each user with a relevant test item, rank every item not in
 * the user's training history, keep the top K, and average the metrics. Relevant test items the
 * model has never seen still count in recall and the ideal DCG (they can only be missed).
 */
export function evaluateTopK(
  model: Recommender,
  data: InteractionData,
  test: RatingRows,
  protocol: TopKProtocol = {},
): TopKResult {
  const k = protocol.k ?? 10;
  const threshold = protocol.threshold ?? 4;
  const relevant = new Map<string, Set<number>>();
  let unseen = -1;
  for (let i = 0; i < test.length; i++) {
    if (test.ratings[i] < threshold) continue;
    const item = data.items.index(test.items[i]);
    const set = relevant.get(test.users[i]) ?? new Set<number>();
    set.add(item >= 0 ? item : unseen--);
    relevant.set(test.users[i], set);
  }
  const seen = new Map<string, number[]>();
  if (protocol.seen) {
    const rows = protocol.seen;
    for (let i = 0; i < rows.length; i++) {
      const item = data.items.index(rows.items[i]);
      if (item < 0) continue;
      const list = seen.get(rows.users[i]);
      if (list) list.push(item);
      else seen.set(rows.users[i], [item]);
    }
  }
  const exclude = new Uint8Array(data.items.size);
  const scratch = new Float32Array(data.items.size);
  const perUser: RankingMetrics[] = [];
  const empty = { userIndex: -1, history: new Int32Array(0), historyWeights: new Float32Array(0) };
  for (const [user, rel] of relevant) {
    const u = data.users.index(user);
    const ctx = u >= 0 ? trainingContext(data, u) : empty;
    const extra = seen.get(user) ?? [];
    for (let j = 0; j < ctx.history.length; j++) exclude[ctx.history[j]] = 1;
    for (const j of extra) exclude[j] = 1;
    const top = recommendTopK(model, ctx, k, { exclude, scratch });
    for (let j = 0; j < ctx.history.length; j++) exclude[ctx.history[j]] = 0;
    for (const j of extra) exclude[j] = 0;
    perUser.push(rankingMetrics(top.indices, rel, k));
  }
  return { ...meanMetrics(perUser), users: perUser.length };
}
