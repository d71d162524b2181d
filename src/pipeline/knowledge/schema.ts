/**
 * Wire format of a knowledge rule and its validation. A knowledge rule recommends from explicit
 * knowledge ("a free plan with more than 5 seats: recommend the team plan") and states
 * constraints every recommended item must meet (compatibility, price range). Errors name the
 * offending field (`recommend/where`, `rules/2/reason`) in the `FieldError` shape of the HTTP API.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler, ValueErrorType } from '@sinclair/typebox/compiler';
import type { FieldError } from '../../domain/errors.js';
import { compileExpression, type CompiledExpression } from '../rules/expr/compile.js';
import { ExprError, MAX_EXPRESSION_LENGTH } from '../rules/expr/errors.js';
import { compileReason, type ReasonTemplate } from './reason.js';

/** Most rules one knowledge rule set may hold. */
export const MAX_KNOWLEDGE_RULES = 500;
/** Most items one rule may list. */
export const MAX_LISTED_ITEMS = 100;
/** Most items one rule proposes from its `where` condition (default). */
export const DEFAULT_RULE_LIMIT = 50;

const ID_PATTERN = '^[A-Za-z0-9_.:-]{1,128}$';

export const KnowledgeRuleSchema = Type.Object(
  {
    id: Type.String({ pattern: ID_PATTERN, description: 'Unique within the rule set' }),
    when: Type.Optional(
      Type.String({
        maxLength: MAX_EXPRESSION_LENGTH,
        description: 'Condition over user, context and now; the rule applies only when it is true',
      }),
    ),
    recommend: Type.Optional(
      Type.Object(
        {
          items: Type.Optional(
            Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
              minItems: 1,
              maxItems: MAX_LISTED_ITEMS,
              description: 'Item ids to recommend, best first',
            }),
          ),
          where: Type.Optional(
            Type.String({
              maxLength: MAX_EXPRESSION_LENGTH,
              description: 'Condition over item (and user, context, now): the items to recommend',
            }),
          ),
          limit: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 1000,
              description: `Most items proposed from 'where' (default ${DEFAULT_RULE_LIMIT})`,
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    reason: Type.String({
      minLength: 1,
      maxLength: 500,
      description: 'Shown with the items; {user.x}, {item.title}, {context.x} are filled in',
    }),
    constraints: Type.Optional(
      Type.String({
        maxLength: MAX_EXPRESSION_LENGTH,
        description: 'Condition over item and user every recommended item must meet (others are removed)',
      }),
    ),
    priority: Type.Optional(Type.Number({ description: 'Higher first (default 0)' })),
    enabled: Type.Optional(Type.Boolean({ description: 'false keeps the rule but switches it off' })),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type KnowledgeRule = Static<typeof KnowledgeRuleSchema>;

const MESSAGES: Record<string, string> = {
  id: 'must be 1 to 128 letters, digits or _ . : -',
  when: `must be an expression of at most ${MAX_EXPRESSION_LENGTH} characters`,
  recommend: 'must be an object { items?, where?, limit? }',
  'recommend/items': `must be a list of 1 to ${MAX_LISTED_ITEMS} item ids`,
  'recommend/where': `must be an expression of at most ${MAX_EXPRESSION_LENGTH} characters`,
  'recommend/limit': 'must be an integer from 1 to 1000',
  reason: 'must be a text of 1 to 500 characters',
  constraints: `must be an expression of at most ${MAX_EXPRESSION_LENGTH} characters`,
  priority: 'must be a number',
  enabled: 'must be true or false',
  description: 'must be a string of at most 1000 characters',
};

const ALLOWED = 'id, when, recommend, reason, constraints, priority, enabled, description';

/** A rule that passed validation, with its expressions and reason compiled. */
export interface CheckedKnowledgeRule {
  rule: KnowledgeRule;
  when: CompiledExpression | null;
  where: CompiledExpression | null;
  constraints: CompiledExpression | null;
  reason: ReasonTemplate;
}

const WHEN_HINT =
  "a 'when' condition is checked once per request and can use only user, context and now; " +
  "put conditions on the item in 'recommend.where' or 'constraints'";

let checker: ReturnType<typeof TypeCompiler.Compile<typeof KnowledgeRuleSchema>> | undefined;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(prefix: string, field: string): string {
  return prefix === '' ? field : `${prefix}/${field}`;
}

/** The field a schema error is about: `recommend/items` for `/recommend/items/3`. */
function fieldOfPath(path: string): string {
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'recommend' && parts.length > 1) return `recommend/${parts[1]}`;
  return parts[0] ?? '';
}

/**
 * Validates one knowledge rule. Returns the checked rule, or the problems found, each naming its
 * field (prefixed by `prefix`, e.g. `rules/3`).
 */
export function checkKnowledgeRule(
  input: unknown,
  prefix = '',
): { ok: true; rule: CheckedKnowledgeRule } | { ok: false; errors: FieldError[] } {
  if (!isPlainObject(input)) {
    return {
      ok: false,
      errors: [{ field: prefix === '' ? '(rule)' : prefix, message: 'must be an object' }],
    };
  }
  checker ??= TypeCompiler.Compile(KnowledgeRuleSchema);
  if (!checker.Check(input)) {
    const errors: FieldError[] = [];
    const seen = new Set<string>();
    for (const e of checker.Errors(input)) {
      const name = fieldOfPath(e.path);
      const field = join(prefix, name === '' ? '(rule)' : name);
      if (seen.has(field)) continue;
      seen.add(field);
      let message: string;
      if (e.type === ValueErrorType.ObjectAdditionalProperties)
        message = name.startsWith('recommend/')
          ? 'is not a known field (allowed: items, where, limit)'
          : `is not a known field (allowed: ${ALLOWED})`;
      else if (e.type === ValueErrorType.ObjectRequiredProperty) message = 'is required';
      else message = MESSAGES[name] ?? e.message;
      errors.push({ field, message });
    }
    return { ok: false, errors };
  }
  const rule: KnowledgeRule = input;
  const errors: FieldError[] = [];
  const field = (name: string): string => join(prefix, name);

  const compile = (
    source: string | undefined,
    name: string,
    roots?: 'request',
  ): CompiledExpression | null => {
    if (source === undefined) return null;
    try {
      return roots === 'request'
        ? compileExpression(source, { roots: ['user', 'context', 'now'], rootHint: WHEN_HINT })
        : compileExpression(source);
    } catch (err) {
      if (!(err instanceof ExprError)) throw err;
      errors.push({ field: field(name), message: err.message });
      return null;
    }
  };
  const when = compile(rule.when, 'when', 'request');
  const where = compile(rule.recommend?.where, 'recommend/where');
  const constraints = compile(rule.constraints, 'constraints');
  let reason: ReasonTemplate | null = null;
  try {
    reason = compileReason(rule.reason);
  } catch (err) {
    if (!(err instanceof ExprError)) throw err;
    errors.push({ field: field('reason'), message: err.message });
  }

  if (rule.recommend !== undefined) {
    if (rule.recommend.items === undefined && rule.recommend.where === undefined)
      errors.push({ field: field('recommend'), message: 'needs items, where or both' });
    if (rule.recommend.limit !== undefined && rule.recommend.where === undefined)
      errors.push({ field: field('recommend/limit'), message: "is only for rules with 'where'" });
  } else if (rule.constraints === undefined) {
    errors.push({
      field: field('recommend'),
      message: 'is required unless the rule has constraints (a rule recommends, constrains or both)',
    });
  }

  if (errors.length > 0 || reason === null) return { ok: false, errors };
  return { ok: true, rule: { rule, when, where, constraints, reason } };
}

/**
 * Validates the rule list of one knowledge rule set: each rule, their number and unique ids.
 * Field names are `<prefix>/<index>/<field>`.
 */
export function checkKnowledgeRuleList(
  input: unknown,
  prefix = 'rules',
): { ok: true; rules: CheckedKnowledgeRule[] } | { ok: false; errors: FieldError[] } {
  if (!Array.isArray(input))
    return { ok: false, errors: [{ field: prefix, message: 'must be an array of rules' }] };
  if (input.length > MAX_KNOWLEDGE_RULES)
    return {
      ok: false,
      errors: [{ field: prefix, message: `must hold at most ${MAX_KNOWLEDGE_RULES} rules` }],
    };
  const errors: FieldError[] = [];
  const rules: CheckedKnowledgeRule[] = [];
  const ids = new Map<string, number>();
  input.forEach((raw: unknown, i) => {
    const at = `${prefix}/${i}`;
    const result = checkKnowledgeRule(raw, at);
    if (!result.ok) {
      errors.push(...result.errors);
      return;
    }
    const { id } = result.rule.rule;
    const first = ids.get(id);
    if (first !== undefined)
      errors.push({ field: `${at}/id`, message: `'${id}' is already used by ${prefix}/${first}` });
    else ids.set(id, i);
    rules.push(result.rule);
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, rules };
}
