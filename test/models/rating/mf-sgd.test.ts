import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InteractionData } from '../../../src/data/interactions.js';
import { ValidationError } from '../../../src/domain/errors.js';
import { readRatingFile } from '../../../src/eval/rating-file.js';
import { BaselineModel } from '../../../src/models/rating/baseline.js';
import { fitMfRankingHead, fitMfSgd, MfSgdModel } from '../../../src/models/rating/mf-sgd.js';
import { ratingSet } from '../../../src/models/rating/rating-kit.js';
import { trainingContext } from '../../../src/models/recommend.js';
import type { RatingPredictor, Recommender } from '../../../src/models/model.js';
import {
  foldInRmse,
  ml100kAvailable,
  ml100kSplit,
  rmseOn,
  roundTrip,
  splitRows,
  syntheticRatings,
} from './fixtures.js';
import {
  auc,
  correlation,
  cosine,
  directItemFoldIn,
  holdOutItem,
  maxDifference,
  row,
  userMap,
  userScores,
  type RidgeModelView,
} from './item-fold-in-kit.js';

/** Root mean squared difference of two models' scores for the users' training contexts. */
function scoreDifference(a: Recommender, b: Recommender, data: InteractionData, users: number): number {
  const n = data.items.size;
  const sa = new Float32Array(n);
  const sb = new Float32Array(n);
  let se = 0;
  for (let u = 0; u < users; u++) {
    const ctx = trainingContext(data, u);
    a.score(ctx, sa);
    b.score({ ...ctx, userIndex: -1 }, sb);
    for (let i = 0; i < n; i++) se += (sa[i] - sb[i]) ** 2;
  }
  return Math.sqrt(se / (users * n));
}

