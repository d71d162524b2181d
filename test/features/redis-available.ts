/**
 * Where the Redis tests connect, and whether Redis answers there. Used with
 * `describeWithService` (test/helpers/services.ts): skipped with a message when unreachable, a
 * failure when CI=true.
 */
import { Redis } from 'ioredis';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export function testRedisUrl(): string {
  return process.env.KINDRED_TEST_REDIS_URL ?? DEFAULT_REDIS_URL;
}

/** True when a connection opens and answers PING within `timeoutMs`. */
export async function redisAvailable(url: string, timeoutMs = 3000): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** A key prefix no other test run uses. */
export function uniquePrefix(name: string): string {
  return `kindred-test:${name}:${process.pid}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}:`;
}
