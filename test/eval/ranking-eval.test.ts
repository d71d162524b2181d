import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { interactionsFromArrays } from '../../src/data/interactions.js';
import { ratingErrors } from '../../src/eval/metrics.js';
import {
  evaluateRanking,
  evaluateRatings,
  mergeRankingResults,
  RANKING_METRICS,
  summarizeRanking,
  summarizeRatings,
} from '../../src/eval/ranking-eval.js';
import { readRatingFile, type RatingRows } from '../../src/eval/rating-file.js';
import { evaluateTopK } from '../../src/eval/topk-protocol.js';
import type { ModelInfo, Recommender, RatingPredictor, ScoringContext } from '../../src/models/model.js';
import { PopularityModel } from '../../src/models/popularity/popularity.js';
import { createModel } from '../../src/models/registry.js';

const INFO: ModelInfo = {
  name: 'fixed',
  params: {},
  trainedAt: 0,
  users: 0,
  items: 0,
  interactions: 0,
  fitSeconds: 0,
};

/** The same score for every user: a .9, b .8, c .7, d .6, e .5, f .4. */
class FixedModel implements Recommender, RatingPredictor {
  readonly info = INFO;
  constructor(
    readonly itemIds: readonly string[],
    private readonly scores: Float32Array,
  ) {}
  score(_ctx: ScoringContext, out: Float32Array): void {
    out.set(this.scores);
  }
  similarItems(): null {
    return null;
  }
  /** 3 + the user index (unknown users: 3), minus 1 for unknown items. */
  predict(userIndex: number, itemIndex: number): number {
    return 3 + Math.max(0, userIndex) - (itemIndex < 0 ? 1 : 0);
  }
}

function rows(list: [string, string, number][]): RatingRows {
  return {
    users: list.map((r) => r[0]),
    items: list.map((r) => r[1]),
    ratings: Float32Array.from(list.map((r) => r[2])),
    timestamps: new Float64Array(list.length),
    length: list.length,
  };
}

// Training: u1 {a}, u2 {b, c}, u4 {a, c}; catalogue a..f (indices 0..5).
const catalog = ['a', 'b', 'c', 'd', 'e', 'f'];
const data = interactionsFromArrays({
  userIds: ['u1', 'u2', 'u2', 'u4', 'u4'],
  itemIds: ['a', 'b', 'c', 'a', 'c'],
  catalog,
});
const model = new FixedModel(catalog, Float32Array.from([0.9, 0.8, 0.7, 0.6, 0.5, 0.4]));
// Test rows (relevant: value ≥ 4). Users in order of their first relevant row: u2, u1, u3.
//   u1: b 5, d 4, z 5 (z unknown to training), e 2 (not relevant)
//   u2: a 4
//   u3 (unknown user): f 5
const test = rows([
  ['u1', 'e', 2],
  ['u2', 'a', 4],
  ['u1', 'b', 5],
  ['u1', 'd', 4],
  ['u1', 'z', 5],
  ['u3', 'f', 5],
]);

