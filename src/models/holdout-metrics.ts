/**
 * Offline metrics recorded with a trained version: the model is fitted once more without each
 * user's latest interaction and scored on those held-out interactions (leave-last-one-out over
 * users with at least `minHistory` interactions). Costs a second fit, so training asks for it.
 */
import { interactionsFromArrays, type InteractionData } from '../data/interactions.js';
import { evaluateRanking } from '../eval/ranking-eval.js';
import type { RatingRows } from '../eval/rating-file.js';
import { selectRows } from '../eval/rating-file.js';
import { splitRows } from '../eval/splits.js';
import type { ModelTrainer } from './registry.js';

/** The training events as rows with external ids. */
export function rowsOf(data: InteractionData): RatingRows {
  const ev = data.events;
  const users = new Array<string>(ev.length);
  const items = new Array<string>(ev.length);
  for (let e = 0; e < ev.length; e++) {
    users[e] = data.users.ids[ev.user[e]];
    items[e] = data.items.ids[ev.item[e]];
  }
  return {
    users,
    items,
    ratings: ev.strength.slice(0, ev.length),
    timestamps: ev.time.slice(0, ev.length),
    length: ev.length,
  };
}

/** NDCG@10, P@10, Recall@10 and hit rate@10 on each user's latest interaction. */
export async function holdoutMetrics(
  trainer: ModelTrainer,
  data: InteractionData,
): Promise<Record<string, number>> {
  const rows = rowsOf(data);
  if (rows.length < 2) return {};
  const [fold] = splitRows(rows, { kind: 'leave-one-out', by: 'last' });
  if (fold.test.length === 0) return {};
  const train = selectRows(rows, fold.train);
  const test = selectRows(rows, fold.test);
  const part = interactionsFromArrays({
    userIds: train.users,
    itemIds: train.items,
    strengths: train.ratings,
    timestamps: train.timestamps,
    catalog: data.items.ids,
  });
  const model = await trainer.fit(part);
  const r = evaluateRanking(model, part, test, { ks: [10], threshold: 0 });
  const m = r.means.atK;
  return {
    'ndcg@10': m.ndcg['10'],
    'precision@10': m.precision['10'],
    'recall@10': m.recall['10'],
    'hitRate@10': m.hitRate['10'],
    holdoutUsers: r.users.length,
  };
}
