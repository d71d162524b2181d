import { describe, expect, it } from 'vitest';
import { interactionsFromArrays } from '../../../src/data/interactions.js';
import { ValidationError } from '../../../src/domain/errors.js';
import { canFoldIn, canPredict } from '../../../src/models/model.js';
import { BaselineModel } from '../../../src/models/rating/baseline.js';
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

/**
 * Toy ratings:        i0  i1  i2
 *               u0     5   3   .
 *               u1     4   .   1
 *               u2     .   2   4
 *
 * μ = 19/6. One ALS epoch with regItem = 1, regUser = 2 (items first):
 *   b_i0 = ((5 − μ) + (4 − μ)) / 3 = 8/9,   b_i1 = ((3 − μ) + (2 − μ)) / 3 = −4/9,   b_i2 = −4/9
 *   b_u0 = ((5 − μ − 8/9) + (3 − μ + 4/9)) / 4 = 11/36
 *   b_u1 = ((4 − μ − 8/9) + (1 − μ + 4/9)) / 4 = −4/9
 *   b_u2 = ((2 − μ + 4/9) + (4 − μ + 4/9)) / 4 = 5/36
 */
const TOY: [string, string, number][] = [
  ['u0', 'i0', 5],
  ['u0', 'i1', 3],
  ['u1', 'i0', 4],
  ['u1', 'i2', 1],
  ['u2', 'i1', 2],
  ['u2', 'i2', 4],
];
const toy = () =>
  interactionsFromArrays({
    userIds: TOY.map((t) => t[0]),
    itemIds: TOY.map((t) => t[1]),
    strengths: TOY.map((t) => t[2]),
  });

