/**
 * Training data: the user x item interaction matrix and the positive events behind it, on
 * dense indices. Built from a Store (`buildInteractions`) or from plain arrays
 * (`interactionsFromArrays`, `interactionsFromIndices`).
 */
import { eventStrength, type EventType } from '../domain/types.js';
import type { Store } from '../store/store.js';
import type { CsrMatrix } from './csr.js';
import { csrFromCoo } from './csr-build.js';
import { IdMap } from './id-map.js';

/** Parallel columns of positive-strength events, `length` long. */
export interface EventColumns {
  user: Int32Array;
  item: Int32Array;
  strength: Float32Array;
  /** ms since epoch. */
  time: Float64Array;
  length: number;
}

export interface InteractionData {
  users: IdMap;
  items: IdMap;
  /** users x items; summed event strength per (user, item), over events with strength > 0. */
  matrix: CsrMatrix;
  /** The events behind `matrix`, in scan order (events with strength <= 0 are not kept). */
  events: EventColumns;
  /** 1 where the item is available for recommendation, by item index. */
  itemAvailable: Uint8Array;
  /** Reference time of the snapshot (ms). */
  now: number;
  /** Timestamp of the latest kept event, null when there is none. */
  lastEventTime: number | null;
}

/** Which items get an index. */
export type ItemUniverse = 'catalog' | 'interacted';

export interface BuildInteractionsOptions {
  /** Reference time recorded in the data (default: Date.now()). */
  now?: number;
  /** Events at or after this time (ms) are left out (default: none). */
  until?: number;
  /**
   * `catalog` (default): every stored item, so items without events can still be
   * recommended; `interacted`: only items with at least one positive event.
   */
  items?: ItemUniverse;
  /** Rows per scanEvents batch. */
  batchSize?: number;
}

/** Reads every event, event type and item of the store into InteractionData. */
export async function buildInteractions(
  store: Store,
  options: BuildInteractionsOptions = {},
): Promise<InteractionData> {
  const universe = options.items ?? 'catalog';
  const until = options.until ?? Infinity;
  const types = new Map<string, EventType>();
  for (const t of await store.listEventTypes()) types.set(t.name, t);

  const catalogIds: string[] = [];
  const catalogAvailable: boolean[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listItems({ limit: 1000, cursor });
    for (const it of page.rows) {
      catalogIds.push(it.id);
      catalogAvailable.push(it.available);
    }
    cursor = page.nextCursor;
  } while (cursor);

  const users = new IdMap();
  const items = new IdMap(universe === 'catalog' ? catalogIds : undefined);
  const columns = new EventColumnsBuilder(await store.countEvents());
  for await (const batch of store.scanEvents(options.batchSize)) {
    const { userIds, itemIds, types: typeNames, values, timestamps } = batch;
    for (let e = 0; e < batch.length; e++) {
      const t = timestamps[e];
      if (!(t < until)) continue;
      const type = types.get(typeNames[e]);
      if (type === undefined) continue;
      const v = values[e];
      const s = eventStrength(type, Number.isNaN(v) ? null : v);
      if (!(s > 0)) continue;
      columns.push(users.getOrAdd(userIds[e]), items.getOrAdd(itemIds[e]), s, t);
    }
    // Let the process serve between batches: a retrain reads while requests are answered.
    await new Promise((resolve) => setImmediate(resolve));
  }

  const itemAvailable = new Uint8Array(items.size).fill(1);
  for (let c = 0; c < catalogIds.length; c++) {
    const i = items.index(catalogIds[c]);
    if (i >= 0) itemAvailable[i] = catalogAvailable[c] ? 1 : 0;
  }
  return interactionsFromIndices({ users, items, events: columns.finish(), itemAvailable, now: options.now });
}

export interface RawInteractions {
  /** External user id of each event. */
  userIds: readonly string[];
  /** External item id of each event (same length as userIds). */
  itemIds: readonly string[];
  /** Strength of each event (default 1); events with strength <= 0 are left out. */
  strengths?: ArrayLike<number>;
  /** Timestamp of each event in ms (default 0). */
  timestamps?: ArrayLike<number>;
  /** Items indexed first and in this order, with or without events. */
  catalog?: readonly string[];
  /** Availability of each catalog item (default: all available). */
  catalogAvailable?: ArrayLike<boolean>;
  now?: number;
}

