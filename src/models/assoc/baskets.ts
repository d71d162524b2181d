/**
 * Market baskets as a compressed sparse row matrix (basket x item) on typed arrays: basket b
 * holds the items idx[ptr[b] .. ptr[b+1]), ascending and distinct. Empty baskets are never
 * stored, so `count` is the number of transactions that rule support is measured against.
 *
 * Built from plain item lists, from (basket, item) pairs, or from InteractionData events:
 * an explicit basket / transaction id per event when the data has one, otherwise one user's
 * events cut into sessions at every gap longer than a session window.
 */
import type { InteractionData } from '../../data/interactions.js';

export interface Baskets {
  /** Number of (non-empty) baskets. */
  count: number;
  /** Number of items (columns); item indices are 0..items-1. */
  items: number;
  /** count + 1 offsets into `idx`. */
  ptr: Int32Array;
  /** Item indices, ascending and distinct within each basket. */
  idx: Int32Array;
}

/** A grouping of items (e.g. categories): item index → group index (-1: none), and the group names. */
export interface ItemGrouping {
  itemGroup: Int32Array;
  groupIds: readonly string[];
}

/** Baskets from one list of item indices per basket (duplicates and empty lists dropped). */
export function basketsFromLists(lists: ArrayLike<ArrayLike<number>>, items: number): Baskets {
  let total = 0;
  for (let b = 0; b < lists.length; b++) total += lists[b].length;
  const basket = new Int32Array(total);
  const item = new Int32Array(total);
  let e = 0;
  for (let b = 0; b < lists.length; b++) {
    const l = lists[b];
    for (let j = 0; j < l.length; j++) {
      basket[e] = b;
      item[e++] = l[j];
    }
  }
  return basketsFromPairs(basket, item, total, lists.length, items);
}

/**
 * Baskets from `length` (basket, item) pairs, basket ids in 0..basketIds-1. Pairs with a
 * negative basket id are skipped; repeated items in a basket count once; baskets left empty
 * are dropped (the remaining ones keep their relative order).
 */
export function basketsFromPairs(
  basket: Int32Array,
  item: Int32Array,
  length: number,
  basketIds: number,
  items: number,
): Baskets {
  const rowPtr = new Int32Array(basketIds + 1);
  for (let e = 0; e < length; e++) {
    const b = basket[e];
    if (b < 0) continue;
    if (b >= basketIds) throw new RangeError(`basket id ${b} out of range 0..${basketIds - 1}`);
    const i = item[e];
    if (!(i >= 0 && i < items)) throw new RangeError(`item index ${i} out of range 0..${items - 1}`);
    rowPtr[b + 1]++;
  }
  for (let b = 0; b < basketIds; b++) rowPtr[b + 1] += rowPtr[b];
  const fill = rowPtr.slice(0, basketIds);
  const raw = new Int32Array(rowPtr[basketIds]);
  for (let e = 0; e < length; e++) {
    const b = basket[e];
    if (b >= 0) raw[fill[b]++] = item[e];
  }
  // Sort each row, drop repeats and empty rows, compacting in place.
  const ptr = new Int32Array(basketIds + 1);
  let out = 0;
  let rows = 0;
  for (let b = 0; b < basketIds; b++) {
    const start = rowPtr[b];
    const end = rowPtr[b + 1];
    if (start === end) continue;
    raw.subarray(start, end).sort();
    const rowStart = out;
    for (let p = start; p < end; p++) {
      const i = raw[p];
      if (out > rowStart && raw[out - 1] === i) continue;
      raw[out++] = i;
    }
    ptr[++rows] = out;
  }
  return { count: rows, items, ptr: ptr.slice(0, rows + 1), idx: raw.slice(0, out) };
}

export interface BasketsFromEventsOptions {
  /**
   * Explicit basket / transaction id of each event (aligned with `data.events`, any integers;
   * negative: event left out). When given, users and times are ignored.
   */
  basketIds?: ArrayLike<number>;
  /**
   * A user's events form one basket until a gap between consecutive events (in time order)
   * exceeds this many milliseconds (default 30 minutes; Infinity: one basket per user).
   */
  sessionGapMs?: number;
}

const DEFAULT_SESSION_GAP_MS = 30 * 60_000;

