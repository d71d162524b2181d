import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/program.js';
import { buildApp, type App } from '../../src/server/app.js';
import { Engine } from '../../src/serving/engine.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const ML = path.resolve('../shared/data/ml-100k');
const present = existsSync(path.join(ML, 'u1.base'));
if (!present) console.warn(`skipping the MovieLens end-to-end test: ${ML} is absent`);

function readSplit(file: string): { user: string; item: string; rating: number }[] {
  return readFileSync(path.join(ML, file), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const [user, item, rating] = l.split('\t');
      return { user, item, rating: Number(rating) };
    });
}

describe.skipIf(!present)('import → train → HTTP recommend on MovieLens 100K u1', () => {
  let dir: string;
  let engine: Engine;
  let app: App;
  let base: URL;
  const train = present ? readSplit('u1.base') : [];
  const test = present ? readSplit('u1.test') : [];
  const seen = new Map<string, Set<string>>();
  const relevant = new Map<string, Set<string>>();
  for (const r of train) (seen.get(r.user) ?? seen.set(r.user, new Set()).get(r.user)!).add(r.item);
  for (const r of test) {
    if (r.rating >= 4) (relevant.get(r.user) ?? relevant.set(r.user, new Set()).get(r.user)!).add(r.item);
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kindred-e2e-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await run(['import', 'movielens', ML, '--ratings-file', 'u1.base', '--data-dir', dir, '-q'])).toBe(
      0,
    );
    expect(await run(['train', '--data-dir', dir])).toBe(0);
    log.mockRestore();
    const store = new SqliteStore(path.join(dir, 'kindred.db'));
    await store.init();
    engine = new Engine(store, path.join(dir, 'models'));
    await engine.start();
    app = await buildApp({ engine });
    base = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
  }, 180_000);

  afterAll(async () => {
    await app?.close();
    await engine?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stored every training rating with the movies and users', async () => {
    const stats = await (await fetch(new URL('/stats', base))).json();
    expect(stats).toEqual({ users: 943, items: 1682, events: 80_000 });
  });

  it('recommends over HTTP better than popularity, never a film the user has rated', async () => {
    const popularity = new Map<string, number>();
    for (const r of train) popularity.set(r.item, (popularity.get(r.item) ?? 0) + 1);
    const byPopularity = [...popularity.entries()].sort((a, b) => b[1] - a[1] || Number(a[0]) - Number(b[0]));

    let kindredHits = 0;
    let popularHits = 0;
    for (const [user, rel] of relevant) {
      const res = await fetch(new URL(`/recommend/${user}?k=10`, base));
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: { itemId: string }[] };
      expect(body.items).toHaveLength(10);
      for (const { itemId } of body.items) {
        expect(seen.get(user)!.has(itemId)).toBe(false);
        if (rel.has(itemId)) kindredHits++;
      }
      const popTop = byPopularity.filter(([i]) => !seen.get(user)!.has(i)).slice(0, 10);
      for (const [i] of popTop) if (rel.has(i)) popularHits++;
    }
    const users = relevant.size;
    expect(users).toBe(456);
    const kindredP10 = kindredHits / (10 * users);
    const popularP10 = popularHits / (10 * users);
    expect(kindredP10).toBeGreaterThan(popularP10 * 1.2);
  });

  it('writes batch recommendations as CSV user,item,rank,score', async () => {
    const out = path.join(dir, 'recs.csv');
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await run(['recommend', '--data-dir', dir, '--users', '1,2,3', '--k', '5', '--out', out])).toBe(0);
    err.mockRestore();
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('user,item,rank,score');
    expect(lines).toHaveLength(1 + 15);
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.map((r) => r[0])).toEqual([
      '1',
      '1',
      '1',
      '1',
      '1',
      '2',
      '2',
      '2',
      '2',
      '2',
      '3',
      '3',
      '3',
      '3',
      '3',
    ]);
    expect(rows.slice(0, 5).map((r) => Number(r[2]))).toEqual([1, 2, 3, 4, 5]);
    for (let i = 1; i < 5; i++) expect(Number(rows[i][3])).toBeLessThanOrEqual(Number(rows[i - 1][3]));
    for (const r of rows) expect(seen.get(r[0])!.has(r[1])).toBe(false);
  });
});
