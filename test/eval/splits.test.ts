import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import { Rng } from '../../src/ingest/prng.js';
import { holdoutPerUser } from '../../src/eval/holdout.js';
import { readRatingFile, type RatingRows } from '../../src/eval/rating-file.js';
import {
  describeSplit,
  joinPredefinedRows,
  parseSplitSpec,
  readPredefinedRows,
  splitFoldCount,
  splitRows,
  splitSeed,
  type Fold,
  type SplitSpec,
} from '../../src/eval/splits.js';

/** Rows from `[user, item, time]` triples (rating 3). */
function rowsOf(triples: [string, string, number][]): RatingRows {
  return {
    users: triples.map((t) => t[0]),
    items: triples.map((t) => t[1]),
    ratings: new Float32Array(triples.length).fill(3),
    timestamps: Float64Array.from(triples.map((t) => t[2])),
    length: triples.length,
  };
}

/** Users with 1 to ~40 rows, times drawn from a small range so that ties are common. */
function generated(seed = 5, userCount = 40): RatingRows {
  const rng = new Rng(seed);
  const triples: [string, string, number][] = [];
  for (let u = 0; u < userCount; u++) {
    const m = u % 7 === 0 ? 1 : 1 + rng.int(40);
    for (let k = 0; k < m; k++) triples.push([`u${u}`, `i${rng.int(60)}`, 1000 * rng.int(50)]);
  }
  // Interleave users, as event logs do.
  rng.shuffle(triples);
  return rowsOf(triples);
}

const list = (a: Int32Array | undefined): number[] => Array.from(a ?? []);

function userRows(rows: RatingRows, index: Int32Array | undefined): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const i of index ?? []) {
    const l = out.get(rows.users[i]);
    if (l) l.push(i);
    else out.set(rows.users[i], [i]);
  }
  return out;
}

function countsByUser(rows: RatingRows): Map<string, number> {
  const out = new Map<string, number>();
  for (const u of rows.users) out.set(u, (out.get(u) ?? 0) + 1);
  return out;
}

function expectPartition(rows: RatingRows, fold: Fold): void {
  const seen = new Uint8Array(rows.length);
  let ascending = true;
  for (const part of [fold.train, fold.test, fold.foldIn ?? new Int32Array(0)]) {
    for (let k = 0; k < part.length; k++) {
      if (k > 0 && part[k] <= part[k - 1]) ascending = false;
      seen[part[k]]++;
    }
  }
  expect(ascending).toBe(true);
  expect(seen.every((s) => s === 1)).toBe(true);
}

