/**
 * Items like the user's recent ones: the neighbours of each of the last `recent` history items
 * (or session items, for "more of what you just did"), weighted down with recency, summed.
 */
import { hasNeighbourLists, type NeighbourListModel, type Recommender } from '../../models/model.js';
import type { CandidateSource, Explanation, ItemNames, RequestContext } from '../types.js';
import { ItemAccumulator } from './item-accumulator.js';
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
  /** Per item touched by the last generate: its summed score and the seed most similar to it. */
  private readonly acc: ItemAccumulator;
  /** The model's neighbour lists, when it has them. */
  private readonly lists: NeighbourListModel['neighbourLists'] | null;
  /** The neighbours `locate` found last. */
  private found: Int32Array = new Int32Array(0);
  private foundScores: Float32Array = new Float32Array(0);
  private foundFrom = 0;
  private foundTo = 0;
  /** The request the last generate ran for: explain reads its seeds back for that request. */
  private generatedFor: RequestContext | null = null;
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
    this.recent = options.recent ?? 20;
    this.perItem = options.perItem ?? 50;
    this.acc = new ItemAccumulator(Math.min(model.itemIds.length, this.recent * this.perItem));
    this.lists = hasNeighbourLists(model) ? model.neighbourLists : null;
    this.decay = options.decay ?? 0.9;
    this.seeds = options.seeds ?? 'history';
  }

  generate(ctx: RequestContext, limit: number, add: (item: number, score: number) => void): number {
    const acc = this.acc;
    acc.clear();
    const seeds = seedsOf(ctx, this.seeds);
    const n = Math.min(this.recent, seeds.length);
    let w = 1;
    for (let r = 0; r < n; r++, w *= this.decay) {
      const seed = seeds[r];
      if (!this.locate(seed)) continue;
      const { found, foundScores, foundTo } = this;
      for (let p = this.foundFrom; p < foundTo; p++) {
        const s = foundScores[p];
        // The most similar seed is kept, the most recent one among equals.
        if (s > 0) acc.add(found[p], w * s, seed, s);
      }
    }
    this.generatedFor = ctx;
    this.picker.begin(limit);
    for (let t = 0; t < acc.size; t++) this.picker.push(acc.itemAt(t), acc.sumAt(t));
    return this.picker.drain(add);
  }

  /** The recent seed most similar to the item. */
  explain(ctx: RequestContext, item: number, names: ItemNames): Explanation | null {
    const best = ctx === this.generatedFor ? this.recordedSeed(item) : this.mostSimilarSeed(ctx, item);
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

  /** The seed generate found most similar to the item, -1 when no seed has it as a neighbour. */
  private recordedSeed(item: number): number {
    return Number.isInteger(item) && item >= 0 ? this.acc.seedOf(item) : -1;
  }

  /** The recent seed most similar to the item, searched afresh (a request other than the last generated). */
  private mostSimilarSeed(ctx: RequestContext, item: number): number {
    const seeds = seedsOf(ctx, this.seeds);
    const n = Math.min(this.recent, seeds.length);
    let best = -1;
    let bestScore = 0;
    for (let r = 0; r < n; r++) {
      if (!this.locate(seeds[r])) continue;
      for (let p = this.foundFrom; p < this.foundTo; p++) {
        if (this.found[p] === item && this.foundScores[p] > bestScore) {
          best = seeds[r];
          bestScore = this.foundScores[p];
        }
      }
    }
    return best;
  }

  /**
   * Points found / foundScores [foundFrom, foundTo) at the seed's neighbours, what
   * similarItems(seed, perItem) returns: in place when the model has neighbour lists, so no copy
   * is made per seed. False when the model has none for the seed.
   */
  private locate(seed: number): boolean {
    const lists = this.lists;
    if (lists) {
      if (!(Number.isInteger(seed) && seed >= 0 && seed < lists.indptr.length - 1)) return false;
      this.found = lists.indices;
      this.foundScores = lists.scores;
      this.foundFrom = lists.indptr[seed];
      this.foundTo = Math.min(lists.indptr[seed + 1], this.foundFrom + Math.max(0, Math.floor(this.perItem)));
      return true;
    }
    const top = this.model.similarItems(seed, this.perItem);
    if (!top) return false;
    this.found = top.indices;
    this.foundScores = top.scores;
    this.foundFrom = 0;
    this.foundTo = top.indices.length;
    return true;
  }
}
