/**
 * Business rules per placement: boost, bury, pin and filter items with conditions written in a
 * small expression language (see docs/rules.md), versioned per placement.
 */
export * from './expr/index.js';
export {
  applyRules,
  withOrder,
  type ApplyRulesContext,
  type CompiledRule,
  type RuleRequestContext,
  type RuleTraceEntry,
  type RulesOutcome,
  type ScoredCandidate,
  type SkipReason,
} from './apply.js';
export {
  ANY_PLACEMENT,
  checkRule,
  checkRuleList,
  isPlacementName,
  MAX_RULES_PER_SET,
  MAX_SLOT,
  RULE_ACTIONS,
  RuleSchema,
  type CheckedRule,
  type Rule,
  type RuleAction,
} from './schema.js';
export {
  InMemoryRuleRepository,
  type RuleRepository,
  type RuleSetSummary,
  type RuleSetVersion,
} from './repository.js';
export { FileRuleRepository } from './file-repository.js';
export { RuleService, type EditOptions, type RuleServiceOptions } from './service.js';
export { compileRules } from './compile-rules.js';