describe('baseline', () => {
  it('computes the ALS biases by hand on a tiny matrix', () => {
    const m = BaselineModel.fit(toy(), { method: 'als', epochs: 1, regItem: 1, regUser: 2 });
    expect(m.mean).toBeCloseTo(19 / 6, 12);
    expect(Array.from(m.itemBias)).toEqual([8 / 9, -4 / 9, -4 / 9].map((x) => expect.closeTo(x, 12)));
    expect(Array.from(m.userBias)).toEqual([11 / 36, -4 / 9, 5 / 36].map((x) => expect.closeTo(x, 12)));
    expect(m.predict(0, 0)).toBeCloseTo(19 / 6 + 11 / 36 + 8 / 9, 12);
    // Unknown user: the mean and the item bias; unknown item: the mean and the user bias.
    expect(m.predict(-1, 1)).toBeCloseTo(19 / 6 - 4 / 9, 12);
    expect(m.predict(2, 99)).toBeCloseTo(19 / 6 + 5 / 36, 12);
  });

  it('folds in a user exactly as the ALS user step', () => {
    const m = BaselineModel.fit(toy(), { method: 'als', epochs: 1, regItem: 1, regUser: 2, missingRatio: 0 });
    const v = m.foldInUser(Int32Array.of(0, 1), Float32Array.of(5, 3));
    expect(v[0]).toBeCloseTo(11 / 36, 6);
    // Repeated history entries count once, with the most recent (first) rating.
    const again = m.foldInUser(Int32Array.of(0, 1, 0), Float32Array.of(5, 3, 1));
    expect(again[0]).toBe(v[0]);
    const out = new Float32Array(3);
    m.score({ userIndex: -1, history: Int32Array.of(0, 1), historyWeights: Float32Array.of(5, 3) }, out);
    expect(out[2]).toBeCloseTo(19 / 6 + 11 / 36 - 4 / 9, 5);
  });

  it('ranks every user alike by the item biases fitted with the imputed missing entries', () => {
    const params = {
      method: 'als',
      epochs: 3,
      regItem: 1,
      regUser: 2,
      missingRatio: 1,
      missingRating: 0,
    } as const;
    const m = BaselineModel.fit(toy(), params);
    // Dense reference: every missing entry of user u imputed with 0 at weight c_u / (3 − m_u),
    // c_u = round(1 · m_u) capped at the unrated items; ALS over every (u, i) pair.
    const r = [
      [5, 3, NaN],
      [4, NaN, 1],
      [NaN, 2, 4],
    ];
    const w = r.map((row) => {
      const m = row.filter((x) => !Number.isNaN(x)).length;
      return Math.min(3 - m, m) / (3 - m);
    });
    let sum = 0;
    let weight = 0;
    for (let u = 0; u < 3; u++)
      for (let i = 0; i < 3; i++) {
        const obs = !Number.isNaN(r[u][i]);
        sum += obs ? r[u][i] : 0;
        weight += obs ? 1 : w[u];
      }
    const mean = sum / weight;
    const bu = [0, 0, 0];
    const bi = [0, 0, 0];
    for (let epoch = 0; epoch < 3; epoch++) {
      for (let i = 0; i < 3; i++) {
        let s = 0;
        let d = params.regItem;
        for (let u = 0; u < 3; u++) {
          const obs = !Number.isNaN(r[u][i]);
          const c = obs ? 1 : w[u];
          s += c * ((obs ? r[u][i] : 0) - mean - bu[u]);
          d += c;
        }
        bi[i] = s / d;
      }
      for (let u = 0; u < 3; u++) {
        let s = 0;
        let d = params.regUser;
        for (let i = 0; i < 3; i++) {
          const obs = !Number.isNaN(r[u][i]);
          const c = obs ? 1 : w[u];
          s += c * ((obs ? r[u][i] : 0) - mean - bi[i]);
          d += c;
        }
        bu[u] = s / d;
      }
    }
    expect(m.rankItemBias).not.toBeNull();
    for (let i = 0; i < 3; i++) expect(m.rankItemBias?.[i]).toBeCloseTo(bi[i], 10);
    const [a, b] = [new Float32Array(3), new Float32Array(3)];
    m.score({ userIndex: 0, history: new Int32Array(0), historyWeights: new Float32Array(0) }, a);
    m.score({ userIndex: -1, history: Int32Array.of(2), historyWeights: Float32Array.of(1) }, b);
    expect(b).toEqual(a);
    expect(Array.from(a)).toEqual(bi.map((x) => Math.fround(x)));
    // The rating predictions do not depend on the ranking biases.
    const plain = BaselineModel.fit(toy(), { ...params, missingRatio: 0 });
    expect(plain.rankItemBias).toBeNull();
    expect(plain.itemBias).toEqual(m.itemBias);
    const loaded = BaselineModel.fromArtifact(roundTrip(m.toArtifact()));
    expect(loaded.rankItemBias).toEqual(m.rankItemBias);
  });

  it('clips predictions to the rating scale seen in training', () => {
    const m = BaselineModel.fit(toy(), { method: 'als', epochs: 30, regItem: 0, regUser: 0 });
    let clipped = 0;
    for (let u = 0; u < 3; u++) {
      for (let i = 0; i < 3; i++) {
        const raw = m.mean + m.userBias[u] + m.itemBias[i];
        const p = m.predict(u, i);
        expect(p).toBeGreaterThanOrEqual(1);
        expect(p).toBeLessThanOrEqual(5);
        if (raw > 5 || raw < 1) clipped++;
        else expect(p).toBeCloseTo(raw, 12);
      }
    }
    expect(clipped).toBeGreaterThan(0);
  });

  it('SGD biases fit better than the mean alone', () => {
    const rows = syntheticRatings(3);
    const { data, heldOut } = splitRows(rows, 0.2);
    const sgd = BaselineModel.fit(data, { method: 'sgd', epochs: 20 });
    const mean = BaselineModel.fit(data, { method: 'sgd', epochs: 0 });
    expect(rmseOn(sgd, data, heldOut)).toBeLessThan(rmseOn(mean, data, heldOut) - 0.05);
  });

  it('saves and loads with identical predictions, through the registry too', async () => {
    const data = dataOf(syntheticRatings(4));
    const m = BaselineModel.fit(data);
    const loaded = modelFromArtifact(roundTrip(m.toArtifact()));
    expect(canPredict(loaded) && canFoldIn(loaded)).toBe(true);
    if (!canPredict(loaded)) return;
    for (let u = 0; u < 20; u++)
      for (let i = 0; i < 20; i++) expect(loaded.predict(u, i)).toBe(m.predict(u, i));
    const viaRegistry = await createModel('baseline', { regUser: 5 }).fit(data);
    expect(viaRegistry.info.params.regUser).toBe(5);
  });

  it('rejects invalid parameters', () => {
    expect(() => BaselineModel.resolveParams({ method: 'nope' })).toThrow(ValidationError);
    expect(() => BaselineModel.resolveParams({ regUser: -1 })).toThrow(ValidationError);
    expect(() => BaselineModel.resolveParams({ factors: 3 })).toThrow(ValidationError);
  });

  it.skipIf(!ml100kAvailable)('reaches the expected RMSE on held-out MovieLens 100K u1.base ratings', () => {
    const { data, heldOut } = ml100kSplit();
    const rmse = rmseOn(BaselineModel.fit(data), data, heldOut);
    expect(rmse).toBeGreaterThan(0.9);
    expect(rmse).toBeLessThan(0.96);
  });
});
