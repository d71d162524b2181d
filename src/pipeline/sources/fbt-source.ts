/**
 * Frequently bought together: consequents of association rules whose antecedents are in the
 * cart, or else the session, or else the latest history items.
 */
import type { AssocModel } from '../../models/assoc/assoc.js';
import type { CandidateSource, Explanation, ItemNames, RequestContext } from '../types.js';

export class FbtSource implements CandidateSource {
  constructor(
    readonly name: string,
    private readonly model: AssocModel,
    /** History items used when there is no cart or session (default 5). */
    private readonly recent = 5,
  ) {}

  private basket(ctx: RequestContext): Int32Array {
    return ctx.cart.length > 0
      ? ctx.cart
      : ctx.anchorItem >= 0
        ? Int32Array.of(ctx.anchorItem)
        : ctx.session.length > 0
          ? ctx.session
          : ctx.history.subarray(0, this.recent);
  }

  /** The basket item with the strongest rule towards the item. */
  explain(ctx: RequestContext, item: number, names: ItemNames): Explanation | null {
    const basket = this.basket(ctx);
    let best = -1;
    let bestConfidence = 0;
    for (let b = 0; b < basket.length; b++) {
      for (const r of this.model.rulesFor(basket[b])) {
        if (r.consequent === item && r.confidence > bestConfidence) {
          best = basket[b];
          bestConfidence = r.confidence;
        }
      }
    }
    if (best < 0) return null;
    return {
      kind: 'bought-together',
      text: `Often bought together with ${names.title(best)}`,
      itemId: names.itemId(best),
    };
  }

  generate(ctx: RequestContext, limit: number, add: (item: number, score: number) => void): number {
    const basket = this.basket(ctx);
    if (basket.length === 0) return 0;
    const top = this.model.cartRecommendations(basket, limit);
    for (let r = 0; r < top.indices.length; r++) add(top.indices[r], top.scores[r]);
    return top.indices.length;
  }
}
