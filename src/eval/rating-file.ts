import { readFileSync } from 'node:fs';

/** Interactions read from a `user item rating timestamp` file (MovieLens u.data layout or ratings.csv). */
export interface RatingRows {
  users: string[];
  items: string[];
  ratings: Float32Array;
  /** ms since epoch. */
  timestamps: Float64Array;
  length: number;
}

/**
 * Reads a ratings file: tab-separated without header (u.data, u1.base, ...) or comma-separated
 * with a header (ratings.csv). Timestamps in seconds become milliseconds.
 */
export function readRatingFile(path: string): RatingRows {
  const text = readFileSync(path, 'utf8');
  const lines = text.split(/\r?\n/);
  const sep = lines[0].includes('\t') ? '\t' : ',';
  const start = /^[0-9]/.test(lines[0]) ? 0 : 1;
  const users: string[] = [];
  const items: string[] = [];
  const ratings: number[] = [];
  const timestamps: number[] = [];
  for (let i = start; i < lines.length; i++) {
    const line = lines[i];
    if (line.length === 0) continue;
    const f = line.split(sep);
    users.push(f[0]);
    items.push(f[1]);
    ratings.push(Number(f[2]));
    timestamps.push(Number(f[3]) * 1000);
  }
  return {
    users,
    items,
    ratings: Float32Array.from(ratings),
    timestamps: Float64Array.from(timestamps),
    length: users.length,
  };
}

/** The rows at the given positions. */
export function selectRows(rows: RatingRows, index: ArrayLike<number>): RatingRows {
  const n = index.length;
  const out: RatingRows = {
    users: new Array<string>(n),
    items: new Array<string>(n),
    ratings: new Float32Array(n),
    timestamps: new Float64Array(n),
    length: n,
  };
  for (let k = 0; k < n; k++) {
    const i = index[k];
    out.users[k] = rows.users[i];
    out.items[k] = rows.items[i];
    out.ratings[k] = rows.ratings[i];
    out.timestamps[k] = rows.timestamps[i];
  }
  return out;
}
