/**
 * The event import hot path for unquoted delimited text: fields are located with indexOf and
 * numbers read digit by digit straight from the chunk, so a clean line costs one object and the
 * id strings. Anything unusual (missing columns, exotic numbers, bad ids) is left to the general
 * `EventConverter`, which also words the error, so both paths accept exactly the same lines.
 */
import type { EventInput, EventType } from '../../domain/types.js';
import { parseIsoTimestamp, checkTimestamp, type TimestampUnit } from '../timestamps.js';

/** Event columns as positions in a delimited line; -1 for none. */
export interface EventPositions {
  user: number;
  item: number;
  type: number;
  value: number;
  timestamp: number;
  session: number;
  clientEventId: number;
}

const MAX_ID = 256;
const MAX_EXACT_DIGITS = 15;

/**
 * A plain decimal (`-12`, `3.5`) in `text[start, end)`; NaN for anything else (exponents, spaces,
 * more than 15 digits), which the caller then reads the slow way.
 */
export function parseDecimal(text: string, start: number, end: number): number {
  let i = start;
  let negative = false;
  if (i < end && text.charCodeAt(i) === 45) {
    negative = true;
    i++;
  }
  let n = 0;
  let digits = 0;
  while (i < end) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
    digits++;
    i++;
  }
  if (digits === 0) return NaN;
  if (i < end) {
    if (text.charCodeAt(i) !== 46 || i + 1 === end) return NaN;
    i++;
    let scale = 1;
    while (i < end) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return NaN;
      n = n * 10 + d;
      scale *= 10;
      digits++;
      i++;
    }
    // n and scale are exact integers, so one correctly rounded division equals Number(text).
    n /= scale;
  }
  if (digits > MAX_EXACT_DIGITS) return NaN;
  return negative ? -n : n;
}

export class FastEventParser {
  /** Highest column index the mapping reads. */
  private readonly maxColumn: number;
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly unit: TimestampUnit;

  constructor(
    private readonly cols: EventPositions,
    private readonly delimiter: string,
    private readonly types: ReadonlyMap<string, EventType>,
    private readonly defaultType: string,
    unit: TimestampUnit,
    private readonly now: number,
  ) {
    this.maxColumn = Math.max(
      cols.user,
      cols.item,
      cols.type,
      cols.value,
      cols.timestamp,
      cols.session,
      cols.clientEventId,
    );
    this.starts = new Int32Array(this.maxColumn + 1);
    this.ends = new Int32Array(this.maxColumn + 1);
    this.unit = unit;
  }

  /** The event on `text[start, end)`, or null when the line needs the general path. */
  parse(text: string, start: number, end: number): EventInput | null {
    const { starts, ends, delimiter, cols } = this;
    let p = start;
    for (let c = 0; c <= this.maxColumn; c++) {
      if (p > end) return null;
      let d = text.indexOf(delimiter, p);
      if (d < 0 || d > end) d = end;
      starts[c] = p;
      ends[c] = d;
      p = d + delimiter.length;
    }

    const userId = this.id(text, cols.user);
    if (userId === null) return null;
    const itemId = this.id(text, cols.item);
    if (itemId === null) return null;

    let type = this.defaultType;
    if (cols.type >= 0) {
      type = text.slice(starts[cols.type], ends[cols.type]);
      if (!this.types.has(type)) return null;
    }

    let value: number | null = null;
    if (cols.value >= 0 && ends[cols.value] > starts[cols.value]) {
      value = parseDecimal(text, starts[cols.value], ends[cols.value]);
      if (Number.isNaN(value)) return null;
    }

    let timestamp = this.now;
    if (cols.timestamp >= 0) {
      timestamp = this.timestamp(text, starts[cols.timestamp], ends[cols.timestamp]);
      if (Number.isNaN(timestamp)) return null;
    }

    let sessionId: string | null = null;
    if (cols.session >= 0 && ends[cols.session] > starts[cols.session]) {
      sessionId = this.id(text, cols.session);
      if (sessionId === null) return null;
    }

    let clientEventId: string | null = null;
    if (cols.clientEventId >= 0 && ends[cols.clientEventId] > starts[cols.clientEventId]) {
      clientEventId = this.id(text, cols.clientEventId);
      if (clientEventId === null) return null;
    }

    return { userId, itemId, type, value, timestamp, sessionId, context: null, clientEventId };
  }

  private id(text: string, column: number): string | null {
    const length = this.ends[column] - this.starts[column];
    if (length <= 0 || length > MAX_ID) return null;
    return text.slice(this.starts[column], this.ends[column]);
  }

  private timestamp(text: string, start: number, end: number): number {
    if (this.unit === 'iso') return checkTimestamp(parseIsoTimestamp(text.slice(start, end)));
    const n = parseDecimal(text, start, end);
    if (Number.isNaN(n)) return NaN;
    if (this.unit === 's' || (this.unit === 'auto' && Math.abs(n) < 1e11)) return checkTimestamp(n * 1000);
    return checkTimestamp(n);
  }
}
