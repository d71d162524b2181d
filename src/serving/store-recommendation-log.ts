/**
 * The recommendation log kept in the store. Served lists are queued and written in batches, off
 * the request path: a response is sent before its log row is durable. A queued list is held as
 * bytes (served-batch.ts), not as the caller's objects, so that logging leaves nothing behind on
 * the serving thread's heap for its garbage collector to carry.
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
import { ServedBatchBuilder, decodeServedBatch } from './served-batch.js';

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

/** Lists recorded together and written together: one promise for them all. */
class Batch {
  readonly lists = new ServedBatchBuilder();
  readonly done: Promise<void>;
  resolve!: () => void;
  reject!: (error: unknown) => void;

  constructor() {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Callers may fire and forget: a failure is reported through onError, never as an unhandled
    // rejection, while callers that await still see it.
    this.done.catch(() => undefined);
  }
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

export class StoreRecommendationLog implements RecommendationLog {
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;
  private readonly maxPending: number;
  private readonly onError: (error: unknown, lost: number) => void;
  /** The batch lists are recorded into; `get` finds a list there as soon as it was recorded. */
  private batch = new Batch();
  /** Lists recorded and not yet durable (in `batch` or being written). */
  private waiting = 0;
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
    return this.batch.lists.count;
  }

  record(served: ServedRecommendation): Promise<void> {
    try {
      if (this.closed) throw new KindredError('NOT_READY', 'The recommendation log is closed');
      validateServed([served]);
      if (this.waiting >= this.maxPending)
        throw new KindredError('NOT_READY', `More than ${this.maxPending} served lists wait to be logged`);
    } catch (error) {
      this.onError(error, 1);
      const refused = Promise.reject(error);
      refused.catch(() => undefined);
      return refused;
    }
    const batch = this.batch;
    batch.lists.add(served);
    this.waiting++;
    if (batch.lists.count >= this.maxBatch) {
      this.clearTimer();
      this.startWrite();
    } else if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, this.flushIntervalMs);
      this.timer.unref();
    }
    return batch.done;
  }

  /** Writes everything queued so far; resolves once it is durable. */
  async flush(): Promise<void> {
    this.clearTimer();
    this.startWrite();
    await this.writing;
  }

  /** Refuses new lists, writes the queued ones and waits for them. The store stays open. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    await this.writer?.close();
  }

  async get(id: string): Promise<ServedRecommendation | null> {
    const queued = this.batch.lists.find(id);
    if (queued) return queued;
    // A list on its way to the store is read back once it is there.
    await this.writing;
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

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Closes the batch being recorded into and chains its write after the one in progress. */
  private startWrite(): void {
    const batch = this.batch;
    if (batch.lists.count === 0) return;
    this.batch = new Batch();
    this.writing = this.writing.then(() => this.write(batch));
  }

  private async write(batch: Batch): Promise<void> {
    const count = batch.lists.count;
    try {
      const bytes = batch.lists.take();
      await (this.writer
        ? this.writer.insertBatch(bytes)
        : this.store.insertRecommendations(decodeServedBatch(bytes)));
      batch.resolve();
    } catch (error) {
      this.onError(error, count);
      batch.reject(error);
    } finally {
      this.waiting -= count;
    }
  }
}
