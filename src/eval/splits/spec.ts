/**
 * Split specifications: what `kindred eval` reads from an experiment file's `split` section,
 * validated and with defaults filled in, and their one-line human descriptions.
 */
import { ValidationError } from '../../domain/errors.js';
import { parseIsoTimestamp } from '../../ingest/timestamps.js';

/** Seed used by every seeded split that does not name one. */
export const DEFAULT_SPLIT_SEED = 42;

/**
 * A train file and a test file, e.g. MovieLens `u1.base` / `u1.test`. The rows to split are the
 * training file's rows followed by the test file's: read them with `readPredefinedRows(spec)`, or
 * join already-loaded rows with `joinPredefinedRows(train, test)`.
 */
export interface PredefinedSplit {
  kind: 'predefined';
  train: string;
  test: string;
}

/** `testFraction` of all rows, drawn uniformly at random. */
export interface RandomSplit {
  kind: 'random';
  testFraction: number;
  seed?: number;
}

/** `testFraction` of each user's rows, drawn at random, keeping at least `minTrain` (default 1) in training. */
export interface RandomPerUserSplit {
  kind: 'random-per-user';
  testFraction: number;
  seed?: number;
  minTrain?: number;
}

/**
 * One cut in time for all rows: either the latest `testFraction` of the rows, or every row at or
 * after `cutoff` (epoch ms; an ISO 8601 string is accepted by `parseSplitSpec`). Exactly one of the two.
 */
export interface TemporalSplit {
  kind: 'temporal';
  testFraction?: number;
  cutoff?: number;
}

/**
 * Each user's latest `lastN` rows, or latest `lastFraction` of them (exactly one of the two), keeping
 * at least `minTrain` (default 1) earlier rows in training.
 */
export interface TemporalPerUserSplit {
  kind: 'temporal-per-user';
  lastN?: number;
  lastFraction?: number;
  minTrain?: number;
}

/** One test row per user with at least two rows: the latest one, or one drawn at random. */
export interface LeaveOneOutSplit {
  kind: 'leave-one-out';
  by: 'last' | 'random';
  seed?: number;
}

/**
 * Held-out users: a `testUsers` fraction of the users is kept out of training entirely; of each
 * held-out user's rows, `foldInFraction` (drawn at random) is given to the model as history at
 * scoring time and the rest is test.
 */
export interface StrongGeneralizationSplit {
  kind: 'strong-generalization';
  testUsers: number;
  foldInFraction: number;
  seed?: number;
}

/** `folds`-fold cross-validation over the rows, or over each user's rows when `perUser`. */
export interface KFoldSplit {
  kind: 'k-fold';
  folds: number;
  seed?: number;
  perUser?: boolean;
}

export type SplitSpec =
  | PredefinedSplit
  | RandomSplit
  | RandomPerUserSplit
  | TemporalSplit
  | TemporalPerUserSplit
  | LeaveOneOutSplit
  | StrongGeneralizationSplit
  | KFoldSplit;

export type SplitKind = SplitSpec['kind'];

const FIELDS: Record<SplitKind, readonly string[]> = {
  predefined: ['train', 'test'],
  random: ['testFraction', 'seed'],
  'random-per-user': ['testFraction', 'seed', 'minTrain'],
  temporal: ['testFraction', 'cutoff'],
  'temporal-per-user': ['lastN', 'lastFraction', 'minTrain'],
  'leave-one-out': ['by', 'seed'],
  'strong-generalization': ['testUsers', 'foldInFraction', 'seed'],
  'k-fold': ['folds', 'seed', 'perUser'],
};

/** Upper bound on `k-fold` folds. */
export const MAX_FOLDS = 100;

export const SPLIT_KINDS = Object.keys(FIELDS) as SplitKind[];

/** Reads the fields of one raw split object, naming `path.field` in every error. */
class FieldReader {
  constructor(
    private readonly path: string,
    private readonly raw: Record<string, unknown>,
  ) {}

  fail(key: string, message: string): never {
    const field = `${this.path}.${key}`;
    throw new ValidationError(`${field} ${message}`, [{ field, message }]);
  }

  has(key: string): boolean {
    return Object.hasOwn(this.raw, key) && this.raw[key] !== undefined;
  }

