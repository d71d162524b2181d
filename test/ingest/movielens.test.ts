import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  detectMovieLensLayout,
  importMovieLens,
  parseMovieLensDate,
  titleYear,
  type MovieLensReport,
} from '../../src/ingest/importers/movielens.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { memoryStore, tempFolder } from './helpers.js';

const ML100K = resolve('../shared/data/ml-100k');
const ML_LATEST = resolve('../shared/data/ml-latest-small');

function present(dir: string): boolean {
  if (existsSync(dir)) return true;
  console.warn(`MovieLens data folder ${dir} is missing; its import tests are skipped`);
  return false;
}

describe('MovieLens helpers', () => {
  it('parses release dates and title years', () => {
    expect(parseMovieLensDate('01-Jan-1995')).toBe(Date.UTC(1995, 0, 1));
    expect(parseMovieLensDate('27-Jun-1997')).toBe(Date.UTC(1997, 5, 27));
    expect(parseMovieLensDate('')).toBeNull();
    expect(parseMovieLensDate('1995')).toBeNull();
    expect(titleYear('Toy Story (1995)')).toBe(1995);
    expect(titleYear('Babylon 5')).toBeNull();
    expect(titleYear('Misérables, Les (1995) ')).toBe(1995);
  });
});

describe('importMovieLens on small hand-made folders', () => {
  const tmp = tempFolder();
  afterAll(() => tmp.remove());

  it('reads an ML-100K layout with a Latin-1 title and reports a bad rating line', async () => {
    const dir = tmp.dir;
    tmp.file('u.genre', 'unknown|0\nAction|1\nComedy|2\n\n');
    tmp.file(
      'u.item',
      Buffer.from(
        '1|Toy Story (1995)|01-Jan-1995||http://x/1|0|0|1\n2|Mis\xe9rables, Les (1995)|01-Jan-1995||http://x/2|0|1|1\n3|unknown||||1|0|0\n',
        'latin1',
      ),
    );
    tmp.file('u.user', '1|24|M|technician|05711\n2|53|F|other|94043\n');
    tmp.file('u.data', '1\t1\t5\t881250949\n2\t2\t3\t881250950\n2\t1\tfour\t881250951\n1\t3\t1\t881250952\n');
    tmp.file('u1.base', '1\t1\t5\t881250949\n');
    expect(detectMovieLensLayout(dir)).toBe('ml-100k');

    const store = await memoryStore();
    const report = await importMovieLens(store, dir);
    expect(report.layout).toBe('ml-100k');
    expect(report.users).toMatchObject({ rows: 2, imported: 2, bad: 0 });
    expect(report.items).toMatchObject({ rows: 3, imported: 3, bad: 0 });
    expect(report.events).toMatchObject({ rows: 4, imported: 3, bad: 1 });
    expect(report.errors).toEqual([
      { line: 3, field: 'value', message: "must be a number, got 'four'", file: 'u.data' },
    ]);
    expect(report).toMatchObject({ rows: 9, imported: 8, bad: 1 });
    expect(await store.getItem('2')).toMatchObject({
      title: 'Misérables, Les (1995)',
      categories: ['Action', 'Comedy'],
      attributes: { year: 1995, releaseDate: '1995-01-01', imdbUrl: 'http://x/2' },
      publishedAt: Date.UTC(1995, 0, 1),
    });
    expect(await store.getItem('3')).toMatchObject({
      title: null,
      categories: [],
      attributes: {},
      publishedAt: null,
    });
    expect(await store.getUser('1')).toMatchObject({
      attributes: { age: 24, gender: 'M', occupation: 'technician', zip: '05711' },
    });
    await store.close();

    const split = await memoryStore();
    const only = await importMovieLens(split, dir, { ratingsFile: 'u1.base', metadata: false });
    expect(only.users).toBeNull();
    expect(only.items).toBeNull();
    expect(only.events).toMatchObject({ rows: 1, imported: 1 });
    expect(await split.countItems()).toBe(1);
    await split.close();
  });

  it('refuses a folder that is not MovieLens', async () => {
    const store = await memoryStore();
    await expect(importMovieLens(store, resolve(tmp.dir, 'nowhere'))).rejects.toThrow(
      /is not a MovieLens folder/,
    );
    await store.close();
  });
});

