/** Splits a rule expression into tokens. */
import { ExprError } from './errors.js';

export type TokenKind = 'number' | 'string' | 'name' | 'punct' | 'end';

export interface Token {
  kind: TokenKind;
  /** The punctuation or name as written; the decoded text of a string; the digits of a number. */
  text: string;
  /** Numeric value of a number token. */
  value: number;
  /** Offset of the first character. */
  start: number;
  /** Offset just past the last character. */
  end: number;
}

const TWO_CHAR = new Set(['==', '!=', '<=', '>=']);
const ONE_CHAR = new Set(['(', ')', '[', ']', ',', '.', '<', '>', '+', '-', '*', '/', '%']);

/** Friendlier messages for operators from other languages. */
const FOREIGN: Record<string, string> = {
  '&&': "use 'and' instead of '&&'",
  '||': "use 'or' instead of '||'",
  '!': "use 'not' instead of '!'",
  '=': "use '==' to compare",
  '===': "use '==' to compare",
  '!==': "use '!=' to compare",
};

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isNameStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36;
}

function isNamePart(c: number): boolean {
  return isNameStart(c) || isDigit(c);
}

/** Describes a token for error messages: `'and'`, `"text"`, `end of expression`. */
export function describeToken(t: Token): string {
  switch (t.kind) {
    case 'end':
      return 'end of expression';
    case 'string':
      return JSON.stringify(t.text.length > 20 ? t.text.slice(0, 20) + '…' : t.text);
    default:
      return `'${t.text}'`;
  }
}

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '"': '"',
  "'": "'",
  '\\': '\\',
  '/': '/',
};

function readString(source: string, start: number): Token {
  const quote = source[start];
  let text = '';
  let i = start + 1;
  while (i < source.length) {
    const ch = source[i];
    if (ch === quote) return { kind: 'string', text, value: 0, start, end: i + 1 };
    if (ch === '\n') break;
    if (ch === '\\') {
      const next = source[i + 1];
      if (next === 'u') {
        const hex = source.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new ExprError(source, i, 'invalid \\u escape in string');
        text += String.fromCharCode(parseInt(hex, 16));
        i += 6;
        continue;
      }
      const decoded = next === undefined ? undefined : ESCAPES[next];
      if (decoded === undefined) throw new ExprError(source, i, 'unknown escape in string');
      text += decoded;
      i += 2;
      continue;
    }
    text += ch;
    i++;
  }
  throw new ExprError(source, start, `unterminated string (missing closing ${quote})`);
}

function readNumber(source: string, start: number): Token {
  const m = /^(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(source.slice(start, start + 64));
  if (m === null) throw new ExprError(source, start, 'invalid number');
  const end = start + m[0].length;
  if (end < source.length && isNamePart(source.charCodeAt(end))) {
    throw new ExprError(source, start, 'invalid number');
  }
  const value = Number(m[0]);
  if (!Number.isFinite(value)) throw new ExprError(source, start, 'number out of range');
  return { kind: 'number', text: m[0], value, start, end };
}

/** All tokens of `source`, ending with one `end` token. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      i++;
      continue;
    }
    if (c === 34 || c === 39) {
      const t = readString(source, i);
      tokens.push(t);
      i = t.end;
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(source.charCodeAt(i + 1)))) {
      const t = readNumber(source, i);
      tokens.push(t);
      i = t.end;
      continue;
    }
    if (isNameStart(c)) {
      let j = i + 1;
      while (j < source.length && isNamePart(source.charCodeAt(j))) j++;
      tokens.push({ kind: 'name', text: source.slice(i, j), value: 0, start: i, end: j });
      i = j;
      continue;
    }
    const three = source.slice(i, i + 3);
    const two = source.slice(i, i + 2);
    if (FOREIGN[three] !== undefined) throw new ExprError(source, i, FOREIGN[three]);
    if (TWO_CHAR.has(two)) {
      tokens.push({ kind: 'punct', text: two, value: 0, start: i, end: i + 2 });
      i += 2;
      continue;
    }
    if (FOREIGN[two] !== undefined) throw new ExprError(source, i, FOREIGN[two]);
    const one = source[i];
    if (ONE_CHAR.has(one)) {
      tokens.push({ kind: 'punct', text: one, value: 0, start: i, end: i + 1 });
      i++;
      continue;
    }
    if (FOREIGN[one] !== undefined) throw new ExprError(source, i, FOREIGN[one]);
    throw new ExprError(source, i, `unexpected character ${JSON.stringify(one)}`);
  }
  tokens.push({ kind: 'end', text: '', value: 0, start: source.length, end: source.length });
  return tokens;
}
