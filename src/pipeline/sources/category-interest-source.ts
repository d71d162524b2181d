/**
 * Popular items in the categories the user said they are interested in (the user attribute
 * `interests`, e.g. set by onboarding): the categories take turns, each giving its next most
 * popular item, so a user with three interests sees all three near the top. Works from the very
 * first request, before the user has any history.
 */
import type { Catalog } from '../catalog.js';
import type { CandidateSource, Explanation, ItemNames, RequestContext } from '../types.js';

export interface CategoryInterestOptions {
  /** The user attribute holding the categories: a list of names or one name (default `interests`). */
  attribute?: string;
  /** Items kept per category (default 100). */
  perCategory?: number;
}

/** The category names of a user attribute value: a string or a list of strings. */
export function interestsOf(value: unknown): string[] {
  if (typeof value === 'string') return value === '' ? [] : [value];
  if (!Array.isArray(value)) return [];
  return value.filter((v): v is string => typeof v === 'string' && v !== '');
}

export class CategoryInterestSource implements CandidateSource {
  private readonly attribute: string;
  /** The most popular available items of each category (by category index), best first. */
  private readonly lists: Int32Array[];

  /** `popularity`: a score per item index (higher first), e.g. the popularity model's; null keeps catalogue order. */
  constructor(
    private readonly catalog: Catalog,
    popularity: Float32Array | null,
    options: CategoryInterestOptions = {},
    readonly name = 'interests',
  ) {
    this.attribute = options.attribute ?? 'interests';
    const perCategory = options.perCategory ?? 100;
    const buckets: number[][] = catalog.categories.map(() => []);
    for (let i = 0; i < catalog.size; i++) {
      if (!catalog.available[i]) continue;
      for (let p = catalog.categoryPtr[i]; p < catalog.categoryPtr[i + 1]; p++)
        buckets[catalog.categoryIdx[p]].push(i);
    }
    const score = (i: number): number => {
      const s = popularity !== null && i < popularity.length ? popularity[i] : 0;
      return Number.isFinite(s) ? s : -Infinity;
    };
    this.lists = buckets.map((b) =>
      Int32Array.from(b.sort((x, y) => score(y) - score(x) || x - y).slice(0, perCategory)),
    );
  }

  private categories(ctx: RequestContext): number[] {
    const out: number[] = [];
    for (const name of interestsOf(ctx.user[this.attribute])) {
      const c = this.catalog.categoryIndex.get(name);
      if (c !== undefined && !out.includes(c)) out.push(c);
    }
    return out;
  }

  generate(ctx: RequestContext, limit: number, add: (item: number, score: number) => void): number {
    const cats = this.categories(ctx);
    if (cats.length === 0) return 0;
    let position = 0;
    const depth = Math.max(...cats.map((c) => this.lists[c].length));
    for (let r = 0; r < depth && position < limit; r++) {
      for (let j = 0; j < cats.length && position < limit; j++) {
        const list = this.lists[cats[j]];
        if (r < list.length) add(list[r], 1 / (1 + position++));
      }
    }
    return position;
  }

  explain(ctx: RequestContext, item: number, _names: ItemNames): Explanation | null {
    const c = this.catalog;
    for (const cat of this.categories(ctx)) {
      for (let p = c.categoryPtr[item]; p < c.categoryPtr[item + 1]; p++) {
        if (c.categoryIdx[p] === cat) {
          const category = c.categories[cat];
          return { kind: 'interest', text: `Because you're interested in ${category}`, category };
        }
      }
    }
    return null;
  }
}
