import { describe, expect, it } from 'vitest';
import { interactionsFromArrays, type InteractionData } from '../../src/data/interactions.js';
import { ValidationError } from '../../src/domain/errors.js';
import { ItemKnnModel } from '../../src/models/knn/item-knn.js';
import type { ScoringContext } from '../../src/models/model.js';

/**
 * Toy 4 users x 5 items matrix (i4 has no interactions):
 *
 *        i0 i1 i2 i3 i4
 *   u0    1  1  0  0  0
 *   u1    1  0  1  0  0
 *   u2    0  1  1  3  0
 *   u3    2  0  0  1  0
 *
 * Columns: i0 = (1,1,0,2), |i0| = √6; i1 = (1,0,1,0), |i1| = √2; i2 = (0,1,1,0), |i2| = √2;
 * i3 = (0,0,3,1), |i3| = √10.
 *
 *   cos(i0,i1) = 1 / (√6·√2)  = 1/√12 = 0.288675
 *   cos(i0,i2) = 1 / (√6·√2)  = 1/√12 = 0.288675
 *   cos(i0,i3) = 2 / (√6·√10) = 2/√60 = 0.258199
 *   cos(i1,i2) = 1 / (√2·√2)  = 1/2   = 0.5
 *   cos(i1,i3) = 3 / (√2·√10) = 3/√20 = 0.670820
 *   cos(i2,i3) = 3 / (√2·√10) = 3/√20 = 0.670820
 *   i4: no similarity to anything.
 */
const TOY: [string, string, number][] = [
  ['u0', 'i0', 1],
  ['u0', 'i1', 1],
  ['u1', 'i0', 1],
  ['u1', 'i2', 1],
  ['u2', 'i1', 1],
  ['u2', 'i2', 1],
  ['u2', 'i3', 2], // two events summing to 3
  ['u2', 'i3', 1],
  ['u3', 'i0', 2],
  ['u3', 'i3', 1],
];

const S01 = 1 / Math.sqrt(12);
const S03 = 2 / Math.sqrt(60);
const S12 = 0.5;
const S13 = 3 / Math.sqrt(20);

function toyData(): InteractionData {
  return interactionsFromArrays({
    userIds: TOY.map((t) => t[0]),
    itemIds: TOY.map((t) => t[1]),
    strengths: TOY.map((t) => t[2]),
    catalog: ['i0', 'i1', 'i2', 'i3', 'i4'],
  });
}

function neighbours(model: ItemKnnModel, i: number): { idx: number[]; sim: number[] } {
  const top = model.similarItems(i, 100);
  if (!top) throw new Error('no neighbours');
  return { idx: Array.from(top.indices), sim: Array.from(top.scores) };
}

function ctx(history: number[], weights: number[]): ScoringContext {
  return { userIndex: -1, history: Int32Array.from(history), historyWeights: Float32Array.from(weights) };
}

