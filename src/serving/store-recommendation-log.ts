/**
 * The recommendation log kept in the store. Served lists are queued and written in batches, off
 * the request path: a response is sent before its log row is durable.
 *
 * Guarantee: a served list is durable once the promise `record()` returned resolves (at most
 * `flushIntervalMs` after the call, sooner when `maxBatch` lists are waiting), and `close()`
 * writes everything still queued. A crash can lose the served lists of the last
 * `flushIntervalMs` (50 ms by default); it never loses events, which are written on their own
 * acknowledged path, so their attribution is back as soon as a list with that id is stored
 * (events name the recommendation id; nothing links the other way).
 *
 * Attribution: an event counts for a served item when its `context.recommendationId` is the
 * list's id and its item is one of the list's items (the first rank when an item was served
 * twice). Events that carry the id but name an item the list did not serve are ignored, and so
 * is the user of the event: a shared link still counts for the list it came from.
 */
import { KindredError } from '../domain/errors.js';
import { positiveLimit, validateServed } from '../store/shared.js';
import type { RecommendationTally, ServedWriter, Store } from '../store/store.js';
import type { ItemOutcome, RecommendationLog, ServedRecommendation } from './recommendation-log.js';

export interface StoreRecommendationLogOptions {
  /** Longest a served list waits in the queue before it is written (ms, default 50). */
  flushIntervalMs?: number;
  /** A batch is written as soon as this many lists wait (default 500). */
  maxBatch?: number;
  /** Lists waiting beyond this are refused (the store is not keeping up); default 100,000. */
  maxPending?: number;
  /** Told about every failed write with the number of served lists it lost. */
  onError?: (error: unknown, lost: number) => void;
  /** Writes the batches instead of the store itself (e.g. on a thread of its own); closed with the log. */
  writer?: ServedWriter | null;
}

interface Pending {
  served: ServedRecommendation;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const DEFAULT_FLUSH_MS = 50;
const DEFAULT_MAX_BATCH = 500;
const DEFAULT_MAX_PENDING = 100_000;
const DEFAULT_SCAN_BATCH = 500;

/** Outcomes of every served item from the tallies of its recommendation (zeros where none). */
export function outcomesOf(
  served: ServedRecommendation,
  tallies: readonly RecommendationTally[],
): ItemOutcome[] {
  const outcomes = served.items.map((itemId, i): ItemOutcome => ({
    itemId,
    rank: i + 1,
    impressions: 0,
    clicks: 0,
    carts: 0,
    purchases: 0,
    revenue: 0,
  }));
  const byItem = new Map<string, ItemOutcome>();
  for (let i = outcomes.length - 1; i >= 0; i--) byItem.set(outcomes[i].itemId, outcomes[i]);
  for (const tally of tallies) {
    if (tally.recommendationId !== served.id) continue;
    const outcome = byItem.get(tally.itemId);
    if (!outcome) continue;
    outcome.impressions += tally.impressions;
    outcome.clicks += tally.clicks;
    outcome.carts += tally.carts;
    outcome.purchases += tally.purchases;
    outcome.revenue += tally.revenue;
  }
  return outcomes;
}

/** A copy the caller may not change any more, so a queued list is logged as it was served. */
function snapshot(served: ServedRecommendation): ServedRecommendation {
  return {
    id: served.id,
    userId: served.userId,
    placement: served.placement,
    servedAt: served.servedAt,
    items: served.items.slice(),
    scores: served.scores.slice(),
    features: served.features
      ? { names: served.features.names.slice(), rows: served.features.rows.slice() }
      : null,
  };
}

export class StoreRecommendationLog implements RecommendationLog {
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;
  private readonly maxPending: number;
  private readonly onError: (error: unknown, lost: number) => void;
  private queue: Pending[] = [];
  /** Queued lists by id, so `get` sees a list as soon as it was recorded. */
  private readonly queued = new Map<string, ServedRecommendation>();
  private timer: NodeJS.Timeout | null = null;
  /** The write in progress; writes run one at a time, in recording order. */
  private writing: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly writer: ServedWriter | null;

