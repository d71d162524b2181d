/** Pieces every file importer shares: progress over a file, row-error reporting, finishing. */
import { basename } from 'node:path';
import type { ItemInput, UserInput } from '../../domain/types.js';
import { createProgress, formatCount, type Progress, type ProgressOptions } from '../progress.js';
import type { RowError, Validated } from '../rows.js';
import type { ReportBuilder, ImportReport } from './report.js';
import type { EntitySink } from './sinks.js';

/** Progress over the bytes of `path`; silent when `options` is absent. */
export function fileProgress(path: string, size: number, options: ProgressOptions | undefined): Progress {
  if (options === undefined) return createProgress({ silent: true });
  return createProgress({ label: basename(path), ...options, total: size, unit: 'bytes' });
}

export function finishImport(report: ReportBuilder, progress: Progress): ImportReport {
  const done = report.finish();
  progress.stop(
    `${formatCount(done.imported)} imported, ${formatCount(done.duplicates)} duplicates, ${formatCount(done.bad)} bad`,
  );
  return done;
}

/** Reports validator errors by line; a row with several bad fields counts once. */
export function rejectRowErrors(
  errors: readonly RowError[],
  lines: readonly number[],
  report: ReportBuilder,
): void {
  let lastBad = -1;
  for (const e of errors) {
    if (e.index !== lastBad) report.reject(lines[e.index], e.field, e.message);
    else report.note(lines[e.index], e.field, e.message);
    lastBad = e.index;
  }
}

/** Reports the bad rows of a validated batch and hands the good ones to the sink. */
export async function drainValidated<T extends UserInput | ItemInput>(
  result: Validated<T>,
  lines: readonly number[],
  report: ReportBuilder,
  sink: EntitySink<T>,
): Promise<void> {
  rejectRowErrors(result.errors, lines, report);
  for (const row of result.valid) if (sink.add(row)) await sink.flush();
}