describe('mf-sgd', () => {
  const rows = syntheticRatings(11, 300, 150, 0.2);
  const { data, heldOut } = splitRows(rows, 0.2);
  const params = { factors: 8, epochs: 60, learningRate: 0.02, reg: 0.1, decay: 0.97 };

  it('lowers the training error epoch after epoch, with either kernel', () => {
    const set = ratingSet(data);
    const resolved = MfSgdModel.resolveParams(params);
    for (const kernel of ['auto', 'js'] as const) {
      const trace: number[] = [];
      fitMfSgd(set, resolved, { kernel, trace });
      expect(trace).toHaveLength(60);
      for (let e = 1; e < trace.length; e++) expect(trace[e]).toBeLessThan(trace[e - 1] + 1e-3);
      expect(trace[59]).toBeLessThan(trace[0] - 0.2);
    }
  });

  it('gives the same model from the SIMD kernel as from plain JavaScript', () => {
    const set = ratingSet(data);
    const resolved = MfSgdModel.resolveParams({ ...params, factors: 13 });
    const a = fitMfSgd(set, resolved, { kernel: 'auto' });
    const b = fitMfSgd(set, resolved, { kernel: 'js' });
    let worst = 0;
    for (let p = 0; p < a.q.length; p++) worst = Math.max(worst, Math.abs(a.q[p] - b.q[p]));
    for (let u = 0; u < a.userBias.length; u++)
      worst = Math.max(worst, Math.abs(a.userBias[u] - b.userBias[u]));
    expect(worst).toBeLessThan(1e-4);
  });

  it('is deterministic for a seed', () => {
    const a = MfSgdModel.fit(data, params);
    const b = MfSgdModel.fit(data, params);
    const c = MfSgdModel.fit(data, { ...params, seed: 7 });
    expect(b.factors.p).toEqual(a.factors.p);
    expect(b.factors.q).toEqual(a.factors.q);
    expect(b.factors.userBias).toEqual(a.factors.userBias);
    expect(c.factors.q).not.toEqual(a.factors.q);
  });

  it('beats the baseline on held-out ratings of a low-rank matrix', () => {
    const mf = rmseOn(MfSgdModel.fit(data, params), data, heldOut);
    const base = rmseOn(BaselineModel.fit(data), data, heldOut);
    expect(mf).toBeLessThan(base - 0.1);
  });

  it('saves and loads with bitwise-identical predictions and scores', () => {
    const m = MfSgdModel.fit(data, params);
    const loaded = MfSgdModel.fromArtifact(roundTrip(m.toArtifact()));
    for (let u = 0; u < 30; u++)
      for (let i = 0; i < 40; i++) expect(loaded.predict(u, i)).toBe(m.predict(u, i));
    const n = data.items.size;
    const [s1, s2] = [new Float32Array(n), new Float32Array(n)];
    const ctx = { ...trainingContext(data, 3), userIndex: -1 };
    m.score(ctx, s1);
    loaded.score(ctx, s2);
    expect(s2).toEqual(s1);
    expect(loaded.similarItems(0, 5)).toEqual(m.similarItems(0, 5));
  });

  it('predicts within the rating scale and falls back to biases for unknown users and items', () => {
    const m = MfSgdModel.fit(data, { ...params, missingRatio: 0 });
    const { userBias, itemBias } = m.factors;
    const mean = ratingSet(data).mean;
    expect(m.predict(0, -1)).toBeCloseTo(Math.min(5, Math.max(1, mean + userBias[0])), 12);
    expect(m.predict(-1, 2)).toBeCloseTo(Math.min(5, Math.max(1, mean + itemBias[2])), 12);
    const out = new Float32Array(data.items.size);
    m.score(trainingContext(data, 0), out);
    for (const x of out) {
      expect(x).toBeGreaterThanOrEqual(1);
      expect(x).toBeLessThanOrEqual(5);
    }
  });

  it('folds in a training user close to its learned vector', () => {
    const m = MfSgdModel.fit(data, params);
    expect(scoreDifference(m, m, data, 50)).toBeLessThan(0.15);
    const v = m.foldInUser(trainingContext(data, 0).history, trainingContext(data, 0).historyWeights);
    expect(v).toHaveLength(9);
  });

  it('fits the same ranking head with the SIMD kernel as in plain JavaScript, apart from the rating head', () => {
    const set = ratingSet(data);
    const resolved = MfSgdModel.resolveParams({ ...params, factors: 13 });
    const a = fitMfRankingHead(set, resolved, { kernel: 'auto' });
    const b = fitMfRankingHead(set, resolved, { kernel: 'js' });
    let worst = 0;
    for (let p = 0; p < a.q.length; p++) worst = Math.max(worst, Math.abs(a.q[p] - b.q[p]));
    for (let i = 0; i < a.itemBias.length; i++)
      worst = Math.max(worst, Math.abs(a.itemBias[i] - b.itemBias[i]));
    expect(worst).toBeLessThan(1e-3);
    // The rating head is the same with or without a ranking head.
    const plain = MfSgdModel.fit(data, { ...params, missingRatio: 0 });
    const headed = MfSgdModel.fit(data, params);
    expect(headed.factors.q).toEqual(plain.factors.q);
    expect(headed.factors.userBias).toEqual(plain.factors.userBias);
  });

  it('saves and loads its ranking head with bitwise-identical scores', () => {
    const m = MfSgdModel.fit(data, params);
    expect(m.rankingHead).not.toBeNull();
    const loaded = MfSgdModel.fromArtifact(roundTrip(m.toArtifact()));
    const n = data.items.size;
    const [s1, s2] = [new Float32Array(n), new Float32Array(n)];
    for (const userIndex of [3, -1]) {
      const ctx = { ...trainingContext(data, 3), userIndex };
      m.score(ctx, s1);
      loaded.score(ctx, s2);
      expect(s2).toEqual(s1);
    }
  });

  it('rejects invalid parameters', () => {
    expect(() => MfSgdModel.resolveParams({ factors: 0 })).toThrow(ValidationError);
    expect(() => MfSgdModel.resolveParams({ decay: 2 })).toThrow(ValidationError);
    expect(() => MfSgdModel.resolveParams({ neighbours: 2 })).toThrow(ValidationError);
  });

  describe.skipIf(!ml100kAvailable)('on MovieLens 100K u1.base (85% / 15% per user)', () => {
    it('beats the baseline clearly, and fold-in matches the learned users', () => {
      const { data: ml, heldOut: mlHeld } = ml100kSplit();
      // Without a ranking head, score() gives the predicted ratings that fold-in is compared on.
      const settings = { factors: 50, epochs: 50, learningRate: 0.01, reg: 0.1, decay: 1 };
      const m = MfSgdModel.fit(ml, { ...settings, missingRatio: 0 });
      const mf: RatingPredictor = m;
      const rmse = rmseOn(mf, ml, mlHeld);
      const base = rmseOn(BaselineModel.fit(ml), ml, mlHeld);
      expect(rmse).toBeLessThan(base - 0.02);
      expect(rmse).toBeLessThan(0.925);
      // Users scored from their training history alone (userIndex -1) score like the learned ones.
      expect(scoreDifference(m, m, ml, 100)).toBeLessThan(0.1);
      const { learned, folded } = foldInRmse(m, ml, mlHeld);
      expect(Math.abs(folded - learned)).toBeLessThan(0.01);
      // The ranking head leaves the rating predictions as they were.
      const headed = MfSgdModel.fit(ml, settings);
      expect(headed.rankingHead).not.toBeNull();
      for (let u = 0; u < 50; u++)
        for (let i = 0; i < 50; i++) expect(headed.predict(u, i)).toBe(m.predict(u, i));
      // A user folded into the ranking head scores close to the learned one.
      expect(scoreDifference(headed, headed, ml, 100)).toBeLessThan(0.15);
    });
  });
});

