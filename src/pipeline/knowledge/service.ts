/**
 * Versioned, validated editing of knowledge rule sets, one per placement and one for `*` (every
 * placement), kept in a rule repository (`FileRuleRepository` on its own file, or in memory):
 * every edit stores a new version, old versions stay readable, a roll-back stores an old
 * version's rules as the newest. The rules a request needs are compiled once per version.
 */
import { NotFoundError, ValidationError, type FieldError } from '../../domain/errors.js';
import { FileRuleRepository } from '../rules/file-repository.js';
import type { Rule } from '../rules/schema.js';
import type { RuleRepository, RuleSetSummary, RuleSetVersion } from '../rules/repository.js';
import { ANY_PLACEMENT, isPlacementName } from '../rules/schema.js';
import { orderKnowledgeRules, type CompiledKnowledgeRule } from './compiled.js';
import {
  checkKnowledgeRule,
  checkKnowledgeRuleList,
  type CheckedKnowledgeRule,
  type KnowledgeRule,
} from './schema.js';

/** One version of a knowledge rule set. */
export interface KnowledgeRuleSet extends Omit<RuleSetVersion, 'rules'> {
  rules: KnowledgeRule[];
}

export interface KnowledgeEditOptions {
  /** The version the edit is based on (0: none yet); a different stored version is a ConflictError. */
  expectedVersion?: number;
  comment?: string;
  author?: string;
}

/*
 * The repository stores each version's rule list as JSON and never looks inside it; its element
 * type is the business rule's. Knowledge rules pass through these two functions only, and are
 * validated again whenever they are compiled.
 */
function toStored(rules: KnowledgeRule[]): Rule[] {
  return rules as unknown as Rule[];
}

function fromStored(set: RuleSetVersion): KnowledgeRuleSet {
  return { ...set, rules: set.rules as unknown as KnowledgeRule[] };
}

function invalid(errors: FieldError[]): ValidationError {
  const first = errors[0];
  return new ValidationError(
    first === undefined ? 'invalid knowledge rules' : `${first.field} ${first.message}`,
    errors,
  );
}

function checkPlacement(placement: string): void {
  if (!isPlacementName(placement))
    throw invalid([
      {
        field: 'placement',
        message: "must be a placement name (1 to 128 letters, digits or _ . : / -) or '*'",
      },
    ]);
}

export class KnowledgeService {
  private readonly clock: () => number;
  private readonly checkedSets = new Map<string, { version: number; rules: CheckedKnowledgeRule[] }>();
  private current = new Map<string, readonly CompiledKnowledgeRule[]>();
  private readonly ordered = new Map<string, { versions: string; rules: CompiledKnowledgeRule[] }>();

  constructor(
    readonly repository: RuleRepository,
    options: { clock?: () => number } = {},
  ) {
    this.clock = options.clock ?? Date.now;
  }

  /** Knowledge rules kept in one JSON file (e.g. `<data dir>/knowledge.json`). */
  static inFile(file: string, options: { clock?: () => number } = {}): KnowledgeService {
    return new KnowledgeService(new FileRuleRepository(file), options);
  }

  /** Placements (and `*`) with at least one version. */
  placements(): Promise<string[]> {
    return this.repository.placements();
  }

  async latest(placement: string): Promise<KnowledgeRuleSet | undefined> {
    const set = await this.repository.latest(placement);
    return set === undefined ? undefined : fromStored(set);
  }

  /** One version; `NotFoundError` when it does not exist. */
  async version(placement: string, version: number): Promise<KnowledgeRuleSet> {
    const set = await this.repository.get(placement, version);
    if (set === undefined) throw new NotFoundError(`version of knowledge rule set '${placement}'`, version);
    return fromStored(set);
  }

  history(placement: string): Promise<RuleSetSummary[]> {
    return this.repository.history(placement);
  }

  /** Replaces every rule of the set (validated; field names `rules/<i>/<field>`). */
  async replace(
    placement: string,
    rules: unknown,
    options: KnowledgeEditOptions = {},
  ): Promise<KnowledgeRuleSet> {
    checkPlacement(placement);
    const checked = checkKnowledgeRuleList(rules);
    if (!checked.ok) throw invalid(checked.errors);
    return this.store(
      placement,
      checked.rules.map((r) => r.rule),
      options,
    );
  }

