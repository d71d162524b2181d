/**
 * Removes candidates that break a knowledge constraint, whichever source proposed them: for every
 * rule that is on and whose `when` holds for the request, each candidate must make its
 * `constraints` true (`item.socket == user.socket`, `item.price <= user.budget`). A constraint on
 * an attribute an item lacks is false (see the expression language), so an item without it is
 * removed unless the constraint allows that (`item.socket == null or item.socket == user.socket`).
 */
import type { Catalog } from '../catalog.js';
import type { CandidateFilter, CandidateSet, RequestContext } from '../types.js';
import { requestEnv, ruleApplies, type CompiledKnowledgeRule, type KnowledgeRules } from './compiled.js';

export class ConstraintFilter implements CandidateFilter {
  constructor(
    private readonly catalog: Catalog,
    private readonly rules: KnowledgeRules,
    readonly name = 'knowledge-constraints',
  ) {}

  apply(ctx: RequestContext, set: CandidateSet): number {
    const env = requestEnv(ctx);
    const active: CompiledKnowledgeRule[] = [];
    for (const rule of this.rules(ctx.placement))
      if (rule.constraints !== null && ruleApplies(rule, env)) active.push(rule);
    if (active.length === 0) return 0;
    let removed = 0;
    for (let s = 0; s < set.size; s++) {
      if (set.removed[s]) continue;
      env.item = this.catalog.item(set.items[s]);
      for (const rule of active) {
        if (!rule.constraints!.test(env)) {
          set.removed[s] = 1;
          removed++;
          break;
        }
      }
    }
    return removed;
  }

  /**
   * The constraint rules an item breaks for a request, by id (for a debug view of why an item is
   * missing).
   */
  broken(ctx: RequestContext, item: number): string[] {
    const env = requestEnv(ctx);
    env.item = this.catalog.item(item);
    const out: string[] = [];
    for (const rule of this.rules(ctx.placement))
      if (rule.constraints !== null && ruleApplies(rule, env) && !rule.constraints.test(env))
        out.push(rule.rule.id);
    return out;
  }
}
