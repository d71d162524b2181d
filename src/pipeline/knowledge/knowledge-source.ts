/**
 * Candidates from knowledge rules: every rule whose `when` holds for the request proposes its
 * listed items (in their order) and then the items its `where` matches (the most popular first,
 * at most its `limit`). Rules go in priority order, so the score falls with the position over
 * all rules: 1 / (1 + position). Each item is explained by the reason of the first rule that
 * proposes it.
 */
import type { Catalog } from '../catalog.js';
import type { ExprEnv } from '../rules/expr/compile.js';
import { TopPicker } from '../sources/top.js';
import type { CandidateSource, Explanation, ItemNames, RequestContext } from '../types.js';
import { requestEnv, ruleApplies, type CompiledKnowledgeRule, type KnowledgeRules } from './compiled.js';

export interface KnowledgeSourceOptions {
  /** Order of the items a `where` matches (higher first), e.g. popularity; default: catalogue order. */
  order?: Float32Array | null;
  /**
   * How long the matches of a `where` that reads only the item are reused (ms of request time,
   * default 60 s): item edits show after at most this long.
   */
  cacheMs?: number;
}

/** Below every real score, above -Infinity (which the picker drops). */
const UNSCORED = -1e30;

interface Matches {
  catalog: Catalog;
  at: number;
  items: Int32Array;
}

export class KnowledgeSource implements CandidateSource {
  private readonly picker = new TopPicker();
  private readonly order: Float32Array | null;
  private readonly cacheMs: number;
  private readonly cache = new WeakMap<CompiledKnowledgeRule, Matches>();

  constructor(
    private readonly catalog: Catalog,
    private readonly rules: KnowledgeRules,
    options: KnowledgeSourceOptions = {},
    readonly name = 'knowledge',
  ) {
    this.order = options.order ?? null;
    this.cacheMs = options.cacheMs ?? 60_000;
  }

  generate(ctx: RequestContext, limit: number, add: (item: number, score: number) => void): number {
    const rules = this.rules(ctx.placement);
    if (rules.length === 0) return 0;
    const env = requestEnv(ctx);
    let position = 0;
    for (const rule of rules) {
      if (position >= limit) break;
      if (rule.rule.recommend === undefined || !ruleApplies(rule, env)) continue;
      for (const id of rule.rule.recommend.items ?? []) {
        const i = this.catalog.indexOf.get(id);
        if (i === undefined || position >= limit) continue;
        add(i, 1 / (1 + position++));
      }
      if (rule.where === null) continue;
      const matches = this.matches(rule, env);
      for (let r = 0; r < matches.length && position < limit; r++) add(matches[r], 1 / (1 + position++));
    }
    return position;
  }

  explain(ctx: RequestContext, item: number, _names: ItemNames): Explanation | null {
    const rules = this.rules(ctx.placement);
    const env = requestEnv(ctx);
    env.item = this.catalog.item(item);
    const id = this.catalog.itemIds[item];
    for (const rule of rules) {
      if (rule.rule.recommend === undefined || !ruleApplies(rule, env)) continue;
      if (rule.listed.has(id) || (rule.where !== null && env.item !== null && rule.where.test(env)))
        return { kind: 'knowledge', text: rule.reason.render(env), itemId: id };
    }
    return null;
  }

  /** The available items the rule's `where` matches, best first, at most its limit. */
  private matches(rule: CompiledKnowledgeRule, env: ExprEnv): Int32Array {
    const where = rule.where!;
    const itemOnly = !where.roots.has('user') && !where.roots.has('context') && !where.roots.has('now');
    if (itemOnly) {
      const hit = this.cache.get(rule);
      if (hit && hit.catalog === this.catalog && Math.abs(env.now - hit.at) < this.cacheMs) return hit.items;
    }
    const c = this.catalog;
    const found: number[] = [];
    this.picker.begin(rule.limit);
    const scan: ExprEnv = { ...env };
    for (let i = 0; i < c.size; i++) {
      if (!c.available[i]) continue;
      scan.item = c.item(i);
      if (scan.item === null || !where.test(scan)) continue;
      // Ties (and items the order does not score) go by catalogue order.
      const o = this.order !== null && i < this.order.length ? this.order[i] : 0;
      this.picker.push(i, o > -Infinity ? o : UNSCORED);
    }
    this.picker.drain((i) => found.push(i));
    const items = Int32Array.from(found);
    if (itemOnly) this.cache.set(rule, { catalog: c, at: env.now, items });
    return items;
  }
}
