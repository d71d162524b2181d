/**
 * Turns what the store knows about a user (live history, attributes) and the request's own
 * parameters into the pipeline's RequestContext, on the catalogue's item indices.
 */
import { eventStrength, type EventType } from '../domain/types.js';
import type { HistoryEntry } from '../store/store.js';
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
  const now = p.now ?? Date.now();
  // Typed arrays as long as the history, trimmed to the entries kept by views.
  const items = new Int32Array(history.length);
  const weights = new Float32Array(history.length);
  const times = new Float64Array(history.length);
  const types: string[] = [];
  let n = 0;
  for (let e = 0; e < history.length; e++) {
    const h = history[e];
    const i = catalog.indexOf.get(h.itemId);
    const t = eventTypes.get(h.type);
    if (i === undefined || !t) continue;
    const s = eventStrength(t, h.value);
    if (!(s > 0)) continue;
    items[n] = i;
    weights[n] = s;
    times[n] = h.timestamp;
    types.push(h.type);
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
