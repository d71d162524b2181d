import { describe, expect, it } from 'vitest';
import { decodeArtifact, encodeArtifact } from '../../../src/models/artifact.js';
import { buildFeatures } from '../../../src/models/hybrid/features.js';
import { HybridModel } from '../../../src/models/hybrid/hybrid.js';
import { trainingContext } from '../../../src/models/recommend.js';
import { clusterData } from '../bpr/toy.js';

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

const data = clusterData();
/** Items a* are genre A, b* genre B; users c* are "north", d* "south". */
const items = buildFeatures(data.items.size, (i) => [`genre:${data.items.id(i)[0] === 'a' ? 'A' : 'B'}`]);
const users = buildFeatures(data.users.size, (u) => [
  `region:${data.users.id(u)[0] === 'c' ? 'north' : 'south'}`,
]);
const PARAMS = { factors: 8, epochs: 40, learningRate: 0.1, seed: 7, cf: 'none' };

describe('HybridModel', () => {
  it('is deterministic for its seed', async () => {
    const a = await HybridModel.fitWithFeatures(data, PARAMS, { users, items });
    const b = await HybridModel.fitWithFeatures(data, PARAMS, { users, items });
    const sa = new Float32Array(data.items.size);
    const sb = new Float32Array(data.items.size);
    a.scoreFactors(trainingContext(data, 3), sa);
    b.scoreFactors(trainingContext(data, 3), sb);
    expect(Array.from(sa)).toEqual(Array.from(sb));
  });

  it('scores a new item from its metadata alone in the space of the trained items', async () => {
    const model = await HybridModel.fitWithFeatures(data, PARAMS, { users, items });
    const newA = model.newItemVector(['genre:A']);
    const newB = model.newItemVector(['genre:B']);
    for (let u = 0; u < data.users.size; u++) {
      const v = model.userVector(u)!;
      const likesA = data.users.id(u).startsWith('c');
      const a = model.scoreNewItem(v, newA);
      const b = model.scoreNewItem(v, newB);
      expect(likesA ? a > b : b > a, `user ${data.users.id(u)}`).toBe(true);
    }
    // a new user known only by region prefers the new item of their region's genre
    const north = model.newUserVector(['region:north']);
    expect(model.scoreNewItem(north, newA)).toBeGreaterThan(model.scoreNewItem(north, newB));
  });

  it('is the popularity prior for a user with no history', async () => {
    const model = await HybridModel.fitWithFeatures(data, { ...PARAMS, shrinkage: 5 }, { users, items });
    const out = new Float32Array(data.items.size);
    model.score({ userIndex: -1, history: new Int32Array(0), historyWeights: new Float32Array(0) }, out);
    // every item has 16 users: the standardised prior is zero everywhere
    expect(Array.from(out)).toEqual(new Array(data.items.size).fill(0));
  });

  it('round-trips through an artifact, collaborative model included', async () => {
    const model = await HybridModel.fitWithFeatures(
      data,
      { ...PARAMS, cf: 'als', cfFactors: 4, shrinkage: 2, cfShrinkage: 3 },
      { users, items },
    );
    const artifact = model.toArtifact();
    const back = HybridModel.fromArtifact(
      decodeArtifact(concat(encodeArtifact(artifact.header, artifact.arrays))),
    );
    const a = new Float32Array(data.items.size);
    const b = new Float32Array(data.items.size);
    for (const u of [0, 5, 21]) {
      model.score(trainingContext(data, u), a);
      back.score(trainingContext(data, u), b);
      expect(Array.from(b)).toEqual(Array.from(a));
    }
    const fold = {
      userIndex: -1,
      history: Int32Array.from([0, 1]),
      historyWeights: Float32Array.from([1, 1]),
    };
    model.score(fold, a);
    back.score(fold, b);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(back.newItemVector(['genre:A']))).toEqual(Array.from(model.newItemVector(['genre:A'])));
  });
});
