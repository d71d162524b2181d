import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRatingFile } from '../../../src/eval/rating-file.js';
import { Rng } from '../../../src/ingest/prng.js';
import { BaselineModel } from '../../../src/models/rating/baseline.js';
import { MfSgdModel } from '../../../src/models/rating/mf-sgd.js';
import {
  normalFill,
  ratingSet,
  shuffleRange,
  shuffleState,
  type RatingSet,
} from '../../../src/models/rating/rating-kit.js';
import { fitSvdpp, SvdppModel, type SvdppParams } from '../../../src/models/rating/svdpp.js';
import { trainingContext } from '../../../src/models/recommend.js';
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

/**
 * SVD++ as usually written: every rating updates every y_j of the user's items at once (cost
 * O(k |N(u)|) per rating), visiting the ratings in the same order as the model's fit.
 */
function naiveSvdpp(set: RatingSet, p: SvdppParams): (u: number, i: number) => number {
  const k = p.factors;
  const rng = new Rng(p.seed);
  const pf = new Float32Array(set.users * k);
  const qf = new Float32Array(set.items * k);
  const yf = new Float32Array(set.items * k);
  normalFill(pf, p.initStd, rng);
  normalFill(qf, p.initStd, rng);
  normalFill(yf, p.initStd, rng);
  const P = Float64Array.from(pf);
  const Q = Float64Array.from(qf);
  const Y = Float64Array.from(yf);
  const bu = new Float64Array(set.users);
  const bi = new Float64Array(set.items);
  const state = shuffleState(rng);
  const userOrder = Int32Array.from({ length: set.users }, (_, u) => u);
  const order = Int32Array.from({ length: set.n }, (_, t) => t);
  const implicit = (u: number): Float64Array => {
    const z = new Float64Array(k);
    const m = set.userPtr[u + 1] - set.userPtr[u];
    for (let t = set.userPtr[u]; t < set.userPtr[u + 1]; t++) {
      for (let f = 0; f < k; f++) z[f] += Y[set.itemOf[t] * k + f] / Math.sqrt(m);
    }
    return z;
  };
  let [lr, lrb, lry] = [p.learningRate, p.lrBias, p.lrImplicit];
  for (let epoch = 0; epoch < p.epochs; epoch++) {
    shuffleRange(userOrder, 0, set.users, state);
    for (const u of userOrder) shuffleRange(order, set.userPtr[u], set.userPtr[u + 1], state);
    for (const u of userOrder) {
      const m = set.userPtr[u + 1] - set.userPtr[u];
      for (let t = set.userPtr[u]; t < set.userPtr[u + 1]; t++) {
        const pos = order[t];
        const i = set.itemOf[pos];
        const z = implicit(u);
        let dot = 0;
        for (let f = 0; f < k; f++) dot += Q[i * k + f] * (P[u * k + f] + z[f]);
        const e = set.value[pos] - set.mean - bu[u] - bi[i] - dot;
        bu[u] += lrb * (e - p.regUserBias * bu[u]);
        bi[i] += lrb * (e - p.regItemBias * bi[i]);
        for (let f = 0; f < k; f++) {
          const puf = P[u * k + f];
          const qif = Q[i * k + f];
          P[u * k + f] += lr * (e * qif - p.regUserFactors * puf);
          Q[i * k + f] += lr * (e * (puf + z[f]) - p.regItemFactors * qif);
          for (let t2 = set.userPtr[u]; t2 < set.userPtr[u + 1]; t2++) {
            const j = set.itemOf[t2];
            Y[j * k + f] += lry * ((e * qif) / Math.sqrt(m) - p.regImplicit * Y[j * k + f]);
          }
        }
      }
    }
    lr *= p.decay;
    lrb *= p.decay;
    lry *= p.decay;
  }
  return (u, i) => {
    const z = implicit(u);
    let x = set.mean + bu[u] + bi[i];
    for (let f = 0; f < k; f++) x += Q[i * k + f] * (P[u * k + f] + z[f]);
    return x;
  };
}

