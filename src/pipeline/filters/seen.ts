/**
 * Leaves out what the user already consumed. Per placement: which event types count as
 * consumed, how far back (a window; older consumption may be shown again), and which categories
 * are re-consumable (groceries, consumables: bought before, recommended again).
 */
import type { Catalog } from '../catalog.js';
import type { CandidateFilter, CandidateSet, RequestContext } from '../types.js';

export interface SeenOptions {
  /** Event types that count as consumed (default: every positive history entry). */
  types?: readonly string[];
  /** Only consumption within this many ms counts (default: forever). */
  windowMs?: number;
  /** Items in these categories are never left out for having been consumed. */
  reconsumableCategories?: readonly string[];
}

export class SeenFilter implements CandidateFilter {
  readonly name = 'seen';
  private readonly types: ReadonlySet<string> | null;
  private readonly reconsumable: Uint8Array;

  constructor(
    private readonly catalog: Catalog,
    private readonly options: SeenOptions = {},
  ) {
    this.types = options.types ? new Set(options.types) : null;
    this.reconsumable = new Uint8Array(catalog.categories.length);
    for (const c of options.reconsumableCategories ?? []) {
      const ci = catalog.categoryIndex.get(c);
      if (ci !== undefined) this.reconsumable[ci] = 1;
    }
  }

  apply(ctx: RequestContext, set: CandidateSet): number {
    const since = this.options.windowMs === undefined ? -Infinity : ctx.now - this.options.windowMs;
    let removed = 0;
    for (let h = 0; h < ctx.history.length; h++) {
      if (ctx.historyTimes[h] < since) break; // most recent first
      if (this.types && !this.types.has(ctx.historyTypes[h])) continue;
      const item = ctx.history[h];
      const s = set.slotOf[item];
      if (s < 0 || set.removed[s] || this.isReconsumable(item)) continue;
      set.removed[s] = 1;
      removed++;
    }
    return removed;
  }

  private isReconsumable(item: number): boolean {
    const c = this.catalog;
    for (let p = c.categoryPtr[item]; p < c.categoryPtr[item + 1]; p++)
      if (this.reconsumable[c.categoryIdx[p]]) return true;
    return false;
  }
}
