import { describe, expect, it } from 'vitest';
import {
  compileExpression,
  ExprError,
  MAX_EXPRESSION_DEPTH,
  MAX_EXPRESSION_LENGTH,
  parseExpression,
  printExpr,
} from '../../../src/pipeline/rules/expr/index.js';

const show = (source: string): string => printExpr(parseExpression(source));

function errorOf(source: string, check = false): ExprError {
  try {
    if (check) compileExpression(source);
    else parseExpression(source);
  } catch (err) {
    expect(err).toBeInstanceOf(ExprError);
    return err as ExprError;
  }
  throw new Error(`expected ${source} to be rejected`);
}

describe('parser: precedence', () => {
  it('binds and tighter than or, not looser than comparisons', () => {
    expect(show('a.x or b.x and c.x')).toBe('(a.x or (b.x and c.x))');
    expect(show('not item.tags contains "adult" or user.age >= 18')).toBe(
      '((not (item.tags contains "adult")) or (user.age >= 18))',
    );
    expect(show('not not item.a')).toBe('(not (not item.a))');
  });

  it('binds * / % tighter than + -, and both tighter than comparisons', () => {
    expect(show('item.a + 2 * 3 - 4 / 5 == 6')).toBe('(((item.a + (2 * 3)) - (4 / 5)) == 6)');
    expect(show('item.createdAt > now - days(7)')).toBe('(item.createdAt > (now - days(7)))');
    expect(show('-item.a * 2 < -3')).toBe('(((-item.a) * 2) < -3)');
  });

  it('keeps chains of one connective in one node, and parentheses group', () => {
    const ast = parseExpression('item.a == 1 or item.a == 2 or item.a == 3');
    expect(ast.type).toBe('or');
    if (ast.type === 'or') expect(ast.operands).toHaveLength(3);
    expect(show('(item.a or item.b) and item.c')).toBe('((item.a or item.b) and item.c)');
  });

  it('reads paths, indices, lists, calls and every literal', () => {
    expect(show(`user.country in ["DE", 'AT', ]`)).toBe('(user.country in ["DE", "AT"])');
    expect(show('item.attributes["shoe-size"] >= 42.5')).toBe('(item.attributes["shoe-size"] >= 42.5)');
    expect(show('item.tags[0] == "x" and item.attributes.in == null')).toBe(
      '((item.tags[0] == "x") and (item.attributes.in == null))',
    );
    expect(show('user.country not in ["DE"]')).toBe('(user.country not in ["DE"])');
    expect(show('lower(item.title) startsWith "the" and true != false')).toBe(
      '((lower(item.title) startsWith "the") and (true != false))',
    );
    expect(show('"a\\"b\\u00e9" == 1e3')).toBe('("a\\"bé" == 1000)');
  });
});

describe('parser: errors report the position and what was expected', () => {
  it('points at a missing closing parenthesis', () => {
    const e = errorOf('(item.price < 50');
    expect(e.message).toBe("expected ')' at column 17 (found end of expression)");
    expect(e.column).toBe(17);
  });

  it('names the token found', () => {
    expect(errorOf('item.price < 50 )').message).toMatch(
      /^expected an operator .* at column 17 \(found '\)'\)$/,
    );
    expect(errorOf('item.price < ').message).toMatch(
      /^expected a value .* at column 14 \(found end of expression\)$/,
    );
    expect(errorOf('[1, 2').message).toBe("expected ',' or ']' at column 6 (found end of expression)");
  });

  it('refuses chained comparisons and foreign operators', () => {
    expect(errorOf('1 < item.a < 3').message).toMatch(/comparisons cannot be chained.* at column 12/);
    expect(errorOf('item.a && item.b').message).toBe("use 'and' instead of '&&' at column 8");
    expect(errorOf('item.a = 1').message).toBe("use '==' to compare at column 8");
    expect(errorOf('"open').message).toMatch(/unterminated string.* at column 1/);
    expect(errorOf('item.a == #').message).toMatch(/unexpected character "#" at column 11/);
  });

  it('gives line and column in multi-line expressions', () => {
    const e = errorOf('item.a == 1\n  and (item.b');
    expect(e.line).toBe(2);
    expect(e.message).toBe("expected ')' at line 2, column 14 (found end of expression)");
  });
});