describe('svdpp', () => {
  const rows = syntheticRatings(21, 300, 150, 0.2);
  const { data, heldOut } = splitRows(rows, 0.2);
  const params = { factors: 8, epochs: 60, learningRate: 0.02, reg: 0.1, decay: 0.97 };

  it('matches the per-rating formulation of SVD++ (with either kernel)', () => {
    const small = splitRows(syntheticRatings(5, 40, 30, 0.3), 0.1).data;
    const set = ratingSet(small);
    const p = SvdppModel.resolveParams({ factors: 5, epochs: 6, learningRate: 0.02, reg: 0.05, decay: 0.9 });
    const reference = naiveSvdpp(set, p);
    for (const kernel of ['js', 'auto'] as const) {
      const f = fitSvdpp(set, p, { kernel });
      let worst = 0;
      for (let u = 0; u < set.users; u++) {
        for (let i = 0; i < set.items; i++) {
          let x = set.mean + f.userBias[u] + f.itemBias[i];
          for (let c = 0; c < p.factors; c++) x += f.userVec[u * p.factors + c] * f.q[i * p.factors + c];
          worst = Math.max(worst, Math.abs(x - reference(u, i)));
        }
      }
      expect(worst).toBeLessThan(1e-5);
    }
  });

  it('lowers the training error epoch after epoch', () => {
    const trace: number[] = [];
    fitSvdpp(ratingSet(data), SvdppModel.resolveParams(params), { trace });
    for (let e = 1; e < trace.length; e++) expect(trace[e]).toBeLessThan(trace[e - 1] + 1e-3);
    expect(trace[trace.length - 1]).toBeLessThan(trace[0] - 0.2);
  });

  it('beats the baseline on held-out ratings and is deterministic for a seed', () => {
    const a = SvdppModel.fit(data, params);
    const b = SvdppModel.fit(data, params);
    expect(b.factors.userVec).toEqual(a.factors.userVec);
    expect(b.factors.y).toEqual(a.factors.y);
    expect(SvdppModel.fit(data, { ...params, seed: 3 }).factors.q).not.toEqual(a.factors.q);
    expect(rmseOn(a, data, heldOut)).toBeLessThan(rmseOn(BaselineModel.fit(data), data, heldOut) - 0.1);
  });

  it('saves and loads with bitwise-identical predictions and scores', () => {
    const m = SvdppModel.fit(data, params);
    const loaded = SvdppModel.fromArtifact(roundTrip(m.toArtifact()));
    for (let u = 0; u < 30; u++)
      for (let i = 0; i < 40; i++) expect(loaded.predict(u, i)).toBe(m.predict(u, i));
    const n = data.items.size;
    const [s1, s2] = [new Float32Array(n), new Float32Array(n)];
    for (const userIndex of [4, -1]) {
      const ctx = { ...trainingContext(data, 4), userIndex };
      m.score(ctx, s1);
      loaded.score(ctx, s2);
      expect(s2).toEqual(s1);
    }
  });

  it('folds in users close to their learned vectors', () => {
    const m = SvdppModel.fit(data, params);
    const { learned, folded } = foldInRmse(m, data, heldOut);
    expect(Math.abs(folded - learned)).toBeLessThan(0.02);
  });

  describe.skipIf(!ml100kAvailable)('on MovieLens 100K u1.base (85% / 15% per user)', () => {
    it('beats the baseline and plain MF with the same factors, and folds in well', () => {
      const { data: ml, heldOut: mlHeld } = ml100kSplit();
      const settings = { factors: 20, epochs: 40, learningRate: 0.01, reg: 0.08, decay: 0.97 };
      const m = SvdppModel.fit(ml, settings);
      const rmse = rmseOn(m, ml, mlHeld);
      expect(rmse).toBeLessThan(rmseOn(BaselineModel.fit(ml), ml, mlHeld) - 0.02);
      expect(rmse).toBeLessThan(rmseOn(MfSgdModel.fit(ml, settings), ml, mlHeld));
      const { learned, folded } = foldInRmse(m, ml, mlHeld);
      expect(Math.abs(folded - learned)).toBeLessThan(0.01);
    });
  });
});

describe('svdpp item fold-in', () => {
  const rows = syntheticRatings(21, 300, 150, 0.2);
  const h = holdOutItem(rows, 'i4');
  const params = { factors: 8, epochs: 60, learningRate: 0.02, reg: 0.1, regItemBias: 0.05, decay: 0.97 };

  it('solves the ridge problems of both heads with the full user vectors p_u + z_u', () => {
    const m = SvdppModel.fit(h.without, params);
    const p = SvdppModel.resolveParams(params);
    const head = m.rankingHead;
    const view: RidgeModelView = {
      k: 8,
      mean: ratingSet(h.without).mean,
      userBias: m.factors.userBias,
      userVectors: m.factors.userVec,
      head: head && { mean: head.mean, userBias: head.userBias, p: head.p },
      regItemBias: p.regItemBias,
      regItemFactors: p.regItemFactors,
      missingRatio: p.missingRatio,
      missingRating: p.missingRating,
    };
    const v = m.foldInItem(h.users, h.weights);
    expect(v).toHaveLength(18);
    const direct = directItemFoldIn(view, h);
    expect(maxDifference(v.subarray(0, 9), direct.rating)).toBeLessThan(1e-4);
    expect(maxDifference(v.subarray(9), direct.ranking ?? [])).toBeLessThan(1e-4);
    expect(SvdppModel.fromArtifact(roundTrip(m.toArtifact())).foldInItem(h.users, h.weights)).toEqual(v);
  });

  it('folds in a trained item close to its fitted factors', () => {
    const full = SvdppModel.fit(h.full, { ...params, epochs: 120 });
    const v = full.foldInItem(h.fullUsers, h.weights);
    expect(cosine(v.subarray(1, 9), row(full.factors.q, h.fullItem, 8))).toBeGreaterThan(0.9);
    expect(
      cosine(v.subarray(10), row(full.rankingHead?.q ?? new Float32Array(0), h.fullItem, 8)),
    ).toBeGreaterThan(0.9);
  });

  describe.skipIf(!ml100kAvailable)('on MovieLens 100K u1.base, film 98 left out', () => {
    it('ranks the film for its raters above other users, as a model trained with it does', () => {
      const ml = holdOutItem(readRatingFile(path.resolve('../shared/data/ml-100k/u1.base')), '98');
      const settings = { factors: 20, epochs: 30 };
      const model = SvdppModel.fit(ml.without, settings);
      const head = model.rankingHead;
      if (!head) throw new Error('no ranking head');
      const v = model.foldInItem(ml.users, ml.weights);
      const scores = userScores(head.p, 20, v.subarray(22), head.userBias);
      expect(auc(scores, ml.users)).toBeGreaterThan(0.8);
      const full = SvdppModel.fit(ml.full, settings);
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
