/** Timestamp parsing shared by the row validators and the file importers. All results are epoch ms. */

/** 1970-01-01T00:00:00.000Z */
export const MIN_TIMESTAMP = 0;
/** 2200-12-31T23:59:59.999Z */
export const MAX_TIMESTAMP = Date.UTC(2201, 0, 1) - 1;
/** 0001-01-01T00:00:00.000Z: items (films, books) may have been published long before 1970. */
export const MIN_PUBLISHED_AT = new Date(0).setUTCFullYear(1, 0, 1);

/**
 * How a timestamp column is written:
 * - `s` / `ms`: epoch seconds / milliseconds (fractions allowed)
 * - `iso`: ISO 8601 date or date-time
 * - `auto`: ISO 8601 if not numeric; numbers below 1e11 are seconds, others milliseconds
 *   (1e11 s lies beyond 2200 and 1e11 ms is in 1973, so only 1970-1973 milliseconds are misread)
 */
export type TimestampUnit = 's' | 'ms' | 'iso' | 'auto';

export const TIMESTAMP_MESSAGE =
  'must be an ISO 8601 date-time or epoch milliseconds, between the years 1970 and 2200';

const ISO_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * Parses `YYYY-MM-DD`, `YYYY-MM-DDThh:mm[:ss[.fff]][Z|±hh[:mm]]` (a space may replace the T).
 * Without a zone the time is read as UTC, so results never depend on the machine's time zone.
 * Returns NaN for anything else, including impossible dates such as February 30.
 */
export function parseIsoTimestamp(text: string): number {
  // Schema checks and conversion parse the same string back to back.
  if (text === lastText) return lastValue;
  const value = parseIso(text);
  lastText = text;
  lastValue = value;
  return value;
}

let lastText = '';
let lastValue = NaN;

function parseIso(text: string): number {
  const m = ISO_PATTERN.exec(text.trim());
  if (m === null) return NaN;
  const year = +m[1];
  const month = +m[2];
  const day = +m[3];
  if (month < 1 || month > 12 || day < 1) return NaN;
  if (day > DAYS_IN_MONTH[month - 1] || (month === 2 && day === 29 && !isLeapYear(year))) return NaN;
  const hour = m[4] === undefined ? 0 : +m[4];
  const minute = m[5] === undefined ? 0 : +m[5];
  const second = m[6] === undefined ? 0 : +m[6];
  if (hour > 23 || minute > 59 || second > 59) return NaN;
  const millis = m[7] === undefined ? 0 : +m[7].slice(0, 3).padEnd(3, '0');
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = +digits.slice(0, 2);
    const om = digits.length > 2 ? +digits.slice(2, 4) : 0;
    if (oh > 23 || om > 59) return NaN;
    offsetMinutes = sign * (oh * 60 + om);
  }
  let utc: number;
  if (year >= 100) {
    utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  } else {
    // Date.UTC reads years 0-99 as 1900-1999
    const date = new Date(0);
    date.setUTCFullYear(year, month - 1, day);
    date.setUTCHours(hour, minute, second, millis);
    utc = date.getTime();
  }
  return utc - offsetMinutes * 60_000;
}

/** Rounds to whole ms; NaN when not finite or outside years 1970..2200. */
export function checkTimestamp(ms: number): number {
  if (!(ms >= MIN_TIMESTAMP && ms <= MAX_TIMESTAMP)) return NaN;
  return Math.round(ms);
}

/** Like `checkTimestamp`, for publication dates: years 1..2200. */
export function checkPublishedAt(ms: number): number {
  if (!(ms >= MIN_PUBLISHED_AT && ms <= MAX_TIMESTAMP)) return NaN;
  return Math.round(ms);
}

/** A wire-format timestamp (ISO string or epoch ms) to ms; NaN when invalid or out of range. */
export function toTimestamp(value: string | number): number {
  return checkTimestamp(typeof value === 'number' ? value : parseIsoTimestamp(value));
}

/** A wire-format publication date to ms; NaN when invalid or outside years 1..2200. */
export function toPublishedAt(value: string | number): number {
  return checkPublishedAt(typeof value === 'number' ? value : parseIsoTimestamp(value));
}

export const PUBLISHED_AT_MESSAGE =
  'must be an ISO 8601 date-time or epoch milliseconds, between the years 1 and 2200, or null';

/** A text cell to ms under `unit`; NaN when invalid or out of range (`check`). */
export function parseTimestampText(text: string, unit: TimestampUnit, check = checkTimestamp): number {
  switch (unit) {
    case 's':
      return text === '' ? NaN : check(Number(text) * 1000);
    case 'ms':
      return text === '' ? NaN : check(Number(text));
    case 'iso':
      return check(parseIsoTimestamp(text));
    case 'auto': {
      const n = text === '' ? NaN : Number(text);
      if (Number.isNaN(n)) return check(parseIsoTimestamp(text));
      return check(Math.abs(n) < 1e11 ? n * 1000 : n);
    }
  }
}

/** Error message for a timestamp written in `unit`, valid from year `fromYear`. */
export function timestampMessage(unit: TimestampUnit, fromYear = 1970): string {
  const range = `between the years ${fromYear} and 2200`;
  switch (unit) {
    case 's':
      return `must be epoch seconds ${range}`;
    case 'ms':
      return `must be epoch milliseconds ${range}`;
    case 'iso':
      return `must be an ISO 8601 date-time ${range}`;
    case 'auto':
      return `must be an ISO 8601 date-time or epoch seconds or milliseconds, ${range}`;
  }
}
