/**
 * Seeded data splits for offline evaluation. A declarative `SplitSpec` (validated by
 * `parseSplitSpec`) turns rows into folds of row indices with `splitRows`.
 *
 * Guarantees, for every kind:
 * - Deterministic: the same rows (in the same order) and the same spec give the same folds; seeded
 *   kinds draw from `Rng` (src/ingest/prng.ts) seeded with `seed` (default 42), and different
 *   seeds give different folds.
 * - Every row is in exactly one of train / test (/ foldIn) of each fold; indices are ascending.
 * - Per-user kinds keep at least `minTrain` (default 1) training rows per user; users with no
 *   more rows than that are entirely training.
 * - Time-based kinds order rows by (timestamp, row index), so ties are broken by input position,
 *   and never put a test row earlier than a training row of the same scope (all rows for
 *   `temporal`, the user's rows for `temporal-per-user` and `leave-one-out` by `last`).
 * - `k-fold` folds partition the rows: each row is tested in exactly one fold.
 * - `leave-one-out` leaves users with a single row in training.
 * - `strong-generalization` users are either training users or held-out users, never both.
 * - `predefined` keeps test rows whose user or item never appears in training.
 *
 * Work is O(n log n) at most, on typed arrays with users numbered once (no object per row):
 * 100K rows split in a few milliseconds, 10M rows in seconds. A k-fold split holds k folds of
 * n indices each (4·n·k bytes).
 */
import type { RatingRows } from './rating-file.js';
import type { Fold } from './splits/fold.js';
import { predefinedFold } from './splits/predefined.js';
import { kFolds, randomFold, randomPerUserFold } from './splits/random.js';
import { describeSplit, parseSplitSpec, type SplitSpec } from './splits/spec.js';
import { strongGeneralizationFold } from './splits/strong-generalization.js';
import { leaveOneOutFold, temporalFold, temporalPerUserFold } from './splits/temporal.js';

export type { Fold } from './splits/fold.js';
export {
  isPredefinedRows,
  joinPredefinedRows,
  readPredefinedRows,
  type PredefinedRows,
} from './splits/predefined.js';
export {
  DEFAULT_SPLIT_SEED,
  describeSplit,
  MAX_FOLDS,
  parseSplitSpec,
  SPLIT_KINDS,
  splitFoldCount,
  splitSeed,
  type KFoldSplit,
  type LeaveOneOutSplit,
  type PredefinedSplit,
  type RandomPerUserSplit,
  type RandomSplit,
  type SplitKind,
  type SplitSpec,
  type StrongGeneralizationSplit,
  type TemporalPerUserSplit,
  type TemporalSplit,
} from './splits/spec.js';

/**
 * The folds of `rows` under `spec` (validated first): one fold, except `k` for `k-fold`.
 * For `predefined`, `rows` must come from `readPredefinedRows(spec)` or `joinPredefinedRows`.
 * Time-based kinds throw a `ValidationError` when a row has no finite timestamp.
 */
export function splitRows(rows: RatingRows, spec: SplitSpec): Fold[] {
  const s = parseSplitSpec(spec);
  const description = describeSplit(s);
  switch (s.kind) {
    case 'predefined':
      return [predefinedFold(rows, description)];
    case 'random':
      return [randomFold(rows, s, description)];
    case 'random-per-user':
      return [randomPerUserFold(rows, s, description)];
    case 'temporal':
      return [temporalFold(rows, s, description)];
    case 'temporal-per-user':
      return [temporalPerUserFold(rows, s, description)];
    case 'leave-one-out':
      return [leaveOneOutFold(rows, s, description)];
    case 'strong-generalization':
      return [strongGeneralizationFold(rows, s, description)];
    case 'k-fold':
      return kFolds(rows, s, description);
  }
}
