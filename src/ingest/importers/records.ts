/**
 * Delimited records from a file, in chunks, each with its 1-based starting line.
 * Unquoted lines are split directly. With quoting on, lines holding quotes are grouped (a quoted
 * field may span lines) and parsed by csv-parse a block at a time; a record whose quote never
 * closes is reported on its first line and parsing resumes on the next line, so one broken
 * record never swallows the rest of the file.
 */
import { parse } from 'csv-parse/sync';
import { readLineChunks, type ReadOptions } from './lines.js';

export interface RecordChunk {
  records: string[][];
  /** `lines[k]` is the line on which `records[k]` starts. */
  lines: number[];
  /** Lines that could not be parsed into a record. */
  bad: { line: number; message: string }[];
}

export interface RecordReadOptions extends ReadOptions {
  delimiter: string;
  /** Honour RFC 4180 double quotes (fields with delimiters, line breaks, `""`). */
  quoted: boolean;
}

/** A quoted field may span at most this many lines. */
const MAX_RECORD_LINES = 1000;
const QUOTE = 34;

/** Whether `line` ends inside a quoted field, given whether it starts inside one. */
export function endsInsideQuotes(line: string, delimiter: string, startsInside: boolean): boolean {
  let inside = startsInside;
  let fieldStart = !startsInside;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (inside) {
      if (c === QUOTE) {
        if (line.charCodeAt(i + 1) === QUOTE) i++;
        else inside = false;
      }
    } else if (c === QUOTE && fieldStart) {
      inside = true;
      fieldStart = false;
    } else if (line.startsWith(delimiter, i)) {
      fieldStart = true;
      i += delimiter.length - 1;
    } else {
      fieldStart = false;
    }
  }
  return inside;
}

/** Splits unquoted lines; collects quoted groups and parses them with csv-parse. */
class QuotedSplitter {
  private open: string[] = [];
  private openStart = 0;
  private records: (string[] | null)[] = [];
  private lines: number[] = [];
  private bad: { line: number; message: string }[] = [];
  private groups: { lines: string[]; slot: number }[] = [];

  constructor(private readonly delimiter: string) {}

  feed(line: string, lineNo: number): void {
    if (this.open.length > 0) {
      this.open.push(line);
      if (!endsInsideQuotes(line, this.delimiter, true)) {
        this.addGroup(this.open, this.openStart);
        this.open = [];
      } else if (this.open.length > MAX_RECORD_LINES) {
        this.abandonOpen();
      }
      return;
    }
    if (line.length === 0) return;
    if (line.indexOf('"') < 0) {
      this.records.push(line.split(this.delimiter));
      this.lines.push(lineNo);
    } else if (endsInsideQuotes(line, this.delimiter, false)) {
      this.open = [line];
      this.openStart = lineNo;
    } else {
      this.addGroup([line], lineNo);
    }
  }

  /** Call at end of input. */
  end(): void {
    while (this.open.length > 0) this.abandonOpen();
  }

  take(): RecordChunk {
    this.parseGroups();
    const records: string[][] = [];
    const lines: number[] = [];
    for (let k = 0; k < this.records.length; k++) {
      const r = this.records[k];
      if (r !== null) {
        records.push(r);
        lines.push(this.lines[k]);
      }
    }
    const chunk = { records, lines, bad: this.bad };
    this.records = [];
    this.lines = [];
    this.bad = [];
    return chunk;
  }

  private addGroup(lines: string[], lineNo: number): void {
    this.groups.push({ lines, slot: this.records.length });
    this.records.push(null);
    this.lines.push(lineNo);
  }

  /** The open quote never closed: report its first line and re-read the lines after it. */
  private abandonOpen(): void {
    const lines = this.open;
    this.open = [];
    this.reject(lines, this.openStart, 'a quoted field is never closed');
  }

  private reject(lines: string[], start: number, message: string): void {
    this.bad.push({ line: start, message });
    for (let k = 1; k < lines.length; k++) this.feed(lines[k], start + k);
  }

  /**
   * Parses the collected groups, a whole block at once when it is well-formed. Otherwise group by
   * group: a one-line group may hold stray quotes (kept as text); a malformed multi-line group is
   * reported on its first line and the lines after it are read again.
   */
  private parseGroups(): void {
    while (this.groups.length > 0) {
      const groups = this.groups;
      this.groups = [];
      const block = this.parse(groups.map((g) => g.lines.join('\n')).join('\n'), false);
      if (block !== null && block.length === groups.length) {
        for (let k = 0; k < block.length; k++) this.records[groups[k].slot] = block[k];
        continue;
      }
      for (const g of groups) {
        const one = this.parse(g.lines.join('\n'), g.lines.length === 1);
        if (one !== null && one.length === 1) this.records[g.slot] = one[0];
        else this.reject(g.lines, this.lines[g.slot], 'malformed quoted field');
      }
    }
    this.bad.sort((a, b) => a.line - b.line);
  }

  private parse(text: string, relaxQuotes: boolean): string[][] | null {
    try {
      return parse(text, {
        delimiter: this.delimiter,
        record_delimiter: '\n',
        relax_quotes: relaxQuotes,
        relax_column_count: true,
        skip_empty_lines: false,
      }) as string[][];
    } catch {
      return null;
    }
  }
}

/** Yields the file's records in order, a chunk at a time. Empty lines are skipped. */
export async function* readRecordChunks(
  path: string,
  options: RecordReadOptions,
): AsyncGenerator<RecordChunk> {
  const { delimiter } = options;
  if (!options.quoted) {
    for await (const { lines, firstLine } of readLineChunks(path, options)) {
      const records: string[][] = [];
      const numbers: number[] = [];
      for (let k = 0; k < lines.length; k++) {
        if (lines[k].length === 0) continue;
        records.push(lines[k].split(delimiter));
        numbers.push(firstLine + k);
      }
      yield { records, lines: numbers, bad: [] };
    }
    return;
  }
  const splitter = new QuotedSplitter(delimiter);
  for await (const { lines, firstLine } of readLineChunks(path, options)) {
    for (let k = 0; k < lines.length; k++) splitter.feed(lines[k], firstLine + k);
    yield splitter.take();
  }
  splitter.end();
  yield splitter.take();
}
