/**
 * Compiles a checked expression to nested closures. Paths are resolved once, at compile time, to
 * fixed lists of field names; sub-expressions without names (`days(7)`, `["DE", "AT"]`) are
 * computed once; `x in [constants]` becomes a set lookup. Evaluation never throws: values of the
 * wrong kind at run time give null, and comparisons with null give false.
 */
import type { ArithmeticOp, CompareOp, Expr, Root } from './ast.js';
import { checkExpression, type CheckOptions } from './check.js';
import { lookupFunction } from './functions.js';
import { parseExpression } from './parser.js';
import { resolvePath } from './paths.js';

/** The item an expression looks at. The store's `Item` fits; every field may be absent. */
export interface ExprItem {
  id?: string;
  title?: string | null;
  text?: string | null;
  categories?: readonly string[];
  tags?: readonly string[];
  available?: boolean;
  publishedAt?: number | null;
  createdAt?: number;
  updatedAt?: number;
  attributes?: Readonly<Record<string, unknown>>;
}

/** The user a request is for. The store's `User` fits. */
export interface ExprUser {
  id?: string;
  attributes?: Readonly<Record<string, unknown>>;
}

/** The request: placement and free attributes such as device or page. */
export interface ExprContext {
  placement?: string;
  attributes?: Readonly<Record<string, unknown>>;
}

/** Everything an expression can read. Callers may reuse one object and swap `item`. */
export interface ExprEnv {
  item: ExprItem | null;
  user: ExprUser | null;
  context: ExprContext | null;
  /** Request time, epoch ms. */
  now: number;
}

type Fn = (env: ExprEnv) => unknown;

interface Code {
  fn: Fn;
  /** Set when the value does not depend on the environment. */
  constant: boolean;
}

export interface CompiledExpression {
  source: string;
  ast: Expr;
  /** Names the expression reads; an expression without `item` has one value for the whole request. */
  roots: ReadonlySet<Root>;
  /** True when the value does not depend on the environment. */
  constant: boolean;
  /** The value: a string, number, boolean, null, list or object. */
  evaluate: (env: ExprEnv) => unknown;
  /** True only when the value is exactly `true`. */
  test: (env: ExprEnv) => boolean;
}

const EMPTY_ENV: ExprEnv = { item: null, user: null, context: null, now: 0 };

/**
 * One field or index of `obj`, or null. Functions read as null, and `__proto__` is refused by
 * the checker, so nothing of the host's prototypes (`constructor`, `toString`) is reachable.
 */
function step(obj: unknown, key: string | number): unknown {
  if (typeof obj !== 'object' || obj === null) return null;
  if (Array.isArray(obj)) {
    if (typeof key !== 'number') return null;
    const v: unknown = obj[key];
    return v === undefined ? null : v;
  }
  const v: unknown = (obj as Record<string | number, unknown>)[key];
  return v === undefined || typeof v === 'function' ? null : v;
}

function constantCode(value: unknown): Code {
  return { fn: () => value, constant: true };
}

/** Folds `code` to its value when every input is constant. */
function fold(fn: Fn, inputs: Code[]): Code {
  if (inputs.every((c) => c.constant)) return constantCode(fn(EMPTY_ENV));
  return { fn, constant: false };
}

function rootOf(root: 'item' | 'user' | 'context'): (env: ExprEnv) => unknown {
  if (root === 'item') return (env) => env.item;
  if (root === 'user') return (env) => env.user;
  return (env) => env.context;
}

