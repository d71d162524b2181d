/**
 * CSV / TSV / any-delimiter importers for events, items and users, driven by a column mapping.
 */
import { extname } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { ItemInput, UserInput } from '../../domain/types.js';
import type { Store } from '../../store/store.js';
import type { ProgressOptions } from '../progress.js';
import { drainValidated, fileProgress, finishImport } from './common.js';
import { eventTypeMap, validateItemRows, validateUserRows, type Validated } from '../rows.js';
import { fileSize, readFirstLine, readTextChunks, type TextEncoding } from './lines.js';
import {
  EventConverter,
  inferEventMapping,
  inferItemMapping,
  inferUserMapping,
  itemRowOf,
  looksLikeHeader,
  resolveEventColumns,
  resolveItemColumns,
  resolveUserColumns,
  userRowOf,
  usesNames,
  type EventMapping,
  type FieldProblem,
  type ItemMapping,
  type UserMapping,
} from './mapping.js';
import { readRecordChunks, type RecordReadOptions } from './records.js';
import { ReportBuilder, type ImportReport } from './report.js';
import {
  DEFAULT_ENTITY_BATCH,
  DEFAULT_EVENT_BATCH,
  EventSink,
  itemSink,
  userSink,
  type EntitySink,
} from './sinks.js';

export interface DelimitedOptions {
  /** Default: `,` for .csv, tab for .tsv, else whichever of tab , ; | the first line has most of. */
  delimiter?: string;
  /**
   * Whether line 1 is a header. Default: when the mapping names columns, or (without a mapping)
   * when line 1 holds known column names such as userId, item_id, rating, timestamp.
   */
  header?: boolean;
  /** Honour double-quoted fields. Default: on unless the delimiter is a tab or `|`. */
  quoted?: boolean;
  encoding?: TextEncoding;
  /** Rows per store call. Default 50,000 events or 5,000 users/items. */
  batchSize?: number;
  /** Progress over bytes read; silent when absent. */
  progress?: ProgressOptions;
  /** Timestamp (ms) of events without a timestamp column. Default: when the import starts. */
  now?: number;
}

interface FileLayout {
  delimiter: string;
  quoted: boolean;
  /** Header cells, or null when the file has none. */
  header: string[] | null;
  /** Cells of line 1 (header or first record). */
  first: string[];
}

export function sniffDelimiter(path: string, firstLine: string): string {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return ',';
  if (ext === '.tsv' || ext === '.tab') return '\t';
  let best = '\t';
  let bestCount = 0;
  for (const d of ['\t', ',', ';', '|']) {
    const count = firstLine.split(d).length - 1;
    if (count > bestCount) {
      best = d;
      bestCount = count;
    }
  }
  return best;
}

function splitLine(line: string, delimiter: string, quoted: boolean): string[] {
  if (!quoted || line.indexOf('"') < 0) return line.split(delimiter);
  try {
    const rows = parse(line, { delimiter, relax_quotes: true, relax_column_count: true }) as string[][];
    return rows[0] ?? [];
  } catch {
    return line.split(delimiter);
  }
}

async function layoutOf(
  path: string,
  options: DelimitedOptions,
  mappingColumns: readonly (string | number | undefined)[] | null,
): Promise<FileLayout> {
  const firstLine = await readFirstLine(path, options.encoding);
  const delimiter = options.delimiter ?? sniffDelimiter(path, firstLine);
  const quoted = options.quoted ?? (delimiter !== '\t' && delimiter !== '|');
  const first = splitLine(firstLine, delimiter, quoted);
  const hasHeader =
    options.header ?? (mappingColumns === null ? looksLikeHeader(first) : usesNames(mappingColumns));
  return { delimiter, quoted, header: hasHeader ? first.map((h) => h.trim()) : null, first };
}

/**
 * Imports events from a delimited file. Without a mapping the columns are guessed from the
 * header, or taken as `user, item[, value[, timestamp]]` when there is none.
 */
export async function importEventsFile(
  store: Store,
  path: string,
  mapping?: EventMapping,
  options: DelimitedOptions = {},
): Promise<ImportReport> {
  const report = new ReportBuilder();
  const columns = mapping
    ? [
        mapping.user,
        mapping.item,
        mapping.type,
        mapping.value,
        mapping.timestamp,
        mapping.session,
        mapping.clientEventId,
      ]
    : null;
  const layout = await layoutOf(path, options, columns);
  const m = mapping ?? inferEventMapping(layout.header, layout.first.length);
  const types = eventTypeMap(await store.listEventTypes());
  const cols = resolveEventColumns(m, layout.header);
  const converter = new EventConverter(cols, m, types, options.now ?? Date.now());
  const sink = new EventSink(store, report, options.batchSize ?? DEFAULT_EVENT_BATCH);
  const progress = fileProgress(path, await fileSize(path), options.progress);
  const read = { ...layout, encoding: options.encoding, progress };
  if (layout.quoted) await readEventRecords(path, read, layout.header !== null, converter, sink, report);
  else await readEventLines(path, read, layout.header !== null, converter, sink, report);
  await sink.flush();
  return finishImport(report, progress);
}

