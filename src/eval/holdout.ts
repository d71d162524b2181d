import type { RatingRows } from './rating-file.js';

/** Deterministic PRNG (mulberry32) for splits. */
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
 * Used to carve a validation split out of training data for settings search.
 */
export function holdoutPerUser(
  rows: RatingRows,
  fraction: number,
  seed: number,
): { train: number[]; heldOut: number[] } {
  const rand = mulberry32(seed);
  const byUser = new Map<string, number[]>();
  for (let i = 0; i < rows.length; i++) {
    const list = byUser.get(rows.users[i]);
    if (list) list.push(i);
    else byUser.set(rows.users[i], [i]);
  }
  const train: number[] = [];
  const heldOut: number[] = [];
  for (const list of byUser.values()) {
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = list[i];
      list[i] = list[j];
      list[j] = t;
    }
    const out = Math.min(list.length - 1, Math.floor(list.length * fraction));
    for (let k = 0; k < list.length; k++) (k < out ? heldOut : train).push(list[k]);
  }
  train.sort((a, b) => a - b);
  heldOut.sort((a, b) => a - b);
  return { train, heldOut };
}
