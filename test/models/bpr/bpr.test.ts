import { describe, expect, it } from 'vitest';
import { interactionsFromArrays } from '../../../src/data/interactions.js';
import { ValidationError } from '../../../src/domain/errors.js';
import { runBpr, trainableUsers } from '../../../src/kernels/bpr-sgd.js';
import { BprModel } from '../../../src/models/bpr/bpr.js';
import {
  initialFactors,
  positiveRows,
  sampleWeights,
  STREAM_RUN,
} from '../../../src/models/bpr/factor-model.js';
import { canFoldIn } from '../../../src/models/model.js';
import { PopularityModel } from '../../../src/models/popularity/popularity.js';
import { trainingContext } from '../../../src/models/recommend.js';
import { createModel, modelFamily } from '../../../src/models/registry.js';
import { foldInOverlap, loadU1, ndcgU1 } from './movielens-u1.js';
import { expectToyItemFoldIn, heldOutFigures } from './item-fold-in-checks.js';
import { artifactBytes, clusterData, context, expectClustersLearnt, roundTrip, scoreBytes } from './toy.js';

const TOY = { factors: 8, epochs: 300, learningRate: 0.1, threads: 1 };

describe('BprModel on toy data', () => {
  const data = clusterData();
  const model = BprModel.fit(data, TOY);

  it('validates parameters and fills in defaults', () => {
    const p = BprModel.resolveParams({ factors: '16' as unknown as number });
    expect(p.factors).toBe(16);
    expect(p.negativeSampling).toBe('uniform');
    expect(() => BprModel.resolveParams({ factor: 3 })).toThrow(ValidationError);
    expect(() => BprModel.resolveParams({ learningRateDecay: 2 })).toThrow(ValidationError);
    expect(() => createModel('bpr', { weighting: 'cubic' })).toThrow(ValidationError);
    expect(modelFamily('bpr').searchSpace).toBeDefined();
  });

  it('learns the two taste clusters', () => {
    expectClustersLearnt(model, data);
  });

  it('scores b_i + p_u · q_i and ranks similar items by the cosine of their factors', () => {
    const { itemBias } = model.toArtifact().arrays as { itemBias: Float32Array };
    const p = model.userVector(3);
    const out = new Float32Array(data.items.size);
    model.score(trainingContext(data, 3), out);
    for (let i = 0; i < data.items.size; i++) {
      const q = model.itemVector(i);
      let x = itemBias[i];
      for (let f = 0; f < 8; f++) x += (p?.[f] ?? NaN) * (q?.[f] ?? NaN);
      expect(out[i]).toBeCloseTo(x, 5);
    }
    const cos = (a: number, b: number): number => {
      const qa = model.itemVector(a) ?? new Float32Array(0);
      const qb = model.itemVector(b) ?? new Float32Array(0);
      let d = 0;
      let na = 0;
      let nb = 0;
      for (let f = 0; f < qa.length; f++) {
        d += qa[f] * qb[f];
        na += qa[f] * qa[f];
        nb += qb[f] * qb[f];
      }
      return d / Math.sqrt(na * nb);
    };
    const top = model.similarItems(0, 3);
    expect(top?.indices.length).toBe(3);
    expect(Array.from(top?.indices ?? [])).not.toContain(0);
    const expected = [1, 2, 3, 4, 5, 6, 7, 8, 9].sort((a, b) => cos(0, b) - cos(0, a)).slice(0, 3);
    expect(Array.from(top?.indices ?? [])).toEqual(expected);
    top?.scores.forEach((s, r) => expect(s).toBeCloseTo(cos(0, expected[r]), 5));
    // The nearest neighbours of a0 are the other a items.
    expect(expected.every((i) => i < 4)).toBe(true);
    expect(model.similarItems(99, 3)).toBeNull();
  });

  it('is bitwise reproducible for a seed with one thread, on the calling thread and on a worker', async () => {
    const again = BprModel.fit(data, TOY);
    expect(artifactBytes(again)).toEqual(artifactBytes(model));
    const onWorker = await BprModel.fitAsync(data, TOY);
    expect(artifactBytes(onWorker)).toEqual(artifactBytes(model));
    const other = BprModel.fit(data, { ...TOY, seed: 2 });
    expect(artifactBytes(other).itemFactors).not.toEqual(artifactBytes(model).itemFactors);
  });

  it('gives bitwise-identical scores after save and load', () => {
    const loaded = roundTrip(model, (a) => BprModel.fromArtifact(a));
    expect(loaded.info).toEqual(model.info);
    for (let u = 0; u < data.users.size; u++) {
      expect(scoreBytes(loaded, trainingContext(data, u))).toEqual(
        scoreBytes(model, trainingContext(data, u)),
      );
    }
    const ctx = context([0, 1, 6]);
    expect(scoreBytes(loaded, ctx)).toEqual(scoreBytes(model, ctx));
  });

  it('folds in new users deterministically from the set of history items', () => {
    expect(canFoldIn(model)).toBe(true);
    const a = model.foldInUser(Int32Array.from([1, 2, 3]), Float32Array.from([1, 1, 1]));
    const b = model.foldInUser(
      Int32Array.from([3, 1, 2, 1, 99, -1]),
      Float32Array.from([1, 0.5, 1, 0.5, 1, 1]),
    );
    expect(a).toEqual(b);
    expect(a.some((v) => v !== 0)).toBe(true);
    // A new user with a-items only gets the missing a item first.
    const out = new Float32Array(data.items.size);
    model.score(context([1, 2, 3, 4]), out);
    out[1] = out[2] = out[3] = out[4] = -Infinity;
    expect(out.indexOf(Math.max(...out))).toBe(0);
    // No history: the zero vector, so scores are the item biases.
    model.score(context([]), out);
    expect(Array.from(out)).toEqual(Array.from(model.toArtifact().arrays.itemBias));
  });
});

