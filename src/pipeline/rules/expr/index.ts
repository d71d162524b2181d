/** The rule expression language: parse, check and compile conditions over items, users and context. */
export type { Expr, Literal, Root, CompareOp, ArithmeticOp } from './ast.js';
export { printExpr } from './ast.js';
export { ExprError, MAX_EXPRESSION_DEPTH, MAX_EXPRESSION_LENGTH } from './errors.js';
export { parseExpression } from './parser.js';
export { checkExpression, type CheckOptions, type CheckResult } from './check.js';
export {
  compileExpression,
  type CompiledExpression,
  type ExprContext,
  type ExprEnv,
  type ExprItem,
  type ExprUser,
} from './compile.js';
export { FUNCTIONS, type ExprFunction } from './functions.js';
