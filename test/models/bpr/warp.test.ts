import { describe, expect, it } from 'vitest';
import { interactionsFromArrays } from '../../../src/data/interactions.js';
import { ValidationError } from '../../../src/domain/errors.js';
import { runWarp, warpAccumulators, warpRankWeight } from '../../../src/kernels/warp-sgd.js';
import {
  initialFactors,
  positiveRows,
  sampleWeights,
  STREAM_RUN,
} from '../../../src/models/bpr/factor-model.js';
import { WarpModel } from '../../../src/models/bpr/warp.js';
import { canFoldIn } from '../../../src/models/model.js';
import { PopularityModel } from '../../../src/models/popularity/popularity.js';
import { trainingContext } from '../../../src/models/recommend.js';
import { createModel, modelFamily } from '../../../src/models/registry.js';
import { foldInOverlap, loadU1, ndcgU1 } from './movielens-u1.js';
import { expectToyItemFoldIn, heldOutFigures } from './item-fold-in-checks.js';
import { artifactBytes, clusterData, context, expectOwnItemsFirst, roundTrip, scoreBytes } from './toy.js';

const TOY = { factors: 8, epochs: 100, learningRate: 0.1, maxSampled: 20, threads: 1 };

describe('WARP rank weight', () => {
  it('is ln(max(1, floor((items - 1) / draws)))', () => {
    // 1683 items: after 1 draw the rank estimate is 1682, after 10 it is floor(168.2) = 168.
    expect(warpRankWeight(1683, 1)).toBeCloseTo(Math.log(1682), 12);
    expect(warpRankWeight(1683, 10)).toBeCloseTo(Math.log(168), 12);
    expect(warpRankWeight(1683, 100)).toBeCloseTo(Math.log(16), 12);
    expect(warpRankWeight(101, 3)).toBeCloseTo(Math.log(33), 12);
    // Once the estimate drops to 1 (or below), the weight is ln 1 = 0.
    expect(warpRankWeight(101, 60)).toBe(0);
    expect(warpRankWeight(101, 100)).toBe(0);
    expect(warpRankWeight(101, 500)).toBe(0);
  });
});

describe('WarpModel on toy data', () => {
  const data = clusterData();
  const model = WarpModel.fit(data, TOY);

  it('validates parameters and fills in defaults', () => {
    const p = WarpModel.resolveParams({ learningRate: 0.3 });
    expect(p.optimizer).toBe('adagrad');
    expect(p.foldInLearningRate).toBe(0.3);
    expect(() => WarpModel.resolveParams({ maxSampled: 0 })).toThrow(ValidationError);
    expect(() => WarpModel.resolveParams({ optimizer: 'adam' })).toThrow(ValidationError);
    expect(() => createModel('warp', { k: 5 })).toThrow(ValidationError);
    expect(modelFamily('warp').searchSpace).toBeDefined();
  });

  it("ranks each user's own items above the other taste cluster, with AdaGrad and with Adadelta", () => {
    expectOwnItemsFirst(model, data);
    expectOwnItemsFirst(WarpModel.fit(data, { ...TOY, optimizer: 'adadelta' }), data);
  });

  it('is bitwise reproducible for a seed with one thread, on the calling thread and on a worker', async () => {
    expect(artifactBytes(WarpModel.fit(data, TOY))).toEqual(artifactBytes(model));
    expect(artifactBytes(await WarpModel.fitAsync(data, TOY))).toEqual(artifactBytes(model));
    const adadelta = { ...TOY, optimizer: 'adadelta' };
    expect(artifactBytes(WarpModel.fit(data, adadelta))).toEqual(
      artifactBytes(WarpModel.fit(data, adadelta)),
    );
    const other = WarpModel.fit(data, { ...TOY, seed: 2 });
    expect(artifactBytes(other).itemFactors).not.toEqual(artifactBytes(model).itemFactors);
  });

  it('gives bitwise-identical scores after save and load', () => {
    const loaded = roundTrip(model, (a) => WarpModel.fromArtifact(a));
    for (let u = 0; u < data.users.size; u++) {
      expect(scoreBytes(loaded, trainingContext(data, u))).toEqual(
        scoreBytes(model, trainingContext(data, u)),
      );
    }
    const ctx = context([5, 6], [2, 1]);
    expect(scoreBytes(loaded, ctx)).toEqual(scoreBytes(model, ctx));
    expect(loaded.similarItems(2, 4)).toEqual(model.similarItems(2, 4));
  });

  it('folds in new users deterministically', () => {
    expect(canFoldIn(model)).toBe(true);
    const a = model.foldInUser(Int32Array.from([5, 6, 7]), Float32Array.from([1, 1, 1]));
    expect(model.foldInUser(Int32Array.from([7, 5, 6, 42]), Float32Array.from([1, 1, 1, 1]))).toEqual(a);
    // A new user with b items only: every b item outranks every a item.
    const out = new Float32Array(data.items.size);
    model.score(context([5, 6, 7]), out);
    expect(Math.max(...out.subarray(0, 5))).toBeLessThan(Math.min(...out.subarray(5, 10)));
  });
});