describe('parser: limits', () => {
  it(`refuses expressions longer than ${MAX_EXPRESSION_LENGTH} characters`, () => {
    const long = 'item.a == "' + 'x'.repeat(MAX_EXPRESSION_LENGTH) + '"';
    expect(errorOf(long).message).toMatch(/longer than 2000 characters/);
    const fits = 'item.a == "' + 'x'.repeat(MAX_EXPRESSION_LENGTH - 12) + '"';
    expect(() => parseExpression(fits)).not.toThrow();
  });

  it('refuses nesting deeper than the limit without exhausting the stack', () => {
    const deep = '('.repeat(MAX_EXPRESSION_DEPTH + 1) + 'true' + ')'.repeat(MAX_EXPRESSION_DEPTH + 1);
    expect(errorOf(deep).message).toMatch(/nested deeper than/);
    expect(errorOf('not '.repeat(400) + 'true').message).toMatch(/nested deeper than/);
    expect(errorOf('-'.repeat(1000) + '1 > 0').message).toMatch(/nested deeper than/);
    const ok = '('.repeat(10) + 'true' + ')'.repeat(10);
    expect(() => parseExpression(ok)).not.toThrow();
  });

  it('accepts a long flat list of alternatives', () => {
    const alternatives = Array.from({ length: 100 }, (_, i) => `item.a == ${i}`).join(' or ');
    expect(() => compileExpression(alternatives)).not.toThrow();
  });
});

describe('checker', () => {
  it('rejects unknown roots such as process.env', () => {
    const e = errorOf('process.env.HOME == "x"', true);
    expect(e.message).toBe("unknown name 'process' (expected item, user, context or now) at column 1");
    expect(errorOf('constructor == 1', true).message).toMatch(/unknown name 'constructor'/);
    expect(errorOf('globalThis.x', true).message).toMatch(/unknown name 'globalThis'/);
  });

  it('rejects unknown functions and wrong argument counts or types', () => {
    expect(errorOf('eval("1") == 1', true).message).toMatch(/^unknown function 'eval' \(available: days,/);
    expect(errorOf('days(1, 2) > 0', true).message).toMatch(/days\(\) takes 1 argument, not 2/);
    expect(errorOf('days("x") > 0', true).message).toBe(
      'the argument of days() must be a number, not a string at column 6',
    );
  });

  it('rejects comparisons that can never be true', () => {
    expect(errorOf('item.title < 5', true).message).toMatch(
      /'<' between a string and a number is never true/,
    );
    expect(errorOf('item.available == "yes"', true).message).toMatch(/never true/);
    expect(errorOf('item.tags == "x"', true).message).toMatch(/use 'in' or 'contains'/);
    expect(errorOf('item.price < null', true).message).toMatch(/use '== null'/);
    expect(errorOf('item.title startsWith 3', true).message).toMatch(/must be a string/);
  });

  it('rejects fields that do not exist on typed values', () => {
    expect(errorOf('item.tags.length > 2', true).message).toMatch(/use len\(item.tags\)/);
    expect(errorOf('now.year == 2025', true).message).toMatch(/'now' is a number/);
  });

  it('requires a condition to be true/false', () => {
    expect(errorOf('item.price + 1', true).message).toMatch(/a condition must be true\/false/);
    expect(errorOf('"yes"', true).message).toMatch(/a condition must be true\/false/);
    expect(() => compileExpression('item.onSale')).not.toThrow(); // may be a boolean attribute
  });

  it('limits the names a condition may use', () => {
    const e = (() => {
      try {
        compileExpression('item.price > 5', { roots: ['user', 'context', 'now'], rootHint: 'no items here' });
      } catch (err) {
        return err as ExprError;
      }
      throw new Error('accepted');
    })();
    expect(e.message).toBe('no items here at column 1');
  });
});