describe('mf-sgd item fold-in', () => {
  const rows = syntheticRatings(11, 300, 150, 0.2);
  const h = holdOutItem(rows, 'i7');
  const params = { factors: 8, epochs: 60, learningRate: 0.02, reg: 0.1, regItemFactors: 0.07, decay: 0.97 };
  const m = MfSgdModel.fit(h.without, params);
  const view = (model: MfSgdModel, data: InteractionData): RidgeModelView => {
    const p = MfSgdModel.resolveParams(params);
    const head = model.rankingHead;
    return {
      k: 8,
      mean: ratingSet(data).mean,
      userBias: model.factors.userBias,
      userVectors: model.factors.p,
      head: head && { mean: head.mean, userBias: head.userBias, p: head.p },
      regItemBias: p.regItemBias,
      regItemFactors: p.regItemFactors,
      missingRatio: p.missingRatio,
      missingRating: p.missingRating,
    };
  };

  it('solves the ridge problems of both heads for an item left out of training', () => {
    const v = m.foldInItem(h.users, h.weights);
    expect(v).toHaveLength(18);
    const direct = directItemFoldIn(view(m, h.without), h);
    expect(maxDifference(v.subarray(0, 9), direct.rating)).toBeLessThan(1e-4);
    expect(maxDifference(v.subarray(9), direct.ranking ?? [])).toBeLessThan(1e-4);
    expect(m.foldInRatingItem(h.users, h.weights)).toEqual(v.subarray(0, 9));
    // Repeated users count once (first entry), unknown users and non-positive weights are skipped.
    const users = Int32Array.from([...h.users, h.users[0], 99999, -1]);
    const weights = Float32Array.from([...h.weights, 1, 5, 5]);
    expect(m.foldInItem(users, weights)).toEqual(v);
    const plain = MfSgdModel.fit(h.without, { ...params, missingRatio: 0 });
    expect(plain.foldInItem(h.users, h.weights)).toEqual(v.subarray(0, 9));
    expect(plain.foldInRankingItem(h.users, h.weights)).toBeNull();
  });

  it('folds in the same after save and load, and without stored rating counts', () => {
    const v = m.foldInItem(h.users, h.weights);
    const artifact = roundTrip(m.toArtifact());
    expect(MfSgdModel.fromArtifact(artifact).foldInItem(h.users, h.weights)).toEqual(v);
    delete artifact.arrays['rank.userCount'];
    const old = MfSgdModel.fromArtifact(artifact).foldInItem(h.users, h.weights);
    expect(old.subarray(0, 9)).toEqual(v.subarray(0, 9));
    expect(cosine(old.subarray(10), v.subarray(10))).toBeGreaterThan(0.95);
  });

  it('folds in a trained item close to its fitted factors', () => {
    const full = MfSgdModel.fit(h.full, { ...params, epochs: 120 });
    const v = full.foldInItem(h.fullUsers, h.weights);
    const i = h.fullItem;
    expect(cosine(v.subarray(1, 9), row(full.factors.q, i, 8))).toBeGreaterThan(0.9);
    expect(Math.abs(v[0] - full.factors.itemBias[i])).toBeLessThan(0.1);
    const head = full.rankingHead;
    expect(cosine(v.subarray(10), row(head?.q ?? new Float32Array(0), i, 8))).toBeGreaterThan(0.9);
  });

  describe.skipIf(!ml100kAvailable)('on MovieLens 100K u1.base, film 98 left out', () => {
    it('ranks the film for its raters above other users, as a model trained with it does', () => {
      const ml = holdOutItem(readRatingFile(path.resolve('../shared/data/ml-100k/u1.base')), '98');
      const settings = { factors: 20, epochs: 30 };
      const model = MfSgdModel.fit(ml.without, settings);
      const head = model.rankingHead;
      if (!head) throw new Error('no ranking head');
      const v = model.foldInItem(ml.users, ml.weights);
      const scores = userScores(head.p, 20, v.subarray(22), head.userBias);
      expect(auc(scores, ml.users)).toBeGreaterThan(0.8);
      const full = MfSgdModel.fit(ml.full, settings);
      const fullHead = full.rankingHead;
      if (!fullHead) throw new Error('no ranking head');
      const trained = userScores(fullHead.p, 20, row(fullHead.q, ml.fullItem, 20), fullHead.userBias);
      expect(correlation(scores, trained, userMap(ml.without, ml.full))).toBeGreaterThan(0.7);
      const refolded = full.foldInItem(ml.fullUsers, ml.weights);
      expect(cosine(refolded.subarray(1, 21), row(full.factors.q, ml.fullItem, 20))).toBeGreaterThan(0.9);
      expect(cosine(refolded.subarray(22), row(fullHead.q, ml.fullItem, 20))).toBeGreaterThan(0.9);
    });
  });
});
