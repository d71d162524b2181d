import { describe, expect, it } from 'vitest';
import { MemoryOnlineStore } from '../../src/features/memory-online-store.js';
import { onlineStoreContract } from './online-contract.js';

function fakeClock(start = 1_750_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

onlineStoreContract('memory', async () => {
  const clock = fakeClock();
  return {
    store: new MemoryOnlineStore({ now: clock.now, sweepIntervalMs: 0 }),
    elapse: async (ms) => void clock.advance(ms),
    shortTtlMs: 1000,
  };
});

describe('MemoryOnlineStore', () => {
  it('expires exactly at the TTL on the clock', async () => {
    const clock = fakeClock();
    const store = new MemoryOnlineStore({ now: clock.now, sweepIntervalMs: 0 });
    await store.put('user:u', { a: 1 }, 100);
    clock.advance(99);
    expect(await store.get('user:u')).toEqual({ a: 1 });
    clock.advance(1);
    expect(await store.get('user:u')).toBeNull();
    await store.close();
  });

  it('the sweep drops expired entities that are never read', async () => {
    const clock = fakeClock();
    const store = new MemoryOnlineStore({ now: clock.now, sweepIntervalMs: 0 });
    await store.putMany([
      { entity: 'user:a', values: { x: 1 }, ttlMs: 10 },
      { entity: 'user:b', values: { x: 1 }, ttlMs: 10 },
      { entity: 'user:c', values: { x: 1 } },
    ]);
    clock.advance(10);
    expect(store.size).toBe(3);
    expect(store.sweep()).toBe(2);
    expect(store.size).toBe(1);
    await store.close();
  });

  it('past maxEntities evicts the least recently written', async () => {
    const store = new MemoryOnlineStore({ maxEntities: 3, sweepIntervalMs: 0 });
    await store.put('user:a', { x: 1 });
    await store.put('user:b', { x: 2 });
    await store.put('user:c', { x: 3 });
    await store.put('user:a', { x: 4 }); // a is now the most recent
    await store.put('user:d', { x: 5 });
    expect(store.size).toBe(3);
    expect(await store.getMany(['user:a', 'user:b', 'user:c', 'user:d'], ['x'])).toEqual([
      { x: 4 },
      null,
      { x: 3 },
      { x: 5 },
    ]);
    await store.close();
  });
});
