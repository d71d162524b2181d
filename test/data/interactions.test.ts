import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CsrMatrix } from '../../src/data/csr.js';
import { csrGet } from '../../src/data/csr-build.js';
import {
  buildInteractions,
  interactionsFromArrays,
  type InteractionData,
} from '../../src/data/interactions.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { plainEvent } from '../helpers/events.js';

/** Matrix entry by external ids (0 when absent). */
function at(data: InteractionData, user: string, item: string, m: CsrMatrix = data.matrix): number {
  const u = data.users.index(user);
  const i = data.items.index(item);
  if (u < 0 || i < 0) return 0;
  return csrGet(m, u, i);
}

describe('interactionsFromArrays', () => {
  const data = interactionsFromArrays({
    userIds: ['u1', 'u1', 'u2', 'u2', 'u3', 'u1'],
    itemIds: ['a', 'b', 'a', 'c', 'a', 'a'],
    strengths: [1, 2, 3, 0, -1, 4],
    timestamps: [10, 20, 30, 40, 50, 60],
    catalog: ['z', 'a'],
    catalogAvailable: [false, true],
    now: 1000,
  });

  it('sums strengths per (user, item) and leaves out non-positive events', () => {
    expect(at(data, 'u1', 'a')).toBe(5);
    expect(at(data, 'u1', 'b')).toBe(2);
    expect(at(data, 'u2', 'a')).toBe(3);
    expect(data.users.ids).toEqual(['u1', 'u2']);
    expect(data.items.ids).toEqual(['z', 'a', 'b']);
    expect(data.events.length).toBe(4);
    expect(Array.from(data.events.time)).toEqual([10, 20, 30, 60]);
    expect(data.matrix.indptr[data.matrix.rows]).toBe(3);
  });

  it('keeps catalog items without events, with their availability', () => {
    expect(data.items.index('z')).toBe(0);
    expect(Array.from(data.itemAvailable)).toEqual([0, 1, 1]);
    expect(data.now).toBe(1000);
    expect(data.lastEventTime).toBe(60);
  });

  it('defaults strengths to 1', () => {
    const d = interactionsFromArrays({ userIds: ['u', 'u'], itemIds: ['i', 'i'] });
    expect(at(d, 'u', 'i')).toBe(2);
    expect(d.lastEventTime).toBe(0);
  });

  it('rejects columns of different lengths', () => {
    expect(() => interactionsFromArrays({ userIds: ['u'], itemIds: [] })).toThrow(RangeError);
  });
});

describe('buildInteractions from a SqliteStore', () => {
  let store: SqliteStore;

  beforeEach(async () => {
    store = new SqliteStore(':memory:');
    await store.init();
  });

  afterEach(async () => {
    await store.close();
  });

  const ev = plainEvent;

  it('applies event-type weights, ignores impressions and keeps items without events', async () => {
    await store.upsertItems([
      { id: 'a' },
      { id: 'b', available: false },
      { id: 'c' },
      { id: 'lonely', available: false },
    ]);
    await store.upsertEventType({
      name: 'dislike',
      weight: -2,
      valueMode: 'ignore',
      description: 'negative',
    });
    await store.insertEvents([
      ev('u1', 'a', 'view', 1000), // 1
      ev('u1', 'a', 'purchase', 2000), // 8
      ev('u1', 'b', 'impression', 3000), // 0: ignored
      ev('u2', 'b', 'rating', 4000, 4), // 1 * 4
      ev('u2', 'c', 'dwell', 5000, Math.E - 1), // 1 * ln(1 + e - 1) = 1
      ev('u2', 'c', 'click', 6000), // 2
      ev('u3', 'c', 'impression', 7000), // ignored: u3 has no positive event
      ev('u2', 'a', 'dislike', 8000), // negative: ignored
      ev('u4', 'new-item', 'like', 9000), // 3, item created by the event
    ]);

    const data = await buildInteractions(store, { now: 123_456, batchSize: 2 });
    expect(data.now).toBe(123_456);
    expect(data.users.ids).toEqual(['u1', 'u2', 'u4']);
    expect([...data.items.ids].sort()).toEqual(['a', 'b', 'c', 'lonely', 'new-item']);
    expect(at(data, 'u1', 'a')).toBe(9);
    expect(at(data, 'u1', 'b')).toBe(0);
    expect(at(data, 'u2', 'b')).toBe(4);
    expect(at(data, 'u2', 'c')).toBeCloseTo(3, 6);
    expect(at(data, 'u2', 'a')).toBe(0);
    expect(at(data, 'u4', 'new-item')).toBe(3);
    expect(data.matrix.rows).toBe(3);
    expect(data.matrix.cols).toBe(5);
    expect(data.matrix.indptr[3]).toBe(4);
    expect(data.events.length).toBe(6);
    expect(data.lastEventTime).toBe(9000);

    const avail = (id: string): number => data.itemAvailable[data.items.index(id)];
    expect(avail('a')).toBe(1);
    expect(avail('b')).toBe(0);
    expect(avail('lonely')).toBe(0);
    expect(avail('new-item')).toBe(1);
  });

  it('restricts items to those with events and events to before `until` on request', async () => {
    await store.upsertItems([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    await store.insertEvents([
      ev('u1', 'a', 'view', 1000),
      ev('u1', 'b', 'view', 2000),
      ev('u2', 'b', 'view', 3000),
    ]);
    const data = await buildInteractions(store, { items: 'interacted', until: 3000 });
    expect(data.items.ids).toEqual(['a', 'b']);
    expect(data.users.ids).toEqual(['u1']);
    expect(data.lastEventTime).toBe(2000);
  });

  it('gives empty data for an empty store', async () => {
    const data = await buildInteractions(store);
    expect(data.users.size).toBe(0);
    expect(data.items.size).toBe(0);
    expect(data.matrix.indptr.length).toBe(1);
    expect(data.lastEventTime).toBeNull();
  });
});
