/** Ordering rows by time, with ties broken by row index. */
import { ValidationError } from '../../domain/errors.js';
import type { RatingRows } from '../rating-file.js';
import type { UserGroups } from './user-index.js';

/** Throws unless every row has a finite timestamp (time-based splits need them all). */
export function requireTimestamps(rows: RatingRows, kind: string): void {
  for (let i = 0; i < rows.length; i++) {
    if (!Number.isFinite(rows.timestamps[i])) {
      const message = `'${kind}' needs a timestamp on every row, but row ${i} has none`;
      throw new ValidationError(`split.kind ${message}`, [{ field: 'split.kind', message }]);
    }
  }
}

/** The timestamps sorted ascending, as a copy. */
export function sortedTimes(rows: RatingRows): Float64Array {
  return Float64Array.from(rows.timestamps.subarray(0, rows.length)).sort();
}

/**
 * Sorts each user's rows by (timestamp, row index), in place. Expects the groups of
 * `groupByUser` without an order (rows ascending within a user). Segments already in time order,
 * as in files written in time order, are only checked; short ones are insertion-sorted.
 */
export function sortGroupsByTime(groups: UserGroups, timestamps: Float64Array): void {
  const { start, rows: g } = groups;
  const t = timestamps;
  const byTime = (a: number, b: number): number => t[a] - t[b] || a - b;
  for (let u = 0; u + 1 < start.length; u++) {
    const from = start[u];
    const to = start[u + 1];
    let sorted = true;
    for (let p = from + 1; p < to && sorted; p++) sorted = t[g[p - 1]] <= t[g[p]];
    if (sorted) continue;
    if (to - from > 32) {
      g.subarray(from, to).sort(byTime);
      continue;
    }
    for (let p = from + 1; p < to; p++) {
      const row = g[p];
      const time = t[row];
      let q = p - 1;
      while (q >= from && t[g[q]] > time) {
        g[q + 1] = g[q];
        q--;
      }
      g[q + 1] = row;
    }
  }
}