  constructor(
    private readonly store: Store,
    options: StoreRecommendationLogOptions = {},
  ) {
    this.flushIntervalMs = Math.max(0, options.flushIntervalMs ?? DEFAULT_FLUSH_MS);
    this.maxBatch = positiveLimit(options.maxBatch, DEFAULT_MAX_BATCH);
    this.maxPending = positiveLimit(options.maxPending, DEFAULT_MAX_PENDING);
    this.onError = options.onError ?? (() => undefined);
    this.writer = options.writer ?? null;
  }

  /** Lists recorded but not yet written. */
  get pending(): number {
    return this.queue.length;
  }

  record(served: ServedRecommendation): Promise<void> {
    let done: Promise<void>;
    try {
      if (this.closed) throw new KindredError('NOT_READY', 'The recommendation log is closed');
      validateServed([served]);
      if (this.queue.length >= this.maxPending)
        throw new KindredError('NOT_READY', `More than ${this.maxPending} served lists wait to be logged`);
      const copy = snapshot(served);
      done = new Promise<void>((resolve, reject) => this.enqueue({ served: copy, resolve, reject }));
    } catch (error) {
      this.onError(error, 1);
      done = Promise.reject(error);
    }
    // Callers may fire and forget: a failure is reported through onError, never as an unhandled
    // rejection, while callers that await still see it.
    done.catch(() => undefined);
    return done;
  }

  /** Writes everything queued so far; resolves once it is durable. */
  async flush(): Promise<void> {
    this.clearTimer();
    while (this.queue.length > 0) this.startWrite();
    await this.writing;
  }

  /** Refuses new lists, writes the queued ones and waits for them. The store stays open. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    await this.writer?.close();
  }

  async get(id: string): Promise<ServedRecommendation | null> {
    const queued = this.queued.get(id);
    if (queued) return snapshot(queued);
    return this.store.getRecommendation(id);
  }

  async outcomes(id: string): Promise<ItemOutcome[]> {
    const served = await this.get(id);
    if (!served) return [];
    return outcomesOf(served, await this.store.recommendationTallies([id]));
  }

  async *scan(
    options: { since?: number; placement?: string; batchSize?: number } = {},
  ): AsyncIterable<{ served: ServedRecommendation; outcomes: ItemOutcome[] }> {
    const limit = Math.min(1000, positiveLimit(options.batchSize, DEFAULT_SCAN_BATCH));
    let cursor: string | null = null;
    do {
      const page = await this.store.listRecommendations({
        since: options.since,
        placement: options.placement,
        limit,
        cursor,
      });
      if (page.rows.length === 0) return;
      const tallies = await this.store.recommendationTallies(page.rows.map((r) => r.id));
      const byId = new Map<string, RecommendationTally[]>();
      for (const tally of tallies) {
        const list = byId.get(tally.recommendationId);
        if (list) list.push(tally);
        else byId.set(tally.recommendationId, [tally]);
      }
      for (const served of page.rows)
        yield { served, outcomes: outcomesOf(served, byId.get(served.id) ?? []) };
      cursor = page.nextCursor;
    } while (cursor !== null);
  }

  private enqueue(entry: Pending): void {
    this.queue.push(entry);
    this.queued.set(entry.served.id, entry.served);
    if (this.queue.length >= this.maxBatch) {
      this.clearTimer();
      this.startWrite();
    } else if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, this.flushIntervalMs);
      this.timer.unref();
    }
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Takes up to maxBatch queued lists and chains their write after the one in progress. */
  private startWrite(): void {
    const batch = this.queue.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    this.writing = this.writing.then(() => this.write(batch));
  }

  private async write(batch: Pending[]): Promise<void> {
    try {
      const rows = batch.map((p) => p.served);
      await (this.writer ? this.writer.insertRecommendations(rows) : this.store.insertRecommendations(rows));
      for (const p of batch) p.resolve();
    } catch (error) {
      this.onError(error, batch.length);
      for (const p of batch) p.reject(error);
    } finally {
      for (const p of batch) if (this.queued.get(p.served.id) === p.served) this.queued.delete(p.served.id);
    }
  }
}