describe('evaluateRanking on a hand-checked case', () => {
  // Rankings (training history excluded):
  //   u2 (b, c excluded): a d e f      relevant {a}
  //   u1 (a excluded):    b c d e f    relevant {b, d, z}
  //   u3 (no history):    a b c d e f  relevant {f}
  const r = evaluateRanking(model, data, test, { ks: [3, 1], threshold: 4, auc: true, beyond: true });

  it('orders users by their first relevant row and sorts the cut-offs', () => {
    expect(r.users).toEqual(['u2', 'u1', 'u3']);
    expect(r.ks).toEqual([1, 3]);
    expect(r.mainK).toBe(3);
    expect(Array.from(r.relevantCounts)).toEqual([1, 3, 1]);
  });

  it('ranking metrics at K = 1 and K = 3', () => {
    // K = 1: u2 [a] hit; u1 [b] hit (R 1/3, NDCG 1 as the ideal is one hit); u3 [a] miss.
    expect(Array.from(r.atK.precision['1'])).toEqual([1, 1, 0]);
    expect(Array.from(r.atK.recall['1'])).toEqual([1, 1 / 3, 0]);
    expect(Array.from(r.atK.ndcg['1'])).toEqual([1, 1, 0]);
    // K = 3: u2 [a d e]: P 1/3, R 1, NDCG 1, AP 1. u1 [b c d]: hits at 1 and 3: P 2/3, R 2/3,
    // DCG 1 + 1/2 over IDCG 1 + 1/log2(3) + 1/2 = 2.130930 → 0.703918; AP (1 + 2/3) / 3 = 0.555556.
    // u3 [a b c]: nothing.
    expect(Array.from(r.atK.precision['3'])).toEqual([1 / 3, 2 / 3, 0]);
    expect(Array.from(r.atK.recall['3'])).toEqual([1, 2 / 3, 0]);
    expect(r.atK.ndcg['3'][1]).toBeCloseTo(0.703918, 6);
    expect(r.atK.map['3'][1]).toBeCloseTo(5 / 9, 12);
    expect(Array.from(r.atK.mrr['3'])).toEqual([1, 1, 0]);
    expect(Array.from(r.atK.hitRate['3'])).toEqual([1, 1, 0]);
    expect(r.means.atK.precision['3']).toBeCloseTo((1 / 3 + 2 / 3) / 3, 12);
  });

  it('AUC from the same scores', () => {
    // u2: a (.9) above d, e, f → 1. u1: candidates b..f; b (.8) beats c, e, f → 3; d (.6) beats
    // e, f → 2; z (unknown) → 0; 5 / (3 · 3). u3: f (.4) is last → 0.
    expect(Array.from(r.scalar.auc ?? [])).toEqual([1, 5 / 9, 0]);
    expect(r.means.scalar.auc).toBeCloseTo((1 + 5 / 9) / 3, 12);
  });

  it('beyond-accuracy metrics of the top-3 lists', () => {
    // Lists: u2 [a d e], u1 [b c d], u3 [a b c]. Popularity (3 training users): a 2, b 1, c 2,
    // d/e/f 0. Coverage {a..e} = 5/6. Counts a2 b2 c2 d2 e1 f0 → ascending 0,1,2,2,2,2 (Σ 9):
    // Gini = (−3·1 − 1·2 + 1·2 + 3·2 + 5·2) / (6 · 9) = 13/54.
    expect(r.catalog.coverage).toBeCloseTo(5 / 6, 12);
    expect(r.catalog.gini).toBeCloseTo(13 / 54, 12);
    // Novelty bits: a, c log2(3/2) = 0.584963; b log2(3) = 1.584963; d, e (pop 0 → 1) log2(3).
    const lo = Math.log2(1.5);
    const hi = Math.log2(3);
    const nov = r.scalar.novelty ?? new Float64Array(0);
    expect(nov[0]).toBeCloseTo((lo + 2 * hi) / 3, 12);
    expect(nov[1]).toBeCloseTo((2 * hi + lo) / 3, 12);
    expect(nov[2]).toBeCloseTo((2 * lo + hi) / 3, 12);
    // ARP per list: (2 + 0 + 0)/3, (1 + 2 + 0)/3, (2 + 1 + 2)/3.
    expect(Array.from(r.scalar.popularityBias ?? [])).toEqual([2 / 3, 1, 5 / 3]);
    // Diversity over binarised item columns (users u1, u2, u4): a {u1, u4}, b {u2}, c {u2, u4},
    // d, e none. cos(a,b) 0, cos(a,c) 1/2, cos(b,c) 1/√2, anything with d/e 0.
    // [a d e] → 1; [b c d] → (1 − 1/√2 + 1 + 1)/3 = 0.764298; [a b c] → (1 + 1/2 + 1 − 1/√2)/3 = 0.597631.
    const div = r.scalar.diversity ?? new Float64Array(0);
    expect(div[0]).toBeCloseTo(1, 6);
    expect(div[1]).toBeCloseTo((3 - Math.SQRT1_2) / 3, 6);
    expect(div[2]).toBeCloseTo((2.5 - Math.SQRT1_2) / 3, 6);
  });

  it('leaves AUC and beyond-accuracy out unless asked', () => {
    const plain = evaluateRanking(model, data, test, { ks: [3], threshold: 4 });
    expect(plain.scalar).toEqual({});
    expect(plain.catalog).toEqual({});
  });

  it('excludes `seen` items too, and filters users', () => {
    // u2 also saw a (in `seen`): its list becomes [d e f] and its relevant item a cannot be hit.
    const seen = rows([['u2', 'a', 3]]);
    const s = evaluateRanking(model, data, test, {
      ks: [3],
      threshold: 4,
      seen,
      userFilter: (u) => u !== 'u3',
    });
    expect(s.users).toEqual(['u2', 'u1']);
    expect(Array.from(s.atK.hitRate['3'])).toEqual([0, 1]);
  });

  it('rejects a main K that is not a cut-off', () => {
    expect(() => evaluateRanking(model, data, test, { ks: [5], threshold: 4, mainK: 3 })).toThrow(RangeError);
  });

  it('merges folds and summarises into the ModelRun shapes', () => {
    const merged = mergeRankingResults([r, r]);
    expect(merged.users).toEqual([...r.users, ...r.users]);
    expect(merged.atK.ndcg['3'].length).toBe(6);
    expect(merged.means.atK.ndcg['3']).toBeCloseTo(r.means.atK.ndcg['3'], 12);
    expect(merged.catalog.coverage).toBeCloseTo(5 / 6, 12);
    const s = summarizeRanking(merged, { resamples: 200 });
    for (const m of RANKING_METRICS) expect(Object.keys(s.atK[m])).toEqual(['1', '3']);
    expect(s.atK.precision['1'].mean).toBeCloseTo(2 / 3, 12);
    expect(s.atK.precision['1'].low).toBeLessThanOrEqual(2 / 3);
    expect(s.scalar.coverage).toEqual({
      mean: merged.catalog.coverage,
      low: merged.catalog.coverage,
      high: merged.catalog.coverage,
    });
    expect(Object.keys(s.scalar).sort()).toEqual([
      'auc',
      'coverage',
      'diversity',
      'gini',
      'novelty',
      'popularityBias',
    ]);
  });
});

