/**
 * Static checks of a parsed expression: names, functions, field paths and operand types. Types
 * of free-form attributes are unknown until run time, so only certain mistakes are reported
 * (`item.title < 5`, `days("x")`, `item.tags.length`), never a possible one.
 */
import type { CompareNode, Expr, Root } from './ast.js';
import { ExprError } from './errors.js';
import { functionNames, lookupFunction } from './functions.js';
import { resolvePath, ROOTS } from './paths.js';
import {
  allows,
  ANY,
  BOOL,
  definite,
  describeType,
  LIST,
  NULL,
  NUM,
  OBJ,
  STR,
  type TypeMask,
} from './types.js';

export interface CheckOptions {
  /** Names the expression may use (default: all of item, user, context, now). */
  roots?: readonly Root[];
  /** Explains why a known name is not allowed here, e.g. "a 'when' condition cannot use item". */
  rootHint?: string;
  /** The result must be able to be true/false (default true). */
  condition?: boolean;
}

export interface CheckResult {
  /** Type of the result. */
  type: TypeMask;
  /** Names the expression reads. */
  roots: Set<Root>;
}

class Checker {
  readonly used = new Set<Root>();
  private readonly allowed: ReadonlySet<Root>;

  constructor(
    private readonly source: string,
    private readonly options: CheckOptions,
  ) {
    this.allowed = new Set(options.roots ?? ROOTS);
  }

  private fail(at: number, reason: string): never {
    throw new ExprError(this.source, at, reason);
  }

  private need(e: Expr, t: TypeMask, allowed: TypeMask, what: string): void {
    if (!allows(t, allowed) && t !== NULL)
      this.fail(e.start, `${what} must be ${describeType(allowed)}, not ${describeType(t)}`);
  }

  type(e: Expr): TypeMask {
    switch (e.type) {
      case 'literal':
        if (e.value === null) return NULL;
        return typeof e.value === 'number' ? NUM : typeof e.value === 'string' ? STR : BOOL;
      case 'array':
        for (const el of e.elements) {
          const t = this.type(el);
          if (definite(t) === LIST || definite(t) === OBJ)
            this.fail(el.start, 'list elements must be single values');
        }
        return LIST;
      case 'path':
        return this.path(e.root, e.segments, e.start);
      case 'call': {
        const f = lookupFunction(e.name);
        if (f === undefined) {
          this.fail(e.start, `unknown function '${e.name}' (available: ${functionNames().join(', ')})`);
        }
        if (e.args.length !== 1) this.fail(e.start, `${e.name}() takes 1 argument, not ${e.args.length}`);
        const t = this.type(e.args[0]);
        if (f.arg !== ANY) this.need(e.args[0], t, f.arg, `the argument of ${e.name}()`);
        return f.result;
      }
      case 'not':
        this.need(e.operand, this.type(e.operand), BOOL, "the operand of 'not'");
        return BOOL;
      case 'negate':
        this.need(e.operand, this.type(e.operand), NUM, "the operand of '-'");
        return NUM | NULL;
      case 'and':
      case 'or':
        for (const op of e.operands) this.need(op, this.type(op), BOOL, `each side of '${e.type}'`);
        return BOOL;
      case 'arithmetic':
        this.need(e.left, this.type(e.left), NUM, `each side of '${e.op}'`);
        this.need(e.right, this.type(e.right), NUM, `each side of '${e.op}'`);
        return NUM | NULL;
      case 'compare':
        this.compare(e);
        return BOOL;
    }
  }

  private path(root: string, segments: (string | number)[], at: number): TypeMask {
    if (!(ROOTS as readonly string[]).includes(root)) {
      const names = [...this.allowed];
      const list =
        names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : names[0];
      this.fail(at, `unknown name '${root}' (expected ${list})`);
    }
    const r = root as Root;
    if (!this.allowed.has(r)) {
      this.fail(at, this.options.rootHint ?? `'${root}' cannot be used here`);
    }
    const resolved = resolvePath(r, segments);
    if (typeof resolved === 'string') this.fail(at, resolved);
    this.used.add(r);
    return resolved.type;
  }

  private compare(e: CompareNode): void {
    const l = this.type(e.left);
    const r = this.type(e.right);
    const op = e.op;
    switch (op) {
      case '==':
      case '!=': {
        if (l === NULL || r === NULL) return; // presence test
        const dl = definite(l);
        const dr = definite(r);
        if (dl === LIST || dl === OBJ || dr === LIST || dr === OBJ) {
          this.fail(e.opStart, `'${op}' compares single values; use 'in' or 'contains' with lists`);
        }
        if (dl !== 0 && dr !== 0 && dl !== dr) {
          this.fail(e.opStart, `'${op}' between ${describeType(dl)} and ${describeType(dr)} is never true`);
        }
        return;
      }
      case '<':
      case '<=':
      case '>':
      case '>=': {
        if (l === NULL || r === NULL) this.fail(e.opStart, `'${op}' with null is never true; use '== null'`);
        this.need(e.left, l, NUM | STR, `each side of '${op}'`);
        this.need(e.right, r, NUM | STR, `each side of '${op}'`);
        const dl = definite(l);
        const dr = definite(r);
        if (dl !== 0 && dr !== 0 && dl !== dr) {
          this.fail(e.opStart, `'${op}' between ${describeType(dl)} and ${describeType(dr)} is never true`);
        }
        return;
      }
      case 'in':
      case 'not in':
        this.need(e.right, r, LIST | STR, `the right side of '${op}'`);
        if (definite(r) === STR) this.need(e.left, l, STR, `the left side of '${op}' (a substring test)`);
        return;
      case 'contains':
        this.need(e.left, l, LIST | STR, "the left side of 'contains'");
        if (definite(l) === STR)
          this.need(e.right, r, STR, "the right side of 'contains' (a substring test)");
        return;
      case 'startsWith':
      case 'endsWith':
        this.need(e.left, l, STR, `each side of '${op}'`);
        this.need(e.right, r, STR, `each side of '${op}'`);
        return;
    }
  }
}

/** Checks a parsed expression; throws `ExprError` on the first problem. */
export function checkExpression(source: string, ast: Expr, options: CheckOptions = {}): CheckResult {
  const checker = new Checker(source, options);
  const type = checker.type(ast);
  if ((options.condition ?? true) && !allows(type, BOOL)) {
    throw new ExprError(
      source,
      ast.start,
      `a condition must be true/false, but this is ${describeType(type)} (compare it with something)`,
    );
  }
  return { type, roots: checker.used };
}
