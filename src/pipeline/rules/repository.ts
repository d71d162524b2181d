/**
 * Storage of versioned rule sets. Each placement (and '*', for rules that apply everywhere) has
 * a history of versions numbered 1, 2, 3, ...; every edit appends a version, none is changed.
 */
import { ConflictError } from '../../domain/errors.js';
import type { Rule } from './schema.js';

/** One version of a placement's rules. */
export interface RuleSetVersion {
  placement: string;
  /** 1 for the first version, then one more for each edit. */
  version: number;
  rules: Rule[];
  /** When the version was made, ISO 8601. */
  createdAt: string;
  /** Free text from the editor: what changed and why. */
  comment?: string;
  /** Who made the change. */
  author?: string;
  /** Set on a roll-back: the version whose rules this one restores. */
  restoredFrom?: number;
}

/** A version without its rules, for history listings. */
export interface RuleSetSummary extends Omit<RuleSetVersion, 'rules'> {
  ruleCount: number;
}

export interface RuleRepository {
  /** Placements with at least one version, sorted. */
  placements(): Promise<string[]>;
  /** The newest version of a placement, or undefined when it has none. */
  latest(placement: string): Promise<RuleSetVersion | undefined>;
  get(placement: string, version: number): Promise<RuleSetVersion | undefined>;
  /** Every version of a placement, oldest first. */
  history(placement: string): Promise<RuleSetSummary[]>;
  /**
   * Stores `set` as the placement's next version. Throws `ConflictError` unless `set.version` is
   * exactly one more than the newest stored version (0 when there is none), so two concurrent
   * edits of the same version cannot both land.
   */
  append(set: RuleSetVersion): Promise<void>;
}

export function summaryOf(set: RuleSetVersion): RuleSetSummary {
  const { rules, ...rest } = set;
  return { ...rest, ruleCount: rules.length };
}

/** Versions by placement, the shared core of the in-memory and file repositories. */
export class RuleSetHistory {
  protected readonly sets = new Map<string, RuleSetVersion[]>();

  placementNames(): string[] {
    return [...this.sets.keys()].sort();
  }

  newest(placement: string): RuleSetVersion | undefined {
    const list = this.sets.get(placement);
    return list === undefined ? undefined : list[list.length - 1];
  }

  version(placement: string, version: number): RuleSetVersion | undefined {
    return this.sets.get(placement)?.[version - 1];
  }

  summaries(placement: string): RuleSetSummary[] {
    return (this.sets.get(placement) ?? []).map(summaryOf);
  }

  /** Checks and adds `set` (a private copy); returns a function that undoes the addition. */
  add(set: RuleSetVersion): () => void {
    const list = this.sets.get(set.placement) ?? [];
    const expected = list.length + 1;
    if (set.version !== expected) {
      throw new ConflictError(
        `rule set '${set.placement}' is at version ${list.length}; cannot store version ${set.version}`,
      );
    }
    list.push(structuredClone(set));
    this.sets.set(set.placement, list);
    return () => {
      list.pop();
      if (list.length === 0) this.sets.delete(set.placement);
    };
  }

  /** All versions by placement (the stored objects: serialise, do not change). */
  snapshot(): Record<string, RuleSetVersion[]> {
    const out: Record<string, RuleSetVersion[]> = {};
    for (const name of this.placementNames()) out[name] = this.sets.get(name) ?? [];
    return out;
  }
}

/** Keeps rule sets in memory: for tests, and for a server that gets its rules by API only. */
export class InMemoryRuleRepository implements RuleRepository {
  private readonly versions = new RuleSetHistory();

  async placements(): Promise<string[]> {
    return this.versions.placementNames();
  }

  async latest(placement: string): Promise<RuleSetVersion | undefined> {
    const set = this.versions.newest(placement);
    return set === undefined ? undefined : structuredClone(set);
  }

  async get(placement: string, version: number): Promise<RuleSetVersion | undefined> {
    const set = this.versions.version(placement, version);
    return set === undefined ? undefined : structuredClone(set);
  }

  async history(placement: string): Promise<RuleSetSummary[]> {
    return this.versions.summaries(placement);
  }

  async append(set: RuleSetVersion): Promise<void> {
    this.versions.add(set);
  }
}