/** InteractionData from plain per-event arrays, without a store. */
export function interactionsFromArrays(raw: RawInteractions): InteractionData {
  const n = raw.userIds.length;
  if (raw.itemIds.length !== n) throw new RangeError('userIds and itemIds differ in length');
  if (raw.strengths && raw.strengths.length !== n)
    throw new RangeError('strengths differ in length from userIds');
  if (raw.timestamps && raw.timestamps.length !== n)
    throw new RangeError('timestamps differ in length from userIds');
  const users = new IdMap();
  const items = new IdMap(raw.catalog);
  const columns = new EventColumnsBuilder(n);
  for (let e = 0; e < n; e++) {
    const s = raw.strengths ? raw.strengths[e] : 1;
    if (!(s > 0)) continue;
    const t = raw.timestamps ? raw.timestamps[e] : 0;
    columns.push(users.getOrAdd(raw.userIds[e]), items.getOrAdd(raw.itemIds[e]), s, t);
  }
  const itemAvailable = new Uint8Array(items.size).fill(1);
  if (raw.catalog && raw.catalogAvailable) {
    for (let c = 0; c < raw.catalog.length; c++) {
      if (!raw.catalogAvailable[c]) itemAvailable[items.index(raw.catalog[c])] = 0;
    }
  }
  return interactionsFromIndices({ users, items, events: columns.finish(), itemAvailable, now: raw.now });
}

export interface IndexedInteractions {
  users: IdMap;
  items: IdMap;
  /** Events on indices of `users` and `items`; all strengths must be > 0. */
  events: EventColumns;
  /** Default: all available. */
  itemAvailable?: Uint8Array;
  /** Default: Date.now(). */
  now?: number;
}

/** InteractionData from events already on dense indices (no copy of the event columns). */
export function interactionsFromIndices(input: IndexedInteractions): InteractionData {
  const { users, items, events } = input;
  const itemAvailable = input.itemAvailable ?? new Uint8Array(items.size).fill(1);
  if (itemAvailable.length !== items.size) {
    throw new RangeError(`itemAvailable has ${itemAvailable.length} entries for ${items.size} items`);
  }
  const matrix = csrFromCoo(users.size, items.size, events.user, events.item, events.strength, events.length);
  let last = -Infinity;
  const time = events.time;
  for (let e = 0; e < events.length; e++) if (time[e] > last) last = time[e];
  return {
    users,
    items,
    matrix,
    events,
    itemAvailable,
    now: input.now ?? Date.now(),
    lastEventTime: events.length > 0 ? last : null,
  };
}

/** Appends events into typed columns, doubling their capacity when full. */
export class EventColumnsBuilder {
  private user: Int32Array;
  private item: Int32Array;
  private strength: Float32Array;
  private time: Float64Array;
  private length = 0;

  constructor(capacity = 1024) {
    const c = Math.max(16, capacity);
    this.user = new Int32Array(c);
    this.item = new Int32Array(c);
    this.strength = new Float32Array(c);
    this.time = new Float64Array(c);
  }

  push(user: number, item: number, strength: number, time: number): void {
    if (this.length === this.user.length) this.grow();
    const i = this.length++;
    this.user[i] = user;
    this.item[i] = item;
    this.strength[i] = strength;
    this.time[i] = time;
  }

  /** The columns so far, trimmed to their length (views when nearly full, copies otherwise). */
  finish(): EventColumns {
    const n = this.length;
    const tight = n >= this.user.length * 0.9;
    return {
      user: tight ? this.user.subarray(0, n) : this.user.slice(0, n),
      item: tight ? this.item.subarray(0, n) : this.item.slice(0, n),
      strength: tight ? this.strength.subarray(0, n) : this.strength.slice(0, n),
      time: tight ? this.time.subarray(0, n) : this.time.slice(0, n),
      length: n,
    };
  }

  private grow(): void {
    const c = this.user.length * 2;
    const user = new Int32Array(c);
    user.set(this.user);
    this.user = user;
    const item = new Int32Array(c);
    item.set(this.item);
    this.item = item;
    const strength = new Float32Array(c);
    strength.set(this.strength);
    this.strength = strength;
    const time = new Float64Array(c);
    time.set(this.time);
    this.time = time;
  }
}
