import { describe, expect, it } from 'vitest';
import type { CsrMatrix } from '../../src/data/csr.js';
import { csrFromCoo, rowNorms, transposeCsr } from '../../src/data/csr-build.js';
import {
  balancedRanges,
  NeighbourAccumulator,
  NeighbourHeaps,
  neighbourCount,
  workPrefix,
  type NeighbourLists,
  type NeighbourProblem,
} from '../../src/kernels/item-neighbours.js';

function randomProblem(
  seed: number,
  users: number,
  items: number,
  n: number,
  k: number,
  shrink: number,
): NeighbourProblem {
  let s = seed;
  const rnd = (): number => (s = (s * 1664525 + 1013904223) >>> 0) / 4294967296;
  const r = new Int32Array(n);
  const c = new Int32Array(n);
  const v = new Float32Array(n);
  for (let e = 0; e < n; e++) {
    r[e] = Math.floor(rnd() * users);
    c[e] = Math.floor(rnd() * rnd() * items); // skewed popularity
    v[e] = 1 + Math.floor(rnd() * 3);
  }
  const userItems = csrFromCoo(users, items, r, c, v);
  const itemUsers = transposeCsr(userItems);
  return { userItems, itemUsers, norms: rowNorms(itemUsers), items, k, shrink };
}

/** Dense reference: every pair's cosine, top k by (score desc, index asc). */
function bruteForce(p: NeighbourProblem): { indices: number[][]; scores: number[][] } {
  const m = p.itemUsers as CsrMatrix;
  const cols: Map<number, number>[] = [];
  for (let i = 0; i < p.items; i++) {
    const col = new Map<number, number>();
    for (let q = m.indptr[i]; q < m.indptr[i + 1]; q++) col.set(m.indices[q], m.data[q]);
    cols.push(col);
  }
  const indices: number[][] = [];
  const scores: number[][] = [];
  const kk = neighbourCount(p);
  for (let i = 0; i < p.items; i++) {
    const sims: [number, number][] = [];
    for (let j = 0; j < p.items; j++) {
      if (j === i) continue;
      let dot = 0;
      for (const [u, a] of cols[i]) dot += a * (cols[j].get(u) ?? 0);
      if (dot > 0) sims.push([j, Math.fround(dot / (p.norms[i] * p.norms[j] + p.shrink))]);
    }
    sims.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    indices.push(sims.slice(0, kk).map((x) => x[0]));
    scores.push(sims.slice(0, kk).map((x) => x[1]));
  }
  return { indices, scores };
}

function rows(lists: NeighbourLists, items: number): { indices: number[][]; scores: number[][] } {
  const indices: number[][] = [];
  const scores: number[][] = [];
  for (let i = 0; i < items; i++) {
    indices.push(Array.from(lists.indices.subarray(lists.indptr[i], lists.indptr[i + 1])));
    scores.push(Array.from(lists.scores.subarray(lists.indptr[i], lists.indptr[i + 1])));
  }
  return { indices, scores };
}

function solve(p: NeighbourProblem, bounds: number[]): NeighbourLists {
  const kk = neighbourCount(p);
  const sets = bounds.slice(1).map(() => new NeighbourHeaps(p.items, kk));
  for (let t = 0; t + 1 < bounds.length; t++)
    new NeighbourAccumulator(p).run(bounds[t], bounds[t + 1], sets[t]);
  for (let t = 1; t < sets.length; t++) sets[0].mergeFrom(sets[t]);
  return sets[0].toLists();
}

describe('item neighbour kernel', () => {
  it.each([
    [1, 5, 0],
    [2, 3, 4],
    [3, 50, 0],
  ])('matches brute-force cosine top-k (seed %i, k %i, shrink %i)', (seed, k, shrink) => {
    const p = randomProblem(seed, 60, 40, 500, k, shrink);
    const want = bruteForce(p);
    const got = rows(solve(p, [0, p.items]), p.items);
    expect(got.indices).toEqual(want.indices);
    for (let i = 0; i < p.items; i++) {
      for (let r = 0; r < got.scores[i].length; r++)
        expect(got.scores[i][r]).toBeCloseTo(want.scores[i][r], 5);
    }
  });

  it('gives bitwise identical lists when items are split into ranges and heap sets merged', () => {
    const p = randomProblem(9, 80, 50, 900, 7, 2);
    const whole = solve(p, [0, p.items]);
    const split = solve(p, [0, 3, 4, 20, 20, 49, 50]);
    expect(split.indptr).toEqual(whole.indptr);
    expect(split.indices).toEqual(whole.indices);
    expect(split.scores).toEqual(whole.scores);
  });

  it('is symmetric: sim(i, j) equals sim(j, i) exactly when both are kept', () => {
    const p = randomProblem(4, 50, 20, 400, 19, 0);
    const { indices, scores } = rows(solve(p, [0, p.items]), p.items);
    for (let i = 0; i < p.items; i++) {
      indices[i].forEach((j, r) => {
        const back = indices[j].indexOf(i);
        expect(back).toBeGreaterThanOrEqual(0);
        expect(scores[j][back]).toBe(scores[i][r]);
      });
    }
  });

  it('keeps no neighbours with a single item', () => {
    const p = randomProblem(5, 10, 1, 20, 5, 0);
    expect(neighbourCount(p)).toBe(0);
    expect(Array.from(solve(p, [0, 1]).indptr)).toEqual([0, 0]);
  });

  it('splits items into ranges of about equal work', () => {
    const p = randomProblem(6, 200, 100, 3000, 10, 0);
    const prefix = workPrefix(p);
    expect(prefix.length).toBe(p.items + 1);
    const bounds = balancedRanges(prefix, 4);
    expect(bounds[0]).toBe(0);
    expect(bounds[4]).toBe(p.items);
    for (let t = 0; t < 4; t++) expect(bounds[t + 1]).toBeGreaterThanOrEqual(bounds[t]);
    const total = prefix[p.items];
    for (let t = 1; t < 4; t++) {
      // Each boundary is the first item at or past its share of the work.
      expect(prefix[bounds[t]]).toBeGreaterThanOrEqual((total * t) / 4);
      if (bounds[t] > 0) expect(prefix[bounds[t] - 1]).toBeLessThan((total * t) / 4);
    }
  });
});
