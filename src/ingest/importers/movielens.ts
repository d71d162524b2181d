/**
 * MovieLens importer for the ML-100K layout (u.data, u.item, u.user, u.genre) and the ml-latest
 * layout (ratings.csv, movies.csv, tags.csv). Ratings become events of type `rating` whose value
 * is the rating; movies become items whose categories are their genres.
 */
import { existsSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import { ValidationError } from '../../domain/errors.js';
import type { ItemInput, JsonObject } from '../../domain/types.js';
import type { Store } from '../../store/store.js';
import type { ProgressOptions } from '../progress.js';
import { validateItemRows, validateUserRows } from '../rows.js';
import { drainValidated, fileProgress, finishImport } from './common.js';
import { importEventsFile } from './delimited.js';
import { fileSize, readLineChunks } from './lines.js';
import { readRecordChunks } from './records.js';
import { combineReports, ReportBuilder, type ImportReport } from './report.js';
import { itemSink, userSink } from './sinks.js';

export type MovieLensLayout = 'ml-100k' | 'ml-latest';

export interface MovieLensOptions {
  /**
   * Ratings file to load instead of u.data / ratings.csv, e.g. `u1.base` for an official split;
   * relative to the folder unless absolute.
   */
  ratingsFile?: string;
  /** Load users (ML-100K) and movies. Default true; false loads ratings only. */
  metadata?: boolean;
  /** ml-latest: put the free-text tags of tags.csv on the movies. Default true. */
  tags?: boolean;
  /** Event type of ratings. Default `rating`. */
  eventType?: string;
  /** Events per store call. Default 50,000. */
  batchSize?: number;
  /** Progress per file; silent when absent. */
  progress?: ProgressOptions;
}

/** Counts over every file; `users`, `items`, `tags` and `events` break them down. */
export interface MovieLensReport extends ImportReport {
  layout: MovieLensLayout;
  users: ImportReport | null;
  items: ImportReport | null;
  /** tags.csv: rows read, tag applications attached to a movie. */
  tags: ImportReport | null;
  events: ImportReport;
}

export function detectMovieLensLayout(dir: string): MovieLensLayout | null {
  if (existsSync(join(dir, 'u.data')) || existsSync(join(dir, 'u.item'))) return 'ml-100k';
  if (existsSync(join(dir, 'ratings.csv')) || existsSync(join(dir, 'movies.csv'))) return 'ml-latest';
  return null;
}

const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

/** `01-Jan-1995` → ms, or null. */
export function parseMovieLensDate(text: string): number | null {
  const parts = text.split('-');
  if (parts.length !== 3) return null;
  const day = Number(parts[0]);
  const month = MONTHS[parts[1]];
  const year = Number(parts[2]);
  if (month === undefined || !Number.isInteger(day) || !Number.isInteger(year) || day < 1 || day > 31)
    return null;
  return Date.UTC(year, month, day);
}

/** The year in a title such as `Toy Story (1995)`, or null. */
export function titleYear(title: string): number | null {
  const m = /\((\d{4})(?:[–-]\d{0,4})?\)\s*$/.exec(title);
  return m ? Number(m[1]) : null;
}

function ratingsPath(dir: string, layout: MovieLensLayout, file: string | undefined): string {
  const name = file ?? (layout === 'ml-100k' ? 'u.data' : 'ratings.csv');
  return isAbsolute(name) ? name : join(dir, name);
}

async function importRatings(store: Store, path: string, options: MovieLensOptions): Promise<ImportReport> {
  const csv = path.toLowerCase().endsWith('.csv');
  const report = await importEventsFile(
    store,
    path,
    {
      user: 0,
      item: 1,
      value: 2,
      timestamp: 3,
      timestampUnit: 's',
      defaultType: options.eventType ?? 'rating',
    },
    {
      delimiter: csv ? ',' : '\t',
      header: csv,
      quoted: false,
      batchSize: options.batchSize,
      progress: options.progress,
    },
  );
  for (const e of report.errors) e.file = basename(path);
  return report;
}

async function readGenres(dir: string): Promise<string[]> {
  const genres: string[] = [];
  for await (const { lines } of readLineChunks(join(dir, 'u.genre'))) {
    for (const line of lines) {
      const [name, index] = line.split('|');
      if (name && index !== undefined && index !== '') genres[Number(index)] = name;
    }
  }
  return genres;
}

/** u.item: id|title|release date|video release date|IMDb URL|19 genre flags (Latin-1). */
async function importItems100k(store: Store, dir: string, options: MovieLensOptions): Promise<ImportReport> {
  const genres = await readGenres(dir);
  const path = join(dir, 'u.item');
  const report = new ReportBuilder('u.item');
  const sink = itemSink(store, report);
  const progress = fileProgress(path, await fileSize(path), options.progress);
  for await (const { lines, firstLine } of readLineChunks(path, { encoding: 'latin1', progress })) {
    const rows: unknown[] = [];
    const rowLines: number[] = [];
    for (let k = 0; k < lines.length; k++) {
      if (lines[k].length === 0) continue;
      report.rows++;
      const f = lines[k].split('|');
      if (f.length < 5 + genres.length) {
        report.reject(firstLine + k, '(row)', `expected ${5 + genres.length} fields, found ${f.length}`);
        continue;
      }
      const categories: string[] = [];
      for (let g = 0; g < genres.length; g++) {
        if (f[5 + g] === '1' && genres[g] !== 'unknown') categories.push(genres[g]);
      }
      const title = f[1].trim();
      const released = parseMovieLensDate(f[2]);
      const year = titleYear(title) ?? (released === null ? null : new Date(released).getUTCFullYear());
      const attributes: JsonObject = {};
      if (year !== null) attributes.year = year;
      if (released !== null) attributes.releaseDate = new Date(released).toISOString().slice(0, 10);
      if (f[4]) attributes.imdbUrl = f[4];
      rows.push({
        id: f[0],
        title: title === 'unknown' ? null : title,
        categories,
        attributes,
        publishedAt: released,
      });
      rowLines.push(firstLine + k);
    }
    await drainValidated(validateItemRows(rows), rowLines, report, sink);
  }
  await sink.flush();
  return finishImport(report, progress);
}

/** u.user: id|age|gender|occupation|zip. */
async function importUsers100k(store: Store, dir: string, options: MovieLensOptions): Promise<ImportReport> {
  const path = join(dir, 'u.user');
  const report = new ReportBuilder('u.user');
  const sink = userSink(store, report);
  const progress = fileProgress(path, await fileSize(path), options.progress);
  for await (const { lines, firstLine } of readLineChunks(path, { encoding: 'latin1', progress })) {
    const rows: unknown[] = [];
    const rowLines: number[] = [];
    for (let k = 0; k < lines.length; k++) {
      if (lines[k].length === 0) continue;
      report.rows++;
      const [id, age, gender, occupation, zip] = lines[k].split('|');
      const ageYears = Number(age);
      if (zip === undefined || !Number.isInteger(ageYears)) {
        report.reject(
          firstLine + k,
          zip === undefined ? '(row)' : 'age',
          zip === undefined ? 'expected 5 fields' : `must be a whole number, got '${age}'`,
        );
        continue;
      }
      rows.push({ id, attributes: { age: ageYears, gender, occupation, zip } });
      rowLines.push(firstLine + k);
    }
    await drainValidated(validateUserRows(rows), rowLines, report, sink);
  }
  await sink.flush();
  return finishImport(report, progress);
}

/** tags.csv: userId,movieId,tag,timestamp → distinct tags per movie (first spelling kept). */
async function readTags(
  dir: string,
  options: MovieLensOptions,
): Promise<{ tags: Map<string, string[]>; report: ReportBuilder }> {
  const path = join(dir, 'tags.csv');
  const report = new ReportBuilder('tags.csv');
  const tags = new Map<string, string[]>();
  const seen = new Set<string>();
  const progress = fileProgress(path, await fileSize(path), options.progress);
  let header = true;
  for await (const chunk of readRecordChunks(path, { delimiter: ',', quoted: true, progress })) {
    for (const b of chunk.bad) {
      report.rows++;
      report.reject(b.line, '(row)', b.message);
    }
    for (let k = 0; k < chunk.records.length; k++) {
      if (header) {
        header = false;
        continue;
      }
      report.rows++;
      const [, movieId, rawTag] = chunk.records[k];
      const tag = (rawTag ?? '').trim();
      if (!movieId || tag.length === 0 || tag.length > 256) {
        report.reject(
          chunk.lines[k],
          movieId ? 'tag' : 'movieId',
          movieId ? 'must be 1 to 256 characters' : 'is empty',
        );
        continue;
      }
      report.imported++;
      const key = `${movieId}\u0000${tag.toLowerCase()}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const list = tags.get(movieId);
      if (list) list.push(tag);
      else tags.set(movieId, [tag]);
    }
  }
  progress.stop();
  return { tags, report };
}

/** movies.csv: movieId,title,genres (genres `|`-separated; titles quoted when they hold commas). */
async function importMoviesLatest(
  store: Store,
  dir: string,
  tags: Map<string, string[]> | null,
  options: MovieLensOptions,
): Promise<ImportReport> {
  const path = join(dir, 'movies.csv');
  const report = new ReportBuilder('movies.csv');
  const sink = itemSink(store, report);
  const progress = fileProgress(path, await fileSize(path), options.progress);
  let header = true;
  for await (const chunk of readRecordChunks(path, { delimiter: ',', quoted: true, progress })) {
    for (const b of chunk.bad) {
      report.rows++;
      report.reject(b.line, '(row)', b.message);
    }
    const rows: unknown[] = [];
    const rowLines: number[] = [];
    for (let k = 0; k < chunk.records.length; k++) {
      if (header) {
        header = false;
        continue;
      }
      report.rows++;
      const [id, rawTitle, genres] = chunk.records[k];
      if (genres === undefined) {
        report.reject(chunk.lines[k], '(row)', 'expected 3 fields: movieId,title,genres');
        continue;
      }
      const title = rawTitle.trim();
      const categories = genres === '(no genres listed)' ? [] : genres.split('|').filter((g) => g.length > 0);
      const year = titleYear(title);
      const row: ItemInput = { id, title, categories, attributes: year === null ? {} : { year } };
      const itemTags = tags?.get(id);
      if (itemTags) row.tags = itemTags;
      rows.push(row);
      rowLines.push(chunk.lines[k]);
    }
    await drainValidated(validateItemRows(rows), rowLines, report, sink);
  }
  await sink.flush();
  return finishImport(report, progress);
}

/**
 * Imports a MovieLens folder: users and movies first (unless `metadata` is false), then the
 * ratings, streamed in batches.
 */
export async function importMovieLens(
  store: Store,
  dir: string,
  options: MovieLensOptions = {},
): Promise<MovieLensReport> {
  const started = performance.now();
  const layout = detectMovieLensLayout(dir);
  if (layout === null) {
    throw new ValidationError(
      `${dir} is not a MovieLens folder (expected u.data/u.item or ratings.csv/movies.csv)`,
    );
  }
  const ratings = ratingsPath(dir, layout, options.ratingsFile);
  if (!existsSync(ratings)) throw new ValidationError(`ratings file ${ratings} does not exist`);
  const metadata = options.metadata ?? true;

  let users: ImportReport | null = null;
  let items: ImportReport | null = null;
  let tags: ImportReport | null = null;
  if (metadata && layout === 'ml-100k') {
    if (existsSync(join(dir, 'u.user'))) users = await importUsers100k(store, dir, options);
    if (existsSync(join(dir, 'u.item')) && existsSync(join(dir, 'u.genre')))
      items = await importItems100k(store, dir, options);
  }
  if (metadata && layout === 'ml-latest') {
    let tagMap: Map<string, string[]> | null = null;
    if ((options.tags ?? true) && existsSync(join(dir, 'tags.csv'))) {
      const read = await readTags(dir, options);
      tagMap = read.tags;
      tags = read.report.finish();
    }
    if (existsSync(join(dir, 'movies.csv'))) items = await importMoviesLatest(store, dir, tagMap, options);
  }
  const events = await importRatings(store, ratings, options);

  const parts = [users, items, tags, events].filter((r): r is ImportReport => r !== null);
  const seconds = (performance.now() - started) / 1000;
  return { ...combineReports(parts, seconds), layout, users, items, tags, events };
}
