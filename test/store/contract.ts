/**
 * The behaviour every Store implementation must show. Each backend's test file calls
 * `storeContract` with a factory that returns a fresh, initialised, empty store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KindredError } from '../../src/domain/errors.js';
import { DEFAULT_EVENT_TYPES, type EventInput, type JsonObject } from '../../src/domain/types.js';
import type { ServedRecommendation } from '../../src/serving/recommendation-log.js';
import type { EventBatch, RecommendationTally, Store } from '../../src/store/store.js';

export interface ContractOptions {
  /** Closes the store and opens the same database again; enables the persistence tests. */
  reopen?: (store: Store) => Promise<Store>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function event(
  userId: string,
  itemId: string,
  type: string,
  timestamp: number,
  extra: Partial<EventInput> = {},
): EventInput {
  return {
    userId,
    itemId,
    type,
    value: null,
    timestamp,
    sessionId: null,
    context: null,
    clientEventId: null,
    ...extra,
  };
}

/** Resolves to the error a promise rejects with; fails the test if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<KindredError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(KindredError);
    return error as KindredError;
  }
  throw new Error('expected the call to reject');
}

/** Attributes exercising nesting, arrays, unicode, escapes and number forms; key order matters. */
const RICH_JSON: JsonObject = {
  zeta: 1,
  alpha: { nested: { deeper: [1, 'two', { three: 3 }] }, empty: {}, none: null },
  list: [],
  text: 'naïve café — 東京 🎉 "quoted" \\ back\\slash \n newline \t tab',
  numbers: [0, -7, 0.1, 1.5e-7, 123456789012345, 1e21],
  flags: [true, false],
  'key with spaces & ümlaut': 'ok',
};

/** Five events used by the filter and paging tests (timestamps 1000..5000 in insertion order). */
const FIVE: EventInput[] = [
  event('u1', 'i1', 'view', 1000),
  event('u1', 'i2', 'click', 2000),
  event('u2', 'i1', 'view', 3000),
  event('u2', 'i2', 'purchase', 4000),
  event('u1', 'i1', 'purchase', 5000),
];

function served(
  id: string,
  userId: string,
  items: string[],
  extra: Partial<ServedRecommendation> = {},
): ServedRecommendation {
  return {
    id,
    userId,
    placement: 'home',
    servedAt: 1000,
    items,
    scores: items.map((_, i) => items.length - i),
    features: null,
    ...extra,
  };
}

