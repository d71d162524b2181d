/** Checks and compiles a list of rules held by the caller, for `applyRules`. */
import { ValidationError } from '../../domain/errors.js';
import { withOrder, type CompiledRule } from './apply.js';
import { checkRule, type CheckedRule } from './schema.js';

/**
 * Compiles `rules` in order; throws `ValidationError` naming `rules/<i>/<field>` when one is
 * invalid. Rule sets from `RuleService.rulesFor` are compiled already.
 */
export function compileRules(rules: readonly unknown[]): CompiledRule[] {
  const checked: CheckedRule[] = [];
  const errors = [];
  for (let i = 0; i < rules.length; i++) {
    const result = checkRule(rules[i], `rules/${i}`);
    if (result.ok) checked.push(result.rule);
    else errors.push(...result.errors);
  }
  if (errors.length > 0) throw new ValidationError(`${errors[0].field} ${errors[0].message}`, errors);
  return withOrder(checked);
}
