/**
 * The online feature store: the latest value of each feature per entity, for serving.
 *
 * Entities are keys from `entityKey` (`user:<id>`, `item:<id>`, `user_item:...`); values are
 * numbers (NaN = missing). Contract, shared by every implementation (test/features/online-contract.ts):
 * - `put` merges the values into the entity's record. With `ttlMs`, the whole entity expires
 *   `ttlMs` after this put; without, it never expires (an earlier TTL is cleared).
 * - `get` returns null for an entity never written, deleted or expired; with `names`, a record of
 *   exactly those names where the ones never written are NaN; without, every stored value.
 * - `getMany` answers like `get` for each entity, in the order given.
 * - `delete` returns whether the entity existed (and had not expired).
 */
export { MemoryOnlineStore, type MemoryOnlineStoreOptions } from './memory-online-store.js';
export { RedisOnlineStore, type RedisOnlineStoreOptions } from './redis-online-store.js';

export type FeatureValues = Record<string, number>;

export interface OnlineRow {
  entity: string;
  values: FeatureValues;
  ttlMs?: number;
}

export interface OnlineFeatureStore {
  readonly kind: 'memory' | 'redis';
  put(entity: string, values: FeatureValues, ttlMs?: number): Promise<void>;
  /** Several puts in one round trip where the backend allows. */
  putMany(rows: readonly OnlineRow[]): Promise<void>;
  get(entity: string, names?: readonly string[]): Promise<FeatureValues | null>;
  getMany(entities: readonly string[], names?: readonly string[]): Promise<(FeatureValues | null)[]>;
  delete(entity: string): Promise<boolean>;
  /** Removes every entity of this store. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

/** Validates a TTL argument. */
export function checkTtl(ttlMs: number | undefined): void {
  if (ttlMs !== undefined && !(Number.isInteger(ttlMs) && ttlMs > 0)) {
    throw new RangeError(`ttlMs must be a positive integer, got ${ttlMs}`);
  }
}
