/**
 * A recommendation log held in memory: for tests, and for a single node that keeps no log on
 * disk (nothing survives a restart, so "durable" means "recorded in this process").
 *
 * Outcomes are counted per served item from the events attributed to a recommendation id
 * (`attribute`): `impression`, `click`, `cart` and `purchase` events count; other event types
 * are ignored. A purchase adds its revenue: the revenue given with the event when there is one,
 * else value (quantity, default 1) × the item's price from `priceOf`, else nothing.
 */
import { ConflictError } from '../domain/errors.js';
import type { ItemOutcome, RecommendationLog, ServedRecommendation } from './recommendation-log.js';

/** Event types that change an outcome. */
export type AttributedEventType = 'impression' | 'click' | 'cart' | 'purchase';

export interface MemoryRecommendationLogOptions {
  /** Price of an item by id (for purchases sent without a revenue); undefined or NaN when unknown. */
  priceOf?: (itemId: string) => number | null | undefined;
}

// Per served item: impressions, clicks, carts, purchases, revenue.
const STRIDE = 5;
const IMPRESSIONS = 0;
const CLICKS = 1;
const CARTS = 2;
const PURCHASES = 3;
const REVENUE = 4;
const COUNTER: Record<AttributedEventType, number> = {
  impression: IMPRESSIONS,
  click: CLICKS,
  cart: CARTS,
  purchase: PURCHASES,
};

interface Entry {
  served: ServedRecommendation;
  /** Slot of each item id (first occurrence). */
  slotOf: Map<string, number>;
  counts: Float64Array;
}

function copyServed(s: ServedRecommendation): ServedRecommendation {
  return {
    id: s.id,
    userId: s.userId,
    placement: s.placement,
    servedAt: s.servedAt,
    items: [...s.items],
    scores: [...s.scores],
    features: s.features ? { names: [...s.features.names], rows: s.features.rows.slice() } : null,
  };
}

export class MemoryRecommendationLog implements RecommendationLog {
  /** Entries in serving order (by `servedAt`, then by recording order). */
  private readonly entries: Entry[] = [];
  private readonly byId = new Map<string, Entry>();
  private readonly priceOf: MemoryRecommendationLogOptions['priceOf'];

  constructor(options: MemoryRecommendationLogOptions = {}) {
    this.priceOf = options.priceOf;
  }

  /** Number of recorded recommendations. */
  get size(): number {
    return this.entries.length;
  }

  record(served: ServedRecommendation): Promise<void> {
    if (this.byId.has(served.id))
      return Promise.reject(new ConflictError(`recommendation '${served.id}' is already logged`));
    const f = served.features;
    if (f && f.rows.length !== f.names.length * served.items.length)
      return Promise.reject(
        new RangeError(
          `recommendation '${served.id}': ${f.rows.length} feature values for ${served.items.length} items × ${f.names.length} features`,
        ),
      );
    const copy = copyServed(served);
    const slotOf = new Map<string, number>();
    copy.items.forEach((id, j) => {
      if (!slotOf.has(id)) slotOf.set(id, j);
    });
    const entry: Entry = { served: copy, slotOf, counts: new Float64Array(copy.items.length * STRIDE) };
    // Usually appended; a list served earlier but recorded late goes to its place.
    let at = this.entries.length;
    while (at > 0 && this.entries[at - 1].served.servedAt > copy.servedAt) at--;
    this.entries.splice(at, 0, entry);
    this.byId.set(copy.id, entry);
    return Promise.resolve();
  }

  /**
   * Counts an event sent with a recommendation id against the served item. Returns false (and
   * counts nothing) when the recommendation is unknown, the item was not in it, or the event
   * type has no outcome. `value` is the event's value (a purchase's quantity, default 1);
   * `revenue` the revenue sent with a purchase.
   */
  attribute(
    recommendationId: string,
    itemId: string,
    type: string,
    value: number | null = null,
    revenue: number | null = null,
  ): boolean {
    const entry = this.byId.get(recommendationId);
    if (!entry || !Object.hasOwn(COUNTER, type)) return false;
    const slot = entry.slotOf.get(itemId);
    if (slot === undefined) return false;
    const base = slot * STRIDE;
    entry.counts[base + COUNTER[type as AttributedEventType]] += 1;
    if (type === 'purchase') {
      let r = 0;
      if (revenue !== null && Number.isFinite(revenue)) r = revenue;
      else {
        const quantity = value !== null && Number.isFinite(value) ? value : 1;
        const price = this.priceOf?.(itemId);
        if (typeof price === 'number' && Number.isFinite(price)) r = quantity * price;
      }
      entry.counts[base + REVENUE] += r;
    }
    return true;
  }

  get(id: string): Promise<ServedRecommendation | null> {
    const entry = this.byId.get(id);
    return Promise.resolve(entry ? copyServed(entry.served) : null);
  }

  outcomes(id: string): Promise<ItemOutcome[]> {
    const entry = this.byId.get(id);
    return Promise.resolve(entry ? outcomesOf(entry) : []);
  }

  async *scan(
    options: { since?: number; placement?: string; batchSize?: number } = {},
  ): AsyncIterable<{ served: ServedRecommendation; outcomes: ItemOutcome[] }> {
    const since = options.since ?? -Infinity;
    // A snapshot: lists recorded during the scan are not visited.
    const entries = this.entries.slice(firstAtOrAfter(this.entries, since));
    for (const entry of entries) {
      if (options.placement !== undefined && entry.served.placement !== options.placement) continue;
      yield { served: copyServed(entry.served), outcomes: outcomesOf(entry) };
    }
  }
}

function outcomesOf(entry: Entry): ItemOutcome[] {
  const c = entry.counts;
  return entry.served.items.map((itemId, j) => {
    const b = j * STRIDE;
    return {
      itemId,
      rank: j + 1,
      impressions: c[b + IMPRESSIONS],
      clicks: c[b + CLICKS],
      carts: c[b + CARTS],
      purchases: c[b + PURCHASES],
      revenue: c[b + REVENUE],
    };
  });
}

/** Index of the first entry served at or after `since` (entries sorted by servedAt). */
function firstAtOrAfter(entries: readonly Entry[], since: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid].served.servedAt < since) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