describe('evaluateRatings', () => {
  it('per-user and pooled errors', () => {
    // predict = 3 + user index (u1 0, u2 1, unknown u3 → 0), minus 1 for the unknown item z.
    //   u1: e 2 → 3 (err 1), b 5 → 3 (−2), d 4 → 3 (−1), z 5 → 2 (−3): SE 1+4+1+9 = 15, AE 7
    //   u2: a 4 → 4 (0)
    //   u3: f 5 → 3 (−2): SE 4, AE 2
    const r = evaluateRatings(model, data, test);
    expect(r).not.toBeNull();
    if (!r) return;
    expect(r.users).toEqual(['u1', 'u2', 'u3']);
    expect(Array.from(r.rowCounts)).toEqual([4, 1, 1]);
    expect(Array.from(r.squaredErrorSums)).toEqual([15, 0, 4]);
    expect(Array.from(r.mae)).toEqual([7 / 4, 0, 2]);
    expect(r.rmse).toBeCloseTo(Math.sqrt(19 / 6), 12);
    expect(r.pooledMae).toBeCloseTo(9 / 6, 12);
    const predicted = [3, 4, 3, 3, 2, 3];
    const pooled = ratingErrors(predicted, test.ratings);
    expect(r.rmse).toBe(pooled.rmse);
    expect(r.pooledMae).toBe(pooled.mae);
    const s = summarizeRatings(r, { resamples: 200 });
    expect(s.rmse.mean).toBe(r.rmse);
    expect(s.rmse.low).toBeLessThanOrEqual(s.rmse.high);
  });

  it('is null for a model without rating prediction', async () => {
    const pop = PopularityModel.fit(data);
    expect(evaluateRatings(pop, data, test)).toBeNull();
  });
});

const ML = path.resolve('../shared/data/ml-100k');
const available = existsSync(path.join(ML, 'u1.base')) && existsSync(path.join(ML, 'u1.test'));
if (!available) console.warn(`MovieLens 100K not found at ${ML}: skipping the protocol B2 equivalence test`);

describe.skipIf(!available)(
  'evaluateRanking reproduces evaluateTopK (MovieLens 100K u1, protocol B2)',
  () => {
    it('for popularity and item-kNN, every metric at K = 10', async () => {
      const base = readRatingFile(path.join(ML, 'u1.base'));
      const u1test = readRatingFile(path.join(ML, 'u1.test'));
      const ml = interactionsFromArrays({
        userIds: base.users,
        itemIds: base.items,
        strengths: base.ratings,
      });
      for (const m of [PopularityModel.fit(ml), await createModel('item-knn').fit(ml)]) {
        const reference = evaluateTopK(m, ml, u1test, { k: 10, threshold: 4, seen: base });
        const r = evaluateRanking(m, ml, u1test, { ks: [5, 10, 20], threshold: 4, seen: base, auc: true });
        expect(r.users.length).toBe(reference.users);
        expect(reference.users).toBe(456);
        for (const name of RANKING_METRICS) expect(r.means.atK[name]['10']).toBe(reference[name]);
        const auc = r.means.scalar.auc;
        expect(auc).toBeGreaterThan(0.5);
        expect(auc).toBeLessThan(1);
      }
    });
  },
);