function validationError(raw: unknown): ValidationError {
  try {
    parseSplitSpec(raw);
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`);
}

const ALL_KINDS: SplitSpec[] = [
  { kind: 'random', testFraction: 0.2 },
  { kind: 'random-per-user', testFraction: 0.3 },
  { kind: 'random-per-user', testFraction: 0.5, minTrain: 3 },
  { kind: 'temporal', testFraction: 0.25 },
  { kind: 'temporal', cutoff: 30_000 },
  { kind: 'temporal-per-user', lastN: 2 },
  { kind: 'temporal-per-user', lastFraction: 0.4, minTrain: 2 },
  { kind: 'leave-one-out', by: 'last' },
  { kind: 'leave-one-out', by: 'random' },
  { kind: 'strong-generalization', testUsers: 0.25, foldInFraction: 0.6 },
  { kind: 'k-fold', folds: 4 },
  { kind: 'k-fold', folds: 3, perUser: true },
];

const SEEDED = ALL_KINDS.filter((s) => 'seed' in parseSplitSpec(s));

describe('parseSplitSpec', () => {
  it('fills in defaults and accepts numeric strings and ISO cutoffs', () => {
    expect(parseSplitSpec({ kind: 'random-per-user', testFraction: '0.2' })).toEqual({
      kind: 'random-per-user',
      testFraction: 0.2,
      seed: 42,
      minTrain: 1,
    });
    expect(parseSplitSpec({ kind: 'k-fold', folds: 5, seed: 7 })).toEqual({
      kind: 'k-fold',
      folds: 5,
      seed: 7,
      perUser: false,
    });
    expect(parseSplitSpec({ kind: 'temporal', cutoff: '1998-01-01' })).toEqual({
      kind: 'temporal',
      cutoff: Date.UTC(1998, 0, 1),
    });
    expect(parseSplitSpec({ kind: 'leave-one-out', by: 'last' })).toEqual({
      kind: 'leave-one-out',
      by: 'last',
    });
  });

  it('is idempotent', () => {
    for (const spec of ALL_KINDS) {
      const once = parseSplitSpec(spec);
      expect(parseSplitSpec(once)).toEqual(once);
    }
  });

  it.each([
    [
      { kind: 'random', testFraction: 1.5 },
      'split.testFraction',
      'split.testFraction must be between 0 and 1',
    ],
    [{ kind: 'random', testFraction: 0 }, 'split.testFraction', 'must be between 0 and 1'],
    [{ kind: 'random' }, 'split.testFraction', 'split.testFraction is required'],
    [{ kind: 'random', testFraction: 'lots' }, 'split.testFraction', 'must be a number'],
    [{ kind: 'random', testFraction: 0.2, seed: -1 }, 'split.seed', 'split.seed must be an integer'],
    [
      { kind: 'random', testFraction: 0.2, perUser: true },
      'split.perUser',
      "is not a field of a 'random' split",
    ],
    [{ kind: 'shuffle' }, 'split.kind', 'split.kind must be one of predefined, random'],
    [{ testFraction: 0.2 }, 'split.kind', 'split.kind must be one of'],
    [{ kind: 'random-per-user', testFraction: 0.2, minTrain: 0 }, 'split.minTrain', 'split.minTrain must be'],
    [{ kind: 'temporal' }, 'split.testFraction', 'is required (or give split.cutoff)'],
    [{ kind: 'temporal', testFraction: 0.2, cutoff: 5 }, 'split.cutoff', 'cannot be combined with'],
    [{ kind: 'temporal', cutoff: '1998-02-30' }, 'split.cutoff', 'must be an ISO 8601 date-time'],
    [{ kind: 'temporal-per-user' }, 'split.lastN', 'split.lastN is required'],
    [{ kind: 'temporal-per-user', lastN: 1.5 }, 'split.lastN', 'must be an integer'],
    [{ kind: 'leave-one-out', by: 'first' }, 'split.by', "split.by must be 'last' or 'random'"],
    [{ kind: 'leave-one-out' }, 'split.by', 'split.by is required'],
    [{ kind: 'strong-generalization', testUsers: 0.1 }, 'split.foldInFraction', 'is required'],
    [
      { kind: 'strong-generalization', testUsers: 2, foldInFraction: 0.5 },
      'split.testUsers',
      'between 0 and 1',
    ],
    [{ kind: 'k-fold', folds: 1 }, 'split.folds', 'split.folds must be an integer from 2'],
    [{ kind: 'k-fold', folds: 5, perUser: 'yes' }, 'split.perUser', 'must be true or false'],
    [{ kind: 'predefined', train: 'u1.base' }, 'split.test', 'split.test is required'],
  ])('rejects %j naming %s', (raw, field, message) => {
    const e = validationError(raw);
    expect(e.message).toContain(message);
    expect(e.message.startsWith(field)).toBe(true);
    expect(e.details[0].field).toBe(field);
  });

  it('rejects a value that is not an object', () => {
    expect(validationError('random').details[0].field).toBe('split');
    expect(validationError(null).message).toContain('split must be an object');
  });
});

describe('describeSplit', () => {
  it('states kind, sizes and seed', () => {
    expect(describeSplit({ kind: 'random-per-user', testFraction: 0.2, seed: 42 })).toBe(
      'random per user, 20% test, seed 42',
    );
    expect(describeSplit({ kind: 'random', testFraction: 0.125 })).toBe('random, 12.5% test, seed 42');
    expect(describeSplit({ kind: 'random-per-user', testFraction: 0.2, minTrain: 3 })).toBe(
      'random per user, 20% test, seed 42, at least 3 training rows per user',
    );
    expect(describeSplit({ kind: 'temporal', cutoff: Date.UTC(1998, 0, 1) })).toBe(
      'temporal, rows from 1998-01-01T00:00:00.000Z test',
    );
    expect(describeSplit({ kind: 'temporal-per-user', lastN: 1 })).toBe(
      'temporal per user, latest 1 row test',
    );
    expect(describeSplit({ kind: 'leave-one-out', by: 'last' })).toBe('leave one out, latest row per user');
    expect(describeSplit({ kind: 'k-fold', folds: 5, perUser: true, seed: 3 })).toBe(
      '5-fold per user, seed 3',
    );
    expect(describeSplit({ kind: 'strong-generalization', testUsers: 0.1, foldInFraction: 0.8 })).toBe(
      'strong generalisation, 10% of users held out, 80% of their rows folded in, seed 42',
    );
  });

  it('reports seeds and fold counts', () => {
    expect(splitSeed({ kind: 'random', testFraction: 0.2 })).toBe(42);
    expect(splitSeed({ kind: 'temporal', testFraction: 0.2 })).toBeUndefined();
    expect(splitFoldCount({ kind: 'k-fold', folds: 5 })).toBe(5);
    expect(splitFoldCount({ kind: 'random', testFraction: 0.2 })).toBe(1);
  });
});

describe('splitRows on hand-made rows', () => {
  it('temporal with a cutoff tests every row at or after it', () => {
    const rows = rowsOf([
      ['a', 'x', 5],
      ['b', 'x', 1],
      ['a', 'y', 3],
      ['c', 'z', 7],
      ['b', 'y', 4],
    ]);
    const [fold] = splitRows(rows, { kind: 'temporal', cutoff: 4 });
    expect(list(fold.train)).toEqual([1, 2]);
    expect(list(fold.test)).toEqual([0, 3, 4]);
    expect(fold.foldIn).toBeUndefined();
  });

  it('temporal with a fraction tests the latest rows, later positions first among ties', () => {
    const distinct = rowsOf([
      ['a', 'x', 5],
      ['b', 'x', 1],
      ['a', 'y', 3],
      ['c', 'z', 7],
      ['b', 'y', 3],
    ]);
    const [f1] = splitRows(distinct, { kind: 'temporal', testFraction: 0.4 });
    expect(list(f1.test)).toEqual([0, 3]);
    const ties = rowsOf([
      ['a', 'x', 3],
      ['b', 'x', 1],
      ['a', 'y', 3],
      ['c', 'z', 3],
      ['b', 'y', 2],
    ]);
    const [f2] = splitRows(ties, { kind: 'temporal', testFraction: 0.4 });
    expect(list(f2.train)).toEqual([0, 1, 4]);
    expect(list(f2.test)).toEqual([2, 3]);
    expect(f2.description).toBe('temporal, latest 40% of rows test (test from 1970-01-01T00:00:00.003Z)');
  });

  it('temporal per user takes each user’s latest rows and keeps minTrain', () => {
    const rows = rowsOf([
      ['a', 'x', 3],
      ['a', 'y', 1],
      ['b', 'x', 9],
      ['a', 'z', 3],
      ['a', 'w', 2],
      ['c', 'x', 1],
      ['c', 'y', 0],
    ]);
    const [last1] = splitRows(rows, { kind: 'temporal-per-user', lastN: 1 });
    // a: latest time 3 shared by rows 0 and 3, the later position wins; b has one row; c: row 5.
    expect(list(last1.test)).toEqual([3, 5]);
    const [last3] = splitRows(rows, { kind: 'temporal-per-user', lastN: 3 });
    // a keeps its earliest row (1), c keeps row 6.
    expect(list(last3.train)).toEqual([1, 2, 6]);
    const [half] = splitRows(rows, { kind: 'temporal-per-user', lastFraction: 0.5, minTrain: 3 });
    // a: round(4 × 0.5) = 2, capped at 4 − 3 = 1; c: capped at 0.
    expect(list(half.test)).toEqual([3]);
  });

  it('leave one out by last tests the latest row of users with two rows or more', () => {
    const rows = rowsOf([
      ['a', 'x', 3],
      ['a', 'y', 5],
      ['b', 'x', 9],
      ['a', 'z', 5],
      ['c', 'x', 4],
      ['c', 'y', 2],
    ]);
    const [fold] = splitRows(rows, { kind: 'leave-one-out', by: 'last' });
    expect(list(fold.test)).toEqual([3, 4]);
    expect(list(fold.train)).toEqual([0, 1, 2, 5]);
  });

  it('leave one out at random tests one row per user with two rows or more', () => {
    const rows = generated();
    const counts = countsByUser(rows);
    for (const seed of [1, 2, 3]) {
      const [fold] = splitRows(rows, { kind: 'leave-one-out', by: 'random', seed });
      const tested = userRows(rows, fold.test);
      for (const [user, m] of counts) expect(tested.get(user)?.length ?? 0).toBe(m >= 2 ? 1 : 0);
    }
  });

  it('random tests round(n × fraction) rows', () => {
    const rows = generated();
    const [fold] = splitRows(rows, { kind: 'random', testFraction: 0.3, seed: 9 });
    expect(fold.test.length).toBe(Math.round(rows.length * 0.3));
  });

  it('random per user tests round(m × fraction) of each user’s rows, keeping minTrain', () => {
    const rows = generated();
    const counts = countsByUser(rows);
    for (const minTrain of [1, 4]) {
      const [fold] = splitRows(rows, { kind: 'random-per-user', testFraction: 0.5, minTrain });
      const tested = userRows(rows, fold.test);
      const trained = userRows(rows, fold.train);
      for (const [user, m] of counts) {
        const expected = Math.min(Math.max(0, m - minTrain), Math.round(m * 0.5));
        expect(tested.get(user)?.length ?? 0).toBe(expected);
        expect(trained.get(user)?.length).toBeGreaterThanOrEqual(Math.min(m, minTrain));
      }
    }
  });

  it('strong generalisation holds out whole users and folds in part of their rows', () => {
    const rows = generated(11, 60);
    const counts = countsByUser(rows);
    const [fold] = splitRows(rows, { kind: 'strong-generalization', testUsers: 0.2, foldInFraction: 0.75 });
    const trained = userRows(rows, fold.train);
    const tested = userRows(rows, fold.test);
    const foldIn = userRows(rows, fold.foldIn);
    expect(tested.size).toBe(Math.round(60 * 0.2));
    expect([...foldIn.keys()].sort()).toEqual([...tested.keys()].sort());
    for (const [user, testRows] of tested) {
      expect(trained.has(user)).toBe(false);
      const m = counts.get(user) as number;
      const k = Math.min(m - 1, Math.max(1, Math.round(m * 0.75)));
      expect(foldIn.get(user)?.length).toBe(k);
      expect(testRows.length).toBe(m - k);
    }
    for (const [user, m] of counts) if (m === 1) expect(trained.has(user)).toBe(true);
  });

  it('k-fold tests every row exactly once, in folds of equal size', () => {
    const rows = generated();
    for (const perUser of [false, true]) {
      const folds = splitRows(rows, { kind: 'k-fold', folds: 4, perUser, seed: 3 });
      expect(folds).toHaveLength(4);
      const tested = new Uint8Array(rows.length);
      for (const [f, fold] of folds.entries()) {
        expectPartition(rows, fold);
        expect(fold.description).toBe(`4-fold${perUser ? ' per user' : ''}, seed 3, fold ${f + 1} of 4`);
        for (const i of fold.test) tested[i]++;
      }
      expect(tested.every((t) => t === 1)).toBe(true);
      const sizes = folds.map((f) => f.test.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      if (perUser) {
        // Each user's rows are spread evenly over the folds.
        for (const [user, m] of countsByUser(rows)) {
          const per = folds.map((f) => userRows(rows, f.test).get(user)?.length ?? 0);
          expect(per.reduce((a, b) => a + b)).toBe(m);
          expect(Math.max(...per) - Math.min(...per)).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  it('k-fold needs at least as many rows as folds', () => {
    const rows = rowsOf([
      ['a', 'x', 1],
      ['b', 'y', 2],
    ]);
    expect(() => splitRows(rows, { kind: 'k-fold', folds: 3 })).toThrow(/split\.folds/);
  });

  it('predefined keeps the files’ division, including test rows of unknown users and items', () => {
    const train = rowsOf([
      ['a', 'x', 1],
      ['b', 'y', 2],
      ['a', 'y', 3],
    ]);
    const test = rowsOf([
      ['a', 'z', 4],
      ['c', 'x', 5],
    ]);
    const rows = joinPredefinedRows(train, test);
    expect(rows.users).toEqual(['a', 'b', 'a', 'a', 'c']);
    expect(list(Int32Array.from(rows.timestamps))).toEqual([1, 2, 3, 4, 5]);
    const [fold] = splitRows(rows, { kind: 'predefined', train: 'train.tsv', test: 'test.tsv' });
    expect(list(fold.train)).toEqual([0, 1, 2]);
    expect(list(fold.test)).toEqual([3, 4]);
    expect(fold.description).toBe(
      'predefined, train train.tsv, test test.tsv (1 test rows of users not in training, 1 test rows of items not in training)',
    );
    expect(() => splitRows(train, { kind: 'predefined', train: 'a', test: 'b' })).toThrow(
      /readPredefinedRows/,
    );
  });

  it('predefined names the missing file', () => {
    expect(() =>
      readPredefinedRows({ kind: 'predefined', train: '/nonexistent/u1.base', test: 'x' }),
    ).toThrow(/split\.train file \/nonexistent\/u1\.base does not exist/);
  });

  it('time-based kinds require a timestamp on every row', () => {
    const rows = rowsOf([
      ['a', 'x', 1],
      ['a', 'y', NaN],
    ]);
    for (const spec of [
      { kind: 'temporal', testFraction: 0.5 },
      { kind: 'temporal-per-user', lastN: 1 },
      { kind: 'leave-one-out', by: 'last' },
    ] as SplitSpec[]) {
      expect(() => splitRows(rows, spec)).toThrow(/row 1 has none/);
    }
    expect(splitRows(rows, { kind: 'leave-one-out', by: 'random' })[0].test.length).toBe(1);
  });
});

describe('split properties on generated rows', () => {
  const rows = generated();

  it.each(ALL_KINDS.map((s) => [describeSplit(s), s] as const))(
    '%s: every row lands in exactly one part',
    (_, spec) => {
      const folds = splitRows(rows, spec);
      expect(folds).toHaveLength(splitFoldCount(spec));
      for (const fold of folds) {
        expectPartition(rows, fold);
        expect(fold.test.length).toBeGreaterThan(0);
        expect(fold.description.startsWith(describeSplit(spec))).toBe(true);
      }
    },
  );

  it.each(ALL_KINDS.map((s) => [describeSplit(s), s] as const))('%s: same spec, same folds', (_, spec) => {
    expect(splitRows(rows, spec)).toEqual(splitRows(rows, spec));
  });

  it.each(SEEDED.map((s) => [describeSplit(s), s] as const))('%s: other seeds, other folds', (_, spec) => {
    const a = splitRows(rows, { ...spec, seed: 1 } as SplitSpec);
    const b = splitRows(rows, { ...spec, seed: 2 } as SplitSpec);
    expect(a.map((f) => list(f.test))).not.toEqual(b.map((f) => list(f.test)));
  });

  it('temporal: no test row is earlier than a training row', () => {
    for (const spec of ALL_KINDS.filter((s) => s.kind === 'temporal')) {
      const [fold] = splitRows(rows, spec);
      const t = rows.timestamps;
      const lastTrain = Math.max(...list(fold.train).map((i) => t[i]));
      const firstTest = Math.min(...list(fold.test).map((i) => t[i]));
      expect(firstTest).toBeGreaterThanOrEqual(lastTrain);
      // Rows at the boundary time: the later positions are the test ones.
      const trainAtTie = list(fold.train).filter((i) => t[i] === firstTest);
      const testAtTie = list(fold.test).filter((i) => t[i] === firstTest);
      if (trainAtTie.length > 0) expect(Math.min(...testAtTie)).toBeGreaterThan(Math.max(...trainAtTie));
    }
  });

  it('per-user time kinds: no test row is earlier than a training row of the same user', () => {
    const kinds = ALL_KINDS.filter(
      (s) => s.kind === 'temporal-per-user' || (s.kind === 'leave-one-out' && s.by === 'last'),
    );
    for (const spec of kinds) {
      const [fold] = splitRows(rows, spec);
      const trained = userRows(rows, fold.train);
      for (const [user, testRows] of userRows(rows, fold.test)) {
        const lastTrain = Math.max(...(trained.get(user) ?? []).map((i) => rows.timestamps[i]));
        for (const i of testRows) {
          expect(rows.timestamps[i]).toBeGreaterThanOrEqual(lastTrain);
          // Ties in time: a test row comes after the user's training rows at that time.
          for (const j of trained.get(user) ?? []) {
            if (rows.timestamps[j] === rows.timestamps[i]) expect(i).toBeGreaterThan(j);
          }
        }
      }
    }
  });

  it('per-user kinds keep minTrain training rows for every user', () => {
    const counts = countsByUser(rows);
    for (const spec of ALL_KINDS.filter((s) => s.kind.endsWith('per-user') || s.kind === 'leave-one-out')) {
      const minTrain = (parseSplitSpec(spec) as { minTrain?: number }).minTrain ?? 1;
      const [fold] = splitRows(rows, spec);
      const trained = userRows(rows, fold.train);
      for (const [user, m] of counts) {
        expect(trained.get(user)?.length).toBeGreaterThanOrEqual(Math.min(m, minTrain));
      }
    }
  });
});

describe('holdoutPerUser', () => {
  /** The holdout's defining algorithm, written plainly. */
  function reference(
    rows: RatingRows,
    fraction: number,
    seed: number,
  ): { train: number[]; heldOut: number[] } {
    let a = seed >>> 0;
    const rand = (): number => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const byUser = new Map<string, number[]>();
    for (let i = 0; i < rows.length; i++) {
      const l = byUser.get(rows.users[i]);
      if (l) l.push(i);
      else byUser.set(rows.users[i], [i]);
    }
    const train: number[] = [];
    const heldOut: number[] = [];
    for (const l of byUser.values()) {
      for (let i = l.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [l[i], l[j]] = [l[j], l[i]];
      }
      const out = Math.min(l.length - 1, Math.floor(l.length * fraction));
      for (let k = 0; k < l.length; k++) (k < out ? heldOut : train).push(l[k]);
    }
    return { train: train.sort((x, y) => x - y), heldOut: heldOut.sort((x, y) => x - y) };
  }

  it('gives the same holdout as its reference algorithm', () => {
    const rows = generated(3, 80);
    for (const [fraction, seed] of [
      [0.2, 42],
      [0.5, 7],
    ]) {
      expect(holdoutPerUser(rows, fraction, seed)).toEqual(reference(rows, fraction, seed));
    }
  });
});

const ML = path.resolve('../shared/data/ml-100k');
const available = existsSync(path.join(ML, 'u.data'));
if (!available) console.warn(`MovieLens 100K not found at ${ML}: skipping the MovieLens split checks`);

describe.skipIf(!available)('MovieLens 100K', () => {
  it('random per user, 20%: about 20% test rows and every user in training', () => {
    const rows = readRatingFile(path.join(ML, 'u.data'));
    const [fold] = splitRows(rows, { kind: 'random-per-user', testFraction: 0.2 });
    expectPartition(rows, fold);
    const share = fold.test.length / rows.length;
    expect(share).toBeGreaterThan(0.195);
    expect(share).toBeLessThan(0.205);
    expect(userRows(rows, fold.train).size).toBe(943);
  });

  it('predefined u1.base / u1.test reads 80,000 training and 20,000 test rows', () => {
    const spec: SplitSpec = {
      kind: 'predefined',
      train: path.join(ML, 'u1.base'),
      test: path.join(ML, 'u1.test'),
    };
    const rows = readPredefinedRows(spec);
    const [fold] = splitRows(rows, spec);
    expect([fold.train.length, fold.test.length]).toEqual([80_000, 20_000]);
    expect(fold.test[0]).toBe(80_000);
  });
});
