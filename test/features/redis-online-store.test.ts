import { expect, it } from 'vitest';
import { RedisOnlineStore } from '../../src/features/redis-online-store.js';
import { describeWithService, redactUrl } from '../helpers/services.js';
import { onlineStoreContract } from './online-contract.js';
import { redisAvailable, testRedisUrl, uniquePrefix } from './redis-available.js';

const url = testRedisUrl();
const available = await redisAvailable(url);
const describeRedis = describeWithService('Redis', available, redactUrl(url));

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describeRedis('RedisOnlineStore', () => {
  onlineStoreContract('redis', async () => ({
    store: await new RedisOnlineStore({ url, keyPrefix: uniquePrefix('contract') }).connect(),
    elapse: (ms) => sleep(ms),
    shortTtlMs: 60,
  }));

  it('stores one hash per entity under its own prefix, with a PEXPIRE', async () => {
    const prefix = uniquePrefix('layout');
    const store = await new RedisOnlineStore({ url, keyPrefix: prefix }).connect();
    const other = await new RedisOnlineStore({ url, keyPrefix: uniquePrefix('other') }).connect();
    try {
      await store.put('user:u1', { a: 1.5 }, 50_000);
      expect(await other.get('user:u1')).toBeNull();
      const { Redis } = await import('ioredis');
      const raw = new Redis(url);
      try {
        expect(await raw.hgetall(`${prefix}user:u1`)).toEqual({ a: '1.5' });
        const ttl = await raw.pttl(`${prefix}user:u1`);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(50_000);
      } finally {
        raw.disconnect();
      }
      await other.clear();
      expect(await store.get('user:u1')).toEqual({ a: 1.5 });
    } finally {
      await store.clear();
      await store.close();
      await other.close();
    }
  });
});
