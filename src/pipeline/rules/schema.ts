/**
 * Wire format of a business rule and its validation. Errors name the offending field (`where`,
 * `slot`, `rules/2/startsAt`) in the `FieldError` shape of the HTTP API.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler, ValueErrorType } from '@sinclair/typebox/compiler';
import type { FieldError } from '../../domain/errors.js';
import { parseIsoTimestamp } from '../../ingest/timestamps.js';
import { compileExpression, type CompiledExpression } from './expr/compile.js';
import { ExprError, MAX_EXPRESSION_LENGTH } from './expr/errors.js';

export const RULE_ACTIONS = ['boost', 'bury', 'pin', 'filter'] as const;
export type RuleAction = (typeof RULE_ACTIONS)[number];

/** Most rules one placement's rule set may hold. */
export const MAX_RULES_PER_SET = 200;
/** Highest slot a pin rule may ask for. */
export const MAX_SLOT = 1000;

/** The placement name that makes a rule apply to every placement. */
export const ANY_PLACEMENT = '*';

const ID_PATTERN = '^[A-Za-z0-9_.:-]{1,128}$';
const PLACEMENT_PATTERN = '^(\\*|[A-Za-z0-9_.:/-]{1,128})$';

export const RuleSchema = Type.Object(
  {
    id: Type.String({ pattern: ID_PATTERN, description: 'Unique within the placement' }),
    placement: Type.String({
      pattern: PLACEMENT_PATTERN,
      description: "The placement the rule belongs to, or '*' for every placement",
    }),
    action: Type.Union(
      RULE_ACTIONS.map((a) => Type.Literal(a)),
      { description: 'boost or bury change scores, pin puts an item at a slot, filter removes items' },
    ),
    when: Type.Optional(
      Type.String({
        maxLength: MAX_EXPRESSION_LENGTH,
        description: 'Condition over user, context and now; the rule applies to a request only when true',
      }),
    ),
    where: Type.String({
      maxLength: MAX_EXPRESSION_LENGTH,
      description: 'Condition over item (and user, context, now) selecting the items the rule acts on',
    }),
    weight: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description: 'boost/bury strength: a factor (multiply, default 2) or an amount (add)',
      }),
    ),
    weightMode: Type.Optional(
      Type.Union([Type.Literal('multiply'), Type.Literal('add')], {
        description: "How weight changes scores: 'multiply' (default) or 'add'",
      }),
    ),
    slot: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_SLOT, description: 'pin: the 1-based position' }),
    ),
    startsAt: Type.Optional(
      Type.String({ description: 'ISO 8601 date-time the rule starts at (inclusive)' }),
    ),
    endsAt: Type.Optional(Type.String({ description: 'ISO 8601 date-time the rule ends at (exclusive)' })),
    enabled: Type.Boolean(),
    priority: Type.Optional(
      Type.Number({
        description: 'Higher first; decides the order of pins and of score changes (default 0)',
      }),
    ),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type Rule = Static<typeof RuleSchema>;

const MESSAGES: Record<string, string> = {
  id: 'must be 1 to 128 letters, digits or _ . : -',
  placement: "must be a placement name (1 to 128 letters, digits or _ . : / -) or '*'",
  action: `must be one of ${RULE_ACTIONS.join(', ')}`,
  when: `must be an expression of at most ${MAX_EXPRESSION_LENGTH} characters`,
  where: `must be an expression of at most ${MAX_EXPRESSION_LENGTH} characters`,
  weight: 'must be a number greater than 0',
  weightMode: "must be 'multiply' or 'add'",
  slot: `must be an integer from 1 to ${MAX_SLOT}`,
  startsAt: 'must be an ISO 8601 date-time',
  endsAt: 'must be an ISO 8601 date-time',
  enabled: 'must be true or false',
  priority: 'must be a number',
  description: 'must be a string of at most 1000 characters',
};

const ALLOWED = Object.keys(MESSAGES).join(', ');

let checker: ReturnType<typeof TypeCompiler.Compile<typeof RuleSchema>> | undefined;

/** Names that `when` may not use, and why. */
const WHEN_HINT =
  "a 'when' condition is checked once per request and can use only user, context and now; " +
  "put conditions on the item in 'where'";

