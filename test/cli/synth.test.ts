import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/program.js';
import { synthOptions, type SynthFlags } from '../../src/cli/synth.js';
import { interactionsFromArrays } from '../../src/data/interactions.js';
import { generateInteractions, type InteractionSet } from '../../src/ingest/synthetic.js';
import { ItemKnnModel } from '../../src/models/knn/item-knn.js';
import { PopularityModel } from '../../src/models/popularity/popularity.js';
import type { Recommender } from '../../src/models/model.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { topK } from '../../src/kernels/topk.js';
import { ndcgAtK } from '../helpers/ranking.js';

const dir = mkdtempSync(path.join(tmpdir(), 'kindred-synth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

let written = '';
function capture(): void {
  written = '';
  const sink = (chunk: unknown) => {
    written += typeof chunk === 'string' ? chunk : String(chunk);
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(sink);
  vi.spyOn(process.stderr, 'write').mockImplementation(sink);
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => sink(`${a.join(' ')}\n`));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => sink(`${a.join(' ')}\n`));
}

function pairKeys(set: InteractionSet): Set<number> {
  const keys = new Set<number>();
  for (let e = 0; e < set.length; e++) keys.add(set.user[e] * set.items + set.item[e]);
  return keys;
}

describe('generateInteractions', () => {
  it('gives exactly the requested number of distinct pairs, deterministically for a seed', () => {
    const opts = { users: 300, items: 120, interactions: 9000, seed: 4 };
    const a = generateInteractions(opts);
    expect(a.length).toBe(9000);
    expect(a.user.length).toBe(9000);
    expect(pairKeys(a).size).toBe(9000); // no duplicate pair
    expect(a.draws).toBeGreaterThan(9000); // duplicates were drawn, dropped and topped up
    let inRange = true;
    for (let e = 0; e < a.length; e++) {
      const v = a.value[e];
      inRange &&= a.user[e] >= 0 && a.user[e] < 300 && a.item[e] >= 0 && a.item[e] < 120;
      inRange &&= v >= 1 && v <= 5 && Number.isInteger(v);
    }
    expect(inRange).toBe(true);
    const b = generateInteractions(opts);
    expect(b.user).toEqual(a.user);
    expect(b.item).toEqual(a.item);
    expect(b.value).toEqual(a.value);
    const c = generateInteractions({ ...opts, seed: 5 });
    expect(c.item).not.toEqual(a.item);
  });

  it('follows the B3 recipe: power-law items over permuted ids, uniform users, values of 1', () => {
    const set = generateInteractions({
      users: 2000,
      items: 1000,
      interactions: 100_000,
      exponent: 0.8,
      userExponent: 0,
      topics: 0,
      values: 'ones',
      seed: 1,
    });
    expect(set.length).toBe(100_000);
    expect(pairKeys(set).size).toBe(100_000);
    expect(set.value.every((v) => v === 1)).toBe(true);
    const itemDeg = new Int32Array(1000);
    const userDeg = new Int32Array(2000);
    for (let e = 0; e < set.length; e++) {
      itemDeg[set.item[e]]++;
      userDeg[set.user[e]]++;
    }
    const items = Array.from(itemDeg).sort((x, y) => y - x);
    const users = Array.from(userDeg).sort((x, y) => x - y);
    // Power law: the top 1% of items hold far more than 1% of the pairs, the tail still gets some.
    const top = items.slice(0, 10).reduce((s, x) => s + x, 0);
    expect(top / set.length).toBeGreaterThan(0.08);
    expect(items[999]).toBeGreaterThan(0);
    // Uniform users: degrees near the mean of 50 (a Poisson-like spread, no heavy tail).
    expect(users[0]).toBeGreaterThan(20);
    expect(users[1999]).toBeLessThan(90);
    // Ranks are permuted over the ids: the most popular item is not item 0.
    expect(itemDeg.indexOf(items[0])).not.toBe(0);
  });

  it('skews user activity when asked', () => {
    const set = generateInteractions({
      users: 1000,
      items: 2000,
      interactions: 50_000,
      userExponent: 0.8,
      seed: 2,
    });
    const deg = new Int32Array(1000);
    for (let e = 0; e < set.length; e++) deg[set.user[e]]++;
    const sorted = Array.from(deg).sort((x, y) => y - x);
    expect(sorted[0]).toBeGreaterThan(10 * sorted[500]);
  });

  it('plants latent tastes that a collaborative model can learn', () => {
    const set = generateInteractions({ users: 1500, items: 600, interactions: 45_000, topics: 12, seed: 9 });
    // Hold out the last fifth of every user's pairs (pairs come in draw order).
    const byUser: number[][] = Array.from({ length: set.users }, () => []);
    for (let e = 0; e < set.length; e++) byUser[set.user[e]].push(e);
    const train: number[] = [];
    const held = new Map<number, number[]>();
    for (let u = 0; u < set.users; u++) {
      const list = byUser[u];
      const cut = Math.ceil(list.length * 0.8);
      train.push(...list.slice(0, cut));
      if (cut < list.length)
        held.set(
          u,
          list.slice(cut).map((e) => set.item[e]),
        );
    }
    const data = interactionsFromArrays({
      userIds: train.map((e) => String(set.user[e])),
      itemIds: train.map((e) => String(set.item[e])),
      strengths: train.map((e) => set.value[e]),
      catalog: Array.from({ length: set.items }, (_, i) => String(i)),
    });
    const ndcg = (m: Recommender): number => {
      const scores = new Float32Array(data.items.size);
      const mask = new Uint8Array(data.items.size);
      let sum = 0;
      let n = 0;
      for (const [u, items] of held) {
        const ui = data.users.index(String(u));
        const { indptr, indices, data: values } = data.matrix;
        const history = indices.subarray(indptr[ui], indptr[ui + 1]);
        m.score(
          { userIndex: ui, history, historyWeights: values.subarray(indptr[ui], indptr[ui + 1]) },
          scores,
        );
        mask.fill(0);
        for (const h of history) mask[h] = 1;
        sum += ndcgAtK(
          topK(scores, 10, mask).indices,
          new Set(items.map((i) => data.items.index(String(i)))),
          10,
        );
        n++;
      }
      return sum / n;
    };
    const pop = ndcg(PopularityModel.fit(data));
    const knn = ndcg(ItemKnnModel.fit(data, { k: 50 }));
    console.log(`synthetic tastes, NDCG@10: popularity ${pop.toFixed(4)}, item-knn ${knn.toFixed(4)}`);
    expect(knn).toBeGreaterThan(pop * 1.5);
  });

  it('refuses impossible sizes', () => {
    expect(() => generateInteractions({ users: 10, items: 10, interactions: 51 })).toThrow(/half/);
    expect(() => generateInteractions({ users: 0, items: 10, interactions: 1 })).toThrow(RangeError);
  });
});

describe('kindred synth', () => {
  const flags: SynthFlags = { seed: 1, eventType: 'rating', batchSize: 100 };

  it('maps the b3 preset and lets explicit flags override it', () => {
    expect(synthOptions({ ...flags, preset: 'b3' })).toMatchObject({
      users: 200_000,
      items: 50_000,
      interactions: 20_000_000,
      exponent: 0.8,
      userExponent: 0,
      topics: 0,
      values: 'ones',
    });
    expect(synthOptions({ ...flags, preset: 'b3', interactions: 1000, seed: 7 })).toMatchObject({
      interactions: 1000,
      seed: 7,
    });
  });

  it('writes a TSV file with exactly the requested distinct pairs, the same for the same seed', async () => {
    const a = path.join(dir, 'a.tsv');
    const b = path.join(dir, 'b.tsv');
    const args = ['--users', '60', '--items', '40', '--interactions', '500', '--seed', '3', '-q'];
    capture();
    expect(await run(['synth', ...args, '--out', a])).toBe(0);
    expect(written).toMatch(/wrote .*a\.tsv: 60 users x 40 items, 500 distinct pairs/);
    expect(await run(['synth', ...args, '--out', b])).toBe(0);
    const text = readFileSync(a, 'utf8');
    expect(readFileSync(b, 'utf8')).toBe(text);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(500);
    const pairs = new Set(lines.map((l) => l.split('\t').slice(0, 2).join(' ')));
    expect(pairs.size).toBe(500);
    for (const l of lines) {
      const [u, i, v, t] = l.split('\t').map(Number);
      expect(u >= 1 && u <= 60 && i >= 1 && i <= 40 && v >= 1 && v <= 5 && t >= 1_704_067_200).toBe(true);
    }
  });

  it('shows progress unless quiet', async () => {
    capture();
    expect(
      await run([
        'synth',
        '--users',
        '20',
        '--items',
        '20',
        '--interactions',
        '100',
        '--out',
        path.join(dir, 'p.tsv'),
      ]),
    ).toBe(0);
    expect(written).toMatch(/generating: .*100 pairs/);
  });

  it('loads the store when no file is given', async () => {
    const dataDir = path.join(dir, 'store');
    capture();
    const code = await run([
      'synth',
      '--users',
      '30',
      '--items',
      '25',
      '--interactions',
      '200',
      '--values',
      'ones',
      '--data-dir',
      dataDir,
      '-q',
    ]);
    expect(code).toBe(0);
    expect(written).toMatch(/stored 30 users x 25 items, 200 distinct pairs as 200 'rating' events/);
    const store = new SqliteStore(path.join(dataDir, 'kindred.db'));
    await store.init();
    expect(await store.countEvents()).toBe(200);
    expect(await store.countUsers()).toBeLessThanOrEqual(30);
    const events = (await store.listEvents({ limit: 500 })).rows;
    expect(new Set(events.map((e) => `${e.userId} ${e.itemId}`)).size).toBe(200);
    expect(events.every((e) => e.value === 1 && e.type === 'rating')).toBe(true);
    await store.close();
  });

  it('fails with a message on sizes that cannot hold the pairs', async () => {
    capture();
    expect(
      await run([
        'synth',
        '--users',
        '3',
        '--items',
        '3',
        '--interactions',
        '9',
        '-q',
        '--out',
        path.join(dir, 'x.tsv'),
      ]),
    ).toBe(1);
    expect(written).toMatch(/kindred: interactions must be/);
  });
});