describe('ItemKnnModel', () => {
  const data = toyData();
  const model = ItemKnnModel.fit(data, { weighting: 'identity', shrink: 0, historyWeighting: 'linear' });

  it('computes hand-checked cosine similarities, best first, ties to the lower index', () => {
    const expected: [number[], number[]][] = [
      [
        [1, 2, 3],
        [S01, S01, S03],
      ],
      [
        [3, 2, 0],
        [S13, S12, S01],
      ],
      [
        [3, 1, 0],
        [S13, S12, S01],
      ],
      [
        [1, 2, 0],
        [S13, S13, S03],
      ],
      [[], []],
    ];
    expected.forEach(([idx, sims], i) => {
      const got = neighbours(model, i);
      expect(got.idx).toEqual(idx);
      got.sim.forEach((s, r) => expect(s).toBeCloseTo(sims[r], 6));
    });
  });

  it('limits neighbours to k and to the similarItems request', () => {
    const k1 = ItemKnnModel.fit(data, { weighting: 'identity', shrink: 0, k: 1 });
    expect(neighbours(k1, 3).idx).toEqual([1]);
    expect(Array.from(model.similarItems(1, 2)?.indices ?? [])).toEqual([3, 2]);
    expect(model.similarItems(99, 5)).toBeNull();
  });

  it('applies shrinkage in the denominator', () => {
    const shrunk = ItemKnnModel.fit(data, { weighting: 'identity', shrink: 1 });
    // cos(i1,i3) with shrink 1 = 3 / (√20 + 1) = 0.548236
    expect(neighbours(shrunk, 1).sim[0]).toBeCloseTo(3 / (Math.sqrt(20) + 1), 6);
  });

  it('scores Σ_h w_h·sim(h, j) over distinct history items and excludes nothing', () => {
    const out = new Float32Array(5);
    // History i0 twice (weights 1 + 1) and i3 once (weight 2): w_i0 = 2, w_i3 = 2.
    model.score(ctx([0, 3, 0], [1, 2, 1]), out);
    expect(out[0]).toBeCloseTo(2 * S03, 5); // only i3 reaches i0
    expect(out[1]).toBeCloseTo(2 * S01 + 2 * S13, 5);
    expect(out[2]).toBeCloseTo(2 * S01 + 2 * S13, 5);
    expect(out[3]).toBeCloseTo(2 * S03, 5); // history item, scored like any other
    expect(out[4]).toBe(-Infinity); // no neighbour of the history
  });

  it('damps summed history weights with log1p by default', () => {
    const damped = ItemKnnModel.fit(data, { weighting: 'identity', shrink: 0 });
    const out = new Float32Array(5);
    damped.score(ctx([0, 3, 0], [1, 2, 1]), out);
    expect(out[1]).toBeCloseTo(Math.log(3) * (S01 + S13), 5);
  });

  it('ignores unknown indices and non-positive weights; an empty history scores nothing', () => {
    const out = new Float32Array(5);
    model.score(ctx([-1, 7, 1, 2], [1, 1, 0, -3]), out);
    expect(Array.from(out)).toEqual([-Infinity, -Infinity, -Infinity, -Infinity, -Infinity]);
    model.score(ctx([1], [1]), out);
    expect(out[3]).toBeCloseTo(S13, 5);
  });

  it('leaves no state behind between calls', () => {
    const a = new Float32Array(5);
    const b = new Float32Array(5);
    model.score(ctx([2, 2], [1, 1]), a);
    model.score(ctx([0], [5]), b);
    model.score(ctx([2, 2], [1, 1]), b);
    expect(b).toEqual(a);
  });

  it('records its parameters and data sizes', () => {
    expect(model.info.name).toBe('item-knn');
    expect(model.info.params).toMatchObject({
      k: 100,
      shrink: 0,
      weighting: 'identity',
      historyWeighting: 'linear',
    });
    expect(model.info).toMatchObject({ users: 4, items: 5, interactions: 9 });
    expect(model.itemIds).toEqual(['i0', 'i1', 'i2', 'i3', 'i4']);
  });

  it('rejects bad parameters', () => {
    expect(() => ItemKnnModel.fit(data, { k: 0 })).toThrow(ValidationError);
    expect(() => ItemKnnModel.fit(data, { weighting: 'cubic' })).toThrow(ValidationError);
    expect(() => ItemKnnModel.fit(data, { neighbours: 5 })).toThrow(/unknown parameter/);
    expect(ItemKnnModel.resolveParams({ k: '20', shrink: '2.5' })).toMatchObject({ k: 20, shrink: 2.5 });
  });

  it('gives identical neighbour lists on worker threads', async () => {
    let s = 11;
    const rnd = (): number => (s = (s * 1664525 + 1013904223) >>> 0) / 4294967296;
    const users: string[] = [];
    const items: string[] = [];
    for (let e = 0; e < 20_000; e++) {
      users.push(`u${Math.floor(rnd() * 800)}`);
      items.push(`i${Math.floor(rnd() * rnd() * 400)}`);
    }
    const big = interactionsFromArrays({ userIds: users, itemIds: items });
    const single = ItemKnnModel.fit(big, { k: 20 }).neighbourLists;
    const parallel = (await ItemKnnModel.fitAsync(big, { k: 20, threads: 2 })).neighbourLists;
    expect(parallel.indptr).toEqual(single.indptr);
    expect(parallel.indices).toEqual(single.indices);
    expect(parallel.scores).toEqual(single.scores);
  });
});
