import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { interactionsFromArrays } from '../../../src/data/interactions.js';
import { ValidationError } from '../../../src/domain/errors.js';
import { readRatingFile } from '../../../src/eval/rating-file.js';
import { evaluateTopK } from '../../../src/eval/topk-protocol.js';
import { decodeArtifact, encodeArtifact } from '../../../src/models/artifact.js';
import { EaseModel } from '../../../src/models/ease/ease.js';
import { PopularityModel } from '../../../src/models/popularity/popularity.js';
import { trainingContext } from '../../../src/models/recommend.js';

function roundTrip(model: EaseModel): EaseModel {
  const { header, arrays } = model.toArtifact();
  const chunks = encodeArtifact(header, arrays);
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return EaseModel.fromArtifact(decodeArtifact(bytes));
}

/** Plain Gauss-Jordan inverse (independent of the Cholesky path under test). */
function gaussJordanInverse(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    const pivot = m[c][c];
    for (let j = 0; j < 2 * n; j++) m[c][j] /= pivot;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c];
      for (let j = 0; j < 2 * n; j++) m[r][j] -= f * m[c][j];
    }
  }
  return m.map((row) => row.slice(n));
}

describe('EaseModel', () => {
  it('matches the hand-computed B of a two-item matrix', () => {
    // u0 has i0 and i1, u1 has i0. XᵀX = [[2,1],[1,1]]; with λ = 1, G = [[3,1],[1,2]],
    // P = G⁻¹ = [[2,−1],[−1,3]]/5, so B[0][1] = −P01/P11 = 1/3 and B[1][0] = −P10/P00 = 1/2.
    const data = interactionsFromArrays({ userIds: ['u0', 'u0', 'u1'], itemIds: ['i0', 'i1', 'i0'] });
    const m = EaseModel.fit(data, { lambda: 1 });
    expect(m.weight(0, 0)).toBe(0);
    expect(m.weight(1, 1)).toBe(0);
    expect(m.weight(0, 1)).toBeCloseTo(1 / 3, 6);
    expect(m.weight(1, 0)).toBeCloseTo(1 / 2, 6);
  });

  it('equals the closed form B = I − P·diag(P)⁻¹ on a toy matrix, for each weighting', () => {
    const rows: [string, string, number][] = [
      ['a', 'i0', 1],
      ['a', 'i1', 3],
      ['b', 'i1', 1],
      ['b', 'i2', 2],
      ['b', 'i4', 1],
      ['c', 'i0', 5],
      ['c', 'i2', 1],
      ['c', 'i3', 1],
      ['d', 'i3', 2],
      ['d', 'i4', 4],
      ['d', 'i0', 1],
    ];
    const data = interactionsFromArrays({
      userIds: rows.map((r) => r[0]),
      itemIds: rows.map((r) => r[1]),
      strengths: rows.map((r) => r[2]),
    });
    const lambda = 0.7;
    for (const weighting of ['binary', 'value', 'log1p'] as const) {
      const f = (v: number): number =>
        weighting === 'binary' ? 1 : weighting === 'log1p' ? Math.log1p(v) : v;
      const n = 5;
      const x = Array.from({ length: 4 }, () => new Array<number>(n).fill(0));
      for (const [u, i, v] of rows) x[data.users.index(u)][data.items.index(i)] += v;
      const xt = x.map((row) => row.map((v) => (v > 0 ? f(v) : 0)));
      const g = Array.from({ length: n }, (_, i) =>
        Array.from(
          { length: n },
          (_, j) => xt.reduce((s, row) => s + row[i] * row[j], 0) + (i === j ? lambda : 0),
        ),
      );
      const p = gaussJordanInverse(g);
      for (const precision of ['float64', 'float32'] as const) {
        const m = EaseModel.fit(data, { lambda, weighting, precision });
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            const expected = i === j ? 0 : -p[i][j] / p[j][j];
            expect(m.weight(i, j)).toBeCloseTo(expected, precision === 'float64' ? 6 : 4);
          }
        }
      }
    }
  });

  it('scores Σ_h w_h·B[h][j] over distinct history items and folds in new users', () => {
    const data = interactionsFromArrays({
      userIds: ['a', 'a', 'b', 'b', 'c', 'c', 'c'],
      itemIds: ['i0', 'i1', 'i1', 'i2', 'i0', 'i2', 'i3'],
      strengths: [1, 2, 1, 1, 3, 1, 1],
    });
    const m = EaseModel.fit(data, { lambda: 2, weighting: 'log1p' });
    const out = new Float32Array(4);
    // i0 twice (1 + 2 = 3) and i2 once (weight 1), plus an out-of-range entry.
    m.score(
      {
        userIndex: -1,
        history: Int32Array.from([0, 2, 0, 99]),
        historyWeights: Float32Array.from([1, 1, 2, 1]),
      },
      out,
    );
    for (let j = 0; j < 4; j++) {
      expect(out[j]).toBeCloseTo(Math.log1p(3) * m.weight(0, j) + Math.log1p(1) * m.weight(2, j), 5);
    }
    const parts = m.explain(trainingContext(data, 2), 1, 10);
    const scored = new Float32Array(4);
    m.score(trainingContext(data, 2), scored);
    expect(parts.reduce((s, c) => s + c.weight, 0)).toBeCloseTo(scored[1], 5);
  });

  it('finds similar items from the columns of B', () => {
    const data = interactionsFromArrays({
      userIds: ['a', 'a', 'b', 'b', 'c', 'c', 'd'],
      itemIds: ['i0', 'i1', 'i0', 'i1', 'i1', 'i2', 'i2'],
    });
    const m = EaseModel.fit(data, { lambda: 0.5 });
    const top = m.similarItems(0, 5);
    expect(top?.indices[0]).toBe(1);
    expect(Array.from(top?.indices ?? [])).not.toContain(0);
    expect(top?.scores[0]).toBeCloseTo(m.weight(1, 0), 6);
    expect(m.similarItems(7, 2)).toBeNull();
  });

  it('round-trips through an artifact with bitwise-identical scores', () => {
    const data = interactionsFromArrays({
      userIds: ['a', 'a', 'b', 'b', 'c', 'c', 'c'],
      itemIds: ['i0', 'i1', 'i1', 'i2', 'i0', 'i2', 'i3'],
      strengths: [1, 2, 1, 1, 3, 1, 1],
    });
    const m = EaseModel.fit(data, { lambda: 3, weighting: 'value' });
    const loaded = roundTrip(m);
    expect(loaded.info).toEqual(m.info);
    const a = new Float32Array(4);
    const b = new Float32Array(4);
    for (let u = 0; u < 3; u++) {
      m.score(trainingContext(data, u), a);
      loaded.score(trainingContext(data, u), b);
      expect(b).toEqual(a);
    }
  });

  it('rejects unknown parameters', () => {
    expect(() => EaseModel.resolveParams({ l2: 3 })).toThrow(ValidationError);
    expect(() => EaseModel.resolveParams({ weighting: 'tfidf' })).toThrow(ValidationError);
  });
});

const ML = path.resolve('../shared/data/ml-100k');
const available = existsSync(path.join(ML, 'u1.base')) && existsSync(path.join(ML, 'u1.test'));
if (!available) console.warn(`MovieLens 100K not found at ${ML}: skipping the EASE ranking-quality test`);

describe.skipIf(!available)('EASE on MovieLens 100K, split u1 (protocol B2)', () => {
  it('beats popularity on NDCG@10 by a clear margin', async () => {
    const base = readRatingFile(path.join(ML, 'u1.base'));
    const test = readRatingFile(path.join(ML, 'u1.test'));
    const data = interactionsFromArrays({
      userIds: base.users,
      itemIds: base.items,
      strengths: base.ratings,
    });
    const protocol = { k: 10, threshold: 4, seen: base };
    const popularity = evaluateTopK(PopularityModel.fit(data), data, test, protocol);
    const ease = evaluateTopK(await EaseModel.fitAsync(data), data, test, protocol);
    // Popularity reaches about 0.25; EASE with its defaults over 0.4.
    expect(ease.ndcg).toBeGreaterThan(popularity.ndcg + 0.12);
    expect(ease.precision).toBeGreaterThan(popularity.precision + 0.08);
  });
});
