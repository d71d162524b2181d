/**
 * The functions an expression may call. Each takes one argument and never throws: an argument of
 * the wrong kind at run time (a missing attribute, a number where a string was expected) gives null.
 */
import { parseIsoTimestamp } from '../../../ingest/timestamps.js';
import { ANY, BOOL, LIST, NULL, NUM, STR, type TypeMask } from './types.js';

export interface ExprFunction {
  /** Types the argument may have. */
  arg: TypeMask;
  result: TypeMask;
  /** One-line description for documentation and error messages. */
  doc: string;
  fn: (value: unknown) => unknown;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;

function duration(unit: number): (v: unknown) => unknown {
  return (v) => (typeof v === 'number' ? v * unit : null);
}

export const FUNCTIONS: Readonly<Record<string, ExprFunction>> = {
  days: { arg: NUM, result: NUM | NULL, doc: 'n days in milliseconds', fn: duration(DAY) },
  hours: { arg: NUM, result: NUM | NULL, doc: 'n hours in milliseconds', fn: duration(HOUR) },
  minutes: { arg: NUM, result: NUM | NULL, doc: 'n minutes in milliseconds', fn: duration(MINUTE) },
  date: {
    arg: STR | NUM,
    result: NUM | NULL,
    doc: 'an ISO 8601 date or date-time (UTC unless a zone is given) as epoch milliseconds',
    fn: (v) => {
      if (typeof v === 'number') return v;
      if (typeof v !== 'string') return null;
      const ms = parseIsoTimestamp(v);
      return Number.isNaN(ms) ? null : ms;
    },
  },
  lower: {
    arg: STR,
    result: STR | NULL,
    doc: 'the string in lower case',
    fn: (v) => (typeof v === 'string' ? v.toLowerCase() : null),
  },
  upper: {
    arg: STR,
    result: STR | NULL,
    doc: 'the string in upper case',
    fn: (v) => (typeof v === 'string' ? v.toUpperCase() : null),
  },
  len: {
    arg: STR | LIST,
    result: NUM | NULL,
    doc: 'the length of a string or list',
    fn: (v) => (typeof v === 'string' || Array.isArray(v) ? v.length : null),
  },
  exists: {
    arg: ANY,
    result: BOOL,
    doc: 'true when the value is present (not null)',
    fn: (v) => v !== null,
  },
};

export function functionNames(): string[] {
  return Object.keys(FUNCTIONS);
}

export function lookupFunction(name: string): ExprFunction | undefined {
  return Object.hasOwn(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
}