describe.skipIf(!present(ML100K))('importMovieLens: ml-100k', () => {
  let store: SqliteStore;
  let report: MovieLensReport;
  beforeAll(async () => {
    store = await memoryStore();
    report = await importMovieLens(store, ML100K);
  });
  afterAll(async () => {
    await store.close();
  });

  it('imports every rating, user and movie', async () => {
    expect(report.events).toMatchObject({ rows: 100_000, imported: 100_000, duplicates: 0, bad: 0 });
    expect(report.users).toMatchObject({ rows: 943, imported: 943, bad: 0 });
    expect(report.items).toMatchObject({ rows: 1682, imported: 1682, bad: 0 });
    expect(report.errors).toEqual([]);
    expect(await store.countEvents()).toBe(100_000);
    expect(await store.countUsers()).toBe(943);
    expect(await store.countItems()).toBe(1682);
  });

  it('keeps genres, years, demographics and rating values', async () => {
    expect(await store.getItem('1')).toMatchObject({
      title: 'Toy Story (1995)',
      categories: ['Animation', "Children's", 'Comedy'],
      attributes: { year: 1995 },
    });
    expect((await store.getItem('1682'))?.title).toBe('Scream of Stone (Schrei aus Stein) (1991)');
    expect(await store.getUser('1')).toMatchObject({
      attributes: { age: 24, gender: 'M', occupation: 'technician', zip: '85711' },
    });
    const [first] = (await store.listEvents({ limit: 1 })).rows;
    expect(first).toMatchObject({
      userId: '196',
      itemId: '242',
      type: 'rating',
      value: 3,
      timestamp: 881_250_949_000,
    });
    const histogram = new Map<number, number>();
    for await (const batch of store.scanEvents(50_000)) {
      for (let i = 0; i < batch.length; i++)
        histogram.set(batch.values[i], (histogram.get(batch.values[i]) ?? 0) + 1);
    }
    expect(Object.fromEntries([...histogram].sort((a, b) => a[0] - b[0]))).toEqual({
      1: 6110,
      2: 11370,
      3: 27145,
      4: 34174,
      5: 21201,
    });
  });

  it('loads an official split on its own', async () => {
    const split = await memoryStore();
    const only = await importMovieLens(split, ML100K, { ratingsFile: 'u1.base', metadata: false });
    expect(only.events).toMatchObject({ rows: 80_000, imported: 80_000, bad: 0 });
    expect(await split.countEvents()).toBe(80_000);
    await split.close();
  });
});

describe.skipIf(!present(ML_LATEST))('importMovieLens: ml-latest-small', () => {
  let store: SqliteStore;
  let report: MovieLensReport;
  beforeAll(async () => {
    store = await memoryStore();
    report = await importMovieLens(store, ML_LATEST);
  });
  afterAll(async () => {
    await store.close();
  });

  it('imports every rating and movie; users come from the ratings', async () => {
    expect(report.layout).toBe('ml-latest');
    expect(report.events).toMatchObject({ rows: 100_836, imported: 100_836, bad: 0 });
    expect(report.items).toMatchObject({ rows: 9742, imported: 9742, bad: 0 });
    expect(report.tags).toMatchObject({ rows: 3683, imported: 3683, bad: 0 });
    expect(report.users).toBeNull();
    expect(await store.countEvents()).toBe(100_836);
    expect(await store.countUsers()).toBe(610);
    expect(await store.countItems()).toBe(9742);
  });

  it('reads quoted titles, genres, half stars and tags', async () => {
    expect(await store.getItem('1')).toMatchObject({
      title: 'Toy Story (1995)',
      categories: ['Adventure', 'Animation', 'Children', 'Comedy', 'Fantasy'],
      attributes: { year: 1995 },
      tags: ['pixar', 'fun'],
    });
    expect(await store.getItem('11')).toMatchObject({
      title: 'American President, The (1995)',
      categories: ['Comedy', 'Drama', 'Romance'],
    });
    const [first] = (await store.listEvents({ limit: 1 })).rows;
    expect(first).toMatchObject({
      userId: '1',
      itemId: '1',
      type: 'rating',
      value: 4,
      timestamp: 964_982_703_000,
    });
    const halves = (await store.listEvents({ userId: '3', limit: 1000 })).rows.filter((e) => e.value === 0.5);
    expect(halves.length).toBeGreaterThan(0);
  });
});
