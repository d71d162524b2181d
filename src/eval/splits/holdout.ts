/** The per-user random holdout used to carve a validation split out of training data. */
import type { RatingRows } from '../rating-file.js';
import { groupByUser, numberUsers } from './user-index.js';

/** mulberry32, seeded directly (kept so that existing holdouts stay the same). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Per-user random holdout: of each user's rows, `fraction` (rounded down, at least one row kept
 * in training) go to the held-out part. Seeded, so the same call gives the same split.
 * Used to carve a validation split out of training data for settings search. Each user's rows
 * (users in order of first appearance) are fully shuffled from one mulberry32 stream; prefer
 * `splitRows` with a `random-per-user` spec for new evaluations.
 */
export function holdoutPerUser(
  rows: RatingRows,
  fraction: number,
  seed: number,
): { train: number[]; heldOut: number[] } {
  const rand = mulberry32(seed);
  const g = groupByUser(numberUsers(rows));
  const list = g.rows;
  const held = new Uint8Array(rows.length);
  let heldCount = 0;
  for (let u = 0; u + 1 < g.start.length; u++) {
    const from = g.start[u];
    const m = g.start[u + 1] - from;
    for (let i = m - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = list[from + i];
      list[from + i] = list[from + j];
      list[from + j] = t;
    }
    const out = Math.min(m - 1, Math.floor(m * fraction));
    for (let k = 0; k < out; k++) held[list[from + k]] = 1;
    heldCount += Math.max(0, out);
  }
  const train: number[] = new Array<number>(rows.length - heldCount);
  const heldOut: number[] = new Array<number>(heldCount);
  let a = 0;
  let b = 0;
  for (let i = 0; i < rows.length; i++) {
    if (held[i] === 1) heldOut[b++] = i;
    else train[a++] = i;
  }
  return { train, heldOut };
}