async function readEventRecords(
  path: string,
  read: RecordReadOptions,
  header: boolean,
  converter: EventConverter,
  sink: EventSink,
  report: ReportBuilder,
): Promise<void> {
  let headerPending = header;
  for await (const chunk of readRecordChunks(path, read)) {
    for (const b of chunk.bad) {
      report.rows++;
      report.reject(b.line, '(row)', b.message);
    }
    const { records, lines } = chunk;
    let k = 0;
    if (headerPending && records.length > 0) {
      headerPending = false;
      k = 1;
    }
    for (; k < records.length; k++) {
      report.rows++;
      const event = converter.convert(records[k]);
      if (event === null) report.reject(lines[k], converter.problem.field, converter.problem.message);
      else if (sink.add(event)) await sink.flush();
    }
  }
}

/** Unquoted text: lines are walked by position; the fast parser takes clean lines. */
async function readEventLines(
  path: string,
  read: RecordReadOptions,
  header: boolean,
  converter: EventConverter,
  sink: EventSink,
  report: ReportBuilder,
): Promise<void> {
  const fast = converter.fastParser(read.delimiter);
  let headerPending = header;
  for await (const { text, firstLine } of readTextChunks(path, read)) {
    let line = firstLine;
    for (let start = 0; start <= text.length; line++) {
      let next = text.indexOf('\n', start);
      if (next < 0) next = text.length;
      const end = next > start && text.charCodeAt(next - 1) === 13 ? next - 1 : next;
      const from = start;
      start = next + 1;
      if (end === from) continue;
      if (headerPending) {
        headerPending = false;
        continue;
      }
      report.rows++;
      const event =
        fast?.parse(text, from, end) ?? converter.convert(text.slice(from, end).split(read.delimiter));
      if (event === null) report.reject(line, converter.problem.field, converter.problem.message);
      else if (sink.add(event)) await sink.flush();
    }
  }
}

async function importEntities<T extends UserInput | ItemInput>(
  path: string,
  options: DelimitedOptions,
  layout: FileLayout,
  makeSink: (report: ReportBuilder) => EntitySink<T>,
  validate: (rows: unknown[]) => Validated<T>,
  toRow: (cells: string[]) => { row: Record<string, unknown> } | { problem: FieldProblem },
): Promise<ImportReport> {
  const report = new ReportBuilder();
  const sink = makeSink(report);
  const progress = fileProgress(path, await fileSize(path), options.progress);
  let headerPending = layout.header !== null;

  for await (const chunk of readRecordChunks(path, { ...layout, encoding: options.encoding, progress })) {
    for (const b of chunk.bad) {
      report.rows++;
      report.reject(b.line, '(row)', b.message);
    }
    const rows: unknown[] = [];
    const rowLines: number[] = [];
    const { records, lines } = chunk;
    let k = 0;
    if (headerPending && records.length > 0) {
      headerPending = false;
      k = 1;
    }
    for (; k < records.length; k++) {
      report.rows++;
      const converted = toRow(records[k]);
      if ('problem' in converted) {
        report.reject(lines[k], converted.problem.field, converted.problem.message);
      } else {
        rows.push(converted.row);
        rowLines.push(lines[k]);
      }
    }
    await drainValidated(validate(rows), rowLines, report, sink);
  }
  await sink.flush();
  return finishImport(report, progress);
}

/**
 * Imports items from a delimited file. Without a mapping the file needs a header: id, title,
 * text/description, categories/genres, tags, available, publishedAt are taken by name and every
 * other column becomes an attribute.
 */
export async function importItemsFile(
  store: Store,
  path: string,
  mapping?: ItemMapping,
  options: DelimitedOptions = {},
): Promise<ImportReport> {
  const columns = mapping
    ? [
        mapping.id,
        mapping.title,
        mapping.text,
        mapping.categories,
        mapping.tags,
        mapping.available,
        mapping.publishedAt,
        ...Object.values(mapping.attributes ?? {}),
      ]
    : null;
  const layout = await layoutOf(
    path,
    { ...options, header: options.header ?? (mapping ? undefined : true) },
    columns,
  );
  const m = mapping ?? inferItemMapping(layout.header ?? layout.first.map((_, i) => `column${i}`));
  const cols = resolveItemColumns(m, layout.header);
  const batchSize = options.batchSize ?? DEFAULT_ENTITY_BATCH;
  return importEntities<ItemInput>(
    path,
    options,
    layout,
    (report) => itemSink(store, report, batchSize),
    validateItemRows,
    (cells) => itemRowOf(cells, cols, m),
  );
}

/** Imports users from a delimited file. Without a mapping: id by name (else column 0), the rest attributes. */
export async function importUsersFile(
  store: Store,
  path: string,
  mapping?: UserMapping,
  options: DelimitedOptions = {},
): Promise<ImportReport> {
  const columns = mapping ? [mapping.id, ...Object.values(mapping.attributes ?? {})] : null;
  const layout = await layoutOf(
    path,
    { ...options, header: options.header ?? (mapping ? undefined : true) },
    columns,
  );
  const m = mapping ?? inferUserMapping(layout.header ?? layout.first.map((_, i) => `column${i}`));
  const cols = resolveUserColumns(m, layout.header);
  const batchSize = options.batchSize ?? DEFAULT_ENTITY_BATCH;
  return importEntities<UserInput>(
    path,
    options,
    layout,
    (report) => userSink(store, report, batchSize),
    validateUserRows,
    (cells) => ({ row: userRowOf(cells, cols) }),
  );
}
