import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { importEventsFile } from '../../src/ingest/importers/delimited.js';
import { powerLawSampler, writeSyntheticEventsFile } from '../../src/ingest/synthetic.js';
import { memoryStore, tempFolder } from './helpers.js';

const tmp = tempFolder();
afterAll(() => tmp.remove());

describe('powerLawSampler', () => {
  it('maps the ends of [0, 1) to the first and last rank', () => {
    const rank = powerLawSampler(1000, 0.8);
    expect(rank(0)).toBe(0);
    expect(rank(0.999999999)).toBe(999);
  });

  it('gives rank r a share close to r^-0.8 / sum', () => {
    const n = 100;
    const rank = powerLawSampler(n, 0.8);
    const draws = 200_000;
    const counts = new Float64Array(n);
    for (let i = 0; i < draws; i++) counts[rank((i + 0.5) / draws)]++;
    let norm = 0;
    for (let r = 1; r <= n; r++) norm += r ** -0.8;
    for (const r of [1, 2, 5, 20, 100]) {
      const expected = r ** -0.8 / norm;
      expect(Math.abs(counts[r - 1] / draws - expected) / expected, `rank ${r}`).toBeLessThan(0.08);
    }
  });
});

describe('writeSyntheticEventsFile', () => {
  it('writes the requested lines deterministically', async () => {
    const a = tmp.file('a.tsv', '');
    const b = tmp.file('b.tsv', '');
    const result = await writeSyntheticEventsFile(a, { users: 50, items: 200, events: 10_000, seed: 5 });
    await writeSyntheticEventsFile(b, { users: 50, items: 200, events: 10_000, seed: 5 });
    const text = readFileSync(a, 'utf8');
    expect(readFileSync(b, 'utf8')).toBe(text);
    expect(result.lines).toBe(10_000);
    expect(result.bytes).toBe(Buffer.byteLength(text));

    const lines = text.trimEnd().split('\n');
    expect(lines.length).toBe(10_000);
    const itemCounts = new Map<string, number>();
    let last = 0;
    for (const line of lines) {
      const [user, item, value, ts] = line.split('\t').map(Number);
      expect(user >= 1 && user <= 50 && item >= 1 && item <= 200 && value >= 1 && value <= 5).toBe(true);
      expect(ts).toBeGreaterThanOrEqual(last);
      last = ts;
      itemCounts.set(String(item), (itemCounts.get(String(item)) ?? 0) + 1);
    }
    expect(Number(lines[0].split('\t')[3])).toBe(Date.UTC(2024, 0, 1) / 1000);
    const sorted = [...itemCounts.values()].sort((x, y) => y - x);
    // top item far above the median item: a long tail
    expect(sorted[0]).toBeGreaterThan(8 * sorted[Math.floor(sorted.length / 2)]);
    // the most popular item is not simply item 1: ranks are permuted over the ids
    const top = [...itemCounts].sort((x, y) => y[1] - x[1])[0][0];
    expect(top).not.toBe('1');
  });

  it('produces a file the TSV importer reads without a bad line', async () => {
    const path = tmp.file('bench.tsv', '');
    await writeSyntheticEventsFile(path, { users: 300, items: 500, events: 30_000, seed: 1 });
    const store = await memoryStore();
    const report = await importEventsFile(store, path, {
      user: 0,
      item: 1,
      value: 2,
      timestamp: 3,
      timestampUnit: 's',
      defaultType: 'rating',
    });
    expect(report).toMatchObject({ rows: 30_000, imported: 30_000, bad: 0 });
    expect(await store.countUsers()).toBe(300);
    await store.close();
  });
});
