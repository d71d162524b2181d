/**
 * The per-request fast paths of ranking give exactly what the plain computations give: the
 * shortlist of a ranked set, the ranks of a source's candidates, and the feature rows of the
 * served slots.
 */
import { describe, expect, it } from 'vitest';
import { BestSlots, kthSmallest } from '../../../src/pipeline/best-slots.js';
import { FeatureExtractor } from '../../../src/pipeline/ranking/features.js';
import { sourceRanks } from '../../../src/pipeline/ranking/source-ranks.js';
import type { CandidateSet } from '../../../src/pipeline/types.js';
import { DAY, T0, makeCatalog, makeContext, makeSet, rng } from './fixtures.js';

/** A random set: coarse scores so that ties are common, some removed, some zero and -0. */
function randomSet(seed: number, size: number, sourceCount: number, items = 4 * size): CandidateSet {
  const r = rng(seed);
  const picked = new Set<number>();
  const entries: { item: number; scores: (number | null)[] }[] = [];
  while (entries.length < size) {
    const item = Math.floor(r() * items);
    if (picked.has(item)) continue;
    picked.add(item);
    const scores: (number | null)[] = [];
    for (let s = 0; s < sourceCount; s++) {
      const u = r();
      scores.push(u < 0.4 ? null : u < 0.45 ? (r() < 0.5 ? 0 : -0) : Math.round((r() - 0.3) * 20) / 4);
    }
    if (!scores.some((v) => v !== null)) scores[0] = 1;
    entries.push({ item, scores });
  }
  const set = makeSet(items, sourceCount, entries, size + 7);
  for (let j = 0; j < size; j++) {
    const u = r();
    set.removed[j] = u < 0.1 ? 1 : 0;
    set.score[j] = u < 0.15 ? -Infinity : u < 0.2 ? (r() < 0.5 ? 0 : -0) : Math.round(r() * 12) / 3;
  }
  return set;
}

/** The shortlist by sorting every live slot (score descending, ties by slot). */
function bestSlotsBySort(set: CandidateSet, n: number): number[] {
  const slots: number[] = [];
  for (let s = 0; s < set.size; s++) if (!set.removed[s] && set.score[s] > -Infinity) slots.push(s);
  slots.sort((a, b) => set.score[b] - set.score[a] || a - b);
  return slots.slice(0, n);
}

/** Ranks by counting, per candidate, the source's live candidates scored strictly higher. */
function ranksByCounting(set: CandidateSet, s: number): { ranks: number[]; count: number } {
  const base = s * set.items.length;
  const live = (j: number): boolean =>
    set.sourceScores[base + j] === set.sourceScores[base + j] && !set.removed[j];
  let count = 0;
  for (let j = 0; j < set.size; j++) if (live(j)) count++;
  const ranks: number[] = [];
  for (let j = 0; j < set.size; j++) {
    if (!live(j)) {
      ranks.push(-1);
      continue;
    }
    let higher = 0;
    for (let i = 0; i < set.size; i++)
      if (live(i) && set.sourceScores[base + i] > set.sourceScores[base + j]) higher++;
    ranks.push(higher);
  }
  return { ranks, count };
}

describe('BestSlots', () => {
  it('returns the shortlist a full sort gives, ties by slot', () => {
    const best = new BestSlots();
    for (let seed = 1; seed <= 60; seed++) {
      const set = randomSet(seed, 1 + ((seed * 37) % 300), 2);
      for (const n of [0, 1, 5, 10, 100, 1000]) {
        expect(Array.from(best.select(set, n)), `seed ${seed}, n ${n}`).toEqual(bestSlotsBySort(set, n));
      }
    }
  });

  it('selects the k-th smallest value', () => {
    const r = rng(3);
    for (let t = 0; t < 50; t++) {
      const n = 1 + Math.floor(r() * 200);
      const values = Float64Array.from({ length: n }, () => Math.floor(r() * 20));
      const sorted = Float64Array.from(values).sort();
      const k = Math.floor(r() * n);
      expect(kthSmallest(Float64Array.from(values), n, k)).toBe(sorted[k]);
    }
  });
});

describe('sourceRanks', () => {
  it('gives every candidate the number of its source candidates scored strictly higher', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const set = randomSet(seed, 1 + ((seed * 53) % 400), 3);
      const rank = new Int32Array(set.size);
      const sorted = new Float64Array(set.size);
      for (let s = 0; s < 3; s++) {
        const count = sourceRanks(set, s, rank, sorted);
        const expected = ranksByCounting(set, s);
        expect(count).toBe(expected.count);
        expect(Array.from(rank)).toEqual(expected.ranks);
      }
    }
  });
});

describe('FeatureExtractor.extractRows', () => {
  const catalog = makeCatalog(
    Array.from({ length: 40 }, (_, i) => ({
      id: `i${i}`,
      categories: [`c${i % 5}`, ...(i % 3 === 0 ? [`c${(i + 1) % 5}`] : [])],
      price: i % 7 === 0 ? undefined : 5 + i,
      publishedAt: i % 6 === 0 ? null : T0 - i * DAY,
      stored: i !== 39,
    })),
  );
  const stats = {
    count: Float32Array.from({ length: 35 }, (_, i) => (i * 7) % 11),
    windows: [{ name: '24h', counts: Float32Array.from({ length: 30 }, (_, i) => i % 3) }],
    ctr: Float32Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? NaN : i / 100)),
  };
  const ctx = makeContext({
    history: Int32Array.from([3, 8, 8, 21, 39]),
    anchorItem: 6,
    now: T0 + 5 * 3_600_000,
    context: { device: 'mobile' },
  });

  for (const normalisation of ['rank', 'zscore'] as const) {
    it(`writes the rows extract writes for the same slots (${normalisation})`, () => {
      const fx = new FeatureExtractor(catalog, {
        sources: ['a', 'b', 'c'],
        sourceNormalisation: normalisation,
        stats,
        context: [{ key: 'device', values: ['mobile', 'desktop'] }],
        hourOfDay: { buckets: 4 },
      });
      const F = fx.featureCount;
      for (let seed = 1; seed <= 10; seed++) {
        const set = randomSet(seed, 30, 3, 40);
        const slots = Int32Array.from([5, 0, 17, 29, 11, 2]);
        const rows = new Float32Array(slots.length * F);
        fx.extractRows(ctx, set, slots, slots.length, rows);
        const all = fx.extract(ctx, set);
        slots.forEach((slot, r) => {
          expect(Array.from(rows.subarray(r * F, r * F + F))).toEqual(
            Array.from(all.subarray(slot * F, slot * F + F)),
          );
        });
      }
    });
  }
});
