import type { Params, ParamValue } from '../models/params.js';

/** Values to try for each parameter. */
export type SearchSpace = Record<string, readonly ParamValue[]>;

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every combination of the space, or a seeded random sample of `limit` of them when there are more. */
export function candidateSettings(space: SearchSpace, limit: number, seed = 1): Params[] {
  const keys = Object.keys(space);
  const total = keys.reduce((n, k) => n * space[k].length, 1);
  const pick = (index: number): Params => {
    const p: Params = {};
    let rest = index;
    for (const k of keys) {
      const values = space[k];
      p[k] = values[rest % values.length];
      rest = Math.floor(rest / values.length);
    }
    return p;
  };
  if (total <= limit) return Array.from({ length: total }, (_, i) => pick(i));
  const rand = rng(seed);
  const chosen = new Set<number>();
  while (chosen.size < limit) chosen.add(Math.floor(rand() * total));
  return [...chosen].map(pick);
}

export interface Trial<R> {
  params: Params;
  score: number;
  result: R;
}

/**
 * Tries each setting and keeps the best by `score` (higher is better). `evaluate` fits on the
 * training part and measures on the validation part; the test data is never seen here.
 */
export async function searchSettings<R>(
  settings: readonly Params[],
  evaluate: (params: Params) => Promise<{ score: number; result: R }>,
  onTrial?: (trial: Trial<R>, index: number) => void,
): Promise<{ best: Trial<R>; trials: Trial<R>[] }> {
  const trials: Trial<R>[] = [];
  for (let i = 0; i < settings.length; i++) {
    const { score, result } = await evaluate(settings[i]);
    const trial = { params: settings[i], score, result };
    trials.push(trial);
    onTrial?.(trial, i);
  }
  if (trials.length === 0) throw new Error('no settings to search');
  const best = trials.reduce((a, b) => (b.score > a.score ? b : a));
  return { best, trials };
}