  /** A finite number; numeric strings (CLI flags) are accepted. */
  number(key: string): number | undefined {
    if (!this.has(key)) return undefined;
    const v = this.raw[key];
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(n)) this.fail(key, `must be a number (got ${JSON.stringify(v)})`);
    return n;
  }

  /** A fraction strictly between 0 and 1. */
  fraction(key: string): number | undefined {
    const n = this.number(key);
    if (n !== undefined && !(n > 0 && n < 1)) this.fail(key, `must be between 0 and 1, exclusive (got ${n})`);
    return n;
  }

  integer(key: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const n = this.number(key);
    if (n !== undefined && !(Number.isInteger(n) && n >= min && n <= max)) {
      this.fail(key, `must be an integer from ${min} to ${max} (got ${n})`);
    }
    return n;
  }

  seed(): number {
    return this.integer('seed', 0, 0xffffffff) ?? DEFAULT_SPLIT_SEED;
  }

  required<T>(key: string, value: T | undefined, what: string): T {
    if (value === undefined) this.fail(key, `is required (${what})`);
    return value;
  }

  string(key: string): string | undefined {
    if (!this.has(key)) return undefined;
    const v = this.raw[key];
    if (typeof v !== 'string' || v.trim() === '') this.fail(key, `must be a non-empty string`);
    return v;
  }

  boolean(key: string): boolean | undefined {
    if (!this.has(key)) return undefined;
    const v = this.raw[key];
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    this.fail(key, `must be true or false (got ${JSON.stringify(v)})`);
  }

  /** Epoch ms, given as a number or as an ISO 8601 date(-time) string (UTC unless it names a zone). */
  time(key: string): number | undefined {
    if (!this.has(key)) return undefined;
    const v = this.raw[key];
    let ms = NaN;
    if (typeof v === 'number') ms = v;
    else if (typeof v === 'string') ms = /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : parseIsoTimestamp(v);
    if (!Number.isFinite(ms)) {
      this.fail(key, `must be an ISO 8601 date-time or epoch milliseconds (got ${JSON.stringify(v)})`);
    }
    return ms;
  }

  /** Exactly one of two alternative fields. */
  oneOf(a: string, b: string): void {
    if (this.has(a) && this.has(b)) this.fail(b, `cannot be combined with ${this.path}.${a}`);
    if (!this.has(a) && !this.has(b)) this.fail(a, `is required (or give ${this.path}.${b})`);
  }
}

/**
 * Validates a split specification (e.g. the `split` object of an experiment file) and fills in
 * the defaults: `seed` 42 for seeded kinds, `minTrain` 1 for per-user kinds, `perUser` false.
 * Numbers may be given as numeric strings, `cutoff` as an ISO 8601 string. Unknown fields are
 * rejected so that a misspelt option is not silently ignored. Errors are `ValidationError`s whose
 * message and detail name the field, e.g. `split.testFraction must be between 0 and 1, exclusive`.
 * Idempotent: parsing a parsed spec returns an equal spec.
 */
