/**
 * The request's own exclusions: explicit item lists, the anchor item and cart of the placement,
 * and category include / exclude lists.
 */
import type { Catalog } from '../catalog.js';
import type { CandidateFilter, CandidateSet, RequestContext } from '../types.js';

export class RequestFilter implements CandidateFilter {
  readonly name = 'request';
  private readonly wanted: Uint8Array;
  private readonly banned: Uint8Array;

  constructor(private readonly catalog: Catalog) {
    this.wanted = new Uint8Array(catalog.categories.length);
    this.banned = new Uint8Array(catalog.categories.length);
  }

  apply(ctx: RequestContext, set: CandidateSet): number {
    let removed = 0;
    const drop = (item: number): void => {
      const s = item >= 0 ? set.slotOf[item] : -1;
      if (s >= 0 && !set.removed[s]) {
        set.removed[s] = 1;
        removed++;
      }
    };
    for (let j = 0; j < ctx.excludeItems.length; j++) drop(ctx.excludeItems[j]);
    for (let j = 0; j < ctx.cart.length; j++) drop(ctx.cart[j]);
    drop(ctx.anchorItem);
    const include = ctx.includeCategories;
    const exclude = ctx.excludeCategories;
    if ((!include || include.length === 0) && (!exclude || exclude.length === 0)) return removed;
    const c = this.catalog;
    for (const name of include ?? []) {
      const ci = c.categoryIndex.get(name);
      if (ci !== undefined) this.wanted[ci] = 1;
    }
    for (const name of exclude ?? []) {
      const ci = c.categoryIndex.get(name);
      if (ci !== undefined) this.banned[ci] = 1;
    }
    const needInclude = !!include && include.length > 0;
    for (let s = 0; s < set.size; s++) {
      if (set.removed[s]) continue;
      const i = set.items[s];
      let hasWanted = false;
      let hasBanned = false;
      for (let p = c.categoryPtr[i]; p < c.categoryPtr[i + 1]; p++) {
        const ci = c.categoryIdx[p];
        if (this.wanted[ci]) hasWanted = true;
        if (this.banned[ci]) hasBanned = true;
      }
      if (hasBanned || (needInclude && !hasWanted)) {
        set.removed[s] = 1;
        removed++;
      }
    }
    this.wanted.fill(0);
    this.banned.fill(0);
    return removed;
  }
}
