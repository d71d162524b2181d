/** Batched writers from importers into the store; they keep the report's counts. */
import type { EventInput, ItemInput, UserInput } from '../../domain/types.js';
import type { Store } from '../../store/store.js';
import type { ReportBuilder } from './report.js';

export const DEFAULT_EVENT_BATCH = 50_000;
export const DEFAULT_ENTITY_BATCH = 5_000;

export class EventSink {
  private batch: EventInput[] = [];

  constructor(
    private readonly store: Store,
    private readonly report: ReportBuilder,
    private readonly batchSize = DEFAULT_EVENT_BATCH,
  ) {}

  /** Queues an event; the caller awaits `flush()` when this returns true. */
  add(event: EventInput): boolean {
    this.batch.push(event);
    return this.batch.length >= this.batchSize;
  }

  async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    const result = await this.store.insertEvents(batch);
    this.report.imported += result.inserted;
    this.report.duplicates += result.duplicates;
  }
}

/**
 * Users or items: an id repeated within one import counts as a duplicate and its later row
 * replaces the earlier one.
 */
export class EntitySink<T extends UserInput | ItemInput> {
  private readonly seen = new Set<string>();
  private pending = new Map<string, T>();

  constructor(
    private readonly write: (rows: T[]) => Promise<number>,
    private readonly report: ReportBuilder,
    private readonly batchSize = DEFAULT_ENTITY_BATCH,
  ) {}

  add(row: T): boolean {
    if (this.seen.has(row.id)) this.report.duplicates++;
    else {
      this.seen.add(row.id);
      this.report.imported++;
    }
    this.pending.set(row.id, row);
    return this.pending.size >= this.batchSize;
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const rows = [...this.pending.values()];
    this.pending = new Map();
    await this.write(rows);
  }
}

export function userSink(store: Store, report: ReportBuilder, batchSize?: number): EntitySink<UserInput> {
  return new EntitySink<UserInput>((rows) => store.upsertUsers(rows), report, batchSize);
}

export function itemSink(store: Store, report: ReportBuilder, batchSize?: number): EntitySink<ItemInput> {
  return new EntitySink<ItemInput>((rows) => store.upsertItems(rows), report, batchSize);
}
