import { describe, expect, it } from 'vitest';
import { interactionsFromArrays, type InteractionData } from '../../../src/data/interactions.js';
import type { RatingRows } from '../../../src/eval/rating-file.js';
import { BaselineModel } from '../../../src/models/rating/baseline.js';
import { KnnBaselineModel } from '../../../src/models/rating/knn-baseline.js';
import { ratingSet } from '../../../src/models/rating/rating-kit.js';
import { trainingContext } from '../../../src/models/recommend.js';
import {
  dataOf,
  ml100kAvailable,
  ml100kSplit,
  rmseOn,
  roundTrip,
  splitRows,
  syntheticRatings,
} from './fixtures.js';

/** Dense ratings (NaN = unrated) of the training data. */
function dense(data: InteractionData): number[][] {
  const out = Array.from({ length: data.users.size }, () => new Array<number>(data.items.size).fill(NaN));
  const { indptr, indices, data: values } = data.matrix;
  for (let u = 0; u < data.users.size; u++) {
    for (let p = indptr[u]; p < indptr[u + 1]; p++) out[u][indices[p]] = values[p];
  }
  return out;
}

/** KNNBaseline (item-based) straight from its definition, on the model's own biases. */
function reference(
  data: InteractionData,
  m: KnnBaselineModel,
  k: number,
  minK: number,
  shrinkage: number,
): (u: number, i: number) => number {
  const r = dense(data);
  const mean = ratingSet(data).mean;
  const base = (u: number, i: number): number => mean + m.userBias[u] + m.itemBias[i];
  const sim = (i: number, j: number): number => {
    let prod = 0;
    let si = 0;
    let sj = 0;
    let n = 0;
    for (let u = 0; u < r.length; u++) {
      if (Number.isNaN(r[u][i]) || Number.isNaN(r[u][j])) continue;
      const a = r[u][i] - base(u, i);
      const b = r[u][j] - base(u, j);
      prod += a * b;
      si += a * a;
      sj += b * b;
      n++;
    }
    if (n < 2 || si === 0 || sj === 0) return 0;
    return (prod / Math.sqrt(si * sj)) * ((n - 1) / (n - 1 + shrinkage));
  };
  return (u, i) => {
    const rated = r[u].flatMap((x, j) => (Number.isNaN(x) || j === i ? [] : [{ j, s: sim(i, j) }]));
    const top = rated
      .filter((t) => t.s > 0)
      .sort((a, b) => b.s - a.s || a.j - b.j)
      .slice(0, k);
    let x = base(u, i);
    if (top.length >= minK && top.length > 0) {
      const num = top.reduce((acc, t) => acc + t.s * (r[u][t.j] - base(u, t.j)), 0);
      x += num / top.reduce((acc, t) => acc + t.s, 0);
    }
    return Math.min(5, Math.max(1, x));
  };
}

function transposed(rows: RatingRows): InteractionData {
  return interactionsFromArrays({ userIds: rows.items, itemIds: rows.users, strengths: rows.ratings });
}