describe('WARP training step', () => {
  // One user, items i0 (positive), i1, i2. Initial scores are near 0, so the first draw always
  // violates the margin (x_uj > x_ui - 1): one draw, rank weight ln(floor(2 / 1)) = ln 2.
  const data = interactionsFromArrays({ userIds: ['u0'], itemIds: ['i0'], catalog: ['i0', 'i1', 'i2'] });
  const lr = 0.3;
  const reg = 0.05;
  const params = {
    factors: 3,
    epochs: 1,
    learningRate: lr,
    regularization: reg,
    biasRegularization: 0.1,
    seed: 4,
  };
  const L = Math.log(2);

  /** Hand-computed state after the step, for either optimiser, given which negative was drawn. */
  function expected(
    j: number,
    update: (value: number, grad: number) => number,
  ): { p: number[]; q: number[][]; b: number[] } {
    const init = initialFactors(data, 3, 4, false);
    const p = Array.from(init.userFactors);
    const q = [0, 1, 2].map((i) => Array.from(init.itemFactors.subarray(i * 3, i * 3 + 3)));
    const next = q.map((row) => row.slice());
    const b = [0, 0, 0];
    for (let f = 0; f < 3; f++) {
      next[0][f] = update(q[0][f], reg * q[0][f] - L * p[f]);
      next[j][f] = update(q[j][f], reg * q[j][f] + L * p[f]);
    }
    b[0] = update(0, -L);
    b[j] = update(0, L);
    return { p: p.map((pf, f) => update(pf, L * (q[j][f] - q[0][f]) + reg * pf)), q: next, b };
  }

  function expectStep(
    got: { p: ArrayLike<number>; q: ArrayLike<number>; b: ArrayLike<number> },
    update: (value: number, grad: number) => number,
  ): void {
    const j = got.b[1] !== 0 ? 1 : 2;
    expect(got.b[3 - j]).toBe(0); // the other negative is untouched
    const e = expected(j, update);
    e.p.forEach((v, f) => expect(got.p[f]).toBeCloseTo(v, 6));
    for (let i = 0; i < 3; i++) e.q[i].forEach((v, f) => expect(got.q[i * 3 + f]).toBeCloseTo(v, 6));
    e.b.forEach((v, i) => expect(got.b[i]).toBeCloseTo(v, 6));
  }

  const adagrad = (value: number, grad: number): number => value - (lr * grad) / Math.sqrt(1 + grad * grad);
  const adadelta = (value: number, grad: number): number => {
    const rho = 0.95;
    const eps = 1e-6;
    const a = (1 - rho) * grad * grad;
    return value - (Math.sqrt(eps) / Math.sqrt(a + eps)) * grad;
  };

  it('matches the hand-computed AdaGrad update in the model (SIMD kernel, padded rows)', () => {
    const a = WarpModel.fit(data, params).toArtifact().arrays;
    expectStep({ p: a.userFactors, q: a.itemFactors, b: a.itemBias }, adagrad);
  });

  it('matches the hand-computed AdaGrad update in the portable kernel', () => {
    const model = initialFactors(data, 3, 4, false);
    const settings = WarpModel.resolveParams(params);
    runWarp({
      model,
      rows: positiveRows(data, false),
      weights: sampleWeights(data, 'binary', false),
      acc: warpAccumulators(1, 3, 3, 'adagrad'),
      settings,
      userStart: 0,
      userEnd: 1,
      seed: 4,
      stream: STREAM_RUN,
    });
    expectStep({ p: model.userFactors, q: model.itemFactors, b: model.itemBias }, adagrad);
  });

  it('matches the hand-computed Adadelta update', () => {
    const a = WarpModel.fit(data, { ...params, optimizer: 'adadelta' }).toArtifact().arrays;
    expectStep({ p: a.userFactors, q: a.itemFactors, b: a.itemBias }, adadelta);
  });
});

const u1 = loadU1();

describe.skipIf(!u1)('WarpModel on MovieLens 100K u1', () => {
  it('beats popularity by a clear margin, and its fold-in ranks like the fitted vectors', () => {
    if (!u1) return;
    const popularity = ndcgU1(PopularityModel.fit(u1.data), u1);
    const model = WarpModel.fit(u1.data, { threads: 1 });
    const ndcg = ndcgU1(model, u1);
    expect(ndcg).toBeGreaterThan(popularity + 0.1);
    expect(foldInOverlap(model, u1.data, 50)).toBeGreaterThanOrEqual(5);
  });

  it('trains with two Hogwild workers to about the same quality', async () => {
    if (!u1) return;
    const model = await WarpModel.fitAsync(u1.data, { threads: 2 });
    expect(ndcgU1(model, u1)).toBeGreaterThan(0.36);
  });
});

describe('WarpModel item fold-in', () => {
  it('folds in an item from its users, deterministically, towards its fitted vector', () => {
    const data = clusterData();
    expectToyItemFoldIn(WarpModel.fit(data, TOY), data);
  });
});

describe.skipIf(!u1)('WarpModel item fold-in on MovieLens 100K u1, film 98 left out', () => {
  it('ranks the film for its users above other users, as a model trained with it does', () => {
    if (!u1) return;
    const f = heldOutFigures(u1.base, '98', (d) => WarpModel.fit(d, { threads: 1, epochs: 30 }));
    expect(f.auc).toBeGreaterThan(0.8);
    expect(f.auc).toBeGreaterThan(f.trainedAuc - 0.03);
    expect(f.correlation).toBeGreaterThan(0.8);
    expect(f.cosine).toBeGreaterThan(0.8);
  });
});
