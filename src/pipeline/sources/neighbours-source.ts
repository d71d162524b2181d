/**
 * Items like the user's recent ones: the neighbours of each of the last `recent` history items
 * (or session items, for "more of what you just did"), weighted down with recency, summed.
 */
import type { Recommender } from '../../models/model.js';
import type { CandidateSource, Explanation, ItemNames, RequestContext } from '../types.js';
import { TopPicker } from './top.js';

export type NeighbourSeeds = 'history' | 'session' | 'anchor' | 'cart';

function seedsOf(ctx: RequestContext, kind: NeighbourSeeds): Int32Array {
  switch (kind) {
    case 'session':
      return ctx.session;
    case 'cart':
      return ctx.cart;
    case 'anchor':
      return ctx.anchorItem >= 0 ? Int32Array.of(ctx.anchorItem) : new Int32Array(0);
    default:
      return ctx.history;
  }
}

export interface NeighboursOptions {
  /** How many recent items seed the search (default 20). */
  recent?: number;
  /** Neighbours taken per seed (default 50). */
  perItem?: number;
  /** Weight of the r-th most recent seed: decay^r (default 0.9). */
  decay?: number;
  /** `history` (default), `session`, `anchor` (the placement's item) or `cart` seeds. */
  seeds?: NeighbourSeeds;
}

export class NeighboursSource implements CandidateSource {
  private readonly acc: Float32Array;
  private readonly touched: Int32Array;
  private readonly picker = new TopPicker();
  private readonly recent: number;
  private readonly perItem: number;
  private readonly decay: number;
  private readonly seeds: NeighbourSeeds;

  constructor(
    readonly name: string,
    private readonly model: Recommender,
    options: NeighboursOptions = {},
  ) {
    this.acc = new Float32Array(model.itemIds.length);
    this.touched = new Int32Array(model.itemIds.length);
    this.recent = options.recent ?? 20;
    this.perItem = options.perItem ?? 50;
    this.decay = options.decay ?? 0.9;
    this.seeds = options.seeds ?? 'history';
  }

  generate(ctx: RequestContext, limit: number, add: (item: number, score: number) => void): number {
    const seeds = seedsOf(ctx, this.seeds);
    const n = Math.min(this.recent, seeds.length);
    let touched = 0;
    let w = 1;
    for (let r = 0; r < n; r++, w *= this.decay) {
      const top = this.model.similarItems(seeds[r], this.perItem);
      if (!top) continue;
      for (let j = 0; j < top.indices.length; j++) {
        const i = top.indices[j];
        const s = top.scores[j];
        if (!(s > 0)) continue;
        if (this.acc[i] === 0) this.touched[touched++] = i;
        this.acc[i] += w * s;
      }
    }
    this.picker.begin(limit);
    for (let t = 0; t < touched; t++) {
      const i = this.touched[t];
      this.picker.push(i, this.acc[i]);
      this.acc[i] = 0;
    }
    return this.picker.drain(add);
  }

  /** The recent seed most similar to the item. */
  explain(ctx: RequestContext, item: number, names: ItemNames): Explanation | null {
    const seeds = seedsOf(ctx, this.seeds);
    const n = Math.min(this.recent, seeds.length);
    let best = -1;
    let bestScore = 0;
    for (let r = 0; r < n; r++) {
      const top = this.model.similarItems(seeds[r], this.perItem);
      if (!top) continue;
      for (let j = 0; j < top.indices.length; j++) {
        if (top.indices[j] === item && top.scores[j] > bestScore) {
          best = seeds[r];
          bestScore = top.scores[j];
        }
      }
    }
    if (best < 0) return null;
    const itemId = names.itemId(best);
    const title = names.title(best);
    switch (this.seeds) {
      case 'session':
        return { kind: 'more-of-what-you-just-did', text: `Like ${title}, which you just looked at`, itemId };
      case 'anchor':
        return { kind: 'similar-item', text: `Similar to ${title}`, itemId };
      case 'cart':
        return { kind: 'goes-with-your-cart', text: `Goes with ${title} in your cart`, itemId };
      default:
        return { kind: 'because-you-interacted', text: `Because you liked ${title}`, itemId };
    }
  }
}
