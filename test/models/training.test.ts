import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventInput } from '../../src/domain/types.js';
import { ArtifactRepository } from '../../src/models/artifact-repo.js';
import { loadModel } from '../../src/models/registry.js';
import { DEFAULT_MODELS, trainModels } from '../../src/models/training.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'kindred-train-'));
let store: SqliteStore;

beforeAll(async () => {
  store = new SqliteStore(':memory:');
  await store.init();
  await store.upsertItems([{ id: 'new-arrival' }]);
  const events: EventInput[] = [];
  const t0 = Date.UTC(2024, 0, 1);
  for (let u = 0; u < 30; u++) {
    for (let k = 0; k < 6; k++) {
      events.push({
        userId: `u${u}`,
        itemId: `i${(u + k * k) % 17}`,
        type: k % 3 === 0 ? 'purchase' : 'view',
        value: null,
        timestamp: t0 + (u * 6 + k) * 3_600_000,
        sessionId: null,
        context: null,
        clientEventId: null,
      });
    }
  }
  await store.insertEvents(events);
});

afterAll(async () => {
  await store.close();
  rmSync(root, { recursive: true, force: true });
});

describe('trainModels', () => {
  it('trains and saves the default models, reporting fit time and progress', async () => {
    const repo = new ArtifactRepository(root);
    const messages: string[] = [];
    const result = await trainModels(store, { repo, progress: (m) => messages.push(m) });
    expect(result.models.map((m) => m.info.name)).toEqual([...DEFAULT_MODELS]);
    expect(result.paths).toHaveLength(3);
    expect(result.users).toBe(30);
    expect(result.items).toBe(18);
    for (let i = 0; i < 3; i++) {
      const m = result.models[i];
      expect(m.info.fitSeconds).toBeGreaterThanOrEqual(0);
      expect(m.info.items).toBe(18);
      expect(m.itemIds).toContain('new-arrival');
      expect(repo.latest(m.info.name)).toBe(result.paths[i]);
      expect(loadModel(result.paths[i]).info).toEqual(m.info);
    }
    expect(messages.some((m) => m.startsWith('trained item-knn'))).toBe(true);
  });

  it('passes parameters per model and trains only the requested ones', async () => {
    const repo = new ArtifactRepository(path.join(root, 'subset'));
    const result = await trainModels(store, {
      repo,
      models: ['item-knn'],
      params: { 'item-knn': { k: 3 }, trending: { halfLifeDays: 1 } },
    });
    expect(result.models).toHaveLength(1);
    expect(result.models[0].info.params.k).toBe(3);
    expect(repo.list().map((v) => v.name)).toEqual(['item-knn']);
  });

  it('reports every iteration of an iterative model as it trains', async () => {
    const repo = new ArtifactRepository(path.join(root, 'als'));
    const messages: string[] = [];
    await trainModels(store, {
      repo,
      models: ['als'],
      params: { als: { factors: 4, iterations: 3 } },
      progress: (m) => messages.push(m),
    });
    const its = messages.filter((m) => /^als: iteration \d+ done/.test(m));
    expect(its.map((m) => m.split(' ')[2])).toEqual(['1', '2', '3']);
  });

  it('trains the metadata models from the store, reading item content beside the events', async () => {
    const repo = new ArtifactRepository(path.join(root, 'metadata'));
    const result = await trainModels(store, {
      repo,
      models: ['content', 'hybrid'],
      params: { hybrid: { epochs: 2, factors: 4 } },
    });
    expect(result.models.map((m) => m.info.name)).toEqual(['content', 'hybrid']);
    expect(
      repo
        .list()
        .map((v) => v.name)
        .sort(),
    ).toEqual(['content', 'hybrid']);
  });

  it('checks names and parameters before doing any work', async () => {
    const repo = new ArtifactRepository(path.join(root, 'bad'));
    await expect(trainModels(store, { repo, models: ['popularity', 'nope'] })).rejects.toThrow(
      /unknown model/,
    );
    await expect(trainModels(store, { repo, params: { popularity: { mode: 'x' } } })).rejects.toThrow(/mode/);
    expect(repo.list()).toEqual([]);
  });
});
