/** Random splits: global, stratified by user, and k-fold cross-validation. */
import { ValidationError } from '../../domain/errors.js';
import { Rng } from '../../ingest/prng.js';
import type { RatingRows } from '../rating-file.js';
import { foldFromLabels, shareOf, TEST, type Fold } from './fold.js';
import type { KFoldSplit, RandomPerUserSplit, RandomSplit } from './spec.js';
import { groupByUser, numberUsers } from './user-index.js';

/** Moves `k` randomly chosen entries of `a[from, to)` to its front (partial Fisher-Yates). */
export function drawToFront(a: Int32Array, from: number, to: number, k: number, rng: Rng): void {
  const m = to - from;
  for (let i = 0; i < k; i++) {
    const j = from + i + rng.int(m - i);
    const x = a[from + i];
    a[from + i] = a[j];
    a[j] = x;
  }
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/**
 * round(n × testFraction) rows drawn uniformly at random (at least one row stays in training).
 * A user may end up with all of their rows in test; the evaluator treats such users as unknown.
 */
export function randomFold(rows: RatingRows, spec: RandomSplit, description: string): Fold {
  const n = rows.length;
  const rng = new Rng(spec.seed as number);
  const perm = identity(n);
  const k = shareOf(n, spec.testFraction, 0, Math.max(0, n - 1));
  drawToFront(perm, 0, n, k, rng);
  const labels = new Uint8Array(n);
  for (let p = 0; p < k; p++) labels[perm[p]] = TEST;
  return foldFromLabels(labels, description);
}

/**
 * Of each user's m rows, round(m × testFraction) drawn at random go to test, capped so that at
 * least `minTrain` rows stay in training (users with at most `minTrain` rows are all training).
 * Users are visited in order of first appearance, each drawing from one seeded stream.
 */
export function randomPerUserFold(rows: RatingRows, spec: RandomPerUserSplit, description: string): Fold {
  const rng = new Rng(spec.seed as number);
  const minTrain = spec.minTrain ?? 1;
  const g = groupByUser(numberUsers(rows));
  const labels = new Uint8Array(rows.length);
  for (let u = 0; u + 1 < g.start.length; u++) {
    const from = g.start[u];
    const m = g.start[u + 1] - from;
    const k = shareOf(m, spec.testFraction, 0, Math.max(0, m - minTrain));
    drawToFront(g.rows, from, from + m, k, rng);
    for (let p = from; p < from + k; p++) labels[g.rows[p]] = TEST;
  }
  return foldFromLabels(labels, description);
}

/**
 * k folds whose test parts partition the rows: every row is tested in exactly one fold and
 * trained on in the others. Globally, the rows are shuffled and dealt round-robin, so test sizes
 * differ by at most one. Per user, each user's shuffled rows are dealt round-robin, continuing
 * where the previous user stopped, so every fold tests about 1/k of each user's rows; a user with
 * fewer than k rows is tested in fewer than k folds, and a user with a single row has no training
 * rows in the fold that tests it.
 */
export function kFolds(rows: RatingRows, spec: KFoldSplit, description: string): Fold[] {
  const n = rows.length;
  const k = spec.folds;
  if (n < k) {
    const message = `(${k}) is more than the number of rows (${n})`;
    throw new ValidationError(`split.folds ${message}`, [{ field: 'split.folds', message }]);
  }
  const rng = new Rng(spec.seed as number);
  const foldOf = new Uint8Array(n);
  if (spec.perUser) {
    const g = groupByUser(numberUsers(rows));
    let dealt = 0;
    for (let u = 0; u + 1 < g.start.length; u++) {
      const from = g.start[u];
      const to = g.start[u + 1];
      drawToFront(g.rows, from, to, to - from, rng);
      for (let p = from; p < to; p++) foldOf[g.rows[p]] = dealt++ % k;
    }
  } else {
    const perm = identity(n);
    drawToFront(perm, 0, n, n, rng);
    for (let p = 0; p < n; p++) foldOf[perm[p]] = p % k;
  }
  const folds: Fold[] = [];
  const labels = new Uint8Array(n);
  for (let f = 0; f < k; f++) {
    for (let i = 0; i < n; i++) labels[i] = foldOf[i] === f ? TEST : 0;
    folds.push(foldFromLabels(labels, `${description}, fold ${f + 1} of ${k}`));
  }
  return folds;
}
