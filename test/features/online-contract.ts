/**
 * The behaviour every OnlineFeatureStore must show. Each implementation's test file calls
 * `onlineStoreContract` with a factory returning a fresh, empty store and a way to let time pass
 * (a fake clock for the in-process store, real waiting for Redis).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { entityKey } from '../../src/features/definitions.js';
import type { OnlineFeatureStore } from '../../src/features/online-store.js';

export interface ContractSubject {
  store: OnlineFeatureStore;
  /** Lets at least `ms` pass for the store's TTLs. */
  elapse(ms: number): Promise<void>;
  /** The shortest TTL the store is tested with (ms). */
  shortTtlMs: number;
}

export function onlineStoreContract(name: string, open: () => Promise<ContractSubject>): void {
  describe(`online feature store contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: OnlineFeatureStore;

    beforeEach(async () => {
      subject = await open();
      store = subject.store;
    });
    afterEach(async () => {
      await store.clear();
      await store.close();
    });

    it('returns null for an entity never written', async () => {
      expect(await store.get('user:nobody')).toBeNull();
      expect(await store.getMany(['user:a', 'item:b'], ['x'])).toEqual([null, null]);
    });

    it('round-trips numbers exactly, NaN and infinities included', async () => {
      const values = { a: 0.1 + 0.2, b: -7, c: 1e21, d: 5e-324, e: NaN, f: Infinity, g: -Infinity, h: 0 };
      await store.put('user:u1', values);
      const got = await store.get('user:u1');
      expect(got).not.toBeNull();
      expect(Object.keys(got!).sort()).toEqual(Object.keys(values).sort());
      for (const [k, v] of Object.entries(values)) expect(Object.is(got![k], v), k).toBe(true);
    });

    it('merges puts into the entity and overwrites values of the same name', async () => {
      await store.put('item:p1', { 'item.price': 10, 'item.age.days': 3 });
      await store.put('item:p1', { 'item.price': 12, 'item.ctr.7d': 0.5 });
      expect(await store.get('item:p1')).toEqual({
        'item.price': 12,
        'item.age.days': 3,
        'item.ctr.7d': 0.5,
      });
    });

    it('get with names returns exactly those names, NaN where never written', async () => {
      await store.put('user:u1', { a: 1, b: 2 });
      const got = await store.get('user:u1', ['b', 'zzz']);
      expect(Object.keys(got!).sort()).toEqual(['b', 'zzz']);
      expect(got!.b).toBe(2);
      expect(got!.zzz).toBeNaN();
    });

    it('getMany answers in the order asked, null for missing entities', async () => {
      const keys = [entityKey('user', 'a'), entityKey('item', 'b'), entityKey('user-item', 'a', 'b')];
      await store.putMany([
        { entity: keys[0], values: { x: 1 } },
        { entity: keys[2], values: { x: 3, y: 4 } },
      ]);
      expect(await store.getMany([keys[2], keys[1], keys[0]], ['x'])).toEqual([{ x: 3 }, null, { x: 1 }]);
      expect(await store.getMany([keys[2], keys[1]])).toEqual([{ x: 3, y: 4 }, null]);
      expect(await store.getMany([], ['x'])).toEqual([]);
    });

    it('keeps keys that differ only in how user and item ids split apart', async () => {
      const k1 = entityKey('user-item', 'a:1', 'b');
      const k2 = entityKey('user-item', 'a', '1:b');
      expect(k1).not.toBe(k2);
      await store.put(k1, { v: 1 });
      await store.put(k2, { v: 2 });
      expect(await store.getMany([k1, k2], ['v'])).toEqual([{ v: 1 }, { v: 2 }]);
    });

    it('delete removes the entity and says whether it existed', async () => {
      await store.put('user:u1', { a: 1 });
      expect(await store.delete('user:u1')).toBe(true);
      expect(await store.get('user:u1')).toBeNull();
      expect(await store.delete('user:u1')).toBe(false);
    });

    it('a put with no values does not create the entity', async () => {
      await store.put('user:empty', {});
      expect(await store.get('user:empty')).toBeNull();
    });

    it('expires an entity after its TTL, and not before', async () => {
      const ttl = subject.shortTtlMs;
      await store.put('user:short', { a: 1 }, ttl);
      await store.put('user:long', { a: 2 }, 600_000);
      await store.put('user:forever', { a: 3 });
      expect(await store.get('user:short')).toEqual({ a: 1 });
      await subject.elapse(ttl * 3);
      expect(await store.get('user:short')).toBeNull();
      expect(await store.getMany(['user:short', 'user:long', 'user:forever'], ['a'])).toEqual([
        null,
        { a: 2 },
        { a: 3 },
      ]);
      expect(await store.delete('user:short')).toBe(false);
    });

    it('a later put renews the TTL; a put without TTL clears it', async () => {
      const ttl = subject.shortTtlMs;
      await store.put('user:renew', { a: 1 }, ttl);
      await store.put('user:renew', { b: 2 }, 600_000);
      await store.put('user:persist', { a: 1 }, ttl);
      await store.put('user:persist', { a: 2 });
      await subject.elapse(ttl * 3);
      expect(await store.get('user:renew')).toEqual({ a: 1, b: 2 });
      expect(await store.get('user:persist')).toEqual({ a: 2 });
    });

    it('an entity put again after expiring starts empty', async () => {
      const ttl = subject.shortTtlMs;
      await store.put('user:again', { old: 1 }, ttl);
      await subject.elapse(ttl * 3);
      await store.put('user:again', { fresh: 2 });
      expect(await store.get('user:again')).toEqual({ fresh: 2 });
    });

    it('rejects a TTL that is not a positive integer', async () => {
      await expect(store.put('user:x', { a: 1 }, 0)).rejects.toThrow(/ttlMs/);
      await expect(store.put('user:x', { a: 1 }, 1.5)).rejects.toThrow(/ttlMs/);
      expect(await store.get('user:x')).toBeNull();
    });

    it('writes and reads many entities in one call', async () => {
      const rows = Array.from({ length: 2500 }, (_, i) => ({ entity: `item:p${i}`, values: { n: i } }));
      await store.putMany(rows);
      const got = await store.getMany(
        rows.map((r) => r.entity),
        ['n'],
      );
      expect(got.map((g) => g!.n)).toEqual(rows.map((_, i) => i));
    });

    it('clear removes every entity of the store', async () => {
      await store.putMany([
        { entity: 'user:a', values: { x: 1 } },
        { entity: 'item:b', values: { x: 2 } },
      ]);
      await store.clear();
      expect(await store.getMany(['user:a', 'item:b'], ['x'])).toEqual([null, null]);
    });
  });
}