describe('knn-baseline', () => {
  it('computes the shrunk Pearson-baseline similarity by hand', () => {
    // μ = 3 and, with no baseline epochs, residuals r − 3: u0 (2, 1), u1 (−2, −1) on (i0, i1).
    // Σρρ = 4, Σρ_i0² = 8, Σρ_i1² = 2: Pearson 1, shrunk by (2 − 1) / (2 − 1 + 1) = 1/2.
    const data = interactionsFromArrays({
      userIds: ['u0', 'u0', 'u1', 'u1'],
      itemIds: ['i0', 'i1', 'i0', 'i1'],
      strengths: [5, 4, 1, 2],
    });
    const m = KnnBaselineModel.fit(data, { epochs: 0, shrinkage: 1 });
    expect(Array.from(m.neighbours.index)).toEqual([1, 0]);
    expect(Array.from(m.neighbours.sim)).toEqual([0.5, 0.5]);
    // u0 on i1: 3 + ρ(u0, i0) = 5.
    expect(m.predict(0, 1)).toBeCloseTo(5, 12);
    expect(m.predict(1, 1)).toBeCloseTo(1, 12);
  });

  it('matches the definition on random data, with truncated neighbourhoods and minK', () => {
    const { data } = splitRows(syntheticRatings(8, 40, 25, 0.35), 0.1);
    for (const [k, minK, shrinkage] of [
      [40, 1, 100],
      [3, 1, 10],
      [4, 3, 0],
    ]) {
      const m = KnnBaselineModel.fit(data, { k, minK, shrinkage, maxNeighbours: 0 });
      const ref = reference(data, m, k, minK, shrinkage);
      for (let u = 0; u < data.users.size; u++) {
        for (let i = 0; i < data.items.size; i++) expect(m.predict(u, i)).toBeCloseTo(ref(u, i), 5);
      }
    }
  });

  it('user-based on the data equals item-based on the transposed data', () => {
    const rows = syntheticRatings(9, 50, 30, 0.3);
    const data = dataOf(rows);
    const t = transposed(rows);
    const userBased = KnnBaselineModel.fit(data, { based: 'user', epochs: 0, k: 7 });
    const itemBased = KnnBaselineModel.fit(t, { based: 'item', epochs: 0, k: 7 });
    for (let u = 0; u < data.users.size; u++) {
      for (let i = 0; i < data.items.size; i++) {
        const tu = t.users.index(data.items.id(i));
        const ti = t.items.index(data.users.id(u));
        expect(userBased.predict(u, i)).toBeCloseTo(itemBased.predict(tu, ti), 6);
      }
    }
    expect(userBased.similarItems(0, 5)).toBeNull();
  });

  it('scores every item as predict does, and folds in a training user exactly', () => {
    const { data } = splitRows(syntheticRatings(10), 0.1);
    for (const based of ['item', 'user'] as const) {
      const m = KnnBaselineModel.fit(data, { based, ranking: 'rating' });
      const out = new Float32Array(data.items.size);
      for (const u of [0, 5, 17]) {
        m.score(trainingContext(data, u), out);
        for (let i = 0; i < out.length; i++) expect(out[i]).toBe(Math.fround(m.predict(u, i)));
      }
    }
    // Item-based: the folded-in bias is the last ALS user step, so an unknown user with a
    // training user's history scores exactly like that user.
    const m = KnnBaselineModel.fit(data);
    const [a, b] = [new Float32Array(data.items.size), new Float32Array(data.items.size)];
    m.score(trainingContext(data, 3), a);
    m.score({ ...trainingContext(data, 3), userIndex: -1 }, b);
    expect(b).toEqual(a);
  });

  it('ranks by the unnormalised neighbourhood sum Σ_j s_ij (1 + r_uj − b_uj)', () => {
    const { data } = splitRows(syntheticRatings(10), 0.1);
    const m = KnnBaselineModel.fit(data, { k: 5 });
    const { ptr, index, sim } = m.neighbours;
    const mean = ratingSet(data).mean;
    const out = new Float32Array(data.items.size);
    for (const u of [0, 7]) {
      const ctx = trainingContext(data, u);
      const rating = new Map<number, number>();
      for (let e = 0; e < ctx.history.length; e++) rating.set(ctx.history[e], ctx.historyWeights[e]);
      m.score(ctx, out);
      for (let i = 0; i < out.length; i++) {
        let sum = 0;
        let used = 0;
        for (let p = ptr[i]; p < ptr[i + 1] && used < 5; p++) {
          const r = rating.get(index[p]);
          if (r === undefined) continue;
          sum += sim[p] * (1 + r - mean - m.userBias[u] - m.itemBias[index[p]]);
          used++;
        }
        expect(out[i]).toBeCloseTo(sum, 4);
      }
    }
  });

  it('computes the same neighbour lists on worker threads', async () => {
    const { data } = splitRows(syntheticRatings(13, 120, 90, 0.3), 0.1);
    const a = KnnBaselineModel.fit(data, { maxNeighbours: 20 });
    const b = await KnnBaselineModel.fitAsync(data, { maxNeighbours: 20, threads: 2 });
    expect(b.neighbours.ptr).toEqual(a.neighbours.ptr);
    expect(b.neighbours.index).toEqual(a.neighbours.index);
    expect(b.neighbours.sim).toEqual(a.neighbours.sim);
    expect(b.neighbours.index.length).toBeGreaterThan(1000);
  });

  it('saves and loads with bitwise-identical predictions', () => {
    const { data } = splitRows(syntheticRatings(12), 0.1);
    for (const based of ['item', 'user'] as const) {
      const m = KnnBaselineModel.fit(data, { based, k: 20 });
      const loaded = KnnBaselineModel.fromArtifact(roundTrip(m.toArtifact()));
      for (let u = 0; u < 40; u++)
        for (let i = 0; i < 40; i++) expect(loaded.predict(u, i)).toBe(m.predict(u, i));
    }
  });

  describe.skipIf(!ml100kAvailable)('on MovieLens 100K u1.base (85% / 15% per user)', () => {
    it('beats the baseline clearly; truncated neighbour lists cost almost nothing', () => {
      const { data, heldOut } = ml100kSplit();
      const full = rmseOn(KnnBaselineModel.fit(data, { maxNeighbours: 0 }), data, heldOut);
      const kept = rmseOn(KnnBaselineModel.fit(data, { maxNeighbours: 300 }), data, heldOut);
      expect(full).toBeLessThan(rmseOn(BaselineModel.fit(data), data, heldOut) - 0.015);
      expect(Math.abs(kept - full)).toBeLessThan(0.003);
    });
  });
});
