import { describe, expect, it } from 'vitest';
import { csrFromCoo } from '../../src/data/csr-build.js';
import { Rng } from '../../src/ingest/prng.js';
import {
  aucFromScores,
  averagePopularity,
  beyondAccuracy,
  catalogCoverage,
  cosineSimilarity,
  finiteMean,
  intraListDiversity,
  itemPopularity,
  meanMetrics,
  novelty,
  rankingMetrics,
  ratingErrorColumns,
  ratingErrors,
  recommendationGini,
} from '../../src/eval/metrics.js';

const L2 = Math.log2(3); // 1/log2(2+1) is the gain at rank 2

describe('ranking metrics', () => {
  // ranked [3, 1, 4, 0, 2], relevant {1, 2, 9} (9 is never ranked): hits at ranks 2 and 5.
  const ranked = [3, 1, 4, 0, 2];
  const relevant = new Set([1, 2, 9]);

  it('at K = 3 (one hit, at rank 2)', () => {
    // P = 1/3; R = 1/3; DCG = 1/log2(3) = 0.630930; IDCG over min(3, 3) ranks = 1 + 0.630930 + 0.5
    // = 2.130930, NDCG = 0.296082; AP = (1/2) / min(3, 3) = 1/6; MRR = 1/2; hit rate 1.
    const m = rankingMetrics(ranked, relevant, 3);
    expect(m.precision).toBeCloseTo(1 / 3, 12);
    expect(m.recall).toBeCloseTo(1 / 3, 12);
    expect(m.ndcg).toBeCloseTo(1 / L2 / (1 + 1 / L2 + 0.5), 12);
    expect(m.ndcg).toBeCloseTo(0.296082, 6);
    expect(m.map).toBeCloseTo(1 / 6, 12);
    expect(m.mrr).toBe(0.5);
    expect(m.hitRate).toBe(1);
  });

  it('at K = 5 (hits at ranks 2 and 5)', () => {
    // P = 2/5; R = 2/3; DCG = 0.630930 + 1/log2(6) = 0.630930 + 0.386853 = 1.017783;
    // NDCG = 1.017783 / 2.130930 = 0.477624; AP = (1/2 + 2/5) / 3 = 0.3; MRR 1/2.
    const m = rankingMetrics(ranked, relevant, 5);
    expect(m.precision).toBeCloseTo(0.4, 12);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(m.ndcg).toBeCloseTo(0.477624, 6);
    expect(m.map).toBeCloseTo(0.3, 12);
    expect(m.mrr).toBe(0.5);
    expect(m.hitRate).toBe(1);
  });

  it('a list shorter than K still divides precision by K; no hit gives zeros', () => {
    const m = rankingMetrics([7], new Set([7]), 4);
    expect(m.precision).toBe(0.25);
    expect(m.ndcg).toBe(1);
    const none = rankingMetrics([1, 2], new Set([5]), 2);
    expect(none).toEqual({ precision: 0, recall: 0, ndcg: 0, map: 0, mrr: 0, hitRate: 0 });
    expect(meanMetrics([m, none]).precision).toBe(0.125);
  });
});

/** AUC by its definition over every (relevant, non-relevant) pair: the O(P·N) reference. */
function bruteAuc(scores: Float32Array, relevant: Set<number>, exclude: Uint8Array): number {
  const pos: number[] = [];
  const neg: number[] = [];
  for (const r of relevant) {
    if (r < 0 || r >= scores.length) pos.push(-Infinity);
    else if (!exclude[r]) pos.push(scores[r]);
  }
  for (let i = 0; i < scores.length; i++) if (!exclude[i] && !relevant.has(i)) neg.push(scores[i]);
  let wins = 0;
  for (const p of pos) for (const q of neg) wins += p > q ? 1 : p === q ? 0.5 : 0;
  return pos.length && neg.length ? wins / (pos.length * neg.length) : NaN;
}

