/** A fold of a split and how it is assembled from per-row labels. */

/** One train/test division of the input rows. */
export interface Fold {
  /** Row indices into the input rows, ascending. */
  train: Int32Array;
  /** Row indices into the input rows, ascending. */
  test: Int32Array;
  /**
   * Strong generalisation only: rows of held-out users given to the model as history at scoring
   * time (not trained on), ascending.
   */
  foldIn?: Int32Array;
  /** e.g. `random per user, 20% test, seed 42`. */
  description: string;
}

/** Row labels used while building a fold. */
export const TRAIN = 0;
export const TEST = 1;
export const FOLD_IN = 2;

/**
 * The fold whose parts are the rows labelled TRAIN, TEST and FOLD_IN (`labels[i]` for row i).
 * `foldIn` is present only when `withFoldIn`.
 */
export function foldFromLabels(labels: Uint8Array, description: string, withFoldIn = false): Fold {
  const counts = [0, 0, 0];
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  const parts = [new Int32Array(counts[0]), new Int32Array(counts[1]), new Int32Array(counts[2])];
  const fill = [0, 0, 0];
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    parts[l][fill[l]++] = i;
  }
  const fold: Fold = { train: parts[TRAIN], test: parts[TEST], description };
  if (withFoldIn) fold.foldIn = parts[FOLD_IN];
  return fold;
}

/** Number of rows to draw for a fraction of `n`: rounded to nearest, clamped to [lo, hi]. */
export function shareOf(n: number, fraction: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, Math.round(n * fraction)));
}
