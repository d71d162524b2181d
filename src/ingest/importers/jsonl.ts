/**
 * JSON-lines importers: one JSON object per line, either in the HTTP wire format (no mapping)
 * or read through a mapping whose columns are object keys.
 */
import type { ItemInput, UserInput } from '../../domain/types.js';
import type { Store } from '../../store/store.js';
import type { ProgressOptions } from '../progress.js';
import {
  eventTypeMap,
  validateEventRows,
  validateItemRows,
  validateUserRows,
  type Validated,
} from '../rows.js';
import { drainValidated, fileProgress, finishImport, rejectRowErrors } from './common.js';
import { fileSize, readLineChunks } from './lines.js';
import {
  EventConverter,
  itemRowOf,
  resolveEventColumns,
  resolveItemColumns,
  resolveUserColumns,
  userRowOf,
  type Cells,
  type EventMapping,
  type ItemMapping,
  type UserMapping,
} from './mapping.js';
import { ReportBuilder, type ImportReport } from './report.js';
import {
  DEFAULT_ENTITY_BATCH,
  DEFAULT_EVENT_BATCH,
  EventSink,
  itemSink,
  userSink,
  type EntitySink,
} from './sinks.js';

export interface JsonlOptions {
  /** Rows per store call. Default 50,000 events or 5,000 users/items. */
  batchSize?: number;
  /** Progress over bytes read; silent when absent. */
  progress?: ProgressOptions;
  /** Timestamp (ms) of events that have none. Default: when the import starts. */
  now?: number;
}

interface ParsedLines {
  rows: unknown[];
  lines: number[];
}

/** Parses a chunk of lines; blank lines are skipped, unparsable ones reported. */
function parseLines(chunk: { lines: string[]; firstLine: number }, report: ReportBuilder): ParsedLines {
  const rows: unknown[] = [];
  const lines: number[] = [];
  for (let k = 0; k < chunk.lines.length; k++) {
    const text = chunk.lines[k];
    if (text.trim().length === 0) continue;
    report.rows++;
    const line = chunk.firstLine + k;
    try {
      rows.push(JSON.parse(text));
      lines.push(line);
    } catch (error) {
      report.reject(line, '(row)', `is not valid JSON (${(error as Error).message})`);
    }
  }
  return { rows, lines };
}

function isObject(v: unknown): v is Cells {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Imports events, one JSON object a line: wire format (userId, itemId, type, ...) or mapped keys. */
export async function importEventsJsonl(
  store: Store,
  path: string,
  mapping?: EventMapping,
  options: JsonlOptions = {},
): Promise<ImportReport> {
  const report = new ReportBuilder();
  const types = eventTypeMap(await store.listEventTypes());
  const now = options.now ?? Date.now();
  const sink = new EventSink(store, report, options.batchSize ?? DEFAULT_EVENT_BATCH);
  const converter = mapping
    ? new EventConverter(resolveEventColumns(mapping, null, true), mapping, types, now)
    : null;
  const progress = fileProgress(path, await fileSize(path), options.progress);

  for await (const chunk of readLineChunks(path, { progress })) {
    const { rows, lines } = parseLines(chunk, report);
    if (converter === null) {
      const result = validateEventRows(rows, types, now);
      rejectRowErrors(result.errors, lines, report);
      for (const event of result.valid) if (sink.add(event)) await sink.flush();
      continue;
    }
    for (let k = 0; k < rows.length; k++) {
      const row = rows[k];
      if (!isObject(row)) {
        report.reject(lines[k], '(row)', 'must be an object');
        continue;
      }
      const event = converter.convert(row);
      if (event === null) report.reject(lines[k], converter.problem.field, converter.problem.message);
      else if (sink.add(event)) await sink.flush();
    }
  }
  await sink.flush();
  return finishImport(report, progress);
}

async function importEntitiesJsonl<T extends UserInput | ItemInput>(
  store: Store,
  path: string,
  options: JsonlOptions,
  sink: (report: ReportBuilder) => EntitySink<T>,
  validate: (rows: unknown[]) => Validated<T>,
  map:
    | ((row: Cells) => { row: Record<string, unknown> } | { problem: { field: string; message: string } })
    | null,
): Promise<ImportReport> {
  const report = new ReportBuilder();
  const out = sink(report);
  const progress = fileProgress(path, await fileSize(path), options.progress);
  for await (const chunk of readLineChunks(path, { progress })) {
    const parsed = parseLines(chunk, report);
    let rows = parsed.rows;
    let lines = parsed.lines;
    if (map !== null) {
      rows = [];
      lines = [];
      for (let k = 0; k < parsed.rows.length; k++) {
        const raw = parsed.rows[k];
        const mapped = isObject(raw)
          ? map(raw)
          : { problem: { field: '(row)', message: 'must be an object' } };
        if ('problem' in mapped) {
          report.reject(parsed.lines[k], mapped.problem.field, mapped.problem.message);
        } else {
          rows.push(mapped.row);
          lines.push(parsed.lines[k]);
        }
      }
    }
    await drainValidated(validate(rows), lines, report, out);
  }
  await out.flush();
  return finishImport(report, progress);
}

/** Imports items, one JSON object a line: wire format (id, title, categories, ...) or mapped keys. */
export async function importItemsJsonl(
  store: Store,
  path: string,
  mapping?: ItemMapping,
  options: JsonlOptions = {},
): Promise<ImportReport> {
  const cols = mapping ? resolveItemColumns(mapping, null, true) : null;
  const batchSize = options.batchSize ?? DEFAULT_ENTITY_BATCH;
  return importEntitiesJsonl<ItemInput>(
    store,
    path,
    options,
    (report) => itemSink(store, report, batchSize),
    validateItemRows,
    mapping && cols ? (row) => itemRowOf(row, cols, mapping) : null,
  );
}

/** Imports users, one JSON object a line: wire format (id, attributes) or mapped keys. */
export async function importUsersJsonl(
  store: Store,
  path: string,
  mapping?: UserMapping,
  options: JsonlOptions = {},
): Promise<ImportReport> {
  const cols = mapping ? resolveUserColumns(mapping, null, true) : null;
  const batchSize = options.batchSize ?? DEFAULT_ENTITY_BATCH;
  return importEntitiesJsonl<UserInput>(
    store,
    path,
    options,
    (report) => userSink(store, report, batchSize),
    validateUserRows,
    cols ? (row) => ({ row: userRowOf(row, cols) }) : null,
  );
}