/** Tallies sorted by recommendation and item, for comparison. */
function sortedTallies(tallies: RecommendationTally[]): RecommendationTally[] {
  const key = (t: RecommendationTally) => `${t.recommendationId}\u0000${t.itemId}`;
  return [...tallies].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

const tally = (
  recommendationId: string,
  itemId: string,
  counts: Partial<Omit<RecommendationTally, 'recommendationId' | 'itemId'>>,
): RecommendationTally => ({
  recommendationId,
  itemId,
  impressions: 0,
  clicks: 0,
  carts: 0,
  purchases: 0,
  revenue: 0,
  ...counts,
});

async function collect(batches: AsyncIterable<EventBatch>): Promise<EventBatch[]> {
  const out: EventBatch[] = [];
  for await (const batch of batches) out.push(batch);
  return out;
}

export function storeContract(
  name: string,
  make: () => Promise<Store>,
  teardown: (store: Store) => Promise<void> = (store) => store.close(),
  options: ContractOptions = {},
): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await make();
    });

    afterEach(async () => {
      await teardown(store);
    });

    /** Timestamps of the events on the first page of a listing, in id order. */
    async function timestampsOf(filter: Parameters<Store['listEvents']>[0]): Promise<number[]> {
      const page = await store.listEvents(filter);
      return page.rows.map((e) => e.timestamp);
    }

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    describe('users', () => {
      it('inserts users and reads them back', async () => {
        const before = Date.now();
        expect(await store.upsertUsers([{ id: 'alice', attributes: { plan: 'pro' } }, { id: 'bob' }])).toBe(
          2,
        );
        const after = Date.now();
        const alice = await store.getUser('alice');
        expect(alice?.attributes).toEqual({ plan: 'pro' });
        expect(alice?.createdAt).toBeGreaterThanOrEqual(before);
        expect(alice?.createdAt).toBeLessThanOrEqual(after);
        expect(alice?.updatedAt).toBe(alice?.createdAt);
        expect(await store.getUser('bob')).toMatchObject({ id: 'bob', attributes: {} });
        expect(await store.countUsers()).toBe(2);
      });

      it('replaces attributes, keeps createdAt and moves updatedAt', async () => {
        await store.upsertUsers([{ id: 'alice', attributes: { plan: 'pro', age: 30 } }]);
        const first = await store.getUser('alice');
        await sleep(15);
        await store.upsertUsers([{ id: 'alice', attributes: { plan: 'free' } }]);
        const second = await store.getUser('alice');
        expect(second?.attributes).toEqual({ plan: 'free' });
        expect(second?.createdAt).toBe(first?.createdAt);
        expect(second?.updatedAt).toBeGreaterThan(first!.updatedAt);
        expect(await store.countUsers()).toBe(1);
      });

      it('returns null for a missing user', async () => {
        await store.upsertUsers([{ id: 'alice' }]);
        expect(await store.getUser('alicia')).toBeNull();
      });

      it('round-trips JSON attributes exactly', async () => {
        await store.upsertUsers([{ id: 'ü-ser/1', attributes: RICH_JSON }]);
        const user = await store.getUser('ü-ser/1');
        expect(user?.attributes).toEqual(RICH_JSON);
        expect(JSON.stringify(user?.attributes)).toBe(JSON.stringify(RICH_JSON));
      });

      it('pages through users with cursors', async () => {
        const ids = Array.from({ length: 25 }, (_, i) => `u${String(i).padStart(2, '0')}`);
        await store.upsertUsers(ids.map((id) => ({ id })));
        const first = await store.listUsers({ limit: 10 });
        expect(first.rows.map((u) => u.id)).toEqual(ids.slice(0, 10));
        expect(first.nextCursor).not.toBeNull();
        const second = await store.listUsers({ limit: 10, cursor: first.nextCursor });
        expect(second.rows.map((u) => u.id)).toEqual(ids.slice(10, 20));
        const third = await store.listUsers({ limit: 10, cursor: second.nextCursor });
        expect(third.rows.map((u) => u.id)).toEqual(ids.slice(20));
        expect(third.nextCursor).toBeNull();
      });

      it('ends on a full last page without an extra empty page', async () => {
        await store.upsertUsers([{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' }]);
        const first = await store.listUsers({ limit: 2 });
        const second = await store.listUsers({ limit: 2, cursor: first.nextCursor });
        expect(second.rows.map((u) => u.id)).toEqual(['c', 'd']);
        expect(second.nextCursor).toBeNull();
      });

      it('uses 100 rows as the default page size', async () => {
        await store.upsertUsers(Array.from({ length: 101 }, (_, i) => ({ id: `user-${i}` })));
        const page = await store.listUsers();
        expect(page.rows).toHaveLength(100);
        const rest = await store.listUsers({ cursor: page.nextCursor });
        expect(rest.rows.map((u) => u.id)).toEqual(['user-100']);
        expect(rest.nextCursor).toBeNull();
      });

      it('rejects a cursor it did not issue', async () => {
        const error = await rejection(store.listUsers({ cursor: 'not-a-cursor' }));
        expect(error.code).toBe('VALIDATION_ERROR');
      });

      it('deletes a user with their events and reports the count', async () => {
        await store.insertEvents(FIVE);
        expect(await store.deleteUser('u1')).toEqual({ deleted: true, events: 3 });
        expect(await store.getUser('u1')).toBeNull();
        expect(await store.countEvents()).toBe(2);
        expect((await store.listEvents({ userId: 'u1' })).rows).toEqual([]);
        expect(await store.userHistory('u1')).toEqual([]);
        expect((await store.listEvents()).rows.map((e) => e.userId)).toEqual(['u2', 'u2']);
        expect(await store.deleteUser('u1')).toEqual({ deleted: false, events: 0 });
        expect(await store.countUsers()).toBe(1);
      });

      it('recreates a deleted user when new events arrive for them', async () => {
        await store.insertEvents([event('u1', 'i1', 'view', 1000)]);
        await store.deleteUser('u1');
        expect(await store.insertEvents([event('u1', 'i1', 'click', 2000)])).toEqual({
          inserted: 1,
          duplicates: 0,
        });
        expect(await store.getUser('u1')).toMatchObject({ id: 'u1', attributes: {} });
        expect(await store.userHistory('u1')).toEqual([
          { itemId: 'i1', type: 'click', value: null, timestamp: 2000 },
        ]);
      });
    });

    describe('items', () => {
      it('applies defaults for omitted fields', async () => {
        const before = Date.now();
        expect(await store.upsertItems([{ id: 'plain' }])).toBe(1);
        const item = await store.getItem('plain');
        expect(item).toEqual({
          id: 'plain',
          title: null,
          text: null,
          categories: [],
          tags: [],
          attributes: {},
          available: true,
          publishedAt: null,
          createdAt: item?.createdAt,
          updatedAt: item?.createdAt,
        });
        expect(item?.createdAt).toBeGreaterThanOrEqual(before);
      });

      it('stores every field', async () => {
        await store.upsertItems([
          {
            id: 'sku-1',
            title: 'Grüner Tee 🍵',
            text: 'Loose leaf\nfrom Shizuoka',
            categories: ['tea', 'green'],
            tags: ['organic'],
            attributes: RICH_JSON,
            available: false,
            publishedAt: 1_700_000_000_123,
          },
        ]);
        const item = await store.getItem('sku-1');
        expect(item).toMatchObject({
          title: 'Grüner Tee 🍵',
          text: 'Loose leaf\nfrom Shizuoka',
          categories: ['tea', 'green'],
          tags: ['organic'],
          available: false,
          publishedAt: 1_700_000_000_123,
        });
        expect(JSON.stringify(item?.attributes)).toBe(JSON.stringify(RICH_JSON));
      });

      it('replaces every field, keeps createdAt and moves updatedAt', async () => {
        await store.upsertItems([
          { id: 'x', title: 'Old', categories: ['a'], tags: ['t'], attributes: { p: 1 } },
        ]);
        const first = await store.getItem('x');
        await sleep(15);
        await store.upsertItems([{ id: 'x', title: 'New', categories: ['b'] }]);
        const second = await store.getItem('x');
        expect(second).toMatchObject({
          title: 'New',
          categories: ['b'],
          tags: [],
          attributes: {},
          available: true,
        });
        expect(second?.createdAt).toBe(first?.createdAt);
        expect(second?.updatedAt).toBeGreaterThan(first!.updatedAt);
        expect((await store.listItems({ category: 'a' })).rows).toEqual([]);
        expect((await store.listItems({ category: 'b' })).rows.map((i) => i.id)).toEqual(['x']);
      });

      it('keeps the last version when a batch repeats an id', async () => {
        await store.upsertItems([{ id: 'x', title: 'first' }, { id: 'y' }, { id: 'x', title: 'second' }]);
        expect((await store.getItem('x'))?.title).toBe('second');
        expect(await store.countItems()).toBe(2);
      });

      it('returns null for a missing item', async () => {
        await store.upsertItems([{ id: 'x' }]);
        expect(await store.getItem('y')).toBeNull();
      });

      it('filters by category and availability', async () => {
        await store.upsertItems([
          { id: 'a', categories: ['x', 'y'] },
          { id: 'b', categories: ['y'] },
          { id: 'c', categories: ['x'], available: false },
          { id: 'd' },
        ]);
        const ids = async (opts: Parameters<Store['listItems']>[0]) =>
          (await store.listItems(opts)).rows.map((i) => i.id);
        expect(await ids({ category: 'x' })).toEqual(['a', 'c']);
        expect(await ids({ category: 'y' })).toEqual(['a', 'b']);
        expect(await ids({ category: 'x', available: true })).toEqual(['a']);
        expect(await ids({ category: 'x', available: false })).toEqual(['c']);
        expect(await ids({ available: true })).toEqual(['a', 'b', 'd']);
        expect(await ids({ available: false })).toEqual(['c']);
        expect(await ids({ category: 'z' })).toEqual([]);
        expect(await ids({})).toEqual(['a', 'b', 'c', 'd']);
      });

      it('pages through a category', async () => {
        const items = Array.from({ length: 14 }, (_, i) => ({
          id: `it${String(i).padStart(2, '0')}`,
          categories: i % 2 === 0 ? ['even'] : ['odd'],
        }));
        await store.upsertItems(items);
        const first = await store.listItems({ category: 'even', limit: 3 });
        const second = await store.listItems({ category: 'even', limit: 3, cursor: first.nextCursor });
        const third = await store.listItems({ category: 'even', limit: 3, cursor: second.nextCursor });
        expect(first.rows.map((i) => i.id)).toEqual(['it00', 'it02', 'it04']);
        expect(second.rows.map((i) => i.id)).toEqual(['it06', 'it08', 'it10']);
        expect(third.rows.map((i) => i.id)).toEqual(['it12']);
        expect(third.nextCursor).toBeNull();
      });

      it('deletes an item with its events and reports the count', async () => {
        await store.upsertItems([{ id: 'i1', categories: ['c'] }]);
        await store.insertEvents(FIVE);
        expect(await store.deleteItem('i1')).toEqual({ deleted: true, events: 3 });
        expect(await store.getItem('i1')).toBeNull();
        expect((await store.listItems({ category: 'c' })).rows).toEqual([]);
        expect((await store.listEvents()).rows.map((e) => e.itemId)).toEqual(['i2', 'i2']);
        expect(await store.userHistory('u1')).toEqual([
          { itemId: 'i2', type: 'click', value: null, timestamp: 2000 },
        ]);
        expect(await store.deleteItem('i1')).toEqual({ deleted: false, events: 0 });
        expect(await store.countItems()).toBe(1);
      });
    });

    describe('events', () => {
      it('creates missing users and items and leaves existing ones alone', async () => {
        await store.upsertUsers([{ id: 'u1', attributes: { vip: true } }]);
        await store.upsertItems([{ id: 'i1', title: 'Known' }]);
        expect(await store.insertEvents(FIVE)).toEqual({ inserted: 5, duplicates: 0 });
        expect(await store.countUsers()).toBe(2);
        expect(await store.countItems()).toBe(2);
        expect((await store.getUser('u1'))?.attributes).toEqual({ vip: true });
        expect((await store.getItem('i1'))?.title).toBe('Known');
        expect(await store.getUser('u2')).toMatchObject({ id: 'u2', attributes: {} });
        expect(await store.getItem('i2')).toMatchObject({
          id: 'i2',
          title: null,
          categories: [],
          available: true,
        });
      });

      it('stores every field of an event', async () => {
        const context = { placement: 'home/hero', rec: { model: 'item-knn', rank: 3 }, tags: ['ä', '😀'] };
        await store.insertEvents([
          event('u1', 'i1', 'rating', 1_700_000_000_001, {
            value: 4.5,
            sessionId: 's-1',
            context,
            clientEventId: 'c-1',
          }),
        ]);
        const [stored] = (await store.listEvents()).rows;
        expect(stored).toEqual({
          id: stored.id,
          userId: 'u1',
          itemId: 'i1',
          type: 'rating',
          value: 4.5,
          timestamp: 1_700_000_000_001,
          sessionId: 's-1',
          context,
          clientEventId: 'c-1',
        });
        expect(JSON.stringify(stored.context)).toBe(JSON.stringify(context));
        expect(typeof stored.id).toBe('number');
        expect(await store.getEvent(stored.id)).toEqual(stored);
      });

      it('assigns increasing ids in input order', async () => {
        await store.insertEvents(FIVE.slice(0, 3));
        await store.insertEvents(FIVE.slice(3));
        const rows = (await store.listEvents()).rows;
        expect(rows.map((e) => e.timestamp)).toEqual([1000, 2000, 3000, 4000, 5000]);
        for (let i = 1; i < rows.length; i++) expect(rows[i].id).toBeGreaterThan(rows[i - 1].id);
      });

      it('ignores repeated client event ids within and across batches', async () => {
        const first = await store.insertEvents([
          event('u1', 'i1', 'view', 1000, { clientEventId: 'a' }),
          event('u1', 'i2', 'view', 2000, { clientEventId: 'a' }),
          event('u1', 'i3', 'view', 3000, { clientEventId: 'b' }),
          event('u1', 'i4', 'view', 4000),
          event('u1', 'i5', 'view', 5000),
        ]);
        expect(first).toEqual({ inserted: 4, duplicates: 1 });
        const second = await store.insertEvents([
          event('u2', 'i1', 'view', 6000, { clientEventId: 'b' }),
          event('u2', 'i2', 'view', 7000, { clientEventId: 'c' }),
          event('u2', 'i3', 'view', 8000, { clientEventId: 'a' }),
        ]);
        expect(second).toEqual({ inserted: 1, duplicates: 2 });
        const rows = (await store.listEvents()).rows;
        expect(rows.map((e) => [e.clientEventId, e.itemId])).toEqual([
          ['a', 'i1'],
          ['b', 'i3'],
          [null, 'i4'],
          [null, 'i5'],
          ['c', 'i2'],
        ]);
        expect(await store.countEvents()).toBe(5);
      });

      it('rejects a batch with an unknown event type and writes nothing of it', async () => {
        await store.insertEvents([event('u0', 'i0', 'view', 500)]);
        const error = await rejection(
          store.insertEvents([event('u1', 'i1', 'view', 1000), event('u2', 'i2', 'teleport', 2000)]),
        );
        expect(error.code).toBe('VALIDATION_ERROR');
        expect(error.details).toEqual([
          { field: '/events/1/type', message: "unknown event type 'teleport'" },
        ]);
        expect(await store.countEvents()).toBe(1);
        expect(await store.countUsers()).toBe(1);
        expect(await store.countItems()).toBe(1);
        expect(await store.getUser('u1')).toBeNull();
      });

      it('accepts a type as soon as it is configured', async () => {
        await store.upsertEventType({
          name: 'share',
          weight: 2.5,
          valueMode: 'ignore',
          description: 'Shared it',
        });
        expect(await store.insertEvents([event('u1', 'i1', 'share', 1000)])).toEqual({
          inserted: 1,
          duplicates: 0,
        });
        expect((await store.listEvents({ type: 'share' })).rows.map((e) => e.type)).toEqual(['share']);
      });

      it('accepts an empty batch', async () => {
        expect(await store.insertEvents([])).toEqual({ inserted: 0, duplicates: 0 });
      });

      it('filters listings by user, item, type and time', async () => {
        await store.insertEvents(FIVE);
        expect(await timestampsOf({ userId: 'u1' })).toEqual([1000, 2000, 5000]);
        expect(await timestampsOf({ itemId: 'i1' })).toEqual([1000, 3000, 5000]);
        expect(await timestampsOf({ type: 'view' })).toEqual([1000, 3000]);
        expect(await timestampsOf({ since: 2000 })).toEqual([2000, 3000, 4000, 5000]);
        expect(await timestampsOf({ until: 4000 })).toEqual([1000, 2000, 3000]);
        expect(await timestampsOf({ userId: 'u2', since: 2000, until: 5000 })).toEqual([3000, 4000]);
        expect(await timestampsOf({ userId: 'u1', itemId: 'i1' })).toEqual([1000, 5000]);
        expect(await timestampsOf({ userId: 'u1', type: 'purchase' })).toEqual([5000]);
        expect(await timestampsOf({ userId: 'nobody' })).toEqual([]);
        expect(await timestampsOf({ itemId: 'nothing' })).toEqual([]);
        expect(await timestampsOf({ type: 'like' })).toEqual([]);
        expect(await timestampsOf({ type: 'no-such-type' })).toEqual([]);
      });

      it('pages through events with and without filters', async () => {
        await store.insertEvents(FIVE);
        const p1 = await store.listEvents({ limit: 2 });
        const p2 = await store.listEvents({ limit: 2, cursor: p1.nextCursor });
        const p3 = await store.listEvents({ limit: 2, cursor: p2.nextCursor });
        expect([p1, p2, p3].map((p) => p.rows.map((e) => e.timestamp))).toEqual([
          [1000, 2000],
          [3000, 4000],
          [5000],
        ]);
        expect(p3.nextCursor).toBeNull();
        const f1 = await store.listEvents({ userId: 'u1', limit: 2 });
        const f2 = await store.listEvents({ userId: 'u1', limit: 2, cursor: f1.nextCursor });
        expect(f1.rows.map((e) => e.timestamp)).toEqual([1000, 2000]);
        expect(f2.rows.map((e) => e.timestamp)).toEqual([5000]);
        expect(f2.nextCursor).toBeNull();
      });

      it('gets, counts and deletes single events', async () => {
        await store.insertEvents(FIVE);
        expect(await store.countEvents()).toBe(5);
        const third = (await store.listEvents()).rows[2];
        expect(await store.getEvent(third.id)).toMatchObject({ userId: 'u2', itemId: 'i1', timestamp: 3000 });
        expect(await store.deleteEvent(third.id)).toBe(true);
        expect(await store.deleteEvent(third.id)).toBe(false);
        expect(await store.getEvent(third.id)).toBeNull();
        expect(await store.getEvent(987654)).toBeNull();
        expect(await store.countEvents()).toBe(4);
        expect(await timestampsOf({})).toEqual([1000, 2000, 4000, 5000]);
      });
    });

    describe('userHistory', () => {
      const HISTORY: EventInput[] = [
        event('u1', 'i1', 'view', 3000),
        event('u1', 'i2', 'rating', 1000, { value: 4 }),
        event('u1', 'i3', 'purchase', 3000),
        event('u1', 'i4', 'dwell', 2000, { value: 12.5 }),
        event('u2', 'i9', 'view', 9000),
      ];

      it('returns the most recent first, latest id first on equal timestamps', async () => {
        await store.insertEvents(HISTORY);
        expect(await store.userHistory('u1')).toEqual([
          { itemId: 'i3', type: 'purchase', value: null, timestamp: 3000 },
          { itemId: 'i1', type: 'view', value: null, timestamp: 3000 },
          { itemId: 'i4', type: 'dwell', value: 12.5, timestamp: 2000 },
          { itemId: 'i2', type: 'rating', value: 4, timestamp: 1000 },
        ]);
      });

      it('honours limit and types', async () => {
        await store.insertEvents(HISTORY);
        expect((await store.userHistory('u1', { limit: 2 })).map((h) => h.itemId)).toEqual(['i3', 'i1']);
        expect((await store.userHistory('u1', { types: ['rating', 'view'] })).map((h) => h.itemId)).toEqual([
          'i1',
          'i2',
        ]);
        expect((await store.userHistory('u1', { types: ['dwell'], limit: 5 })).map((h) => h.itemId)).toEqual([
          'i4',
        ]);
        expect(await store.userHistory('u1', { types: ['like'] })).toEqual([]);
      });

      it('is empty for an unknown user', async () => {
        await store.insertEvents(HISTORY);
        expect(await store.userHistory('u3')).toEqual([]);
      });
    });

    describe('scanEvents', () => {
      it('streams every event in id order in bounded batches', async () => {
        const events = Array.from({ length: 25 }, (_, i) =>
          event(`u${i % 4}`, `i${i % 7}`, i % 3 === 0 ? 'rating' : 'view', 10_000 + i, {
            value: i % 3 === 0 ? i / 2 : null,
          }),
        );
        await store.insertEvents(events.slice(0, 12));
        await store.insertEvents(events.slice(12));
        const batches = await collect(store.scanEvents(10));
        expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
        const userIds = batches.flatMap((b) => b.userIds);
        const itemIds = batches.flatMap((b) => b.itemIds);
        const types = batches.flatMap((b) => b.types);
        const values = batches.flatMap((b) => [...b.values]);
        const timestamps = batches.flatMap((b) => [...b.timestamps]);
        expect(userIds).toEqual(events.map((e) => e.userId));
        expect(itemIds).toEqual(events.map((e) => e.itemId));
        expect(types).toEqual(events.map((e) => e.type));
        expect(values).toEqual(events.map((e) => e.value ?? Number.NaN));
        expect(values.filter((v) => Number.isNaN(v))).toHaveLength(16);
        expect(timestamps).toEqual(events.map((e) => e.timestamp));
        for (const batch of batches) {
          expect(batch.values).toBeInstanceOf(Float64Array);
          expect(batch.values).toHaveLength(batch.length);
          expect(batch.timestamps).toHaveLength(batch.length);
          expect(batch.userIds).toHaveLength(batch.length);
        }
      });

      it('skips deleted events and yields nothing for an empty store', async () => {
        expect(await collect(store.scanEvents())).toEqual([]);
        await store.insertEvents(FIVE);
        await store.deleteUser('u2');
        const batches = await collect(store.scanEvents(2));
        expect(batches.map((b) => [...b.timestamps])).toEqual([[1000, 2000], [5000]]);
      });

      it('leaves the store usable between batches and includes events added meanwhile', async () => {
        await store.insertEvents(FIVE);
        const seen: string[] = [];
        for await (const batch of store.scanEvents(2)) {
          for (let i = 0; i < batch.length; i++) {
            seen.push(`${batch.userIds[i]}/${batch.itemIds[i]}/${batch.types[i]}/${batch.timestamps[i]}`);
          }
          if (seen.length === 2) {
            await store.upsertEventType({ name: 'late', weight: 1, valueMode: 'ignore', description: '' });
            await store.insertEvents([event('newcomer', 'new-item', 'late', 6000)]);
          }
        }
        expect(seen).toEqual([
          'u1/i1/view/1000',
          'u1/i2/click/2000',
          'u2/i1/view/3000',
          'u2/i2/purchase/4000',
          'u1/i1/purchase/5000',
          'newcomer/new-item/late/6000',
        ]);
      });
    });

    describe('event types', () => {
      it('starts with the default event types', async () => {
        const sorted = [...DEFAULT_EVENT_TYPES].sort((a, b) => a.name.localeCompare(b.name));
        expect(await store.listEventTypes()).toEqual(sorted);
      });

      it('creates and updates types', async () => {
        await store.upsertEventType({
          name: 'share',
          weight: 2.5,
          valueMode: 'ignore',
          description: 'Shared',
        });
        await store.upsertEventType({ name: 'view', weight: 0.5, valueMode: 'log1p', description: 'Viewed' });
        const types = await store.listEventTypes();
        expect(types).toHaveLength(DEFAULT_EVENT_TYPES.length + 1);
        expect(types.find((t) => t.name === 'share')).toEqual({
          name: 'share',
          weight: 2.5,
          valueMode: 'ignore',
          description: 'Shared',
        });
        expect(types.find((t) => t.name === 'view')).toEqual({
          name: 'view',
          weight: 0.5,
          valueMode: 'log1p',
          description: 'Viewed',
        });
      });

      it('rejects an invalid type', async () => {
        const error = await rejection(
          store.upsertEventType({ name: 'bad', weight: Number.NaN, valueMode: 'ignore', description: '' }),
        );
        expect(error.code).toBe('VALIDATION_ERROR');
        expect(error.details.map((d) => d.field)).toEqual(['weight']);
        expect((await store.listEventTypes()).map((t) => t.name)).not.toContain('bad');
      });

      it('deletes an unused type and reports a missing one', async () => {
        expect(await store.deleteEventType('watch')).toBe(true);
        expect((await store.listEventTypes()).map((t) => t.name)).not.toContain('watch');
        expect(await store.deleteEventType('watch')).toBe(false);
        const error = await rejection(store.insertEvents([event('u1', 'i1', 'watch', 1000)]));
        expect(error.code).toBe('VALIDATION_ERROR');
      });

      it('refuses to delete a type while events use it', async () => {
        await store.insertEvents(FIVE);
        const error = await rejection(store.deleteEventType('purchase'));
        expect(error.code).toBe('CONFLICT');
        expect((await store.listEventTypes()).map((t) => t.name)).toContain('purchase');
        await store.deleteUser('u1');
        await store.deleteUser('u2');
        expect(await store.deleteEventType('purchase')).toBe(true);
      });
    });

    describe('recommendation log', () => {
      const withContext = (context: JsonObject, extra: Partial<EventInput> = {}) => ({ context, ...extra });

      it('stores served lists with exact scores and feature rows', async () => {
        const features = { names: ['score', 'popularity'], rows: Float32Array.from([0.1, 1e-7, -3.5, 42]) };
        const scores = [0.1 + 0.2, -Infinity];
        const a = served('r-a', 'u1', ['i1', 'i2'], { scores, features, placement: 'cart', servedAt: 1234 });
        const b = served('r-b', 'u2', ['i3']);
        expect(await store.insertRecommendations([a, b])).toBe(2);
        const back = await store.getRecommendation('r-a');
        expect(back).toEqual({ ...a, features: { names: features.names, rows: expect.any(Float32Array) } });
        expect(back?.scores[0]).toBe(0.1 + 0.2);
        expect(Array.from(back!.features!.rows)).toEqual(Array.from(features.rows));
        expect(await store.getRecommendation('r-b')).toEqual(b);
        expect(await store.getRecommendation('nope')).toBeNull();
        expect(await store.insertRecommendations([])).toBe(0);
      });

      it('skips ids already stored, within and across batches', async () => {
        expect(
          await store.insertRecommendations([served('r1', 'u1', ['i1']), served('r1', 'u9', ['i9'])]),
        ).toBe(1);
        expect(await store.insertRecommendations([served('r1', 'u2', ['i2']), served('r2', 'u1', [])])).toBe(
          1,
        );
        expect((await store.getRecommendation('r1'))?.userId).toBe('u1');
        expect((await store.getRecommendation('r2'))?.items).toEqual([]);
      });

      it('rejects a batch with mismatched scores or features and writes nothing of it', async () => {
        const bad = served('r2', 'u1', ['i1', 'i2'], { scores: [1] });
        const error = await rejection(store.insertRecommendations([served('r1', 'u1', ['i1']), bad]));
        expect(error.code).toBe('VALIDATION_ERROR');
        expect(error.details).toEqual([{ field: '/recommendations/1/scores', message: expect.any(String) }]);
        const features = { names: ['a', 'b'], rows: new Float32Array(3) };
        const bad2 = served('r3', 'u1', ['i1', 'i2'], { features });
        expect((await rejection(store.insertRecommendations([bad2]))).details[0].field).toBe(
          '/recommendations/0/features',
        );
        expect(await store.getRecommendation('r1')).toBeNull();
      });

      it('lists served lists in serving order with since, placement and paging', async () => {
        await store.insertRecommendations([
          served('late', 'u1', ['i1'], { servedAt: 3000 }),
          served('early', 'u1', ['i1'], { servedAt: 1000, placement: 'cart' }),
          served('mid-1', 'u2', ['i1'], { servedAt: 2000 }),
        ]);
        await store.insertRecommendations([served('mid-2', 'u2', ['i1'], { servedAt: 2000 })]);
        const ids = async (options: Parameters<Store['listRecommendations']>[0]) =>
          (await store.listRecommendations(options)).rows.map((r) => r.id);
        expect(await ids({})).toEqual(['early', 'mid-1', 'mid-2', 'late']);
        expect(await ids({ since: 2000 })).toEqual(['mid-1', 'mid-2', 'late']);
        expect(await ids({ placement: 'cart' })).toEqual(['early']);
        expect(await ids({ placement: 'home', since: 2500 })).toEqual(['late']);
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const page = await store.listRecommendations({ limit: 1, since: 1500, cursor });
          seen.push(...page.rows.map((r) => r.id));
          cursor = page.nextCursor;
        } while (cursor !== null);
        expect(seen).toEqual(['mid-1', 'mid-2', 'late']);
        await expect(store.listRecommendations({ cursor: 'bogus' })).rejects.toMatchObject({
          code: 'VALIDATION_ERROR',
        });
      });

      it('tallies the events carrying a recommendation id per item, with purchase revenue', async () => {
        await store.upsertItems([
          { id: 'shoe', attributes: { price: 120 } },
          { id: 'sock', attributes: { price: '15' } },
          { id: 'cap', attributes: { price: 25 } },
        ]);
        await store.insertEvents([
          event('u1', 'shoe', 'impression', 1, withContext({ recommendationId: 'r1' })),
          event('u1', 'sock', 'impression', 2, withContext({ recommendationId: 'r1', placement: 'home' })),
          event('u1', 'shoe', 'impression', 3, withContext({ recommendationId: 'r1' })),
          event('u1', 'shoe', 'click', 4, withContext({ recommendationId: 'r1' })),
          event('u1', 'shoe', 'cart', 5, withContext({ recommendationId: 'r1' })),
          // value × price, with the default quantity of 1 and with 2
          event('u1', 'shoe', 'purchase', 6, withContext({ recommendationId: 'r1' })),
          event('u1', 'shoe', 'purchase', 7, withContext({ recommendationId: 'r1' }, { value: 2 })),
          // context.revenue wins over the price; a price that is not a number counts 0
          event('u1', 'cap', 'purchase', 8, withContext({ recommendationId: 'r1', revenue: 19.5 })),
          event('u1', 'sock', 'purchase', 9, withContext({ recommendationId: 'r1' })),
          event('u1', 'sock', 'purchase', 10, withContext({ recommendationId: 'r1', revenue: 'lots' })),
          // other types, other recommendations, no id, an id that is not a string
          event('u1', 'shoe', 'view', 11, withContext({ recommendationId: 'r1' })),
          event('u2', 'shoe', 'click', 12, withContext({ recommendationId: 'r2' })),
          event('u1', 'shoe', 'click', 13),
          event('u1', 'shoe', 'click', 14, withContext({ placement: 'home' })),
          event('u1', 'shoe', 'click', 15, withContext({ recommendationId: 7 })),
          event('u3', 'cap', 'purchase', 16, withContext({ recommendationId: 'r3', revenue: 5 })),
        ]);
        expect(sortedTallies(await store.recommendationTallies(['r1', 'r2', 'unknown']))).toEqual([
          tally('r1', 'cap', { purchases: 1, revenue: 19.5 }),
          tally('r1', 'shoe', { impressions: 2, clicks: 1, carts: 1, purchases: 2, revenue: 360 }),
          tally('r1', 'sock', { impressions: 1, purchases: 2 }),
          tally('r2', 'shoe', { clicks: 1 }),
        ]);
        expect(await store.recommendationTallies(['r3'])).toEqual([
          tally('r3', 'cap', { purchases: 1, revenue: 5 }),
        ]);
        expect(await store.recommendationTallies([])).toEqual([]);
        // Deleting an item removes its events and so their tallies.
        await store.deleteItem('shoe');
        expect(sortedTallies(await store.recommendationTallies(['r1', 'r2'])).map((t) => t.itemId)).toEqual([
          'cap',
          'sock',
        ]);
      });

      it('deletes the recommendations served to a deleted user', async () => {
        await store.insertEvents([event('u1', 'i1', 'view', 1), event('u2', 'i1', 'view', 1)]);
        await store.insertRecommendations([served('r1', 'u1', ['i1']), served('r2', 'u2', ['i1'])]);
        await store.deleteUser('u1');
        expect(await store.getRecommendation('r1')).toBeNull();
        expect(await store.getRecommendation('r2')).not.toBeNull();
      });
    });

    if (options.reopen) {
      const reopen = options.reopen;
      describe('persistence', () => {
        it('keeps everything across close and reopen', async () => {
          await store.upsertUsers([{ id: 'alice', attributes: RICH_JSON }]);
          await store.upsertItems([{ id: 'book', title: 'Dune', categories: ['sf'] }]);
          await store.insertEvents(FIVE);
          await store.upsertEventType({
            name: 'view',
            weight: 5,
            valueMode: 'ignore',
            description: 'edited',
          });
          await store.deleteEventType('watch');
          const features = { names: ['f'], rows: Float32Array.from([0.25]) };
          await store.insertRecommendations([served('r1', 'alice', ['i1'], { features })]);
          await store.insertEvents([
            event('alice', 'i1', 'click', 5500, { context: { recommendationId: 'r1' } }),
          ]);
          const ids = (await store.listEvents()).rows.map((e) => e.id);

          store = await reopen(store);
          expect((await store.getUser('alice'))?.attributes).toEqual(RICH_JSON);
          expect((await store.listItems({ category: 'sf' })).rows.map((i) => i.title)).toEqual(['Dune']);
          expect((await store.listEvents()).rows.map((e) => e.id)).toEqual(ids);
          expect(await store.userHistory('u1', { limit: 1 })).toEqual([
            { itemId: 'i1', type: 'purchase', value: null, timestamp: 5000 },
          ]);
          const types = await store.listEventTypes();
          expect(types.find((t) => t.name === 'view')).toMatchObject({ weight: 5, description: 'edited' });
          expect(types.map((t) => t.name)).not.toContain('watch');
          expect((await store.getRecommendation('r1'))?.features?.rows).toEqual(features.rows);
          expect(await store.recommendationTallies(['r1'])).toEqual([tally('r1', 'i1', { clicks: 1 })]);

          await store.insertEvents([event('u1', 'book', 'like', 6000, { clientEventId: 'after' })]);
          const last = (await store.listEvents({ itemId: 'book' })).rows[0];
          expect(last.id).toBeGreaterThan(Math.max(...ids));
          expect(await store.countEvents()).toBe(7);
        });
      });
    }
  });
}
