/**
 * Items added after the last training, recommended by their content: each new item knows the
 * trained items most like it by metadata (the content model's neighbours of its text, tags and
 * categories). A user whose recent history holds such items gets the new item proposed; a
 * similar-items request for a new item gets its content neighbours, and one for a trained item
 * gets the new items that resemble it.
 */
import type { TopK } from '../../models/model.js';
import type { CandidateSource, Explanation, ItemNames, RequestContext } from '../types.js';

/** The trained items most like one new item, by content similarity. */
export type NewItemNeighbours = ReadonlyMap<number, TopK>;

export class NewItemContentSource implements CandidateSource {
  private readonly similarity = new Map<number, Map<number, number>>();

  constructor(
    readonly name: string,
    neighbours: NewItemNeighbours,
    /** How many of the latest history items are compared (default 50). */
    private readonly recent = 50,
  ) {
    for (const [item, top] of neighbours) {
      const m = new Map<number, number>();
      for (let r = 0; r < top.indices.length; r++) m.set(top.indices[r], top.scores[r]);
      this.similarity.set(item, m);
    }
  }

  generate(ctx: RequestContext, limit: number, add: (item: number, score: number) => void): number {
    let n = 0;
    const anchor = ctx.anchorItem;
    if (anchor >= 0) {
      const own = this.similarity.get(anchor);
      if (own) {
        for (const [item, s] of own) {
          if (n >= limit) break;
          if (s > 0) {
            add(item, s);
            n++;
          }
        }
        return n;
      }
      for (const [item, sims] of this.similarity) {
        const s = sims.get(anchor) ?? 0;
        if (s > 0 && n < limit) {
          add(item, s);
          n++;
        }
      }
      return n;
    }
    const h = ctx.history.subarray(0, this.recent);
    if (h.length === 0) return 0;
    for (const [item, sims] of this.similarity) {
      let score = 0;
      for (let j = 0; j < h.length; j++) score += sims.get(h[j]) ?? 0;
      if (score > 0 && n < limit) {
        add(item, score);
        n++;
      }
    }
    return n;
  }

  explain(ctx: RequestContext, item: number, names: ItemNames): Explanation | null {
    const sims = this.similarity.get(item);
    if (!sims) {
      const anchorSims = this.similarity.get(ctx.anchorItem);
      return anchorSims?.has(item)
        ? {
            kind: 'similar-item',
            text: `Like ${names.title(ctx.anchorItem)}`,
            itemId: names.itemId(ctx.anchorItem),
          }
        : null;
    }
    let best = -1;
    let bestScore = 0;
    const h = ctx.history.subarray(0, this.recent);
    for (let j = 0; j < h.length; j++) {
      const s = sims.get(h[j]) ?? 0;
      if (s > bestScore) {
        best = h[j];
        bestScore = s;
      }
    }
    if (best < 0) return ctx.anchorItem >= 0 ? { kind: 'new', text: 'New, and similar' } : null;
    return {
      kind: 'new-like-history',
      text: `New, and like ${names.title(best)}`,
      itemId: names.itemId(best),
    };
  }
}
