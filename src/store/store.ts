import type {
  EventInput,
  EventType,
  Item,
  ItemInput,
  StoredEvent,
  User,
  UserInput,
} from '../domain/types.js';
import type { ServedRecommendation } from '../serving/recommendation-log.js';

/** One page of a listing; pass `nextCursor` back as `cursor` for the next page (null: last page). */
export interface Page<T> {
  rows: T[];
  nextCursor: string | null;
}

export interface ListOptions {
  /** Page size, 1..1000 (default 100). */
  limit?: number;
  cursor?: string | null;
}

export interface ItemListOptions extends ListOptions {
  category?: string;
  available?: boolean;
}

export interface EventFilter extends ListOptions {
  userId?: string;
  itemId?: string;
  type?: string;
  /** Inclusive lower bound on timestamp (ms). */
  since?: number;
  /** Exclusive upper bound on timestamp (ms). */
  until?: number;
}

export interface InsertEventsResult {
  /** Rows written. */
  inserted: number;
  /** Rows skipped because their clientEventId was already stored (or repeated in the batch). */
  duplicates: number;
}

export interface DeleteResult {
  deleted: boolean;
  /** Events removed together with the user or item. */
  events: number;
}

/** One consumed item in a user's history, most recent first. */
export interface HistoryEntry {
  itemId: string;
  type: string;
  value: number | null;
  timestamp: number;
}

/** A user's history in columns, most recent first: entry e is (itemKeys[e], types[e], values[e], timestamps[e]). */
export interface HistoryColumns {
  readonly length: number;
  /** The store key of each entry's item (see Store.itemIdOfKey). */
  readonly itemKeys: Int32Array;
  readonly types: readonly string[];
  /** NaN where the event has no value. */
  readonly values: Float64Array;
  readonly timestamps: Float64Array;
}

/**
 * Events in columnar form, for training. Arrays are parallel and `length` long;
 * `values[i]` is NaN where the event had no value.
 */
export interface EventBatch {
  length: number;
  userIds: string[];
  itemIds: string[];
  types: string[];
  values: Float64Array;
  timestamps: Float64Array;
}

/** Which served recommendations `listRecommendations` returns; pages follow serving order. */
export interface RecommendationListOptions extends ListOptions {
  /** Inclusive lower bound on `servedAt` (ms). */
  since?: number;
  placement?: string;
}

/**
 * What the events carrying one recommendation id did to one item: counts by event type
 * (impression, click, cart, purchase) and purchase revenue. Revenue of a purchase is its
 * `context.revenue` when that is a number, else value (quantity, default 1) times the item's
 * current `attributes.price` when that is a number, else 0.
 */
export interface RecommendationTally {
  recommendationId: string;
  itemId: string;
  impressions: number;
  clicks: number;
  carts: number;
  purchases: number;
  revenue: number;
}