export function parseSplitSpec(raw: unknown, path = 'split'): SplitSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ValidationError(`${path} must be an object with a 'kind'`, [
      { field: path, message: `must be an object with a 'kind'` },
    ]);
  }
  const obj = raw as Record<string, unknown>;
  const r: FieldReader = new FieldReader(path, obj);
  const kind = obj.kind;
  if (typeof kind !== 'string' || !Object.hasOwn(FIELDS, kind)) {
    r.fail('kind', `must be one of ${SPLIT_KINDS.join(', ')} (got ${JSON.stringify(kind)})`);
  }
  const k = kind as SplitKind;
  for (const key of Object.keys(obj)) {
    if (key !== 'kind' && !FIELDS[k].includes(key)) {
      r.fail(key, `is not a field of a '${k}' split (fields: ${FIELDS[k].join(', ') || 'none'})`);
    }
  }
  switch (k) {
    case 'predefined':
      return {
        kind: k,
        train: r.required('train', r.string('train'), 'the training file'),
        test: r.required('test', r.string('test'), 'the test file'),
      };
    case 'random':
      return {
        kind: k,
        testFraction: r.required('testFraction', r.fraction('testFraction'), 'share of rows to test on'),
        seed: r.seed(),
      };
    case 'random-per-user':
      return {
        kind: k,
        testFraction: r.required('testFraction', r.fraction('testFraction'), "share of each user's rows"),
        seed: r.seed(),
        minTrain: r.integer('minTrain', 1) ?? 1,
      };
    case 'temporal': {
      r.oneOf('testFraction', 'cutoff');
      const testFraction = r.fraction('testFraction');
      return testFraction !== undefined ? { kind: k, testFraction } : { kind: k, cutoff: r.time('cutoff') };
    }
    case 'temporal-per-user': {
      r.oneOf('lastN', 'lastFraction');
      const lastN = r.integer('lastN', 1);
      const minTrain = r.integer('minTrain', 1) ?? 1;
      return lastN !== undefined
        ? { kind: k, lastN, minTrain }
        : { kind: k, lastFraction: r.fraction('lastFraction'), minTrain };
    }
    case 'leave-one-out': {
      const by = r.required('by', r.string('by'), "'last' or 'random'");
      if (by !== 'last' && by !== 'random')
        r.fail('by', `must be 'last' or 'random' (got ${JSON.stringify(by)})`);
      return by === 'last' ? { kind: k, by } : { kind: k, by, seed: r.seed() };
    }
    case 'strong-generalization':
      return {
        kind: k,
        testUsers: r.required('testUsers', r.fraction('testUsers'), 'share of users held out'),
        foldInFraction: r.required(
          'foldInFraction',
          r.fraction('foldInFraction'),
          "share of a held-out user's rows given as history",
        ),
        seed: r.seed(),
      };
    case 'k-fold':
      return {
        kind: k,
        folds: r.required('folds', r.integer('folds', 2, MAX_FOLDS), 'number of folds'),
        seed: r.seed(),
        perUser: r.boolean('perUser') ?? false,
      };
  }
}

function percent(f: number): string {
  return `${+(f * 100).toFixed(2)}%`;
}

function minTrainNote(minTrain: number | undefined): string {
  return minTrain !== undefined && minTrain !== 1 ? `, at least ${minTrain} training rows per user` : '';
}

/** One-line description, e.g. `random per user, 20% test, seed 42`. Validates the spec first. */
export function describeSplit(spec: SplitSpec): string {
  const s = parseSplitSpec(spec);
  switch (s.kind) {
    case 'predefined':
      return `predefined, train ${s.train}, test ${s.test}`;
    case 'random':
      return `random, ${percent(s.testFraction)} test, seed ${s.seed}`;
    case 'random-per-user':
      return `random per user, ${percent(s.testFraction)} test, seed ${s.seed}${minTrainNote(s.minTrain)}`;
    case 'temporal':
      return s.testFraction !== undefined
        ? `temporal, latest ${percent(s.testFraction)} of rows test`
        : `temporal, rows from ${new Date(s.cutoff as number).toISOString()} test`;
    case 'temporal-per-user':
      return s.lastN !== undefined
        ? `temporal per user, latest ${s.lastN} row${s.lastN === 1 ? '' : 's'} test${minTrainNote(s.minTrain)}`
        : `temporal per user, latest ${percent(s.lastFraction as number)} test${minTrainNote(s.minTrain)}`;
    case 'leave-one-out':
      return s.by === 'last'
        ? 'leave one out, latest row per user'
        : `leave one out, random row per user, seed ${s.seed}`;
    case 'strong-generalization':
      return (
        `strong generalisation, ${percent(s.testUsers)} of users held out, ` +
        `${percent(s.foldInFraction)} of their rows folded in, seed ${s.seed}`
      );
    case 'k-fold':
      return `${s.folds}-fold${s.perUser ? ' per user' : ''}, seed ${s.seed}`;
  }
}

/** The seed a split uses, or undefined for kinds that draw nothing at random. */
export function splitSeed(spec: SplitSpec): number | undefined {
  const s = parseSplitSpec(spec);
  return 'seed' in s ? s.seed : undefined;
}

/** How many folds `splitRows` returns for this spec. */
export function splitFoldCount(spec: SplitSpec): number {
  return spec.kind === 'k-fold' ? spec.folds : 1;
}
