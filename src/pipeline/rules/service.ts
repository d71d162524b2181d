/**
 * Versioned, validated editing of the rules of each placement, and the compiled rules a request
 * needs. Every edit (replace, upsert, remove, roll back) stores a new version; old versions stay
 * readable. A roll-back stores a new version whose rules are a copy of an older one.
 */
import { NotFoundError, ValidationError, type FieldError } from '../../domain/errors.js';
import { withOrder, type CompiledRule } from './apply.js';
import type { RuleRepository, RuleSetSummary, RuleSetVersion } from './repository.js';
import { ANY_PLACEMENT, checkRule, checkRuleList, isPlacementName, type Rule } from './schema.js';

export interface EditOptions {
  /**
   * The version the edit is based on (0: the placement has none yet). When given and the stored
   * version differs, the edit fails with a `ConflictError` instead of overwriting someone's change.
   */
  expectedVersion?: number;
  comment?: string;
  author?: string;
}

export interface RuleServiceOptions {
  /** Clock for `createdAt` of new versions (default `Date.now`). */
  clock?: () => number;
}

interface CacheEntry {
  version: number;
  rules: CompiledRule[];
}

function invalid(errors: FieldError[]): ValidationError {
  const first = errors[0];
  return new ValidationError(
    first === undefined ? 'invalid rules' : `${first.field} ${first.message}`,
    errors,
  );
}

function checkPlacement(placement: string): void {
  if (!isPlacementName(placement)) {
    throw invalid([
      {
        field: 'placement',
        message: "must be a placement name (1 to 128 letters, digits or _ . : / -) or '*'",
      },
    ]);
  }
}

export class RuleService {
  private readonly clock: () => number;
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    readonly repository: RuleRepository,
    options: RuleServiceOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
  }

  placements(): Promise<string[]> {
    return this.repository.placements();
  }

  /** The newest version of a placement's rules, or undefined when it has none. */
  latest(placement: string): Promise<RuleSetVersion | undefined> {
    return this.repository.latest(placement);
  }

  /** One version; `NotFoundError` when it does not exist. */
  async version(placement: string, version: number): Promise<RuleSetVersion> {
    const set = await this.repository.get(placement, version);
    if (set === undefined) throw new NotFoundError(`version of rule set '${placement}'`, version);
    return set;
  }

  history(placement: string): Promise<RuleSetSummary[]> {
    return this.repository.history(placement);
  }

  /** Replaces all rules of `placement` with `rules` (validated; field names `rules/<i>/<field>`). */
  async replace(placement: string, rules: unknown, options: EditOptions = {}): Promise<RuleSetVersion> {
    checkPlacement(placement);
    const checked = checkRuleList(placement, rules);
    if (!checked.ok) throw invalid(checked.errors);
    return this.store(
      placement,
      checked.rules.map((r) => r.rule),
      options,
    );
  }

  /** Adds `rule`, or replaces the rule with its id (validated; field names are the rule's). */
  async upsertRule(placement: string, rule: unknown, options: EditOptions = {}): Promise<RuleSetVersion> {
    checkPlacement(placement);
    const checked = checkRule(rule);
    if (!checked.ok) throw invalid(checked.errors);
    const next = checked.rule.rule;
    if (next.placement !== placement) {
      throw invalid([
        { field: 'placement', message: `must be '${placement}', the placement of this rule set` },
      ]);
    }
    const current = await this.current(placement);
    const rules = current?.rules.slice() ?? [];
    const at = rules.findIndex((r) => r.id === next.id);
    if (at >= 0) rules[at] = next;
    else rules.push(next);
    const all = checkRuleList(placement, rules);
    if (!all.ok) throw invalid(all.errors);
    return this.store(placement, rules, options, current?.version ?? 0);
  }

  /** Removes the rule `ruleId`; `NotFoundError` when there is none. */
  async removeRule(placement: string, ruleId: string, options: EditOptions = {}): Promise<RuleSetVersion> {
    const current = await this.current(placement);
    const rules = current?.rules ?? [];
    if (!rules.some((r) => r.id === ruleId)) throw new NotFoundError(`rule in '${placement}'`, ruleId);
    return this.store(
      placement,
      rules.filter((r) => r.id !== ruleId),
      options,
      current?.version ?? 0,
    );
  }

  /**
   * Stores a new version with the rules of `version` (checked again, as the language may have
   * changed since). History is kept: rolling back to 3 from 7 makes version 8.
   */
  async rollback(placement: string, version: number, options: EditOptions = {}): Promise<RuleSetVersion> {
    const old = await this.version(placement, version);
    const checked = checkRuleList(placement, old.rules);
    if (!checked.ok) throw invalid(checked.errors);
    return this.store(placement, old.rules, options, undefined, version);
  }

  /**
   * The compiled rules for a request on `placement`: the rules of '*' first, then its own.
   * Compiled once per version; stored rules that no longer compile are left out.
   */
  async rulesFor(placement: string): Promise<CompiledRule[]> {
    const global = await this.compiled(ANY_PLACEMENT);
    if (placement === ANY_PLACEMENT) return global;
    const own = await this.compiled(placement);
    if (global.length === 0) return own;
    if (own.length === 0) return global;
    return [...global, ...own.map((r, k) => ({ ...r, order: global.length + k }))];
  }

  private async compiled(placement: string): Promise<CompiledRule[]> {
    const set = await this.repository.latest(placement);
    if (set === undefined) return [];
    const hit = this.cache.get(placement);
    if (hit !== undefined && hit.version === set.version) return hit.rules;
    const checked = [];
    for (const rule of set.rules) {
      const result = checkRule(rule);
      if (result.ok) checked.push(result.rule);
    }
    const rules = withOrder(checked);
    this.cache.set(placement, { version: set.version, rules });
    return rules;
  }

  private async current(placement: string): Promise<RuleSetVersion | undefined> {
    checkPlacement(placement);
    return this.repository.latest(placement);
  }

  private async store(
    placement: string,
    rules: Rule[],
    options: EditOptions,
    readVersion?: number,
    restoredFrom?: number,
  ): Promise<RuleSetVersion> {
    const stored = readVersion ?? (await this.repository.latest(placement))?.version ?? 0;
    const base = options.expectedVersion ?? stored;
    const set: RuleSetVersion = {
      placement,
      version: base + 1,
      rules,
      createdAt: new Date(this.clock()).toISOString(),
    };
    if (options.comment !== undefined) set.comment = options.comment;
    if (options.author !== undefined) set.author = options.author;
    if (restoredFrom !== undefined) set.restoredFrom = restoredFrom;
    // The repository refuses a version that is not the next one: a concurrent edit or a stale
    // expectedVersion ends in a ConflictError.
    await this.repository.append(set);
    return set;
  }
}