/** Baskets from the positive events of InteractionData (items keep their indices). */
export function basketsFromInteractions(
  data: InteractionData,
  options: BasketsFromEventsOptions = {},
): Baskets {
  const ev = data.events;
  const n = ev.length;
  const items = data.items.size;
  const basket = new Int32Array(n);
  if (options.basketIds) {
    const ids = options.basketIds;
    if (ids.length !== n) throw new RangeError(`basketIds has ${ids.length} entries for ${n} events`);
    const dense = new Map<number, number>();
    for (let e = 0; e < n; e++) {
      const id = ids[e];
      if (!(id >= 0)) {
        basket[e] = -1;
        continue;
      }
      let d = dense.get(id);
      if (d === undefined) dense.set(id, (d = dense.size));
      basket[e] = d;
    }
    return basketsFromPairs(basket, ev.item, n, dense.size, items);
  }

  const gap = options.sessionGapMs ?? DEFAULT_SESSION_GAP_MS;
  if (!(gap >= 0)) throw new RangeError(`sessionGapMs must be >= 0, got ${gap}`);
  // Events grouped by user (counting sort), then by time within each user.
  const users = data.users.size;
  const userPtr = new Int32Array(users + 1);
  for (let e = 0; e < n; e++) userPtr[ev.user[e] + 1]++;
  for (let u = 0; u < users; u++) userPtr[u + 1] += userPtr[u];
  const fill = userPtr.slice(0, users);
  const order = new Int32Array(n);
  for (let e = 0; e < n; e++) order[fill[ev.user[e]]++] = e;
  const time = ev.time;
  const byTime = (a: number, b: number): number => time[a] - time[b] || a - b;
  let next = 0;
  for (let u = 0; u < users; u++) {
    const start = userPtr[u];
    const end = userPtr[u + 1];
    if (start === end) continue;
    const seg = order.subarray(start, end);
    if (gap !== Infinity) seg.sort(byTime);
    let last = time[seg[0]];
    basket[seg[0]] = next;
    for (let p = 1; p < seg.length; p++) {
      const t = time[seg[p]];
      if (t - last > gap) next++;
      basket[seg[p]] = next;
      last = t;
    }
    next++;
  }
  return basketsFromPairs(basket, ev.item, n, next, items);
}

/**
 * The baskets seen through a grouping of items (e.g. item → category): each basket becomes the
 * distinct groups of its items. Items with a negative group are left out.
 */
export function groupBaskets(baskets: Baskets, groupOf: Int32Array, groups: number): Baskets {
  const { count, ptr, idx } = baskets;
  if (groupOf.length !== baskets.items) {
    throw new RangeError(`group map has ${groupOf.length} entries for ${baskets.items} items`);
  }
  const basket = new Int32Array(idx.length);
  const group = new Int32Array(idx.length);
  for (let b = 0; b < count; b++) {
    for (let p = ptr[b]; p < ptr[b + 1]; p++) {
      const g = groupOf[idx[p]];
      basket[p] = g >= 0 ? b : -1;
      group[p] = g;
    }
  }
  return basketsFromPairs(basket, group, idx.length, count, groups);
}

/** The baskets at the given indices, in that order. */
export function selectBaskets(baskets: Baskets, rows: ArrayLike<number>): Baskets {
  const { ptr, idx } = baskets;
  let nnz = 0;
  for (let r = 0; r < rows.length; r++) nnz += ptr[rows[r] + 1] - ptr[rows[r]];
  const outPtr = new Int32Array(rows.length + 1);
  const outIdx = new Int32Array(nnz);
  let o = 0;
  let kept = 0;
  for (let r = 0; r < rows.length; r++) {
    const b = rows[r];
    if (ptr[b + 1] === ptr[b]) continue;
    outIdx.set(idx.subarray(ptr[b], ptr[b + 1]), o);
    o += ptr[b + 1] - ptr[b];
    outPtr[++kept] = o;
  }
  return { count: kept, items: baskets.items, ptr: outPtr.slice(0, kept + 1), idx: outIdx };
}

/** Number of baskets holding each item. */
export function itemBasketCounts(baskets: Baskets): Int32Array {
  const counts = new Int32Array(baskets.items);
  const { idx } = baskets;
  for (let p = 0; p < idx.length; p++) counts[idx[p]]++;
  return counts;
}
