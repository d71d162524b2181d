/** Strong generalisation: whole users held out of training. */
import { Rng } from '../../ingest/prng.js';
import type { RatingRows } from '../rating-file.js';
import { FOLD_IN, foldFromLabels, shareOf, TEST, type Fold } from './fold.js';
import { drawToFront } from './random.js';
import type { StrongGeneralizationSplit } from './spec.js';
import { groupByUser, numberUsers } from './user-index.js';

/**
 * Draws round(users × testUsers) held-out users (at least one, and at least one user left for
 * training) among the users with two rows or more; users with a single row always stay in
 * training. Of each held-out user's m rows, round(m × foldInFraction) drawn at random (at least
 * one, at most m − 1) are fold-in history, the rest test. Training users and held-out users are
 * disjoint: no row of a held-out user is in `train`.
 */
export function strongGeneralizationFold(
  rows: RatingRows,
  spec: StrongGeneralizationSplit,
  description: string,
): Fold {
  const rng = new Rng(spec.seed as number);
  const users = numberUsers(rows);
  const g = groupByUser(users);
  const userCount = users.ids.length;
  const eligible = new Int32Array(userCount);
  let e = 0;
  for (let u = 0; u < userCount; u++) if (g.start[u + 1] - g.start[u] >= 2) eligible[e++] = u;
  const held = e === 0 ? 0 : shareOf(userCount, spec.testUsers, 1, Math.min(e, userCount - 1));
  drawToFront(eligible, 0, e, held, rng);
  const labels = new Uint8Array(rows.length);
  for (let h = 0; h < held; h++) {
    const u = eligible[h];
    const from = g.start[u];
    const to = g.start[u + 1];
    const m = to - from;
    const k = shareOf(m, spec.foldInFraction, 1, m - 1);
    drawToFront(g.rows, from, to, k, rng);
    for (let p = from; p < to; p++) labels[g.rows[p]] = p < from + k ? FOLD_IN : TEST;
  }
  return foldFromLabels(labels, description, true);
}