/**
 * The system of record for users, items, events and event types, and the log of served
 * recommendations with the events attributed to them.
 * Every implementation passes the same contract suite (test/store/contract.ts).
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';

  /** Creates or upgrades the schema (versioned migrations) and seeds default event types. */
  init(): Promise<void>;
  close(): Promise<void>;
  /** Throws when the backend cannot answer. */
  ping(): Promise<void>;

  /** Inserts or fully replaces users (createdAt is kept on replace). Returns rows written. */
  upsertUsers(users: UserInput[]): Promise<number>;
  getUser(id: string): Promise<User | null>;
  listUsers(options?: ListOptions): Promise<Page<User>>;
  /** Deletes the user, every event of theirs and the recommendations served to them. */
  deleteUser(id: string): Promise<DeleteResult>;
  countUsers(): Promise<number>;

  /** Inserts or fully replaces items (createdAt is kept on replace). Returns rows written. */
  upsertItems(items: ItemInput[]): Promise<number>;
  getItem(id: string): Promise<Item | null>;
  listItems(options?: ItemListOptions): Promise<Page<Item>>;
  /** Deletes the item and every event on it. */
  deleteItem(id: string): Promise<DeleteResult>;
  countItems(): Promise<number>;

  /**
   * Appends validated events in one transaction. Users and items that do not exist yet are
   * created with empty attributes. Events whose clientEventId is already stored are skipped.
   * Throws if an event's type is not a configured event type.
   */
  insertEvents(events: EventInput[]): Promise<InsertEventsResult>;
  getEvent(id: number): Promise<StoredEvent | null>;
  /** Events matching the filter in ascending id order. */
  listEvents(filter?: EventFilter): Promise<Page<StoredEvent>>;
  deleteEvent(id: number): Promise<boolean>;
  countEvents(): Promise<number>;
  /** The user's events, most recent first (ties: latest id first). */
  userHistory(userId: string, options?: { limit?: number; types?: string[] }): Promise<HistoryEntry[]>;
  /** Every event in ascending id order, in columnar batches of at most `batchSize` rows. */
  scanEvents(batchSize?: number): AsyncIterable<EventBatch>;
  /**
   * Answers `userHistory` from memory from now on, for serving processes (SQLite): builds an index
   * of every event in the background, kept exactly as fresh as the events table, unless the store
   * holds more than `maxEvents` events. Histories come from the database until it is ready, which
   * the promise reports.
   */
  keepHistoryInMemory?(options: { maxEvents: number }): Promise<HistoryMemoryReport>;
  /**
   * The user's history as `userHistory` answers it (no type filter), in columns with items by
   * their store key, when the in-memory history holds it; null otherwise (call `userHistory`).
   * Serving maps keys to its own item indices once (`itemIdOfKey`) instead of ids per event.
   */
  userHistoryColumns?(userId: string, options?: { limit?: number }): HistoryColumns | null;
  /**
   * The id of the item a store key names, undefined when no item has it. A key names one item
   * for as long as that item exists and is never given to another.
   */
  itemIdOfKey?(key: number): string | undefined;

  /**
   * Logs served recommendations in one transaction; a row whose id is already stored is skipped
   * (retries are harmless). Throws a ValidationError, writing nothing, when a row's scores or
   * feature rows do not match its items. Returns rows written.
   */
  insertRecommendations(rows: readonly ServedRecommendation[]): Promise<number>;
  /**
   * A writer of served recommendations that keeps their writes off the calling thread, where
   * the backend blocks it otherwise (SQLite); null where `insertRecommendations` already does not.
   */
  openServedWriter?(): ServedWriter | null;
  getRecommendation(id: string): Promise<ServedRecommendation | null>;
  /** Served recommendations in serving order (servedAt, then logging order). */
  listRecommendations(options?: RecommendationListOptions): Promise<Page<ServedRecommendation>>;
  /**
   * Per-item tallies of the stored events whose `context.recommendationId` is one of `ids`, one
   * row per (recommendation, item) with at least one impression, click, cart or purchase; order
   * unspecified. Items the recommendation did not serve are included: callers pick the served ones.
   */
  recommendationTallies(ids: readonly string[]): Promise<RecommendationTally[]>;

  listEventTypes(): Promise<EventType[]>;
  upsertEventType(type: EventType): Promise<void>;
  /** Refuses (ConflictError) while events of that type exist. Returns false if it did not exist. */
  deleteEventType(name: string): Promise<boolean>;
}

/** The outcome of Store.keepHistoryInMemory: the index's events and memory, or why there is none. */
export type HistoryMemoryReport =
  { built: true; events: number; bytes: number; seconds: number } | { built: false; reason: string };

/** Where served recommendations are written (see Store.openServedWriter). */
export interface ServedWriter {
  /**
   * As Store.insertRecommendations, for a batch encoded by ServedBatchBuilder (serving/served-batch.ts).
   * The batch's buffer is handed over: the caller does not use it again.
   */
  insertBatch(batch: Uint8Array): Promise<number>;
  /** Finishes the writes in flight and releases the writer. */
  close(): Promise<void>;
}