describe('aucFromScores', () => {
  it('counts ties 1/2, drops excluded items and ranks unknown relevant items last', () => {
    // Items 0..7 scored [0.9, 0.5, 0.5, 0.1, 0.5, 0.7, 0, -Inf]; item 0 is excluded (training).
    // Relevant: 1 (0.5), 3 (0.1), 0 (excluded: left out), -1 (unknown to the model: -Inf).
    // Non-relevant candidates: 2 (0.5), 4 (0.5), 5 (0.7), 6 (0), 7 (-Inf): N = 5, P = 3.
    //   item 1: vs 2 ½, vs 4 ½, vs 5 0, vs 6 1, vs 7 1  = 3
    //   item 3: vs 6 1, vs 7 1                           = 2
    //   unknown (-Inf): tie with 7                       = ½
    // AUC = 5.5 / 15 = 0.366667
    const scores = Float32Array.from([0.9, 0.5, 0.5, 0.1, 0.5, 0.7, 0, -Infinity]);
    const exclude = Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0]);
    const rel = new Set([1, 3, 0, -1]);
    expect(aucFromScores(scores, rel, exclude)).toBeCloseTo(5.5 / 15, 12);
    expect(bruteAuc(scores, rel, exclude)).toBeCloseTo(5.5 / 15, 12);
  });

  it('is 1 for a perfect ranking, 0 for a reversed one and 1/2 when every score ties', () => {
    const s = Float32Array.from([4, 3, 2, 1]);
    expect(aucFromScores(s, new Set([0, 1]))).toBe(1);
    expect(aucFromScores(s, new Set([2, 3]))).toBe(0);
    expect(aucFromScores(new Float32Array(4), new Set([0]))).toBe(0.5);
  });

  it('is NaN without a relevant or without a non-relevant candidate', () => {
    const s = Float32Array.from([1, 2]);
    expect(aucFromScores(s, new Set<number>())).toBeNaN();
    expect(aucFromScores(s, new Set([0, 1]))).toBeNaN();
    expect(aucFromScores(s, new Set([0]), Uint8Array.from([1, 0]))).toBeNaN();
  });

  it('equals the pairwise definition on random scores with many ties', () => {
    const rng = new Rng(3);
    for (let t = 0; t < 50; t++) {
      const n = 5 + rng.int(60);
      const scores = new Float32Array(n);
      const exclude = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        scores[i] = rng.chance(0.1) ? -Infinity : rng.int(6) / 5;
        exclude[i] = rng.chance(0.2) ? 1 : 0;
      }
      const rel = new Set<number>();
      for (let r = 0; r < 1 + rng.int(6); r++) rel.add(rng.int(n + 3) - 1);
      const expected = bruteAuc(scores, rel, exclude);
      const got = aucFromScores(scores, rel, exclude);
      if (Number.isNaN(expected)) expect(got).toBeNaN();
      else expect(got).toBeCloseTo(expected, 12);
    }
  });
});