/** A rule that passed validation, with its expressions compiled and its times parsed. */
export interface CheckedRule {
  rule: Rule;
  when: CompiledExpression | null;
  where: CompiledExpression;
  /** Epoch ms, or null when open. */
  startsAt: number | null;
  endsAt: number | null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(prefix: string, field: string): string {
  return prefix === '' ? field : `${prefix}/${field}`;
}

function expression(
  source: string,
  field: 'when' | 'where',
  prefix: string,
  errors: FieldError[],
): CompiledExpression | null {
  try {
    return field === 'when'
      ? compileExpression(source, { roots: ['user', 'context', 'now'], rootHint: WHEN_HINT })
      : compileExpression(source);
  } catch (err) {
    if (!(err instanceof ExprError)) throw err;
    errors.push({ field: join(prefix, field), message: err.message });
    return null;
  }
}

/**
 * Validates one rule. Returns the checked rule, or the problems found, each naming its field
 * (prefixed by `prefix`, e.g. `rules/3`).
 */
export function checkRule(
  input: unknown,
  prefix = '',
): { ok: true; rule: CheckedRule } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];
  if (!isPlainObject(input)) {
    return {
      ok: false,
      errors: [{ field: prefix === '' ? '(rule)' : prefix, message: 'must be an object' }],
    };
  }
  checker ??= TypeCompiler.Compile(RuleSchema);
  if (!checker.Check(input)) {
    const seen = new Set<string>();
    for (const e of checker.Errors(input)) {
      const name = e.path.split('/')[1] ?? '';
      const field = join(prefix, name === '' ? '(rule)' : name);
      if (seen.has(field)) continue;
      seen.add(field);
      let message: string;
      if (e.type === ValueErrorType.ObjectAdditionalProperties)
        message = `is not a known field (allowed: ${ALLOWED})`;
      else if (e.type === ValueErrorType.ObjectRequiredProperty) message = 'is required';
      else message = MESSAGES[name] ?? e.message;
      errors.push({ field, message });
    }
    return { ok: false, errors };
  }
  const rule: Rule = input;
  const field = (name: string): string => join(prefix, name);

  const where = expression(rule.where, 'where', prefix, errors);
  const when = rule.when === undefined ? null : expression(rule.when, 'when', prefix, errors);

  const time = (name: 'startsAt' | 'endsAt'): number | null => {
    const text = rule[name];
    if (text === undefined) return null;
    const ms = parseIsoTimestamp(text);
    if (Number.isNaN(ms)) {
      errors.push({ field: field(name), message: MESSAGES[name] });
      return null;
    }
    return ms;
  };
  const startsAt = time('startsAt');
  const endsAt = time('endsAt');
  if (startsAt !== null && endsAt !== null && endsAt <= startsAt) {
    errors.push({ field: field('endsAt'), message: 'must be after startsAt' });
  }

  if (rule.action === 'pin') {
    if (rule.slot === undefined) errors.push({ field: field('slot'), message: 'is required for a pin rule' });
  } else if (rule.slot !== undefined) {
    errors.push({ field: field('slot'), message: 'is only for pin rules' });
  }
  if (rule.action === 'boost' || rule.action === 'bury') {
    const mode = rule.weightMode ?? 'multiply';
    if (mode === 'add' && rule.weight === undefined) {
      errors.push({ field: field('weight'), message: "is required when weightMode is 'add'" });
    }
    if (mode === 'multiply' && rule.weight !== undefined && rule.weight < 1) {
      errors.push({
        field: field('weight'),
        message: `must be at least 1 for weightMode 'multiply' (a ${rule.action} rule ${rule.action === 'boost' ? 'multiplies' : 'divides'} scores by it)`,
      });
    }
  } else {
    if (rule.weight !== undefined)
      errors.push({ field: field('weight'), message: 'is only for boost and bury rules' });
    if (rule.weightMode !== undefined) {
      errors.push({ field: field('weightMode'), message: 'is only for boost and bury rules' });
    }
  }

  if (errors.length > 0 || where === null) return { ok: false, errors };
  return { ok: true, rule: { rule, when, where, startsAt, endsAt } };
}

/** True when `name` is a valid placement name or '*'. */
export function isPlacementName(name: string): boolean {
  return new RegExp(PLACEMENT_PATTERN).test(name);
}

/**
 * Validates the rule list of one placement's rule set: each rule, their number, unique ids, and
 * that each rule's placement is the set's. Field names are `<prefix>/<index>/<field>`.
 */
export function checkRuleList(
  placement: string,
  input: unknown,
  prefix = 'rules',
): { ok: true; rules: CheckedRule[] } | { ok: false; errors: FieldError[] } {
  if (!Array.isArray(input))
    return { ok: false, errors: [{ field: prefix, message: 'must be an array of rules' }] };
  if (input.length > MAX_RULES_PER_SET) {
    return {
      ok: false,
      errors: [{ field: prefix, message: `must hold at most ${MAX_RULES_PER_SET} rules` }],
    };
  }
  const errors: FieldError[] = [];
  const rules: CheckedRule[] = [];
  const ids = new Map<string, number>();
  input.forEach((raw: unknown, i) => {
    const at = `${prefix}/${i}`;
    const result = checkRule(raw, at);
    if (!result.ok) {
      errors.push(...result.errors);
      return;
    }
    const { rule } = result.rule;
    if (rule.placement !== placement) {
      errors.push({
        field: `${at}/placement`,
        message: `must be '${placement}', the placement of this rule set`,
      });
    }
    const first = ids.get(rule.id);
    if (first !== undefined) {
      errors.push({ field: `${at}/id`, message: `'${rule.id}' is already used by ${prefix}/${first}` });
    } else ids.set(rule.id, i);
    rules.push(result.rule);
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, rules };
}
