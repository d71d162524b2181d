/**
 * Recursive-descent parser for rule expressions. Precedence, loosest first:
 * `or`, `and`, `not`, comparisons (`== != < <= > >= in, not in, contains, startsWith, endsWith`,
 * not chainable), `+ -`, `* / %`, unary `-`, then literals, lists, paths, calls and parentheses.
 */
import type { ArithmeticOp, CompareOp, Expr, PathNode } from './ast.js';
import { depthOf } from './ast.js';
import { ExprError, MAX_EXPRESSION_DEPTH, MAX_EXPRESSION_LENGTH } from './errors.js';
import { describeToken, tokenize, type Token } from './lexer.js';

const COMPARE_PUNCT = new Set(['==', '!=', '<', '<=', '>', '>=']);
const COMPARE_WORDS = new Set(['in', 'contains', 'startsWith', 'endsWith']);
/** Words that cannot name a path root or a function. */
const RESERVED = new Set([
  'and',
  'or',
  'not',
  'in',
  'contains',
  'startsWith',
  'endsWith',
  'true',
  'false',
  'null',
]);

class Parser {
  private pos = 0;
  private nesting = 0;

  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
  ) {}

  private get tok(): Token {
    return this.tokens[this.pos];
  }

  private peek(ahead = 1): Token {
    return this.tokens[Math.min(this.pos + ahead, this.tokens.length - 1)];
  }

  private fail(at: Token, reason: string): never {
    throw new ExprError(this.source, at.start, reason, describeToken(at));
  }

  private isWord(word: string, t: Token = this.tok): boolean {
    return t.kind === 'name' && t.text === word;
  }

  private isPunct(p: string, t: Token = this.tok): boolean {
    return t.kind === 'punct' && t.text === p;
  }

  private expectPunct(p: string): Token {
    const t = this.tok;
    if (!this.isPunct(p)) this.fail(t, `expected '${p}'`);
    this.pos++;
    return t;
  }

  /** Guards recursion so that deeply nested input fails cleanly instead of exhausting the stack. */
  private enter(at: Token): void {
    if (++this.nesting > MAX_EXPRESSION_DEPTH) {
      throw new ExprError(
        this.source,
        at.start,
        `expression nested deeper than ${MAX_EXPRESSION_DEPTH} levels`,
      );
    }
  }

  parse(): Expr {
    const first = this.tok;
    if (first.kind === 'end') this.fail(first, 'expected an expression');
    const e = this.parseOr();
    const t = this.tok;
    if (t.kind !== 'end') {
      if (this.isCompareAhead()) this.fail(t, "comparisons cannot be chained; combine them with 'and'");
      this.fail(t, "expected an operator ('and', 'or', a comparison) or the end of the expression");
    }
    return e;
  }

  private parseOr(): Expr {
    const first = this.parseAnd();
    if (!this.isWord('or')) return first;
    const operands = [first];
    while (this.isWord('or')) {
      this.pos++;
      operands.push(this.parseAnd());
    }
    return { type: 'or', operands, start: first.start, end: operands[operands.length - 1].end };
  }

  private parseAnd(): Expr {
    const first = this.parseNot();
    if (!this.isWord('and')) return first;
    const operands = [first];
    while (this.isWord('and')) {
      this.pos++;
      operands.push(this.parseNot());
    }
    return { type: 'and', operands, start: first.start, end: operands[operands.length - 1].end };
  }

  private parseNot(): Expr {
    if (this.isWord('not')) {
      const t = this.tok;
      this.enter(t);
      this.pos++;
      const operand = this.parseNot();
      this.nesting--;
      return { type: 'not', operand, start: t.start, end: operand.end };
    }
    return this.parseCompare();
  }

  private isCompareAhead(): boolean {
    const t = this.tok;
    if (t.kind === 'punct') return COMPARE_PUNCT.has(t.text);
    if (t.kind !== 'name') return false;
    return COMPARE_WORDS.has(t.text) || (t.text === 'not' && this.isWord('in', this.peek()));
  }

  private parseCompare(): Expr {
    const left = this.parseAdditive();
    if (!this.isCompareAhead()) return left;
    const opTok = this.tok;
    let op: CompareOp;
    if (this.isWord('not')) {
      this.pos += 2;
      op = 'not in';
    } else {
      this.pos++;
      op = opTok.text as CompareOp;
    }
    const right = this.parseAdditive();
    if (this.isCompareAhead()) this.fail(this.tok, "comparisons cannot be chained; combine them with 'and'");
    return { type: 'compare', op, opStart: opTok.start, left, right, start: left.start, end: right.end };
  }

  private parseAdditive(): Expr {
    let left = this.parseMultiplicative();
    while (this.isPunct('+') || this.isPunct('-')) {
      const opTok = this.tok;
      this.pos++;
      const right = this.parseMultiplicative();
      left = {
        type: 'arithmetic',
        op: opTok.text as ArithmeticOp,
        opStart: opTok.start,
        left,
        right,
        start: left.start,
        end: right.end,
      };
    }
    return left;
  }

  private parseMultiplicative(): Expr {
    let left = this.parseUnary();
    while (this.isPunct('*') || this.isPunct('/') || this.isPunct('%')) {
      const opTok = this.tok;
      this.pos++;
      const right = this.parseUnary();
      left = {
        type: 'arithmetic',
        op: opTok.text as ArithmeticOp,
        opStart: opTok.start,
        left,
        right,
        start: left.start,
        end: right.end,
      };
    }
    return left;
  }

  private parseUnary(): Expr {
    if (this.isPunct('-')) {
      const t = this.tok;
      this.enter(t);
      this.pos++;
      const operand = this.parseUnary();
      this.nesting--;
      if (operand.type === 'literal' && typeof operand.value === 'number') {
        return { type: 'literal', value: -operand.value, start: t.start, end: operand.end };
      }
      return { type: 'negate', operand, start: t.start, end: operand.end };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Expr {
    const t = this.tok;
    switch (t.kind) {
      case 'number':
        this.pos++;
        return { type: 'literal', value: t.value, start: t.start, end: t.end };
      case 'string':
        this.pos++;
        return { type: 'literal', value: t.text, start: t.start, end: t.end };
      case 'punct':
        if (t.text === '(') {
          this.enter(t);
          this.pos++;
          const inner = this.parseOr();
          const close = this.expectPunct(')');
          this.nesting--;
          return { ...inner, start: t.start, end: close.end };
        }
        if (t.text === '[') return this.parseList();
        break;
      case 'name':
        return this.parseName();
      case 'end':
        break;
    }
    this.fail(t, 'expected a value (a number, a string, a list, a name or a parenthesised expression)');
  }

  private parseList(): Expr {
    const open = this.tok;
    this.enter(open);
    this.pos++;
    const elements: Expr[] = [];
    if (!this.isPunct(']')) {
      for (;;) {
        elements.push(this.parseOr());
        if (!this.isPunct(',')) break;
        this.pos++;
        if (this.isPunct(']')) break; // trailing comma
      }
    }
    if (!this.isPunct(']')) this.fail(this.tok, "expected ',' or ']'");
    const close = this.tok;
    this.pos++;
    this.nesting--;
    return { type: 'array', elements, start: open.start, end: close.end };
  }

  private parseName(): Expr {
    const t = this.tok;
    switch (t.text) {
      case 'true':
      case 'false':
        this.pos++;
        return { type: 'literal', value: t.text === 'true', start: t.start, end: t.end };
      case 'null':
        this.pos++;
        return { type: 'literal', value: null, start: t.start, end: t.end };
    }
    if (RESERVED.has(t.text)) this.fail(t, 'expected a value');
    this.pos++;
    if (this.isPunct('(')) return this.parseCall(t);
    const path: PathNode = { type: 'path', root: t.text, segments: [], start: t.start, end: t.end };
    for (;;) {
      if (this.isPunct('.')) {
        this.pos++;
        const field = this.tok;
        // Keywords are fine as field names: `item.attributes.in`.
        if (field.kind !== 'name') this.fail(field, "expected a field name after '.'");
        this.pos++;
        path.segments.push(field.text);
        path.end = field.end;
      } else if (this.isPunct('[')) {
        this.pos++;
        const key = this.tok;
        if (key.kind === 'string') path.segments.push(key.text);
        else if (key.kind === 'number' && Number.isInteger(key.value) && key.value >= 0) {
          path.segments.push(key.value);
        } else this.fail(key, "expected a string or a non-negative integer inside '[ ]'");
        this.pos++;
        path.end = this.expectPunct(']').end;
      } else break;
      if (path.segments.length > MAX_EXPRESSION_DEPTH) {
        throw new ExprError(this.source, t.start, `path longer than ${MAX_EXPRESSION_DEPTH} fields`);
      }
    }
    return path;
  }

  private parseCall(name: Token): Expr {
    this.enter(name);
    this.pos++; // '('
    const args: Expr[] = [];
    if (!this.isPunct(')')) {
      for (;;) {
        args.push(this.parseOr());
        if (!this.isPunct(',')) break;
        this.pos++;
      }
    }
    if (!this.isPunct(')')) this.fail(this.tok, "expected ',' or ')'");
    const close = this.tok;
    this.pos++;
    this.nesting--;
    return { type: 'call', name: name.text, args, start: name.start, end: close.end };
  }
}

/**
 * Parses `source` into a syntax tree. Throws `ExprError` with the position and what was expected
 * when the text is not a well-formed expression or exceeds the length or depth limits.
 */
export function parseExpression(source: string): Expr {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new ExprError(
      source,
      MAX_EXPRESSION_LENGTH,
      `expression longer than ${MAX_EXPRESSION_LENGTH} characters (${source.length})`,
    );
  }
  const ast = new Parser(source, tokenize(source)).parse();
  if (depthOf(ast) > MAX_EXPRESSION_DEPTH) {
    throw new ExprError(source, 0, `expression nested deeper than ${MAX_EXPRESSION_DEPTH} levels`);
  }
  return ast;
}
