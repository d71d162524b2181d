/**
 * Leaves out items this user may not see, from item attributes compared with user attributes:
 * `minAge` (number) against the user's `age`, `countries` (allowed list) and
 * `excludedCountries` against the user's `country`. An item restricted by age is hidden from
 * users whose age is unknown; a country list hides the item from users of unknown country.
 */
import type { Catalog } from '../catalog.js';
import type { CandidateFilter, CandidateSet, RequestContext } from '../types.js';

interface Restriction {
  minAge: number;
  countries: ReadonlySet<string> | null;
  excluded: ReadonlySet<string> | null;
}

function stringSet(v: unknown): ReadonlySet<string> | null {
  return Array.isArray(v) ? new Set(v.filter((x): x is string => typeof x === 'string')) : null;
}

export class AudienceFilter implements CandidateFilter {
  readonly name = 'audience';
  /** Restrictions of the items that have any (others are visible to all). */
  private readonly restricted = new Map<number, Restriction>();

  constructor(catalog: Catalog) {
    for (let i = 0; i < catalog.size; i++) {
      const a = catalog.item(i)?.attributes;
      if (!a) continue;
      const minAge = typeof a.minAge === 'number' ? a.minAge : 0;
      const countries = stringSet(a.countries);
      const excluded = stringSet(a.excludedCountries);
      if (minAge > 0 || countries || excluded) this.restricted.set(i, { minAge, countries, excluded });
    }
  }

  /** Whether the user may see item i. */
  allows(user: Readonly<Record<string, unknown>>, item: number): boolean {
    const r = this.restricted.get(item);
    if (!r) return true;
    const age = typeof user.age === 'number' ? user.age : null;
    const country = typeof user.country === 'string' ? user.country : null;
    if (r.minAge > 0 && (age === null || age < r.minAge)) return false;
    if (r.countries && (country === null || !r.countries.has(country))) return false;
    if (r.excluded && country !== null && r.excluded.has(country)) return false;
    return true;
  }

  apply(ctx: RequestContext, set: CandidateSet): number {
    if (this.restricted.size === 0) return 0;
    let removed = 0;
    for (let s = 0; s < set.size; s++) {
      if (!set.removed[s] && !this.allows(ctx.user, set.items[s])) {
        set.removed[s] = 1;
        removed++;
      }
    }
    return removed;
  }
}
