/**
 * Online feature store on Redis, shared by several processes: one hash per entity under the
 * instance's key prefix, field = feature name, value = the number as text; TTL with PEXPIRE.
 * Writes and multi-entity reads are pipelined.
 */
import { Redis } from 'ioredis';
import { checkTtl, type FeatureValues, type OnlineFeatureStore, type OnlineRow } from './online-store.js';

export interface RedisOnlineStoreOptions {
  /** Default `redis://127.0.0.1:6379`. */
  url?: string;
  /** Prepended to every key (default `kindred:features:`); give each store its own. */
  keyPrefix?: string;
  /** Entities per pipeline in putMany and getMany (default 1,000). */
  batchSize?: number;
  /** Connection timeout (ms, default 5,000). */
  connectTimeoutMs?: number;
}

function parse(text: string | null | undefined): number {
  return text === null || text === undefined ? NaN : Number(text);
}

function fields(values: FeatureValues): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(values)) out.push(k, String(v));
  return out;
}

export class RedisOnlineStore implements OnlineFeatureStore {
  readonly kind = 'redis';
  readonly keyPrefix: string;
  private readonly redis: Redis;
  private readonly batchSize: number;

  constructor(options: RedisOnlineStoreOptions = {}) {
    this.keyPrefix = options.keyPrefix ?? 'kindred:features:';
    this.batchSize = options.batchSize ?? 1000;
    this.redis = new Redis(options.url ?? 'redis://127.0.0.1:6379', {
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs ?? 5000,
      maxRetriesPerRequest: 2,
    });
    // connection errors also reject the commands waiting on them; keep the latest for messages
    this.redis.on('error', (error: Error) => {
      this.lastError = error;
    });
  }

  /** The latest connection error, if any. */
  lastError: Error | null = null;

  /** Opens the connection; throws when Redis does not answer. */
  async connect(): Promise<this> {
    if (this.redis.status === 'wait') await this.redis.connect();
    await this.redis.ping();
    return this;
  }

  private key(entity: string): string {
    return this.keyPrefix + entity;
  }

  async put(entity: string, values: FeatureValues, ttlMs?: number): Promise<void> {
    await this.putMany([{ entity, values, ttlMs }]);
  }

  async putMany(rows: readonly OnlineRow[]): Promise<void> {
    for (const r of rows) checkTtl(r.ttlMs);
    for (let start = 0; start < rows.length; start += this.batchSize) {
      const multi = this.redis.multi();
      for (const r of rows.slice(start, start + this.batchSize)) {
        const key = this.key(r.entity);
        const f = fields(r.values);
        if (f.length > 0) multi.hset(key, ...f);
        else multi.exists(key);
        if (r.ttlMs !== undefined) multi.pexpire(key, r.ttlMs);
        else multi.persist(key);
      }
      const results = await multi.exec();
      const failed = results?.find(([err]) => err !== null);
      if (failed) throw failed[0];
    }
  }

  async get(entity: string, names?: readonly string[]): Promise<FeatureValues | null> {
    return (await this.getMany([entity], names))[0];
  }

  async getMany(entities: readonly string[], names?: readonly string[]): Promise<(FeatureValues | null)[]> {
    const out: (FeatureValues | null)[] = [];
    for (let start = 0; start < entities.length; start += this.batchSize) {
      const chunk = entities.slice(start, start + this.batchSize);
      const pipe = this.redis.pipeline();
      for (const e of chunk) {
        if (names === undefined) pipe.hgetall(this.key(e));
        else pipe.exists(this.key(e)).hmget(this.key(e), ...names);
      }
      const results = (await pipe.exec()) ?? [];
      const failed = results.find(([err]) => err !== null);
      if (failed) throw failed[0];
      if (names === undefined) {
        for (const [, reply] of results) {
          const hash = reply as Record<string, string>;
          const keys = Object.keys(hash);
          if (keys.length === 0) {
            out.push(null);
            continue;
          }
          const values: FeatureValues = {};
          for (const k of keys) values[k] = parse(hash[k]);
          out.push(values);
        }
      } else {
        for (let i = 0; i < chunk.length; i++) {
          const exists = results[2 * i][1] as number;
          const reply = results[2 * i + 1][1] as (string | null)[];
          if (exists === 0) {
            out.push(null);
            continue;
          }
          const values: FeatureValues = {};
          names.forEach((n, j) => (values[n] = parse(reply[j])));
          out.push(values);
        }
      }
    }
    return out;
  }

  async delete(entity: string): Promise<boolean> {
    return (await this.redis.del(this.key(entity))) > 0;
  }

  async clear(): Promise<void> {
    let cursor = '0';
    const pattern = `${this.keyPrefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      if (keys.length > 0) await this.redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  async close(): Promise<void> {
    if (this.redis.status === 'wait' || this.redis.status === 'end') {
      this.redis.disconnect();
      return;
    }
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
