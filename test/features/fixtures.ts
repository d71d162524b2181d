/** Small stores and random event streams for the feature tests. */
import type { EventInput, ItemInput } from '../../src/domain/types.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { plainEvent } from '../helpers/events.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const T0 = Date.parse('2025-06-15T12:00:00Z');

/** A plain event (no session, context or client id). */
export const ev = plainEvent;

export async function memoryStore(items: ItemInput[], events: EventInput[]): Promise<Store> {
  const store = await openStore({ kind: 'sqlite', path: ':memory:' });
  if (items.length > 0) await store.upsertItems(items);
  for (let i = 0; i < events.length; i += 5000) await store.insertEvents(events.slice(i, i + 5000));
  return store;
}

/** Deterministic pseudo-random numbers in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export const TYPES = ['impression', 'impression', 'view', 'view', 'click', 'cart', 'purchase', 'rating'];
export const CATEGORIES = ['shoes', 'socks', 'caps'];

export function randomItems(n: number, random: () => number): ItemInput[] {
  return Array.from({ length: n }, (_, i): ItemInput => ({
    id: `p${i}`,
    categories: [CATEGORIES[i % 3], ...(i % 4 === 0 ? ['sale'] : [])],
    attributes: i % 5 === 4 ? {} : { price: Math.round(random() * 100) + 1 },
    publishedAt: i % 2 === 0 ? T0 - Math.floor(random() * 30 * DAY) : null,
  }));
}

/** `n` events over the `spanMs` before T0 on `users` users and `items` items. */
export function randomEvents(
  n: number,
  users: number,
  items: number,
  spanMs: number,
  random: () => number,
): EventInput[] {
  const out: EventInput[] = [];
  for (let k = 0; k < n; k++) {
    const type = TYPES[Math.floor(random() * TYPES.length)];
    out.push(
      ev(
        `u${Math.floor(random() * users)}`,
        `p${Math.floor(random() * items)}`,
        type,
        T0 - Math.floor(random() * spanMs),
        type === 'rating' ? 1 + Math.floor(random() * 5) : null,
      ),
    );
  }
  return out;
}
