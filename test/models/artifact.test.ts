import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { interactionsFromArrays } from '../../src/data/interactions.js';
import {
  ArtifactError,
  decodeArtifact,
  encodeArtifact,
  readArtifact,
  readArtifactSync,
  writeArtifact,
  type ArtifactHeader,
  type SavableRecommender,
} from '../../src/models/artifact.js';
import { ItemKnnModel } from '../../src/models/knn/item-knn.js';
import type { ModelInfo, ScoringContext } from '../../src/models/model.js';
import { PopularityModel } from '../../src/models/popularity/popularity.js';
import { TrendingModel } from '../../src/models/popularity/trending.js';
import { loadModel, loadModelAsync } from '../../src/models/registry.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kindred-artifact-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const INFO: ModelInfo = {
  name: 'test',
  params: { a: 1, b: 'x', c: true },
  trainedAt: 1_700_000_000_000,
  users: 3,
  items: 2,
  interactions: 4,
  fitSeconds: 0.5,
};
const HEADER: ArtifactHeader = { info: INFO, itemIds: ['é', 'x"y'], extra: { referenceTime: 42 } };

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function bytes(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

describe('artifact format', () => {
  const arrays = {
    f32: Float32Array.from([1.5, -Infinity, NaN]),
    i32: Int32Array.from([1, -2, 3, 4, 5]),
    u8: Uint8Array.from([7]),
    f64: Float64Array.from([Math.PI]),
    empty: new Float32Array(0),
  };

  it('starts with the magic and version, and aligns every section to 8 bytes', () => {
    const file = concat(encodeArtifact(HEADER, arrays));
    expect(Buffer.from(file.subarray(0, 4)).toString('ascii')).toBe('KDRM');
    expect(Buffer.from(file.buffer).readUInt32LE(4)).toBe(1);
    expect(file.byteLength % 8).toBe(0);
    const back = decodeArtifact(file);
    for (const a of Object.values(back.arrays)) expect(a.byteOffset % 8).toBe(0);
  });

  it('round-trips header and arrays bit for bit, from aligned and unaligned buffers', () => {
    const file = concat(encodeArtifact(HEADER, arrays));
    const shifted = new Uint8Array(file.byteLength + 3);
    shifted.set(file, 3);
    for (const input of [file, shifted.subarray(3)]) {
      const back = decodeArtifact(input);
      expect(back.header).toEqual(HEADER);
      expect(Object.keys(back.arrays)).toEqual(Object.keys(arrays));
      for (const [name, a] of Object.entries(arrays)) {
        expect(back.arrays[name].constructor).toBe(a.constructor);
        expect(bytes(back.arrays[name])).toEqual(bytes(a));
      }
    }
  });

  it('detects corruption and truncation', () => {
    const file = concat(encodeArtifact(HEADER, arrays));
    const flipData = file.slice();
    flipData[file.byteLength - 9] ^= 1;
    expect(() => decodeArtifact(flipData)).toThrow(/data checksum/);
    const flipHeader = file.slice();
    flipHeader[20] ^= 1;
    expect(() => decodeArtifact(flipHeader)).toThrow(/header checksum/);
    expect(() => decodeArtifact(file.subarray(0, file.byteLength - 8))).toThrow(/truncated/);
    const magic = file.slice();
    magic[0] = 0x58;
    expect(() => decodeArtifact(magic)).toThrow(ArtifactError);
    const version = file.slice();
    version[4] = 9;
    expect(() => decodeArtifact(version)).toThrow(/version 9/);
  });

  it('writes atomically, leaves no temporary file and refuses to clobber on request', async () => {
    const file = path.join(dir, 'a.kdm');
    await writeArtifact(file, HEADER, arrays);
    await writeArtifact(file, HEADER, { only: Int32Array.from([1]) });
    expect(Object.keys((await readArtifact(file)).arrays)).toEqual(['only']);
    await expect(writeArtifact(file, HEADER, arrays, { overwrite: false })).rejects.toMatchObject({
      code: 'EEXIST',
    });
    expect(readdirSync(dir)).toEqual(['a.kdm']);
    expect(readArtifactSync(file).header).toEqual(HEADER);
  });

  it('rejects a file that is not an artifact', async () => {
    const file = path.join(dir, 'junk.kdm');
    writeFileSync(file, 'hello world, not a model');
    await expect(readArtifact(file)).rejects.toThrow(ArtifactError);
  });
});

describe('model artifacts', () => {
  let s = 5;
  const rnd = (): number => (s = (s * 1664525 + 1013904223) >>> 0) / 4294967296;
  const n = 3000;
  const data = interactionsFromArrays({
    userIds: Array.from({ length: n }, () => `u${Math.floor(rnd() * 150)}`),
    itemIds: Array.from({ length: n }, () => `item-${Math.floor(rnd() * rnd() * 120)}`),
    strengths: Array.from({ length: n }, () => 1 + Math.floor(rnd() * 5)),
    timestamps: Array.from({ length: n }, () => 1_700_000_000_000 + Math.floor(rnd() * 30 * 86_400_000)),
    catalog: ['never-seen'],
  });
  const contexts: ScoringContext[] = [0, 1, 7].map((u) => {
    const { indptr, indices, data: v } = data.matrix;
    return {
      userIndex: u,
      history: indices.slice(indptr[u], indptr[u + 1]),
      historyWeights: v.slice(indptr[u], indptr[u + 1]),
    };
  });

  const models: [string, SavableRecommender][] = [
    ['popularity', PopularityModel.fit(data)],
    ['trending', TrendingModel.fit(data, { halfLifeDays: 3 })],
    ['item-knn', ItemKnnModel.fit(data, { k: 25 })],
  ];

  it.each(models)(
    '%s: save then load gives bitwise identical scores and similar items',
    async (name, model) => {
      const { header, arrays } = model.toArtifact();
      const file = path.join(dir, `${name}.kdm`);
      await writeArtifact(file, header, arrays);
      for (const loaded of [loadModel(file), await loadModelAsync(file)]) {
        expect(loaded.info).toEqual(model.info);
        expect(loaded.itemIds).toEqual(model.itemIds);
        expect(loaded.constructor).toBe(model.constructor);
        for (const ctx of contexts) {
          const a = new Float32Array(model.itemIds.length);
          const b = new Float32Array(model.itemIds.length);
          model.score(ctx, a);
          loaded.score(ctx, b);
          expect(bytes(b)).toEqual(bytes(a));
        }
        for (let i = 0; i < model.itemIds.length; i++)
          expect(loaded.similarItems(i, 10)).toEqual(model.similarItems(i, 10));
      }
    },
  );

  it('keeps the trending reference time', async () => {
    const model = TrendingModel.fit(data);
    const file = path.join(dir, 'trending-ref.kdm');
    const { header, arrays } = model.toArtifact();
    await writeArtifact(file, header, arrays);
    expect((loadModel(file) as TrendingModel).referenceTime).toBe(model.referenceTime);
  });

  it('refuses an artifact whose arrays do not fit the model', async () => {
    const model = ItemKnnModel.fit(data, { k: 5 });
    const { header } = model.toArtifact();
    const file = path.join(dir, 'broken.kdm');
    await writeArtifact(file, header, {
      indptr: Int32Array.from([0, 1]),
      indices: Int32Array.from([0]),
      scores: new Float32Array(1),
    });
    expect(() => loadModel(file)).toThrow(/indptr/);
    await writeArtifact(file, { ...header, info: { ...header.info, name: 'nope' } }, {});
    expect(() => loadModel(file)).toThrow(/unknown model 'nope'/);
    expect(readFileSync(file).subarray(0, 4).toString()).toBe('KDRM');
  });
});
