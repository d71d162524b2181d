/** Syntax tree of a rule expression. Every node records where it starts and ends in the source. */

export type Literal = string | number | boolean | null;

export type CompareOp =
  '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in' | 'contains' | 'startsWith' | 'endsWith';

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%';

/** The names an expression may start a path from. `now` is the request time in epoch ms. */
export type Root = 'item' | 'user' | 'context' | 'now';

interface Span {
  start: number;
  end: number;
}

export interface LiteralNode extends Span {
  type: 'literal';
  value: Literal;
}

export interface ArrayNode extends Span {
  type: 'array';
  elements: Expr[];
}

/** `item.attributes.brand`, `user.tags[0]`: a root name followed by field names or indices. */
export interface PathNode extends Span {
  type: 'path';
  root: string;
  segments: (string | number)[];
}

export interface CallNode extends Span {
  type: 'call';
  name: string;
  args: Expr[];
}

export interface NotNode extends Span {
  type: 'not';
  operand: Expr;
}

export interface NegateNode extends Span {
  type: 'negate';
  operand: Expr;
}

/** `a and b and c`: chains of the same connective are one node with all operands. */
export interface LogicalNode extends Span {
  type: 'and' | 'or';
  operands: Expr[];
}

export interface CompareNode extends Span {
  type: 'compare';
  op: CompareOp;
  /** Start of the operator, for error messages. */
  opStart: number;
  left: Expr;
  right: Expr;
}

export interface ArithmeticNode extends Span {
  type: 'arithmetic';
  op: ArithmeticOp;
  opStart: number;
  left: Expr;
  right: Expr;
}

export type Expr =
  | LiteralNode
  | ArrayNode
  | PathNode
  | CallNode
  | NotNode
  | NegateNode
  | LogicalNode
  | CompareNode
  | ArithmeticNode;

/** Depth of a tree: 1 for a leaf. */
export function depthOf(e: Expr): number {
  switch (e.type) {
    case 'literal':
    case 'path':
      return 1;
    case 'array':
    case 'call':
    case 'and':
    case 'or': {
      const children = e.type === 'array' ? e.elements : e.type === 'call' ? e.args : e.operands;
      let d = 0;
      for (const c of children) d = Math.max(d, depthOf(c));
      return d + 1;
    }
    case 'not':
    case 'negate':
      return depthOf(e.operand) + 1;
    default:
      return Math.max(depthOf(e.left), depthOf(e.right)) + 1;
  }
}

/** Renders a tree back to fully parenthesised source, for tests and debugging. */
export function printExpr(e: Expr): string {
  switch (e.type) {
    case 'literal':
      return typeof e.value === 'string' ? JSON.stringify(e.value) : String(e.value);
    case 'array':
      return `[${e.elements.map(printExpr).join(', ')}]`;
    case 'path':
      return (
        e.root +
        e.segments
          .map((s) =>
            typeof s === 'number'
              ? `[${s}]`
              : /^[A-Za-z_$][\w$]*$/.test(s)
                ? `.${s}`
                : `[${JSON.stringify(s)}]`,
          )
          .join('')
      );
    case 'call':
      return `${e.name}(${e.args.map(printExpr).join(', ')})`;
    case 'not':
      return `(not ${printExpr(e.operand)})`;
    case 'negate':
      return `(-${printExpr(e.operand)})`;
    case 'and':
    case 'or':
      return `(${e.operands.map(printExpr).join(` ${e.type} `)})`;
    default:
      return `(${printExpr(e.left)} ${e.op} ${printExpr(e.right)})`;
  }
}
