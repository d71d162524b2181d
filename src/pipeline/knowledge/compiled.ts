/**
 * Knowledge rules ready for requests: checked, compiled and in the order they apply (priority,
 * highest first; ties keep the order of the rule set, `*` rules before a placement's own), and
 * the evaluation environment of a request.
 */
import { ValidationError } from '../../domain/errors.js';
import type { ExprEnv } from '../rules/expr/compile.js';
import type { RequestContext } from '../types.js';
import { checkKnowledgeRule, DEFAULT_RULE_LIMIT, type CheckedKnowledgeRule } from './schema.js';

export interface CompiledKnowledgeRule extends CheckedKnowledgeRule {
  /** Position in application order. */
  order: number;
  /** Ids of `recommend.items`, for membership tests. */
  listed: ReadonlySet<string>;
  /** Most items proposed from `recommend.where`. */
  limit: number;
}

/** Puts checked rules in application order. */
export function orderKnowledgeRules(checked: readonly CheckedKnowledgeRule[]): CompiledKnowledgeRule[] {
  return checked
    .map((c, k) => ({ c, k }))
    .sort((a, b) => (b.c.rule.priority ?? 0) - (a.c.rule.priority ?? 0) || a.k - b.k)
    .map(({ c }, order) => ({
      ...c,
      order,
      listed: new Set(c.rule.recommend?.items ?? []),
      limit: c.rule.recommend?.limit ?? DEFAULT_RULE_LIMIT,
    }));
}

/**
 * Checks and compiles rules held by the caller (tests, rules from configuration); throws
 * `ValidationError` naming `rules/<i>/<field>` when one is invalid.
 */
export function compileKnowledgeRules(rules: readonly unknown[]): CompiledKnowledgeRule[] {
  const checked: CheckedKnowledgeRule[] = [];
  const errors = [];
  for (let i = 0; i < rules.length; i++) {
    const result = checkKnowledgeRule(rules[i], `rules/${i}`);
    if (result.ok) checked.push(result.rule);
    else errors.push(...result.errors);
  }
  if (errors.length > 0) throw new ValidationError(`${errors[0].field} ${errors[0].message}`, errors);
  return orderKnowledgeRules(checked);
}

/** The environment of a request, with no item yet (set `env.item` per candidate). */
export function requestEnv(ctx: RequestContext): ExprEnv {
  return {
    item: null,
    user: { id: ctx.userId, attributes: ctx.user },
    context: { placement: ctx.placement, attributes: ctx.context },
    now: ctx.now,
  };
}

/** True when the rule is on and its `when` holds for the request in `env`. */
export function ruleApplies(rule: CompiledKnowledgeRule, env: ExprEnv): boolean {
  return rule.rule.enabled !== false && (rule.when === null || rule.when.test(env));
}

/** Where the rules of a request come from: re-read per request, so edits apply at once. */
export type KnowledgeRules = (placement: string) => readonly CompiledKnowledgeRule[];
