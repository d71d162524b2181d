import { describe, expect, it } from 'vitest';
import { interactionsFromArrays, type InteractionData } from '../../../src/data/interactions.js';
import { ValidationError } from '../../../src/domain/errors.js';
import { Rng } from '../../../src/ingest/prng.js';
import { alsWasmSupported } from '../../../src/kernels/als-wasm.js';
import { AlsModel } from '../../../src/models/als/als.js';
import { decodeArtifact, encodeArtifact, type Artifact } from '../../../src/models/artifact.js';
import { canExplain, canFoldIn, hasUserSimilarity } from '../../../src/models/model.js';
import type { Params } from '../../../src/models/params.js';
import { trainingContext } from '../../../src/models/recommend.js';

/** Users in two taste groups over 30 items (group g prefers items of parity g), plus noise. */
function toyData(seed = 7, users = 80): InteractionData {
  const rng = new Rng(seed);
  const u: string[] = [];
  const i: string[] = [];
  const s: number[] = [];
  for (let user = 0; user < users; user++) {
    const group = user % 2;
    for (let item = 0; item < 30; item++) {
      const p = item % 2 === group ? 0.45 : 0.08;
      if (rng.next() < p) {
        u.push(`u${user}`);
        i.push(`i${item}`);
        s.push(1 + rng.int(5));
      }
    }
  }
  return interactionsFromArrays({ userIds: u, itemIds: i, strengths: s });
}

function roundTrip(model: AlsModel): AlsModel {
  const { header, arrays } = model.toArtifact();
  return throughArtifact(header, arrays);
}

/** The model read back from the encoded bytes of an artifact. */
function throughArtifact(header: Artifact['header'], arrays: Artifact['arrays']): AlsModel {
  const chunks = encodeArtifact(header, arrays);
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return AlsModel.fromArtifact(decodeArtifact(bytes));
}

function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let f = 0; f < a.length; f++) {
    num += (a[f] - b[f]) ** 2;
    den += b[f] ** 2;
  }
  return Math.sqrt(num / den);
}

const BASE: Params = { factors: 6, regularization: 0.5, alpha: 2, iterations: 12, threads: 1 };
const kernels = alsWasmSupported() ? ['js', 'wasm'] : ['js'];

