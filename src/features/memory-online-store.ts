/**
 * In-process online feature store: a Map of entities with TTLs. Expired entities are dropped
 * when read (lazy expiry) and by a periodic sweep; past `maxEntities` the least recently written
 * entities are evicted.
 */
import { checkTtl, type FeatureValues, type OnlineFeatureStore, type OnlineRow } from './online-store.js';

export interface MemoryOnlineStoreOptions {
  /** Most entities kept (default 1,000,000); the least recently written go first. */
  maxEntities?: number;
  /** How often expired entities are swept (ms, default 60,000; 0: never, reads still expire). */
  sweepIntervalMs?: number;
  /** Clock (ms); tests pass a fake one. */
  now?: () => number;
}

interface Entry {
  values: Map<string, number>;
  /** Infinity: never. */
  expiresAt: number;
}

export class MemoryOnlineStore implements OnlineFeatureStore {
  readonly kind = 'memory';
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntities: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;

  constructor(options: MemoryOnlineStoreOptions = {}) {
    this.maxEntities = options.maxEntities ?? 1_000_000;
    if (!(Number.isInteger(this.maxEntities) && this.maxEntities > 0)) {
      throw new RangeError('maxEntities must be a positive integer');
    }
    this.now = options.now ?? Date.now;
    const every = options.sweepIntervalMs ?? 60_000;
    if (every > 0) {
      this.timer = setInterval(() => this.sweep(), every);
      this.timer.unref();
    }
  }

  /** Entities currently held (expired ones not yet swept included). */
  get size(): number {
    return this.entries.size;
  }

  /** Drops every expired entity; returns how many. */
  sweep(): number {
    const now = this.now();
    let dropped = 0;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) {
        this.entries.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  private live(entity: string): Entry | null {
    const entry = this.entries.get(entity);
    if (!entry) return null;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(entity);
      return null;
    }
    return entry;
  }

  private write(entity: string, values: FeatureValues, ttlMs: number | undefined): void {
    checkTtl(ttlMs);
    let entry = this.live(entity);
    if (!entry) {
      let empty = true;
      for (const _ in values) {
        empty = false;
        break;
      }
      if (empty) return; // like a Redis hash, an entity with no values does not exist
      entry = { values: new Map<string, number>(), expiresAt: Infinity };
    }
    for (const name in values) entry.values.set(name, values[name]);
    entry.expiresAt = ttlMs === undefined ? Infinity : this.now() + ttlMs;
    this.entries.delete(entity); // re-insert: Map order is write order, oldest first
    this.entries.set(entity, entry);
    if (this.entries.size > this.maxEntities) {
      for (const key of this.entries.keys()) {
        this.entries.delete(key);
        if (this.entries.size <= this.maxEntities) break;
      }
    }
  }

  async put(entity: string, values: FeatureValues, ttlMs?: number): Promise<void> {
    this.write(entity, values, ttlMs);
  }

  async putMany(rows: readonly OnlineRow[]): Promise<void> {
    for (const r of rows) checkTtl(r.ttlMs);
    for (const r of rows) this.write(r.entity, r.values, r.ttlMs);
  }

  private read(entity: string, names: readonly string[] | undefined): FeatureValues | null {
    const entry = this.live(entity);
    if (!entry) return null;
    const out: FeatureValues = {};
    if (names === undefined) {
      for (const [k, v] of entry.values) out[k] = v;
    } else {
      for (const k of names) out[k] = entry.values.get(k) ?? NaN;
    }
    return out;
  }

  async get(entity: string, names?: readonly string[]): Promise<FeatureValues | null> {
    return this.read(entity, names);
  }

  async getMany(entities: readonly string[], names?: readonly string[]): Promise<(FeatureValues | null)[]> {
    return entities.map((e) => this.read(e, names));
  }

  async delete(entity: string): Promise<boolean> {
    const existed = this.live(entity) !== null;
    this.entries.delete(entity);
    return existed;
  }

  async clear(): Promise<void> {
    this.entries.clear();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.entries.clear();
  }
}
