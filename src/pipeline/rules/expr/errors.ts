/** Errors and limits of the rule expression language. */

/** Longest accepted expression, in characters. */
export const MAX_EXPRESSION_LENGTH = 2000;

/** Deepest accepted syntax tree (a literal or a path has depth 1). */
export const MAX_EXPRESSION_DEPTH = 48;

/** Where in the source text something is: 0-based offset, 1-based line and column. */
export interface SourcePosition {
  offset: number;
  line: number;
  column: number;
}

/** Line and column of an offset in `source`. */
export function positionOf(source: string, offset: number): SourcePosition {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, source.length);
  for (let i = 0; i < end; i++) {
    if (source.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { offset, line, column: offset - lineStart + 1 };
}

/**
 * A rule expression that cannot be parsed or does not type-check. `message` reads like
 * `expected ')' at column 17 (found end of expression)`; `reason` is the same without the position.
 */
export class ExprError extends Error {
  readonly offset: number;
  readonly line: number;
  readonly column: number;

  constructor(
    source: string,
    offset: number,
    readonly reason: string,
    readonly found?: string,
  ) {
    const pos = positionOf(source, offset);
    const where = source.includes('\n') ? `line ${pos.line}, column ${pos.column}` : `column ${pos.column}`;
    super(`${reason} at ${where}${found === undefined ? '' : ` (found ${found})`}`);
    this.name = 'ExprError';
    this.offset = offset;
    this.line = pos.line;
    this.column = pos.column;
  }
}