describe('AlsModel', () => {
  const data = toyData();

  it('exposes fold-in, explanations and user similarity', async () => {
    const m = await AlsModel.fit(data, BASE);
    expect(canFoldIn(m) && canExplain(m) && hasUserSimilarity(m)).toBe(true);
    expect(m.userIds).toEqual(data.users.ids);
    expect(m.info.interactions).toBe(data.matrix.indptr[data.matrix.rows]);
  });

  it('rejects unknown and out-of-range parameters', () => {
    expect(() => AlsModel.resolveParams({ factor: 3 })).toThrow(ValidationError);
    expect(() => AlsModel.resolveParams({ solver: 'lu' })).toThrow(ValidationError);
    expect(() => AlsModel.resolveParams({ factors: 0 })).toThrow(ValidationError);
  });

  it('separates the two taste groups', async () => {
    const m = await AlsModel.fit(data, { ...BASE, factors: 4 });
    const out = new Float32Array(30);
    let agree = 0;
    for (let u = 0; u < data.users.size; u++) {
      m.score(trainingContext(data, u), out);
      const group = Number(data.users.id(u).slice(1)) % 2;
      let own = 0;
      let other = 0;
      for (let i = 0; i < 30; i++) {
        const parity = Number(data.items.id(i).slice(1)) % 2;
        if (parity === group) own += out[i];
        else other += out[i];
      }
      if (own > other) agree++;
    }
    // Popularity alone would side with the wrong group for about half of the users.
    expect(agree).toBeGreaterThanOrEqual(0.95 * data.users.size);
  });

  for (const kernel of kernels) {
    it(`is deterministic for a seed, with 1 and 2 workers alike (${kernel} kernel)`, async () => {
      const p = { ...BASE, kernel, seed: 5 };
      const a = await AlsModel.fit(data, p);
      const b = await AlsModel.fit(data, p);
      const c = await AlsModel.fit(data, { ...p, threads: 2 });
      const d = await AlsModel.fit(data, { ...p, seed: 6 });
      const ua = a.toArtifact().arrays;
      expect(b.toArtifact().arrays).toEqual(ua);
      expect(c.toArtifact().arrays).toEqual(ua);
      expect(d.toArtifact().arrays.userFactors).not.toEqual(ua.userFactors);
    });
  }

  it.skipIf(!alsWasmSupported())('the SIMD and reference kernels fit the same model', async () => {
    const a = await AlsModel.fit(data, { ...BASE, kernel: 'js' });
    const b = await AlsModel.fit(data, { ...BASE, kernel: 'wasm' });
    const sa = new Float32Array(30);
    const sb = new Float32Array(30);
    for (let u = 0; u < data.users.size; u += 7) {
      a.score(trainingContext(data, u), sa);
      b.score(trainingContext(data, u), sb);
      expect(relativeError(sb, sa)).toBeLessThan(1e-3);
    }
  });

  it('folds in a training user to its fitted vector (exact solver: to float32 rounding)', async () => {
    const m = await AlsModel.fit(data, { ...BASE, solver: 'exact' });
    for (let u = 0; u < data.users.size; u += 5) {
      const ctx = trainingContext(data, u);
      const x = m.foldInUser(ctx.history, ctx.historyWeights);
      const fitted = m.userVector(u);
      for (let f = 0; f < 6; f++) expect(x[f]).toBeCloseTo(fitted[f], 6);
    }
  });

  it('folds in a training user close to its CG-fitted vector', async () => {
    const m = await AlsModel.fit(data, { ...BASE, iterations: 20 });
    for (let u = 0; u < data.users.size; u += 5) {
      const ctx = trainingContext(data, u);
      expect(relativeError(m.foldInUser(ctx.history, ctx.historyWeights), m.userVector(u))).toBeLessThan(
        0.02,
      );
    }
  });

  it('scores unknown users from their folded-in history, duplicates summed', async () => {
    const m = await AlsModel.fit(data, { ...BASE, confidence: 'bm25' });
    const ctx = trainingContext(data, 3);
    const known = new Float32Array(30);
    const unknown = new Float32Array(30);
    m.score(ctx, known);
    // The same history as live events: split weights, repeated entries, an invalid index.
    const history = Int32Array.from([...ctx.history, ...ctx.history, 999]);
    const weights = Float32Array.from([...ctx.historyWeights, ...ctx.historyWeights, 1].map((w) => w / 2));
    weights[weights.length - 1] = 1;
    m.score({ userIndex: -1, history, historyWeights: weights }, unknown);
    expect(relativeError(unknown, known)).toBeLessThan(0.05);
    const x = m.foldInUser(ctx.history, ctx.historyWeights);
    for (let i = 0; i < 30; i++) {
      let s = 0;
      for (let f = 0; f < 6; f++) s += x[f] * m.itemVector(i)[f];
      expect(unknown[i]).toBeCloseTo(s, 4);
    }
  });

  it('folds in a training item close to its fitted vector once converged', async () => {
    const m = await AlsModel.fit(data, { ...BASE, solver: 'exact', iterations: 60 });
    const itemUsers: number[][] = Array.from({ length: 30 }, () => []);
    const itemWeights: number[][] = Array.from({ length: 30 }, () => []);
    const { indptr, indices, data: values } = data.matrix;
    for (let u = 0; u < data.users.size; u++) {
      for (let p = indptr[u]; p < indptr[u + 1]; p++) {
        itemUsers[indices[p]].push(u);
        itemWeights[indices[p]].push(values[p]);
      }
    }
    for (const i of [0, 7, 13]) {
      const y = m.foldInItem(Int32Array.from(itemUsers[i]), Float32Array.from(itemWeights[i]));
      expect(relativeError(y, m.itemVector(i))).toBeLessThan(0.01);
    }
  });

  it('explains a score as the sum of its history contributions', async () => {
    const m = await AlsModel.fit(data, { ...BASE, solver: 'exact' });
    const ctx = trainingContext(data, 10);
    const out = new Float32Array(30);
    m.score({ ...ctx, userIndex: -1 }, out);
    const parts = m.explain(ctx, 4, 100);
    expect(parts.length).toBe(ctx.history.length);
    const sum = parts.reduce((a, c) => a + c.weight, 0);
    expect(sum).toBeCloseTo(out[4], 4);
    for (let r = 1; r < parts.length; r++)
      expect(parts[r - 1].weight).toBeGreaterThanOrEqual(parts[r].weight);
    expect(m.explain(ctx, 4, 2).length).toBe(2);
  });

  it('explains several items of one history, and other histories in between, like a fresh model', async () => {
    const m = await AlsModel.fit(data, { ...BASE, solver: 'exact' });
    const a = trainingContext(data, 10);
    const b = trainingContext(data, 11);
    const sequence: [typeof a, number][] = [
      [a, 4],
      [a, 7],
      [b, 4],
      [a, 9],
      [b, 2],
    ];
    for (const [ctx, item] of sequence) {
      const fresh = AlsModel.fromArtifact(m.toArtifact());
      expect(m.explain(ctx, item, 100)).toEqual(fresh.explain(ctx, item, 100));
    }
  });

  it('finds similar items and users by cosine, never the query itself', async () => {
    const m = await AlsModel.fit(data, BASE);
    const top = m.similarItems(2, 5);
    expect(top?.indices.length).toBe(5);
    expect(Array.from(top?.indices ?? [])).not.toContain(2);
    const cos = (a: Float32Array, b: Float32Array): number => {
      let d = 0;
      let na = 0;
      let nb = 0;
      for (let f = 0; f < a.length; f++) {
        d += a[f] * b[f];
        na += a[f] * a[f];
        nb += b[f] * b[f];
      }
      return d / Math.sqrt(na * nb);
    };
    let best = -1;
    let bestScore = -Infinity;
    for (let j = 0; j < 30; j++) {
      const s = cos(m.itemVector(2), m.itemVector(j));
      if (j !== 2 && s > bestScore) [best, bestScore] = [j, s];
    }
    expect(top?.indices[0]).toBe(best);
    expect(top?.scores[0]).toBeCloseTo(bestScore, 5);
    const users = m.similarUsers(0, 3);
    expect(Array.from(users?.indices ?? [])).not.toContain(0);
    expect(m.similarItems(-1, 3)).toBeNull();
    expect(m.similarUsers(10_000, 3)).toBeNull();
  });

  it('round-trips through an artifact with bitwise-identical scores', async () => {
    for (const confidence of ['log1p', 'bm25']) {
      const m = await AlsModel.fit(data, { ...BASE, confidence });
      const loaded = roundTrip(m);
      expect(loaded.info).toEqual(m.info);
      const a = new Float32Array(30);
      const b = new Float32Array(30);
      for (const ctx of [trainingContext(data, 1), { ...trainingContext(data, 2), userIndex: -1 }]) {
        m.score(ctx, a);
        loaded.score(ctx, b);
        expect(b).toEqual(a);
      }
    }
  });

  it('loads an artifact saved without the Gram matrix to the same fold-in', async () => {
    const m = await AlsModel.fit(data, BASE);
    const { header, arrays } = m.toArtifact();
    expect(arrays.itemGram).toBeInstanceOf(Float64Array);
    const { itemGram: _saved, ...older } = arrays;
    const loaded = throughArtifact(header, older);
    const ctx = { ...trainingContext(data, 2), userIndex: -1 };
    const a = new Float32Array(30);
    const b = new Float32Array(30);
    m.score(ctx, a);
    loaded.score(ctx, b);
    expect(b).toEqual(a);
  });
});
