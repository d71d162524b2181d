import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/domain/errors.js';
import { canPredict } from '../../../src/models/model.js';
import { crossFitParts, RatingBlendModel, splitPerUser } from '../../../src/models/rating/blend.js';
import { trainingContext } from '../../../src/models/recommend.js';
import { createModel, modelFromArtifact } from '../../../src/models/registry.js';
import {
  dataOf,
  ml100kAvailable,
  ml100kSplit,
  rmseOn,
  roundTrip,
  splitRows,
  syntheticRatings,
} from './fixtures.js';

const FAST = {
  'svdpp.factors': 8,
  'svdpp.epochs': 30,
  'svdpp.learningRate': 0.02,
  'svdpp.reg': 0.1,
  'mf-sgd.factors': 8,
  'mf-sgd.epochs': 30,
  'mf-sgd.learningRate': 0.02,
  'mf-sgd.reg': 0.1,
};

describe('rating-blend', () => {
  const rows = syntheticRatings(31, 250, 120, 0.25);
  const { data, heldOut } = splitRows(rows, 0.2);

  it('holds out a seeded fraction of every user, keeping at least one rating', () => {
    const { train, heldOut: out } = splitPerUser(data, 0.3, 1);
    const m = data.matrix;
    let expected = 0;
    for (let u = 0; u < m.rows; u++) {
      const n = m.indptr[u + 1] - m.indptr[u];
      expected += Math.min(n - 1, Math.floor(n * 0.3));
      expect(train.matrix.indptr[u + 1] - train.matrix.indptr[u]).toBe(
        n - Math.min(n - 1, Math.floor(n * 0.3)),
      );
    }
    expect(out.length).toBe(expected);
    expect(train.matrix.indptr[m.rows] + out.length).toBe(m.indptr[m.rows]);
    expect(splitPerUser(data, 0.3, 1).heldOut.item).toEqual(out.item);
  });

  it('cross-fitting holds out every rating exactly once', () => {
    const parts = crossFitParts(data, 4, 9);
    expect(parts).toHaveLength(4);
    const seen = new Map<string, number>();
    for (const p of parts) {
      expect(p.train.matrix.indptr[data.matrix.rows] + p.heldOut.length).toBe(
        data.matrix.indptr[data.matrix.rows],
      );
      for (let e = 0; e < p.heldOut.length; e++) {
        const key = `${p.heldOut.user[e]}:${p.heldOut.item[e]}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
    }
    expect(seen.size).toBe(data.matrix.indptr[data.matrix.rows]);
    for (const c of seen.values()) expect(c).toBe(1);
  });

  it('saves and loads with bitwise-identical predictions and scores, through the registry too', async () => {
    const m = RatingBlendModel.fit(data, FAST);
    const loaded = modelFromArtifact(roundTrip(m.toArtifact()));
    expect(loaded).toBeInstanceOf(RatingBlendModel);
    if (!canPredict(loaded)) throw new Error('not a rating predictor');
    for (let u = 0; u < 20; u++)
      for (let i = 0; i < 30; i++) expect(loaded.predict(u, i)).toBe(m.predict(u, i));
    const n = data.items.size;
    const [s1, s2] = [new Float32Array(n), new Float32Array(n)];
    for (const userIndex of [2, -1]) {
      const ctx = { ...trainingContext(data, 2), userIndex };
      m.score(ctx, s1);
      loaded.score(ctx, s2);
      expect(s2).toEqual(s1);
    }
    // Ranking by the blended rating keeps the scores on the rating scale.
    const byRating = RatingBlendModel.fit(data, { ...FAST, ranking: 'rating' });
    byRating.score(trainingContext(data, 2), s1);
    for (const x of s1) expect(x >= 1 && x <= 5).toBe(true);
    const viaRegistry = await createModel('rating-blend', { ...FAST, threads: 1 }).fit(data);
    expect(canPredict(viaRegistry) && viaRegistry.predict(3, 4)).toBe(m.predict(3, 4));
  });

  it("ranks by the weighted sum of its components' standardised ranking scores", () => {
    const m = RatingBlendModel.fit(data, { ...FAST, rankWeights: '0,1,0,0' });
    const n = data.items.size;
    const [blend, svdpp] = [new Float32Array(n), new Float32Array(n)];
    const ctx = trainingContext(data, 4);
    m.score(ctx, blend);
    m.models[1].score(ctx, svdpp);
    let mean = 0;
    for (const x of svdpp) mean += x / n;
    let sd = 0;
    for (const x of svdpp) sd += (x - mean) ** 2 / n;
    sd = Math.sqrt(sd);
    for (let i = 0; i < n; i++) expect(blend[i]).toBeCloseTo((svdpp[i] - mean) / sd, 3);
    expect(() => RatingBlendModel.resolveParams({ rankWeights: '1,2' })).toThrow(ValidationError);
    expect(() => RatingBlendModel.resolveParams({ rankWeights: '1,1,-1,0' })).toThrow(ValidationError);
  });

  it('fits the same model on worker threads', async () => {
    const small = dataOf(syntheticRatings(32, 80, 50, 0.25));
    const params = {
      'svdpp.factors': 8,
      'svdpp.epochs': 20,
      models: 'svdpp,knn-baseline,baseline',
      folds: 2,
    };
    const a = RatingBlendModel.fit(small, params);
    const b = await RatingBlendModel.fitAsync(small, { ...params, threads: 2 });
    expect(b.blendWeights).toEqual(a.blendWeights);
    for (let u = 0; u < 30; u++) for (let i = 0; i < 30; i++) expect(b.predict(u, i)).toBe(a.predict(u, i));
  });

  it('is about as good as its best component on an exactly low-rank matrix', () => {
    const blend = RatingBlendModel.fit(data, FAST);
    const rmse = rmseOn(blend, data, heldOut);
    const components = blend.models.map((c) => rmseOn(c, data, heldOut));
    expect(rmse).toBeLessThan(Math.min(...components) + 0.005);
    expect(rmse).toBeLessThan(Math.max(...components) - 0.05);
  });

  it('validates its parameters and those of its components', () => {
    expect(
      RatingBlendModel.resolveParams({
        models: 'svdpp, knn-baseline#user',
        'knn-baseline#user.based': 'user',
      }).components,
    ).toEqual(['svdpp', 'knn-baseline#user']);
    expect(() => RatingBlendModel.resolveParams({ models: 'svdpp,nope' })).toThrow(ValidationError);
    expect(() => RatingBlendModel.resolveParams({ models: 'svdpp,svdpp' })).toThrow(ValidationError);
    expect(() => RatingBlendModel.resolveParams({ models: 'svdpp', 'mf-sgd.factors': 3 })).toThrow(
      ValidationError,
    );
    expect(() => RatingBlendModel.resolveParams({ 'svdpp.factors': 0 })).toThrow(ValidationError);
    expect(() => RatingBlendModel.resolveParams({ l2: -1 })).toThrow(ValidationError);
    expect(() => RatingBlendModel.resolveParams({ models: '' })).toThrow(ValidationError);
  });

  describe.skipIf(!ml100kAvailable)('on MovieLens 100K u1.base (85% / 15% per user)', () => {
    it('beats its best component by a clear margin', () => {
      const { data: ml, heldOut: mlHeld } = ml100kSplit();
      const settings = {
        'svdpp.factors': 20,
        'svdpp.epochs': 40,
        'svdpp.learningRate': 0.01,
        'svdpp.reg': 0.08,
        'mf-sgd.factors': 50,
        'mf-sgd.epochs': 40,
        'mf-sgd.learningRate': 0.01,
        'mf-sgd.reg': 0.1,
        'mf-sgd.decay': 1,
      };
      const model = RatingBlendModel.fit(ml, settings);
      const blend = rmseOn(model, ml, mlHeld);
      // The components as refitted on all the training ratings, i.e. as fitted on their own.
      const best = Math.min(...model.models.map((c) => rmseOn(c, ml, mlHeld)));
      expect(blend).toBeLessThan(best - 0.005);
      expect(blend).toBeLessThan(0.91);
    });
  });
});