describe('BPR training step', () => {
  // One user, items i0 (positive) and i1: every step draws u0, i0, i1.
  const data = interactionsFromArrays({ userIds: ['u0'], itemIds: ['i0'], catalog: ['i0', 'i1'] });
  const params = {
    factors: 3,
    epochs: 1,
    learningRate: 0.5,
    regularization: 0.1,
    biasRegularization: 0.2,
    seed: 9,
  };

  function expected(): { p: number[]; q0: number[]; q1: number[]; b0: number; b1: number } {
    const init = initialFactors(data, 3, 9, false);
    const p = Array.from(init.userFactors);
    const q0 = Array.from(init.itemFactors.subarray(0, 3));
    const q1 = Array.from(init.itemFactors.subarray(3, 6));
    const x = p.reduce((s, pf, f) => s + pf * (q0[f] - q1[f]), 0);
    const g = 1 / (1 + Math.exp(x));
    const lr = 0.5;
    return {
      p: p.map((pf, f) => pf + lr * (g * (q0[f] - q1[f]) - 0.1 * pf)),
      q0: q0.map((qf, f) => qf + lr * (g * p[f] - 0.1 * qf)),
      q1: q1.map((qf, f) => qf + lr * (-g * p[f] - 0.1 * qf)),
      b0: lr * g,
      b1: -lr * g,
    };
  }

  function expectStep(got: { p: ArrayLike<number>; q: ArrayLike<number>; b: ArrayLike<number> }): void {
    const e = expected();
    e.p.forEach((v, f) => expect(got.p[f]).toBeCloseTo(v, 6));
    e.q0.forEach((v, f) => expect(got.q[f]).toBeCloseTo(v, 6));
    e.q1.forEach((v, f) => expect(got.q[3 + f]).toBeCloseTo(v, 6));
    expect(got.b[0]).toBeCloseTo(e.b0, 6);
    expect(got.b[1]).toBeCloseTo(e.b1, 6);
  }

  it('matches the hand-computed update in the model (SIMD kernel, padded rows)', () => {
    const a = BprModel.fit(data, params).toArtifact().arrays;
    expectStep({ p: a.userFactors, q: a.itemFactors, b: a.itemBias });
  });

  it('matches the hand-computed update in the portable kernel', () => {
    const model = initialFactors(data, 3, 9, false);
    const rows = positiveRows(data, false);
    runBpr({
      model,
      rows,
      weights: sampleWeights(data, 'binary', false),
      settings: { ...BprModel.resolveParams(params) },
      sampleUsers: trainableUsers(rows, 1, 2),
      samplesPerEpoch: 1,
      seed: 9,
      stream: STREAM_RUN,
    });
    expectStep({ p: model.userFactors, q: model.itemFactors, b: model.itemBias });
  });
});

const u1 = loadU1();

describe.skipIf(!u1)('BprModel on MovieLens 100K u1', () => {
  it('beats popularity by a clear margin, and its fold-in ranks like the fitted vectors', () => {
    if (!u1) return;
    const popularity = ndcgU1(PopularityModel.fit(u1.data), u1);
    const model = BprModel.fit(u1.data, { threads: 1 });
    const ndcg = ndcgU1(model, u1);
    expect(ndcg).toBeGreaterThan(popularity + 0.1);
    expect(ndcg).toBeGreaterThan(0.3102); // implicit BPR on B2
    expect(foldInOverlap(model, u1.data, 50)).toBeGreaterThanOrEqual(5);
  });

  it('trains with two Hogwild workers to about the same quality', async () => {
    if (!u1) return;
    const model = await BprModel.fitAsync(u1.data, { threads: 2 });
    expect(ndcgU1(model, u1)).toBeGreaterThan(0.37);
  });

  it('agrees with the portable kernel up to rounding', () => {
    if (!u1) return;
    const params = BprModel.resolveParams({ epochs: 10 });
    const simd = BprModel.fit(u1.data, { epochs: 10 }).toArtifact().arrays.itemFactors as Float32Array;
    const model = initialFactors(u1.data, params.factors, params.seed, false);
    const rows = positiveRows(u1.data, false);
    runBpr({
      model,
      rows,
      weights: sampleWeights(u1.data, params.weighting, false),
      settings: params,
      sampleUsers: trainableUsers(rows, model.users, model.items),
      samplesPerEpoch: rows.indptr[model.users],
      seed: params.seed,
      stream: STREAM_RUN,
    });
    let diff = 0;
    let norm = 0;
    for (let i = 0; i < simd.length; i++) {
      diff += (simd[i] - model.itemFactors[i]) ** 2;
      norm += simd[i] ** 2;
    }
    expect(Math.sqrt(diff / norm)).toBeLessThan(1e-3);
  });
});

describe('BprModel item fold-in', () => {
  it('folds in an item from its users, deterministically, towards its fitted vector', () => {
    const data = clusterData();
    expectToyItemFoldIn(BprModel.fit(data, TOY), data);
  });
});

describe.skipIf(!u1)('BprModel item fold-in on MovieLens 100K u1, film 98 left out', () => {
  it('ranks the film for its users above other users, as a model trained with it does', () => {
    if (!u1) return;
    const f = heldOutFigures(u1.base, '98', (d) => BprModel.fit(d, { threads: 1, epochs: 30 }));
    expect(f.auc).toBeGreaterThan(0.8);
    expect(f.auc).toBeGreaterThan(f.trainedAuc - 0.03);
    expect(f.correlation).toBeGreaterThan(0.8);
    expect(f.cosine).toBeGreaterThan(0.8);
  });
});
