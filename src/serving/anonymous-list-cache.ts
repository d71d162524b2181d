/**
 * Lists served to visitors the engine knows nothing about (no history, no attributes), by the
 * shape of the request, for a short time: every such visitor with the same placement, size,
 * filters and device gets the same list, so it is computed once per `ttlMs` instead of per
 * request. Cleared whenever what the lists are made of changes (models, catalogue, rules,
 * knowledge, settings); the short life bounds how long time-dependent parts (trending by the
 * hour, campaign windows, popularity by part of the day) can lag.
 */
import type { PipelineResult } from '../pipeline/pipeline.js';
import type { PipelineRequest } from './pipeline-service.js';

/** How long a cached list serves (ms). */
export const ANONYMOUS_LIST_TTL_MS = 1000;
/** Request shapes kept at most; the oldest goes first. */
const MAX_ENTRIES = 2000;

interface Entry {
  result: PipelineResult;
  expires: number;
}

export class AnonymousListCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs = ANONYMOUS_LIST_TTL_MS,
    private readonly maxEntries = MAX_ENTRIES,
  ) {}

  /** The key of a request's shape (what besides the user decides its list). */
  static keyOf(r: PipelineRequest): string {
    const device = r.context?.device;
    return JSON.stringify([
      r.placement,
      r.k,
      r.itemId,
      r.cart ?? null,
      r.exclude ?? null,
      r.includeCategories,
      r.excludeCategories,
      typeof device === 'string' ? device : null,
    ]);
  }

  get(key: string, now: number): PipelineResult | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return e.result;
  }

  set(key: string, result: PipelineResult, now: number): void {
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { result, expires: now + this.ttlMs });
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
