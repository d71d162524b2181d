/**
 * The reason a knowledge rule shows with its items: plain text with `{...}` placeholders, each an
 * expression of the rule language (`{user.plan}`, `{item.title}`, `{user.seats - 5}`), compiled
 * once when the rule is saved.
 */
import { compileExpression, type CompiledExpression, type ExprEnv } from '../rules/expr/compile.js';
import { ExprError } from '../rules/expr/errors.js';

export interface ReasonTemplate {
  readonly source: string;
  /** The text for one user, request and (where the reason names it) item. */
  render(env: ExprEnv): string;
}

const PLACEHOLDER = /\{([^{}]*)\}/g;

/** How a placeholder's value reads: null as nothing, lists joined with commas. */
function show(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(show).join(', ');
  if (typeof value === 'object') return '';
  return String(value);
}

/**
 * Compiles the placeholders of `source`. Throws `ExprError`, positioned in `source`, when one is
 * not a valid expression.
 */
export function compileReason(source: string): ReasonTemplate {
  const parts: (string | CompiledExpression)[] = [];
  let last = 0;
  for (const m of source.matchAll(PLACEHOLDER)) {
    const at = m.index;
    if (at > last) parts.push(source.slice(last, at));
    try {
      parts.push(compileExpression(m[1], { condition: false }));
    } catch (err) {
      if (!(err instanceof ExprError)) throw err;
      throw new ExprError(source, at + 1 + err.offset, `${err.reason} in placeholder {${m[1]}}`, err.found);
    }
    last = at + m[0].length;
  }
  if (last < source.length) parts.push(source.slice(last));
  if (parts.every((p) => typeof p === 'string')) {
    const text = parts.join('');
    return { source, render: () => text };
  }
  return {
    source,
    render: (env) => {
      let out = '';
      for (const p of parts) out += typeof p === 'string' ? p : show(p.evaluate(env));
      return out;
    },
  };
}