  /** Adds `rule`, or replaces the rule with its id (validated; field names are the rule's). */
  async upsertRule(
    placement: string,
    rule: unknown,
    options: KnowledgeEditOptions = {},
  ): Promise<KnowledgeRuleSet> {
    checkPlacement(placement);
    const checked = checkKnowledgeRule(rule);
    if (!checked.ok) throw invalid(checked.errors);
    const next = checked.rule.rule;
    const current = await this.latest(placement);
    const rules = current?.rules.slice() ?? [];
    const at = rules.findIndex((r) => r.id === next.id);
    if (at >= 0) rules[at] = next;
    else rules.push(next);
    const all = checkKnowledgeRuleList(rules);
    if (!all.ok) throw invalid(all.errors);
    return this.store(placement, rules, options, current?.version ?? 0);
  }

  /** Removes the rule `ruleId`; `NotFoundError` when there is none. */
  async removeRule(
    placement: string,
    ruleId: string,
    options: KnowledgeEditOptions = {},
  ): Promise<KnowledgeRuleSet> {
    checkPlacement(placement);
    const current = await this.latest(placement);
    const rules = current?.rules ?? [];
    if (!rules.some((r) => r.id === ruleId))
      throw new NotFoundError(`knowledge rule in '${placement}'`, ruleId);
    return this.store(
      placement,
      rules.filter((r) => r.id !== ruleId),
      options,
      current?.version ?? 0,
    );
  }

  /** Stores the rules of `version` (checked again) as a new version: 3 restored from 7 makes 8. */
  async rollback(
    placement: string,
    version: number,
    options: KnowledgeEditOptions = {},
  ): Promise<KnowledgeRuleSet> {
    const old = await this.version(placement, version);
    const checked = checkKnowledgeRuleList(old.rules);
    if (!checked.ok) throw invalid(checked.errors);
    return this.store(placement, old.rules, options, undefined, version);
  }

  /**
   * The compiled rules for a request on `placement`: those of `*` and the placement's own, in
   * priority order (`*` first among equals). Stored rules that no longer compile are left out.
   */
  async rulesFor(placement: string): Promise<CompiledKnowledgeRule[]> {
    const global = await this.checked(ANY_PLACEMENT);
    const own = placement === ANY_PLACEMENT ? { version: 0, rules: [] } : await this.checked(placement);
    const versions = `${global.version}:${own.version}`;
    const hit = this.ordered.get(placement);
    if (hit !== undefined && hit.versions === versions) return hit.rules;
    const rules = orderKnowledgeRules([...global.rules, ...own.rules]);
    this.ordered.set(placement, { versions, rules });
    return rules;
  }

  /**
   * Re-reads every rule set and keeps their compiled rules for `compiled`; call it at start and
   * after each edit.
   */
  async refresh(): Promise<void> {
    const next = new Map<string, readonly CompiledKnowledgeRule[]>();
    next.set(ANY_PLACEMENT, await this.rulesFor(ANY_PLACEMENT));
    for (const p of await this.repository.placements()) next.set(p, await this.rulesFor(p));
    this.current = next;
  }

  /**
   * The rules of a placement as of the last `refresh`, without waiting: the shape the pipeline's
   * knowledge source and constraint filter read per request (`(p) => service.compiled(p)`).
   */
  compiled(placement: string): readonly CompiledKnowledgeRule[] {
    return this.current.get(placement) ?? this.current.get(ANY_PLACEMENT) ?? [];
  }

  /** The newest version's rules, checked once per version. */
  private async checked(placement: string): Promise<{ version: number; rules: CheckedKnowledgeRule[] }> {
    const set = await this.repository.latest(placement);
    if (set === undefined) return { version: 0, rules: [] };
    const hit = this.checkedSets.get(placement);
    if (hit !== undefined && hit.version === set.version) return hit;
    const rules: CheckedKnowledgeRule[] = [];
    for (const raw of set.rules) {
      const result = checkKnowledgeRule(raw);
      if (result.ok) rules.push(result.rule);
    }
    const entry = { version: set.version, rules };
    this.checkedSets.set(placement, entry);
    return entry;
  }

  private async store(
    placement: string,
    rules: KnowledgeRule[],
    options: KnowledgeEditOptions,
    readVersion?: number,
    restoredFrom?: number,
  ): Promise<KnowledgeRuleSet> {
    const stored = readVersion ?? (await this.repository.latest(placement))?.version ?? 0;
    const set: RuleSetVersion = {
      placement,
      version: (options.expectedVersion ?? stored) + 1,
      rules: toStored(rules),
      createdAt: new Date(this.clock()).toISOString(),
    };
    if (options.comment !== undefined) set.comment = options.comment;
    if (options.author !== undefined) set.author = options.author;
    if (restoredFrom !== undefined) set.restoredFrom = restoredFrom;
    // The repository refuses a version that is not the next one (a concurrent or stale edit).
    await this.repository.append(set);
    return fromStored(set);
  }
}
