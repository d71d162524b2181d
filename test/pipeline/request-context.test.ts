import { describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_TYPES, type EventType, type Item } from '../../src/domain/types.js';
import { buildCatalog } from '../../src/pipeline/catalog.js';
import {
  requestContext,
  requestContextFromColumns,
  SESSION_GAP_MS,
} from '../../src/pipeline/request-context.js';
import type { HistoryColumns, HistoryEntry } from '../../src/store/store.js';

const NOW = 1_700_000_000_000;
const types = new Map<string, EventType>(DEFAULT_EVENT_TYPES.map((t) => [t.name, t]));
const ids = ['a', 'b', 'c', 'd', 'e'];
const item = (id: string): Item => ({
  id,
  title: id,
  text: '',
  categories: [],
  tags: [],
  attributes: {},
  available: true,
  publishedAt: null,
  createdAt: 0,
  updatedAt: 0,
});
const catalog = buildCatalog(ids, ids.map(item));

/** Most recent first: a session of three, a gap, an impression, a rating of 0, unknown item and type. */
const history: HistoryEntry[] = [
  { itemId: 'c', type: 'click', value: null, timestamp: NOW - 60_000 },
  { itemId: 'zz', type: 'purchase', value: null, timestamp: NOW - 120_000 },
  { itemId: 'a', type: 'rating', value: 4.5, timestamp: NOW - 180_000 },
  { itemId: 'b', type: 'impression', value: null, timestamp: NOW - 200_000 },
  { itemId: 'e', type: 'no-such-type', value: null, timestamp: NOW - 220_000 },
  { itemId: 'd', type: 'rating', value: 0, timestamp: NOW - 240_000 },
  { itemId: 'b', type: 'purchase', value: null, timestamp: NOW - 240_000 - 2 * SESSION_GAP_MS },
  { itemId: 'e', type: 'dwell', value: 30, timestamp: NOW - 300_000 - 2 * SESSION_GAP_MS },
];

/** The same history in columns, items by made-up store keys (100 + position in `ids`; 999 for unknown). */
function columnsOf(entries: readonly HistoryEntry[]): HistoryColumns {
  return {
    length: entries.length,
    itemKeys: Int32Array.from(entries, (h) => (ids.includes(h.itemId) ? 100 + ids.indexOf(h.itemId) : 999)),
    types: entries.map((h) => h.type),
    values: Float64Array.from(entries, (h) => h.value ?? NaN),
    timestamps: Float64Array.from(entries, (h) => h.timestamp),
  };
}
const indexOfKey = (key: number): number => (key >= 100 && key < 100 + ids.length ? key - 100 : -1);

describe('request context', () => {
  it('keeps known items with a positive strength, most recent first, and finds the session', () => {
    const ctx = requestContext(catalog, history, types, { userId: 'u', placement: 'home', k: 5, now: NOW });
    expect(Array.from(ctx.history, (i) => ids[i])).toEqual(['c', 'a', 'b', 'e']);
    expect(ctx.historyTypes).toEqual(['click', 'rating', 'purchase', 'dwell']);
    expect(Array.from(ctx.historyWeights)).toEqual([2, 4.5, 8, Math.fround(Math.log1p(30))]);
    expect(Array.from(ctx.session, (i) => ids[i])).toEqual(['c', 'a']);
  });

  it('is the same from a history in columns with items by store key', () => {
    for (const entries of [history, history.slice(0, 3), history.slice(5), []]) {
      const params = { userId: 'u', placement: 'home', k: 5, now: NOW, cart: ['d'], exclude: ['a', 'zz'] };
      const fromEntries = requestContext(catalog, entries, types, params);
      const fromColumns = requestContextFromColumns(catalog, columnsOf(entries), indexOfKey, types, params);
      expect(fromColumns).toEqual(fromEntries);
    }
  });
});
