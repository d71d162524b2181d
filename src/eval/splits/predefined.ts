/** Predefined splits: a training file and a test file, such as MovieLens u1.base / u1.test. */
import { existsSync } from 'node:fs';
import { ValidationError } from '../../domain/errors.js';
import { readRatingFile, type RatingRows } from '../rating-file.js';
import type { Fold } from './fold.js';
import type { PredefinedSplit } from './spec.js';

/** The training rows followed by the test rows; rows 0 .. trainLength − 1 are the training ones. */
export interface PredefinedRows extends RatingRows {
  trainLength: number;
}

export function isPredefinedRows(rows: RatingRows): rows is PredefinedRows {
  const n = (rows as Partial<PredefinedRows>).trainLength;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= rows.length;
}

/** Joins already-loaded training and test rows into the rows a predefined split divides. */
export function joinPredefinedRows(train: RatingRows, test: RatingRows): PredefinedRows {
  const n = train.length + test.length;
  const ratings = new Float32Array(n);
  ratings.set(train.ratings.subarray(0, train.length));
  ratings.set(test.ratings.subarray(0, test.length), train.length);
  const timestamps = new Float64Array(n);
  timestamps.set(train.timestamps.subarray(0, train.length));
  timestamps.set(test.timestamps.subarray(0, test.length), train.length);
  return {
    users: train.users.slice(0, train.length).concat(test.users.slice(0, test.length)),
    items: train.items.slice(0, train.length).concat(test.items.slice(0, test.length)),
    ratings,
    timestamps,
    length: n,
    trainLength: train.length,
  };
}

/** Reads the spec's training and test files (see `readRatingFile` for the formats). */
export function readPredefinedRows(spec: PredefinedSplit): PredefinedRows {
  for (const key of ['train', 'test'] as const) {
    if (!existsSync(spec[key])) {
      const message = `file ${spec[key]} does not exist`;
      throw new ValidationError(`split.${key} ${message}`, [{ field: `split.${key}`, message }]);
    }
  }
  return joinPredefinedRows(readRatingFile(spec.train), readRatingFile(spec.test));
}

/**
 * The single fold of a predefined split. Test rows whose user or item never occurs in training
 * are kept (the evaluator decides what to do with them); the description counts them.
 */
export function predefinedFold(rows: RatingRows, description: string): Fold {
  if (!isPredefinedRows(rows)) {
    throw new Error(
      'a predefined split divides the rows from readPredefinedRows(spec) or joinPredefinedRows(train, test)',
    );
  }
  const n = rows.length;
  const cut = rows.trainLength;
  const train = new Int32Array(cut);
  for (let i = 0; i < cut; i++) train[i] = i;
  const test = new Int32Array(n - cut);
  for (let i = cut; i < n; i++) test[i - cut] = i;
  const users = new Set(rows.users.slice(0, cut));
  const items = new Set(rows.items.slice(0, cut));
  let newUsers = 0;
  let newItems = 0;
  for (let i = cut; i < n; i++) {
    if (!users.has(rows.users[i])) newUsers++;
    if (!items.has(rows.items[i])) newItems++;
  }
  const notes: string[] = [];
  if (newUsers > 0) notes.push(`${newUsers} test rows of users not in training`);
  if (newItems > 0) notes.push(`${newItems} test rows of items not in training`);
  return {
    train,
    test,
    description: notes.length > 0 ? `${description} (${notes.join(', ')})` : description,
  };
}
