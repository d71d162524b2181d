/** Leaves out unavailable items and items whose stock is known to be zero or less. */
import type { Catalog } from '../catalog.js';
import type { CandidateFilter, CandidateSet, RequestContext } from '../types.js';

export class AvailabilityFilter implements CandidateFilter {
  readonly name = 'availability';

  constructor(private readonly catalog: Catalog) {}

  apply(_ctx: RequestContext, set: CandidateSet): number {
    const { available, stock } = this.catalog;
    let removed = 0;
    for (let s = 0; s < set.size; s++) {
      if (set.removed[s]) continue;
      const i = set.items[s];
      if (!available[i] || stock[i] <= 0) {
        set.removed[s] = 1;
        removed++;
      }
    }
    return removed;
  }
}