describe('beyond-accuracy metrics', () => {
  // Three lists over a catalogue of 10 items; 8 training users; popularity of items 0..4 is
  // 8, 4, 2, 1, 0 (item 4 was never seen in training).
  const lists = [Int32Array.from([0, 1, 2]), Int32Array.from([1, 2, 3]), Int32Array.from([2, 3, 4])];
  const popularity = Int32Array.from([8, 4, 2, 1, 0, 0, 0, 0, 0, 0]);
  // Features (category one-hot): 0 {A}, 1 {A}, 2 {B}, 3 {A, B}, 4 none.
  const features = csrFromCoo(
    10,
    2,
    Int32Array.from([0, 1, 2, 3, 3]),
    Int32Array.from([0, 0, 1, 0, 1]),
    Float32Array.from([1, 1, 1, 1, 1]),
  );

  it('coverage counts distinct recommended items over the catalogue', () => {
    // {0, 1, 2, 3, 4}: 5 of 10.
    expect(catalogCoverage(lists, 10)).toBe(0.5);
  });

  it('Gini of recommendation counts', () => {
    // Counts 0:1, 1:2, 2:3, 3:2, 4:1, five items 0; ascending 0,0,0,0,0,1,1,2,2,3 (Σ = 9).
    // Σ (2i − 11) c_i = 1·1 + 3·1 + 5·2 + 7·2 + 9·3 = 55; Gini = 55 / (10 · 9) = 0.611111.
    expect(recommendationGini(lists, 10)).toBeCloseTo(55 / 90, 12);
    // Every item recommended equally often: 0.
    expect(recommendationGini([Int32Array.from([0, 1]), Int32Array.from([2, 3])], 4)).toBe(0);
  });

  it('novelty is the mean self-information, an unseen item counting as popularity 1', () => {
    // −log2(pop/8): item 0 → 0, item 1 → 1, item 2 → 2, item 3 → 3, item 4 (pop 0 → 1) → 3.
    expect(novelty(lists[0], popularity, 8)).toBeCloseTo(1, 12); // (0 + 1 + 2) / 3
    expect(novelty(lists[1], popularity, 8)).toBeCloseTo(2, 12); // (1 + 2 + 3) / 3
    expect(novelty(lists[2], popularity, 8)).toBeCloseTo(8 / 3, 12); // (2 + 3 + 3) / 3
    expect(novelty(new Int32Array(0), popularity, 8)).toBeNaN();
  });

  it('average recommendation popularity', () => {
    expect(averagePopularity(lists[0], popularity)).toBeCloseTo(14 / 3, 12); // (8 + 4 + 2) / 3
    expect(averagePopularity(lists[1], popularity)).toBeCloseTo(7 / 3, 12); // (4 + 2 + 1) / 3
    expect(averagePopularity(lists[2], popularity)).toBeCloseTo(1, 12); // (2 + 1 + 0) / 3
  });

  it('intra-list diversity with cosine over item features', () => {
    // cos(0,1) = 1, cos(0,2) = cos(1,2) = 0, cos(i,3) = 1/√2 for i = 0, 1, 2, cos(·,4) = 0.
    const sim = cosineSimilarity(features);
    expect(sim(0, 1)).toBeCloseTo(1, 6);
    expect(sim(2, 3)).toBeCloseTo(Math.SQRT1_2, 6);
    expect(sim(3, 4)).toBe(0);
    const h = 1 - Math.SQRT1_2; // 0.292893
    expect(intraListDiversity(lists[0], sim)).toBeCloseTo((0 + 1 + 1) / 3, 6); // 0.666667
    expect(intraListDiversity(lists[1], sim)).toBeCloseTo((1 + h + h) / 3, 6); // 0.528595
    expect(intraListDiversity(lists[2], sim)).toBeCloseTo((h + 1 + 1) / 3, 6); // 0.764298
    expect(intraListDiversity([3], sim)).toBeNaN();
  });

  it('beyondAccuracy gathers them per list', () => {
    const b = beyondAccuracy(lists, { catalogSize: 10, popularity, users: 8, similarity: features });
    expect(b.coverage).toBe(0.5);
    expect(b.gini).toBeCloseTo(55 / 90, 12);
    expect(Array.from(b.novelty)).toEqual([1, 2, 8 / 3].map((x) => expect.closeTo(x, 12)));
    expect(finiteMean(b.popularityBias)).toBeCloseTo((14 / 3 + 7 / 3 + 1) / 3, 12);
    expect(b.diversity?.[0]).toBeCloseTo(2 / 3, 6);
    expect(beyondAccuracy(lists, { catalogSize: 10, popularity, users: 8 }).diversity).toBeNull();
  });

  it('item popularity counts users per item', () => {
    // Users 0: items {0, 1}, 1: {0}, 2: {0, 2}.
    const m = csrFromCoo(
      3,
      4,
      Int32Array.from([0, 0, 1, 2, 2]),
      Int32Array.from([0, 1, 0, 0, 2]),
      Float32Array.from([5, 1, 2, 3, 4]),
    );
    expect(Array.from(itemPopularity(m))).toEqual([3, 1, 1, 0]);
  });
});

describe('rating errors', () => {
  it('per-row errors agree with the pooled RMSE and MAE', () => {
    // Errors −1, 0, 2: squared 1, 0, 4 → RMSE √(5/3); absolute 1, 0, 2 → MAE 1.
    const c = ratingErrorColumns([3, 4, 5], [4, 4, 3]);
    expect(Array.from(c.squared)).toEqual([1, 0, 4]);
    expect(Array.from(c.absolute)).toEqual([1, 0, 2]);
    const pooled = ratingErrors([3, 4, 5], [4, 4, 3]);
    expect(pooled.rmse).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(pooled.mae).toBe(1);
  });

  it('finiteMean skips undefined values', () => {
    expect(finiteMean([1, NaN, 3])).toBe(2);
    expect(finiteMean([NaN])).toBeNaN();
  });
});
