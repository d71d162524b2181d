/**
 * The roles of the multi-stage serving pipeline. A placement (home feed, similar items, cart
 * cross-sell, next item, email digest, ...) runs: candidate sources → merge → filters → business
 * rules → ranker → diversity → top K with explanations. Everything works on item indices of one
 * catalogue snapshot (see catalog.ts); per-candidate data lives in typed arrays.
 */

/** What the pipeline knows about one request. */
export interface RequestContext {
  userId: string;
  /** The user's row in the training data of the models, -1 when unknown to them. */
  userIndex: number;
  /** Item indices the user interacted with, most recent first, and their strengths. */
  history: Int32Array;
  historyWeights: Float32Array;
  /** Event time of each history entry (ms), same order. */
  historyTimes: Float64Array;
  /** Event type of each history entry, same order (e.g. `purchase`). */
  historyTypes: readonly string[];
  /** Item indices of the current session, most recent first (a subset of history). */
  session: Int32Array;
  /** The item a similar-items or next-item placement is about, -1 otherwise. */
  anchorItem: number;
  /** Items in the cart (cart placements), item indices. */
  cart: Int32Array;
  /** The user's attributes (country, age, segment, ...). */
  user: Readonly<Record<string, unknown>>;
  /** Free request context (device, page, ...), placement included. */
  context: Readonly<Record<string, unknown>>;
  placement: string;
  k: number;
  /** Request time (ms). */
  now: number;
  /** Per-request filters. */
  excludeItems: Int32Array;
  includeCategories: readonly string[] | null;
  excludeCategories: readonly string[] | null;
  debug: boolean;
}

/** Bit of each candidate source in CandidateSet.sources (at most 32 sources). */
export type SourceBit = number;

/**
 * Candidates merged from every source, de-duplicated: one slot per distinct item. Each source
 * adds its own score in its column; `sources` has the bit of every source that proposed the item.
 */
export interface CandidateSet {
  /** Number of candidates. */
  size: number;
  /** Item index per candidate. */
  items: Int32Array;
  /** Bit mask of the sources that proposed each candidate. */
  sources: Uint32Array;
  /** Score of each source for each candidate (NaN where the source did not propose it): sourceCount x capacity. */
  sourceScores: Float32Array;
  /** Final score after ranking, rules and diversity. */
  score: Float32Array;
  /** 1 when a filter removed the candidate. */
  removed: Uint8Array;
  /** Slot of each item in `items`, or -1 (length = catalogue size). */
  slotOf: Int32Array;
}

/** One way of proposing candidates (ANN over embeddings, kNN of recent items, FBT, popular, ...). */
export interface CandidateSource {
  readonly name: string;
  /**
   * Adds up to `limit` candidates for the request through `add(item, score)` (higher is better;
   * scores are comparable within the source only). Returns the number proposed.
   */
  generate(ctx: RequestContext, limit: number, add: (item: number, score: number) => void): number;
  /** Why this source proposed the item, for the person who sees it (null: no reason of its own). */
  explain?(ctx: RequestContext, item: number, names: ItemNames): Explanation | null;
}

/** Display names for explanations. */
export interface ItemNames {
  itemId(item: number): string;
  /** The item's title, or its id. */
  title(item: number): string;
  /** The item's first category, or null. */
  category(item: number): string | null;
}

/** A stage that removes candidates (seen, out of stock, not allowed, excluded, category). */
export interface CandidateFilter {
  readonly name: string;
  /** Marks removed candidates in `set.removed`; returns how many it removed. */
  apply(ctx: RequestContext, set: CandidateSet): number;
}

/** Orders candidates: writes `set.score` for every candidate not removed. */
export interface Ranker {
  readonly name: string;
  rank(ctx: RequestContext, set: CandidateSet): void;
}

/** Why an item is on the list, in words a person reads. */
export interface Explanation {
  /** e.g. `because-you-interacted`, `bought-together`, `trending-in-category`, `new-in-category`, `popular`. */
  kind: string;
  text: string;
  /** The item or category behind the reason, where there is one. */
  itemId?: string;
  category?: string;
}

/** One stage of the debug trace. */
export interface StageTrace {
  stage: string;
  ms: number;
  /** Candidates after the stage. */
  candidates: number;
  detail?: Record<string, unknown>;
}
