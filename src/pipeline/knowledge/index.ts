/**
 * Knowledge-based recommendation: declarative rules that recommend from explicit knowledge and
 * constrain what may be recommended, with the reason shown (see docs/knowledge.md).
 */
export {
  checkKnowledgeRule,
  checkKnowledgeRuleList,
  DEFAULT_RULE_LIMIT,
  KnowledgeRuleSchema,
  MAX_KNOWLEDGE_RULES,
  MAX_LISTED_ITEMS,
  type CheckedKnowledgeRule,
  type KnowledgeRule,
} from './schema.js';
export { compileReason, type ReasonTemplate } from './reason.js';
export {
  compileKnowledgeRules,
  orderKnowledgeRules,
  requestEnv,
  ruleApplies,
  type CompiledKnowledgeRule,
  type KnowledgeRules,
} from './compiled.js';
export { KnowledgeSource, type KnowledgeSourceOptions } from './knowledge-source.js';
export { ConstraintFilter } from './constraint-filter.js';
export { KnowledgeService, type KnowledgeEditOptions, type KnowledgeRuleSet } from './service.js';
