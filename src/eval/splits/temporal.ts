/**
 * Time-based splits: one global cut, a cut per user, and leave-one-out. Rows are ordered by
 * (timestamp, row index), so rows at the same time are ordered deterministically by their
 * position in the input; no test row is ever earlier than a training row of the same scope.
 */
import { Rng } from '../../ingest/prng.js';
import type { RatingRows } from '../rating-file.js';
import { foldFromLabels, shareOf, TEST, type Fold } from './fold.js';
import type { LeaveOneOutSplit, TemporalPerUserSplit, TemporalSplit } from './spec.js';
import { requireTimestamps, sortedTimes, sortGroupsByTime } from './time-order.js';
import { groupByUser, numberUsers } from './user-index.js';

/**
 * With `cutoff`: rows at or after the cutoff are test, earlier rows training. With `testFraction`:
 * the latest round(n × testFraction) rows in (time, row index) order are test (at least one row
 * stays in training); only rows sharing the boundary time can fall on both sides, the later
 * positions among them going to test. The fold's description names the first test time.
 */
export function temporalFold(rows: RatingRows, spec: TemporalSplit, description: string): Fold {
  requireTimestamps(rows, spec.kind);
  const n = rows.length;
  const t = rows.timestamps;
  const labels = new Uint8Array(n);
  if (spec.cutoff !== undefined) {
    for (let i = 0; i < n; i++) if (t[i] >= spec.cutoff) labels[i] = TEST;
    return foldFromLabels(labels, description);
  }
  const k = shareOf(n, spec.testFraction as number, 0, Math.max(0, n - 1));
  if (k === 0) return foldFromLabels(labels, description);
  const boundary = sortedTimes(rows)[n - k];
  let atBoundary = k;
  for (let i = 0; i < n; i++) {
    if (t[i] > boundary) {
      labels[i] = TEST;
      atBoundary--;
    }
  }
  for (let i = n - 1; i >= 0 && atBoundary > 0; i--) {
    if (t[i] === boundary) {
      labels[i] = TEST;
      atBoundary--;
    }
  }
  return foldFromLabels(labels, `${description} (test from ${new Date(boundary).toISOString()})`);
}

/**
 * Of each user's m rows in (time, row index) order, the latest `lastN` or round(m × lastFraction)
 * are test, capped so that at least `minTrain` earlier rows stay in training.
 */
export function temporalPerUserFold(rows: RatingRows, spec: TemporalPerUserSplit, description: string): Fold {
  requireTimestamps(rows, spec.kind);
  const minTrain = spec.minTrain ?? 1;
  const g = groupByUser(numberUsers(rows));
  sortGroupsByTime(g, rows.timestamps);
  const labels = new Uint8Array(rows.length);
  for (let u = 0; u + 1 < g.start.length; u++) {
    const from = g.start[u];
    const to = g.start[u + 1];
    const m = to - from;
    const cap = Math.max(0, m - minTrain);
    const k =
      spec.lastN !== undefined ? Math.min(spec.lastN, cap) : shareOf(m, spec.lastFraction as number, 0, cap);
    for (let p = to - k; p < to; p++) labels[g.rows[p]] = TEST;
  }
  return foldFromLabels(labels, description);
}

/**
 * One test row for every user with at least two rows: the latest in (time, row index) order, or
 * one drawn at random. Users with a single row keep it in training.
 */
export function leaveOneOutFold(rows: RatingRows, spec: LeaveOneOutSplit, description: string): Fold {
  const users = numberUsers(rows);
  const count = new Int32Array(users.ids.length);
  const chosen = new Int32Array(users.ids.length);
  if (spec.by === 'last') {
    requireTimestamps(rows, spec.kind);
    const t = rows.timestamps;
    for (let i = 0; i < rows.length; i++) {
      const u = users.userOf[i];
      // Rows come in ascending index order, so `>=` lets the later row win a tie in time.
      if (count[u]++ === 0 || t[i] >= t[chosen[u]]) chosen[u] = i;
    }
  } else {
    const rng = new Rng(spec.seed as number);
    const g = groupByUser(users);
    for (let u = 0; u < chosen.length; u++) {
      const from = g.start[u];
      count[u] = g.start[u + 1] - from;
      if (count[u] >= 2) chosen[u] = g.rows[from + rng.int(count[u])];
    }
  }
  const labels = new Uint8Array(rows.length);
  for (let u = 0; u < chosen.length; u++) if (count[u] >= 2) labels[chosen[u]] = TEST;
  return foldFromLabels(labels, description);
}
