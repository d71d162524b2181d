/**
 * Sources whose answer does not depend on the user: a list ranked once per snapshot (popular,
 * trending, fresh) or once per segment (popular among users like this one). Each request takes
 * the head of the list.
 */
import type { Catalog } from '../catalog.js';
import type { CandidateSource, Explanation, ItemNames, RequestContext } from '../types.js';
import { TopPicker } from './top.js';

/** The best `size` items of a score vector, best first. */
export function rankedList(scores: Float32Array, size: number): { items: Int32Array; scores: Float32Array } {
  const items: number[] = [];
  const values: number[] = [];
  new TopPicker().fromScores(scores, size, (i, s) => {
    items.push(i);
    values.push(s);
  });
  return { items: Int32Array.from(items), scores: Float32Array.from(values) };
}

/** How a ranked list explains its items: `{category}` is replaced by the item's first category. */
export interface ListReason {
  kind: string;
  /** e.g. `Trending in {category}`. */
  text: string;
  /** Used when the item has no category, e.g. `Trending now`. */
  fallback: string;
}

export class RankedListSource implements CandidateSource {
  constructor(
    readonly name: string,
    private readonly list: { items: Int32Array; scores: Float32Array },
    private readonly reason: ListReason = {
      kind: 'popular',
      text: 'Popular in {category}',
      fallback: 'Popular right now',
    },
  ) {}

  explain(_ctx: RequestContext, item: number, names: ItemNames): Explanation | null {
    const category = names.category(item);
    return category === null
      ? { kind: this.reason.kind, text: this.reason.fallback }
      : { kind: this.reason.kind, text: this.reason.text.replace('{category}', category), category };
  }

  generate(_ctx: RequestContext, limit: number, add: (item: number, score: number) => void): number {
    const n = Math.min(limit, this.list.items.length);
    for (let r = 0; r < n; r++) add(this.list.items[r], this.list.scores[r]);
    return n;
  }
}

/** Newest items first (publication time), scored by -age in days. */
export function freshList(
  catalog: Catalog,
  size: number,
  now: number,
): { items: Int32Array; scores: Float32Array } {
  const scores = new Float32Array(catalog.size);
  for (let i = 0; i < catalog.size; i++) {
    const t = catalog.publishedAt[i];
    scores[i] = catalog.available[i] && Number.isFinite(t) ? -(now - t) / 86_400_000 : -Infinity;
  }
  return rankedList(scores, size);
}

/**
 * Popular within the user's segment: one ranked list per value of a user attribute (e.g.
 * `country` or `segment`); users without the attribute, or of an unknown value, get nothing
 * (the overall popular source covers them).
 */
export class SegmentSource implements CandidateSource {
  constructor(
    readonly name: string,
    private readonly attribute: string,
    private readonly lists: ReadonlyMap<string, { items: Int32Array; scores: Float32Array }>,
  ) {}

  explain(ctx: RequestContext): Explanation | null {
    const v = ctx.user[this.attribute];
    return {
      kind: 'popular-in-segment',
      text: `Popular with people like you (${this.attribute} ${String(v)})`,
    };
  }

  generate(ctx: RequestContext, limit: number, add: (item: number, score: number) => void): number {
    const v = ctx.user[this.attribute];
    if (typeof v !== 'string' && typeof v !== 'number') return 0;
    const list = this.lists.get(String(v));
    if (!list) return 0;
    const n = Math.min(limit, list.items.length);
    for (let r = 0; r < n; r++) add(list.items[r], list.scores[r]);
    return n;
  }
}

/**
 * Counts of interactions per (segment value, item) from parallel columns of user segment and
 * item index, turned into ranked lists of `size`.
 */
export function segmentLists(
  segmentOfEvent: ArrayLike<string | null>,
  itemOfEvent: ArrayLike<number>,
  strengthOfEvent: ArrayLike<number>,
  items: number,
  size: number,
): Map<string, { items: Int32Array; scores: Float32Array }> {
  const counts = new Map<string, Float32Array>();
  for (let e = 0; e < itemOfEvent.length; e++) {
    const s = segmentOfEvent[e];
    if (s === null) continue;
    let c = counts.get(s);
    if (!c) counts.set(s, (c = new Float32Array(items)));
    c[itemOfEvent[e]] += strengthOfEvent[e] > 0 ? 1 : 0;
  }
  const out = new Map<string, { items: Int32Array; scores: Float32Array }>();
  for (const [s, c] of counts) {
    for (let i = 0; i < items; i++) if (c[i] === 0) c[i] = -Infinity;
    out.set(s, rankedList(c, size));
  }
  return out;
}