function pathCode(root: Root, segments: (string | number)[]): Code {
  const r = resolvePath(root, segments);
  if (typeof r === 'string') throw new Error(r); // the checker has rejected it already
  if (r.kind === 'now') return { fn: (env) => env.now, constant: false };
  if (r.kind === 'category') {
    return {
      fn: (env) => {
        const cats = step(env.item, 'categories');
        const first =
          Array.isArray(cats) && cats.length > 0 ? cats[0] : step(step(env.item, 'attributes'), 'category');
        return typeof first === 'string' ? first : null;
      },
      constant: false,
    };
  }
  const get = rootOf(r.root);
  const s = r.segments;
  switch (s.length) {
    case 0:
      return { fn: (env) => get(env) ?? null, constant: false };
    case 1: {
      const a = s[0];
      return { fn: (env) => step(get(env), a), constant: false };
    }
    case 2: {
      const [a, b] = s;
      return { fn: (env) => step(step(get(env), a), b), constant: false };
    }
    case 3: {
      const [a, b, c] = s;
      return { fn: (env) => step(step(step(get(env), a), b), c), constant: false };
    }
    default:
      return {
        fn: (env) => {
          let v = get(env);
          for (let i = 0; i < s.length && v !== null; i++) v = step(v, s[i]);
          return v ?? null;
        },
        constant: false,
      };
  }
}

function isScalar(v: unknown): v is string | number | boolean {
  const t = typeof v;
  return t === 'string' || t === 'number' || t === 'boolean';
}

function equal(a: unknown, b: unknown): boolean {
  return a === b && isScalar(a);
}

function unequal(a: unknown, b: unknown): boolean {
  return isScalar(a) && isScalar(b) && a !== b;
}

function ordered(a: unknown, b: unknown): boolean {
  const t = typeof a;
  return (t === 'number' || t === 'string') && typeof b === t;
}

/** `needle in hay`: list membership or substring. */
function member(needle: unknown, hay: unknown): boolean {
  if (!isScalar(needle)) return false;
  if (Array.isArray(hay)) return hay.includes(needle);
  return typeof hay === 'string' && typeof needle === 'string' && hay.includes(needle);
}

/** `needle not in hay`: false when either side is missing. */
function nonMember(needle: unknown, hay: unknown): boolean {
  if (!isScalar(needle)) return false;
  if (Array.isArray(hay)) return !hay.includes(needle);
  return typeof hay === 'string' && typeof needle === 'string' && !hay.includes(needle);
}

function compareCode(op: CompareOp, left: Code, right: Code): Code {
  const l = left.fn;
  const r = right.fn;
  // Presence tests: `x == null`, `x != null`.
  const nullLiteral = (c: Code): boolean => c.constant && c.fn(EMPTY_ENV) === null;
  if (op === '==' || op === '!=') {
    const other = nullLiteral(right) ? l : nullLiteral(left) ? r : undefined;
    if (other !== undefined) {
      return fold(op === '==' ? (env) => other(env) === null : (env) => other(env) !== null, [left, right]);
    }
  }
  // Membership in a constant list: one set lookup.
  if ((op === 'in' || op === 'not in') && right.constant) {
    const hay = r(EMPTY_ENV);
    if (Array.isArray(hay)) {
      const set = new Set(hay.filter(isScalar));
      const inSet = op === 'in';
      return fold(
        (env) => {
          const v = l(env);
          return isScalar(v) && set.has(v) === inSet;
        },
        [left, right],
      );
    }
  }
  let fn: Fn;
  switch (op) {
    case '==':
      fn = (env) => equal(l(env), r(env));
      break;
    case '!=':
      fn = (env) => unequal(l(env), r(env));
      break;
    case '<':
      fn = (env) => {
        const a = l(env);
        const b = r(env);
        return ordered(a, b) && (a as number) < (b as number);
      };
      break;
    case '<=':
      fn = (env) => {
        const a = l(env);
        const b = r(env);
        return ordered(a, b) && (a as number) <= (b as number);
      };
      break;
    case '>':
      fn = (env) => {
        const a = l(env);
        const b = r(env);
        return ordered(a, b) && (a as number) > (b as number);
      };
      break;
    case '>=':
      fn = (env) => {
        const a = l(env);
        const b = r(env);
        return ordered(a, b) && (a as number) >= (b as number);
      };
      break;
    case 'in':
      fn = (env) => member(l(env), r(env));
      break;
    case 'not in':
      fn = (env) => nonMember(l(env), r(env));
      break;
    case 'contains':
      fn = (env) => member(r(env), l(env));
      break;
    case 'startsWith':
      fn = (env) => {
        const a = l(env);
        const b = r(env);
        return typeof a === 'string' && typeof b === 'string' && a.startsWith(b);
      };
      break;
    case 'endsWith':
      fn = (env) => {
        const a = l(env);
        const b = r(env);
        return typeof a === 'string' && typeof b === 'string' && a.endsWith(b);
      };
      break;
  }
  return fold(fn, [left, right]);
}

