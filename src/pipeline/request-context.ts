/**
 * Turns what the store knows about a user (live history, attributes) and the request's own
 * parameters into the pipeline's RequestContext, on the catalogue's item indices.
 */
import { eventStrength, type EventType } from '../domain/types.js';
import type { HistoryColumns, HistoryEntry } from '../store/store.js';
import type { Catalog } from './catalog.js';
import type { RequestContext } from './types.js';

/** A gap longer than this between two events starts a new session. */
export const SESSION_GAP_MS = 30 * 60_000;

export interface RequestParams {
  userId: string;
  placement: string;
  k: number;
  /** The user's row in the models' training data, -1 when unknown. */
  userIndex?: number;
  user?: Readonly<Record<string, unknown>>;
  context?: Readonly<Record<string, unknown>>;
  /** For similar-items and next-item placements. */
  itemId?: string | null;
  cart?: readonly string[];
  exclude?: readonly string[];
  includeCategories?: readonly string[] | null;
  excludeCategories?: readonly string[] | null;
  debug?: boolean;
  now?: number;
}

function indices(catalog: Catalog, ids: readonly string[] | undefined): Int32Array {
  const out: number[] = [];
  for (const id of ids ?? []) {
    const i = catalog.indexOf.get(id);
    if (i !== undefined) out.push(i);
  }
  return Int32Array.from(out);
}

/** One history entry read by position: its catalogue index (-1: not in the catalogue), type, value, time. */
interface HistoryReader {
  readonly length: number;
  item(e: number): number;
  type(e: number): string;
  value(e: number): number | null;
  timestamp(e: number): number;
}

/**
 * Builds the context; `history` is most recent first. History entries with a non-positive
 * strength (e.g. impressions, or types with weight 0) are left out, unknown items too.
 */
export function requestContext(
  catalog: Catalog,
  history: readonly HistoryEntry[],
  eventTypes: ReadonlyMap<string, EventType>,
  p: RequestParams,
): RequestContext {
  return contextOf(
    catalog,
    {
      length: history.length,
      item: (e) => catalog.indexOf.get(history[e].itemId) ?? -1,
      type: (e) => history[e].type,
      value: (e) => history[e].value,
      timestamp: (e) => history[e].timestamp,
    },
    eventTypes,
    p,
  );
}

/**
 * The same context from a history in columns (Store.userHistoryColumns), its items by store key:
 * `indexOfKey` gives the catalogue index of a key, -1 when the catalogue does not hold the item.
 */
export function requestContextFromColumns(
  catalog: Catalog,
  history: HistoryColumns,
  indexOfKey: (key: number) => number,
  eventTypes: ReadonlyMap<string, EventType>,
  p: RequestParams,
): RequestContext {
  const { itemKeys, types, values, timestamps } = history;
  return contextOf(
    catalog,
    {
      length: history.length,
      item: (e) => indexOfKey(itemKeys[e]),
      type: (e) => types[e],
      value: (e) => (Number.isNaN(values[e]) ? null : values[e]),
      timestamp: (e) => timestamps[e],
    },
    eventTypes,
    p,
  );
}

function contextOf(
  catalog: Catalog,
  history: HistoryReader,
  eventTypes: ReadonlyMap<string, EventType>,
  p: RequestParams,
): RequestContext {
  const now = p.now ?? Date.now();
  // Typed arrays as long as the history, trimmed to the entries kept by views.
  const items = new Int32Array(history.length);
  const weights = new Float32Array(history.length);
  const times = new Float64Array(history.length);
  const types: string[] = [];
  let n = 0;
  for (let e = 0; e < history.length; e++) {
    const i = history.item(e);
    const type = history.type(e);
    const t = eventTypes.get(type);
    if (i < 0 || !t) continue;
    const s = eventStrength(t, history.value(e));
    if (!(s > 0)) continue;
    items[n] = i;
    weights[n] = s;
    times[n] = history.timestamp(e);
    types.push(type);
    n++;
  }
  // The current session: the latest events back to the first gap longer than SESSION_GAP_MS,
  // and only when the latest one is recent.
  let sessionLength = 0;
  if (n > 0 && now - times[0] <= SESSION_GAP_MS) {
    sessionLength = 1;
    while (sessionLength < n && times[sessionLength - 1] - times[sessionLength] <= SESSION_GAP_MS)
      sessionLength++;
  }
  const history32 = items.subarray(0, n);
  const anchor = p.itemId ? (catalog.indexOf.get(p.itemId) ?? -1) : -1;
  return {
    userId: p.userId,
    userIndex: p.userIndex ?? -1,
    history: history32,
    historyWeights: weights.subarray(0, n),
    historyTimes: times.subarray(0, n),
    historyTypes: types,
    session: history32.subarray(0, sessionLength),
    anchorItem: anchor,
    cart: indices(catalog, p.cart),
    user: p.user ?? {},
    context: { placement: p.placement, ...(p.context ?? {}) },
    placement: p.placement,
    k: p.k,
    now,
    excludeItems: indices(catalog, p.exclude),
    includeCategories: p.includeCategories ?? null,
    excludeCategories: p.excludeCategories ?? null,
    debug: p.debug ?? false,
  };
}
