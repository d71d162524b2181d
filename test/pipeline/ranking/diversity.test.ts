import { describe, expect, it } from 'vitest';
import { Diversifier, categoryJaccard, factorCosine } from '../../../src/pipeline/ranking/diversity.js';
import { makeCatalog, makeSet, rng } from './fixtures.js';

const catalog = makeCatalog([
  { id: 'a0', categories: ['a'] },
  { id: 'a1', categories: ['a'] },
  { id: 'b2', categories: ['b'] },
  { id: 'a3', categories: ['a'] },
  { id: 'c4', categories: ['c'] },
  { id: 'a5', categories: ['a', 'c'] },
]);

/** Slots hold items 0..5 with scores 5, 4, 3, 2, 1, 0.5. */
function scoredSet() {
  const set = makeSet(
    6,
    1,
    [0, 1, 2, 3, 4, 5].map((i) => ({ item: i, scores: [1] })),
  );
  set.score.set([5, 4, 3, 2, 1, 0.5]);
  return set;
}

// Items 0 and 1 are near duplicates; everything else is unrelated.
const sim = (a: number, b: number): number =>
  a === b ? 1 : (a === 0 && b === 1) || (a === 1 && b === 0) ? 0.95 : 0;

describe('Diversifier', () => {
  it('keeps the score order with lambda = 1', () => {
    const set = scoredSet();
    expect(Array.from(new Diversifier(catalog, { lambda: 1, similarity: sim }).select(set, 6))).toEqual([
      0, 1, 2, 3, 4, 5,
    ]);
    expect(Array.from(new Diversifier(catalog).select(set, 3))).toEqual([0, 1, 2]);
  });

  it('picks a dissimilar item second with a lower lambda', () => {
    // Relevance 1, .78, .56, .33, .11, 0: after item 0, item 1 scores .5·.78 − .5·.95 < 0 and
    // item 2 scores .5·.56 = .28.
    const set = scoredSet();
    const list = Array.from(new Diversifier(catalog, { lambda: 0.5, similarity: sim }).select(set, 6));
    expect(list.slice(0, 2)).toEqual([0, 2]);
    // The near duplicate (−0.085) comes after every unrelated item, even the least relevant (0).
    expect(list).toEqual([0, 2, 3, 4, 5, 1]);
  });

  it('caps the items of one category', () => {
    const set = scoredSet();
    const d = new Diversifier(catalog, { maxPerCategory: 2 });
    // a0, a1 fill category a; a3 and a5 (a and c) are skipped.
    expect(Array.from(d.select(set, 6))).toEqual([0, 1, 2, 4]);
    // Reused: the counts start afresh.
    expect(Array.from(d.select(set, 2))).toEqual([0, 1]);
    const filled = new Diversifier(catalog, { maxPerCategory: 2, fillBeyondCaps: true }).select(set, 6);
    expect(Array.from(filled)).toEqual([0, 1, 2, 4, 3, 5]);
  });

  it('caps and MMR together, never picking removed candidates', () => {
    const set = scoredSet();
    set.removed[2] = 1;
    const list = Array.from(
      new Diversifier(catalog, {
        lambda: 0.3,
        similarity: categoryJaccard(catalog),
        maxPerCategory: 1,
      }).select(set, 5),
    );
    expect(list).not.toContain(2);
    // One of category a, then c4 (a5 shares a and c).
    expect(list).toEqual([0, 4]);
  });

  it('holds the cap on random lists', () => {
    const r = rng(3);
    const cats = Array.from({ length: 300 }, (_, i) => ({
      id: `x${i}`,
      categories: [`k${Math.floor(r() * 8)}`],
    }));
    const big = makeCatalog(cats);
    const set = makeSet(
      300,
      1,
      cats.map((_, i) => ({ item: i, scores: [1] })),
    );
    for (let j = 0; j < 300; j++) set.score[j] = r();
    const d = new Diversifier(big, { lambda: 0.7, similarity: categoryJaccard(big), maxPerCategory: 3 });
    const list = d.select(set, 20);
    expect(list.length).toBe(20);
    const counts = new Map<string, number>();
    for (const slot of list) {
      const c = cats[set.items[slot]].categories[0];
      counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(3);
    expect(new Set(list).size).toBe(20);
  });

  it('writes into a given buffer', () => {
    const out = new Int32Array(10);
    const list = new Diversifier(catalog).select(scoredSet(), 3, out);
    expect(Array.from(list)).toEqual([0, 1, 2]);
    expect(list.buffer).toBe(out.buffer);
  });
});

describe('similarities', () => {
  it('category Jaccard and factor cosine', () => {
    const j = categoryJaccard(catalog);
    expect(j(0, 1)).toBe(1);
    expect(j(0, 5)).toBe(0.5);
    expect(j(0, 2)).toBe(0);
    const cos = factorCosine(Float32Array.from([1, 0, 1, 1, -1, 0]), 2);
    expect(cos(0, 1)).toBeCloseTo(Math.SQRT1_2);
    expect(cos(0, 2)).toBe(0);
  });
});
