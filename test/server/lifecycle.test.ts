/** Model lifecycle: versions with snapshots and metrics, promote, roll back, compare, hot swap. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/ingest/prng.js';
import { loadConfig } from '../../src/config.js';
import { buildApp, type App } from '../../src/server/app.js';
import { Engine } from '../../src/serving/engine.js';
import { RetrainScheduler } from '../../src/serving/retrain-scheduler.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

interface Version {
  name: string;
  version: string;
  serving: boolean;
  promoted: boolean;
  info: { params: Record<string, unknown> };
  snapshot: { events: number; users: number };
  metrics: Record<string, number>;
}

let dir: string;
let engine: Engine;
let app: App;

async function alsVersions(): Promise<Version[]> {
  return (await app.inject('/models/versions?name=als')).json<{ versions: Version[] }>().versions;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'kindred-lifecycle-'));
  const store = new SqliteStore(path.join(dir, 'k.db'));
  await store.init();
  engine = new Engine(store, path.join(dir, 'models'));
  await engine.start();
  app = await buildApp({ engine });
  const rng = new Rng(3);
  const events = [];
  for (let u = 0; u < 80; u++)
    for (let j = 0; j < 6; j++)
      events.push({
        userId: `u${u}`,
        itemId: `i${(u % 4) * 10 + Math.floor(rng.next() * 10)}`,
        type: 'purchase',
        timestamp: 1_700_000_000_000 + u * 100 + j,
      });
  await app.inject({ method: 'POST', url: '/events', payload: events });
});

afterAll(async () => {
  await app.close();
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('model registry', () => {
  it('records each version with its snapshot, settings and holdout metrics; compares, rolls back and promotes', async () => {
    await engine.train({
      models: ['popularity', 'als'],
      params: { als: { factors: 4, iterations: 5 } },
      evaluate: true,
    });
    await engine.train({ models: ['als'], params: { als: { factors: 16, iterations: 5 } }, evaluate: true });
    let versions = await alsVersions();
    expect(versions).toHaveLength(2);
    const [v1, v2] = versions;
    expect(v1.snapshot).toMatchObject({ users: 80 });
    expect(v1.snapshot.events).toBeGreaterThan(400);
    expect(v1.metrics['ndcg@10']).toBeGreaterThan(0);
    expect(v1.metrics.holdoutUsers).toBe(80);
    expect(versions.map((v) => v.serving)).toEqual([false, true]);

    const cmp = (await app.inject(`/models/als/compare?a=${v1.version}&b=${v2.version}`)).json<{
      paramsChanged: string[];
      metricDeltas: Record<string, number>;
    }>();
    expect(cmp.paramsChanged).toEqual(['factors']);
    expect(cmp.metricDeltas['ndcg@10']).toBeCloseTo(v2.metrics['ndcg@10'] - v1.metrics['ndcg@10'], 10);

    const back = await app.inject({ method: 'POST', url: '/models/als/rollback' });
    expect(back.json()).toEqual({ name: 'als', serving: v1.version });
    expect(engine.service.loadedModels().find((m) => m.info.name === 'als')!.info.params.factors).toBe(4);

    // A new training run registers a version but the pinned one keeps serving.
    await engine.train({ models: ['als'], params: { als: { factors: 8, iterations: 5 } } });
    versions = await alsVersions();
    expect(versions).toHaveLength(3);
    expect(versions.find((v) => v.serving)!.version).toBe(v1.version);
    expect(engine.service.loadedModels().find((m) => m.info.name === 'als')!.info.params.factors).toBe(4);

    const v3 = versions[2].version;
    expect(
      (await app.inject({ method: 'POST', url: '/models/als/promote', payload: { version: v3 } })).statusCode,
    ).toBe(200);
    expect(engine.service.loadedModels().find((m) => m.info.name === 'als')!.info.params.factors).toBe(8);
    expect(
      (await app.inject({ method: 'POST', url: '/models/als/promote', payload: { version: 'nope' } }))
        .statusCode,
    ).toBe(404);

    // A restart serves the promoted version.
    const again = new Engine(new SqliteStore(path.join(dir, 'k.db')), path.join(dir, 'models'));
    await again.store.init();
    await again.start();
    expect(again.service.loadedModels().find((m) => m.info.name === 'als')!.info.params.factors).toBe(8);
    await again.close();
  });

  it('swaps models under load without a failed request', async () => {
    let stop = false;
    const statuses: number[] = [];
    const load = (async () => {
      let i = 0;
      while (!stop) {
        const batch = await Promise.all(
          Array.from({ length: 8 }, () => app.inject(`/recommend/u${i++ % 80}?k=5`)),
        );
        for (const r of batch) statuses.push(r.statusCode);
        // Let timers and worker messages through, as a network would.
        await new Promise((r) => setImmediate(r));
      }
    })();
    const before = statuses.length;
    const trained = await app.inject({
      method: 'POST',
      url: '/models/train',
      payload: { models: ['popularity', 'item-knn'] },
    });
    const during = statuses.length - before;
    stop = true;
    await load;
    expect(trained.statusCode).toBe(200);
    expect(during).toBeGreaterThan(0);
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200)).toBe(true);
  });
});

describe('retraining schedule', () => {
  it('retrains after N acknowledged events and on an interval, one run at a time', async () => {
    let now = 0;
    const runs: number[] = [];
    let release: () => void = () => undefined;
    const target = {
      isTraining: false,
      train: () => {
        runs.push(now);
        return new Promise<void>((r) => (release = r));
      },
    };
    const s = new RetrainScheduler(target, { afterEvents: 5, intervalMs: 60_000 }, undefined, () => now);
    s.eventsAcknowledged(3);
    await s.tick();
    expect(runs).toEqual([]);
    s.eventsAcknowledged(2);
    const first = s.tick();
    await s.tick(); // a run is going: no second one
    expect(runs).toEqual([0]);
    release();
    await first;
    expect(s.runs).toBe(1);
    now = 59_000;
    await s.tick();
    expect(runs).toEqual([0]);
    now = 60_000;
    const second = s.tick();
    release();
    await second;
    expect(runs).toEqual([0, 60_000]);
  });

  it('counts events the API acknowledges', async () => {
    const s = engine.scheduleRetraining({ afterEvents: 1_000_000 });
    await app.inject({
      method: 'POST',
      url: '/events',
      payload: [{ userId: 'u1', itemId: 'i1', type: 'view' }],
    });
    expect(s.due()).toBe(false);
    const status = (await app.inject('/models/schedule')).json<{ scheduled: boolean; afterEvents: number }>();
    expect(status).toMatchObject({ scheduled: true, afterEvents: 1_000_000 });
    await s.stop();
  });
});

describe('training in a child process', () => {
  /** An engine opened as a server opens it (from its configuration), on a data folder. */
  async function configuredEngine(dataDir: string): Promise<{ store: SqliteStore; served: Engine }> {
    const config = loadConfig({ dataDir });
    const store = new SqliteStore(path.join(dataDir, 'kindred.db'));
    await store.init();
    const served = new Engine(store, config.modelsDir, config);
    await served.start();
    return { store, served };
  }

  /** `n` purchases by 12 users of the items `item(j)`. */
  const purchases = (n: number, item: (j: number) => string) =>
    Array.from({ length: n }, (_, j) => ({
      userId: `u${j % 12}`,
      itemId: item(j),
      type: 'purchase',
      value: null,
      timestamp: 1_700_000_000_000 + j,
      sessionId: null,
      context: null,
      clientEventId: null,
    }));

  it('runs a scheduled retraining as a separate process and serves what it saved', async () => {
    const childDir = mkdtempSync(path.join(tmpdir(), 'kindred-child-train-'));
    try {
      const { store, served } = await configuredEngine(childDir);
      await store.insertEvents(purchases(60, (j) => `i${j % 7}`));
      const log: string[] = [];
      const scheduler = served.scheduleRetraining({ afterEvents: 10 }, (m) => log.push(m));
      scheduler.eventsAcknowledged(60);
      await scheduler.tick();
      expect(scheduler.lastError).toBeNull();
      expect(scheduler.runs).toBe(1);
      // The child's progress came back, and the parent serves the models it saved.
      expect(log.some((l) => l.startsWith('item-knn:'))).toBe(true);
      expect(
        served.service
          .loadedModels()
          .map((m) => m.info.name)
          .sort(),
      ).toEqual(['item-knn', 'popularity', 'trending']);
      expect(served.registry.versions('popularity')).toHaveLength(1);
      await served.close();
    } finally {
      rmSync(childDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('POST /models/train on a configured server trains in a child process, evaluates, and carries the drift reference', async () => {
    const childDir = mkdtempSync(path.join(tmpdir(), 'kindred-child-api-'));
    try {
      const { store, served } = await configuredEngine(childDir);
      expect(served.drift.hasReference()).toBe(false);
      await store.insertEvents(purchases(80, (j) => `i${(j * 5) % 9}`));
      const api = await buildApp({ engine: served });
      const unknown = await api.inject({
        method: 'POST',
        url: '/models/train',
        payload: { models: ['nope'] },
      });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json<{ error: { message: string } }>().error.message).toContain("unknown model 'nope'");
      const res = await api.inject({
        method: 'POST',
        url: '/models/train',
        payload: { models: ['popularity', 'item-knn'], evaluate: true },
      });
      expect(res.statusCode).toBe(200);
      expect(
        res
          .json<{ models: { name: string }[] }>()
          .models.map((m) => m.name)
          .sort(),
      ).toEqual(['item-knn', 'popularity']);
      // The child measured the models and the parent sees it in the registry.
      const [version] = served.registry.versions('item-knn');
      expect(Object.keys(version.metrics).length).toBeGreaterThan(0);
      // The reference the child saved is what drift is checked against here, and after a restart.
      expect(served.drift.hasReference()).toBe(true);
      await api.close();
      await served.close();
      const { served: restarted } = await configuredEngine(childDir);
      expect(restarted.drift.hasReference()).toBe(true);
      await restarted.close();
    } finally {
      rmSync(childDir, { recursive: true, force: true });
    }
  }, 60_000);
});