function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function arithmeticCode(op: ArithmeticOp, left: Code, right: Code): Code {
  const l = left.fn;
  const r = right.fn;
  const apply = (f: (a: number, b: number) => number): Fn => {
    return (env) => {
      const a = l(env);
      const b = r(env);
      return typeof a === 'number' && typeof b === 'number' ? finite(f(a, b)) : null;
    };
  };
  switch (op) {
    case '+':
      return fold(
        apply((a, b) => a + b),
        [left, right],
      );
    case '-':
      return fold(
        apply((a, b) => a - b),
        [left, right],
      );
    case '*':
      return fold(
        apply((a, b) => a * b),
        [left, right],
      );
    case '/':
      return fold(
        apply((a, b) => a / b),
        [left, right],
      );
    case '%':
      return fold(
        apply((a, b) => a % b),
        [left, right],
      );
  }
}

function logicalCode(kind: 'and' | 'or', operands: Code[]): Code {
  const fns = operands.map((c) => c.fn);
  if (fns.length === 2) {
    const [a, b] = fns;
    return fold(
      kind === 'and'
        ? (env) => a(env) === true && b(env) === true
        : (env) => a(env) === true || b(env) === true,
      operands,
    );
  }
  const fn: Fn =
    kind === 'and'
      ? (env) => {
          for (let i = 0; i < fns.length; i++) if (fns[i](env) !== true) return false;
          return true;
        }
      : (env) => {
          for (let i = 0; i < fns.length; i++) if (fns[i](env) === true) return true;
          return false;
        };
  return fold(fn, operands);
}

function codeOf(e: Expr): Code {
  switch (e.type) {
    case 'literal':
      return constantCode(e.value);
    case 'array': {
      const elements = e.elements.map(codeOf);
      if (elements.every((c) => c.constant))
        return constantCode(Object.freeze(elements.map((c) => c.fn(EMPTY_ENV))));
      const fns = elements.map((c) => c.fn);
      return { fn: (env) => fns.map((f) => f(env)), constant: false };
    }
    case 'path':
      return pathCode(e.root as Root, e.segments);
    case 'call': {
      const f = lookupFunction(e.name);
      if (f === undefined) throw new Error(`unknown function ${e.name}`); // rejected by the checker
      const impl = f.fn;
      const arg = codeOf(e.args[0]);
      const a = arg.fn;
      return fold((env) => impl(a(env)), [arg]);
    }
    case 'not': {
      const operand = codeOf(e.operand);
      const a = operand.fn;
      return fold((env) => a(env) !== true, [operand]);
    }
    case 'negate': {
      const operand = codeOf(e.operand);
      const a = operand.fn;
      return fold(
        (env) => {
          const v = a(env);
          return typeof v === 'number' ? -v : null;
        },
        [operand],
      );
    }
    case 'and':
    case 'or':
      return logicalCode(e.type, e.operands.map(codeOf));
    case 'compare':
      return compareCode(e.op, codeOf(e.left), codeOf(e.right));
    case 'arithmetic':
      return arithmeticCode(e.op, codeOf(e.left), codeOf(e.right));
  }
}

/**
 * Parses, checks and compiles `source`. Throws `ExprError` (with the position) when the text is
 * not a valid expression for `options` (by default: a condition over item, user, context, now).
 */
export function compileExpression(source: string, options: CheckOptions = {}): CompiledExpression {
  const ast = parseExpression(source);
  const { roots } = checkExpression(source, ast, options);
  const code = codeOf(ast);
  const fn = code.fn;
  let test: (env: ExprEnv) => boolean;
  if (code.constant) {
    const value = fn(EMPTY_ENV) === true;
    test = () => value;
  } else {
    test = (env) => fn(env) === true;
  }
  return { source, ast, roots, constant: code.constant, evaluate: fn, test };
}
