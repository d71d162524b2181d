/** What an import did: every input row is either imported, a duplicate, or bad. */

export interface ImportError {
  /** 1-based line in the file (header included). */
  line: number;
  field: string;
  message: string;
  /** Base name of the file, when an import reads several. */
  file?: string;
}

export interface ImportReport {
  /** Data rows read (header and empty lines excluded). */
  rows: number;
  /** Rows written to the store. */
  imported: number;
  /** Events whose clientEventId was already stored; users or items repeated within the import. */
  duplicates: number;
  /** Rows rejected; the first `MAX_REPORTED_ERRORS` of them are described in `errors`. */
  bad: number;
  errors: ImportError[];
  seconds: number;
}

export const MAX_REPORTED_ERRORS = 100;

/** Accumulates counts and the first errors of one import. */
export class ReportBuilder {
  rows = 0;
  imported = 0;
  duplicates = 0;
  bad = 0;
  readonly errors: ImportError[] = [];
  private readonly started = performance.now();

  constructor(private readonly file?: string) {}

  /** Records a rejected row. */
  reject(line: number, field: string, message: string): void {
    this.bad++;
    this.note(line, field, message);
  }

  /** Adds a description to an already counted bad row (a row can have several bad fields). */
  note(line: number, field: string, message: string): void {
    if (this.errors.length >= MAX_REPORTED_ERRORS) return;
    const error: ImportError = { line, field, message };
    if (this.file !== undefined) error.file = this.file;
    this.errors.push(error);
  }

  finish(): ImportReport {
    return {
      rows: this.rows,
      imported: this.imported,
      duplicates: this.duplicates,
      bad: this.bad,
      errors: [...this.errors].sort((a, b) => a.line - b.line),
      seconds: (performance.now() - this.started) / 1000,
    };
  }
}

/** Sums several reports (e.g. the files of one data set); errors stay capped. */
export function combineReports(reports: ImportReport[], seconds: number): ImportReport {
  const total: ImportReport = { rows: 0, imported: 0, duplicates: 0, bad: 0, errors: [], seconds };
  for (const r of reports) {
    total.rows += r.rows;
    total.imported += r.imported;
    total.duplicates += r.duplicates;
    total.bad += r.bad;
    for (const e of r.errors) if (total.errors.length < MAX_REPORTED_ERRORS) total.errors.push(e);
  }
  return total;
}
