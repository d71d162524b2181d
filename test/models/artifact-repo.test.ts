import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { interactionsFromArrays } from '../../src/data/interactions.js';
import { ArtifactRepository, versionStamp } from '../../src/models/artifact-repo.js';
import { PopularityModel } from '../../src/models/popularity/popularity.js';
import { TrendingModel } from '../../src/models/popularity/trending.js';
import { createModel, loadModel, modelNames } from '../../src/models/registry.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'kindred-repo-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const data = interactionsFromArrays({
  userIds: ['u1', 'u2', 'u2'],
  itemIds: ['a', 'a', 'b'],
  timestamps: [1, 2, 3],
});

describe('ArtifactRepository', () => {
  it('formats version stamps in UTC', () => {
    expect(versionStamp(new Date(Date.UTC(2024, 2, 5, 7, 8, 9, 999)))).toBe('20240305T070809Z');
  });

  it('saves versions under <dir>/<name>/<stamp>-<seq>.kdm and finds the latest', async () => {
    const repo = new ArtifactRepository(path.join(root, 'a'));
    expect(repo.latest('popularity')).toBeNull();
    expect(repo.list()).toEqual([]);
    const model = PopularityModel.fit(data);
    const t1 = new Date(Date.UTC(2024, 0, 1, 0, 0, 0));
    const t2 = new Date(Date.UTC(2024, 0, 2, 0, 0, 0));
    const p1 = await repo.save(model, t1);
    const p2 = await repo.save(model, t1);
    const p3 = await repo.save(model, t2);
    const p4 = await repo.save(TrendingModel.fit(data), t1);
    expect(path.relative(repo.dir, p1)).toBe(path.join('popularity', '20240101T000000Z-0001.kdm'));
    expect(path.basename(p2)).toBe('20240101T000000Z-0002.kdm');
    expect(path.basename(p3)).toBe('20240102T000000Z-0001.kdm');
    expect(repo.latest('popularity')).toBe(p3);
    expect(repo.latest('trending')).toBe(p4);
    expect(repo.list().map((v) => `${v.name}/${v.version}`)).toEqual([
      'popularity/20240101T000000Z-0001',
      'popularity/20240101T000000Z-0002',
      'popularity/20240102T000000Z-0001',
      'trending/20240101T000000Z-0001',
    ]);
    expect(repo.versions('popularity')[0].savedAt).toBe(t1.getTime());
    expect(loadModel(p3).info).toEqual(model.info);
  });

  it('orders sequence numbers numerically and ignores foreign files', async () => {
    const repo = new ArtifactRepository(path.join(root, 'b'));
    const model = PopularityModel.fit(data);
    const t = new Date(Date.UTC(2024, 5, 1));
    const paths: string[] = [];
    for (let i = 0; i < 12; i++) paths.push(await repo.save(model, t));
    expect(repo.latest('popularity')).toBe(paths[11]);
    expect(readdirSync(path.join(repo.dir, 'popularity')).filter((f) => !f.endsWith('.kdm'))).toEqual([]);
  });

  it('saves concurrently without losing a version', async () => {
    const repo = new ArtifactRepository(path.join(root, 'c'));
    const model = PopularityModel.fit(data);
    const t = new Date(Date.UTC(2024, 5, 1));
    const paths = await Promise.all(Array.from({ length: 6 }, () => repo.save(model, t)));
    expect(new Set(paths).size).toBe(6);
    expect(repo.versions('popularity')).toHaveLength(6);
  });

  it('prunes old versions', async () => {
    const repo = new ArtifactRepository(path.join(root, 'd'));
    const model = PopularityModel.fit(data);
    for (let d = 1; d <= 4; d++) await repo.save(model, new Date(Date.UTC(2024, 0, d)));
    expect(repo.prune('popularity', 1)).toBe(3);
    expect(repo.versions('popularity').map((v) => v.version)).toEqual(['20240104T000000Z-0001']);
  });

  it('rejects unsafe model names', () => {
    expect(() => new ArtifactRepository(root).latest('../x')).toThrow(/invalid model name/);
  });
});

describe('registry', () => {
  it('knows the model families', () => {
    expect(modelNames()).toEqual(
      expect.arrayContaining([
        'popularity',
        'trending',
        'item-knn',
        'user-knn',
        'als',
        'ease',
        'bpr',
        'warp',
      ]),
    );
    expect(modelNames()).toEqual(
      expect.arrayContaining(['baseline', 'mf-sgd', 'svdpp', 'knn-baseline', 'rating-blend']),
    );
    expect(new Set(modelNames()).size).toBe(modelNames().length);
  });

  it('creates trainers with validated parameters', async () => {
    const trainer = createModel('trending', { halfLifeDays: 2 });
    const model = await trainer.fit(data);
    expect(model.info.name).toBe('trending');
    expect(model.info.params.halfLifeDays).toBe(2);
    expect(() => createModel('nope')).toThrow(/unknown model 'nope'/);
    expect(() => createModel('popularity', { mode: 'votes' })).toThrow(/mode/);
    expect(() => createModel('item-knn', { k: -1 })).toThrow(/'k'/);
  });
});
