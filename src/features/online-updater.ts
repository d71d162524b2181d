/**
 * Incremental updates of the online store from live events, so it stays fresh between
 * materialisations.
 *
 * The updater keeps, per entity, the running sums of every feature (see compiled-feature.ts).
 * Features without a window and the latest/first event times are exact. Windowed features use
 * bucketed counters: a window W is cut into B buckets of W / B (B = `bucketsPerWindow`, default
 * 24, e.g. 7 d in 7 h buckets) and the value at time t sums the B buckets up to and including the
 * one holding t. That covers between W - W/B and W: the approximation can only leave out events
 * in the oldest W/B of the window, never count an event older than W. Exact offline values come
 * from materialisation.
 *
 * Time-relative values (recency and age in days) are computed as of the write.
 * Event types unknown to the updater count for no feature.
 */
import type { EventType } from '../domain/types.js';
import type { FeatureCatalog } from './catalog.js';
import {
  compileFeatures,
  contribution,
  countsForRecency,
  featureValue,
  type CompiledFeature,
} from './compiled-feature.js';
import { entityKey, entityTtlMs, type FeatureDefinition, type FeatureEntity } from './definitions.js';
import { TypeTable, type EventTable } from './event-table.js';
import type { FeatureValues, OnlineFeatureStore, OnlineRow } from './online-store.js';

/** An event as the updater needs it. */
export interface FeatureEvent {
  userId: string;
  itemId: string;
  type: string;
  value: number | null;
  /** ms since epoch. */
  timestamp: number;
}

export interface OnlineUpdaterOptions {
  definitions: readonly FeatureDefinition[];
  catalog: FeatureCatalog;
  eventTypes: readonly EventType[];
  /** Where `applyEvent` and `flush` write; null: keep state only. */
  online?: OnlineFeatureStore | null;
  bucketsPerWindow?: number;
  /** Clock for the values written (default Date.now). */
  now?: () => number;
}

interface Bucket {
  id: number;
  /** s0, s1 per feature of the window. */
  sums: Float64Array;
}

interface WindowSlot {
  bucketMs: number;
  /** Feature positions (within the group) using this window. */
  features: number[];
}

interface Group {
  entity: FeatureEntity;
  features: CompiledFeature[];
  /** Per feature: window slot index, or -1. */
  slot: number[];
  /** Per feature: its position within the slot's sums. */
  posInSlot: number[];
  windows: WindowSlot[];
  ttlMs: number | undefined;
  states: Map<string, EntityState>;
}

interface EntityState {
  item: number;
  /** s0, s1 per feature (recency: latest time in s0; age: first time in s0). */
  totals: Float64Array;
  buckets: Bucket[][];
}

export class OnlineFeatureUpdater {
  private readonly groups: Group[];
  private readonly types: TypeTable;
  private readonly catalog: FeatureCatalog;
  private readonly online: OnlineFeatureStore | null;
  private readonly buckets: number;
  private readonly now: () => number;
  private readonly dirty = new Map<string, { group: Group; state: EntityState }>();
  private readonly scratch = new Float64Array(2);

  constructor(options: OnlineUpdaterOptions) {
    this.types = new TypeTable(options.eventTypes);
    this.catalog = options.catalog;
    this.online = options.online ?? null;
    this.buckets = options.bucketsPerWindow ?? 24;
    if (!(Number.isInteger(this.buckets) && this.buckets >= 1)) {
      throw new RangeError('bucketsPerWindow must be a positive integer');
    }
    this.now = options.now ?? Date.now;
    const compiled = compileFeatures(options.definitions, this.types, this.catalog);
    this.groups = (['user', 'item', 'user-item'] as const)
      .map((entity) =>
        this.group(
          entity,
          compiled.filter((f) => f.entity === entity),
        ),
      )
      .filter((g) => g.features.length > 0);
  }

  private group(entity: FeatureEntity, features: CompiledFeature[]): Group {
    const windows: WindowSlot[] = [];
    const byMs = new Map<number, number>();
    const slot: number[] = [];
    const posInSlot: number[] = [];
    features.forEach((f, i) => {
      if (f.windowMs === null) {
        slot.push(-1);
        posInSlot.push(-1);
        return;
      }
      let s = byMs.get(f.windowMs);
      if (s === undefined) {
        s = windows.length;
        byMs.set(f.windowMs, s);
        windows.push({ bucketMs: f.windowMs / this.buckets, features: [] });
      }
      slot.push(s);
      posInSlot.push(windows[s].features.length);
      windows[s].features.push(i);
    });
    return {
      entity,
      features,
      slot,
      posInSlot,
      windows,
      ttlMs: entityTtlMs(features.map((f) => f.def)),
      states: new Map(),
    };
  }

  private newState(group: Group, item: number): EntityState {
    const totals = new Float64Array(2 * group.features.length);
    group.features.forEach((f, i) => {
      if (f.kind === 'recency' || f.kind === 'age') totals[2 * i] = NaN;
    });
    return { item, totals, buckets: group.windows.map(() => []) };
  }

  private bucketFor(state: EntityState, group: Group, s: number, time: number): Bucket | null {
    const w = group.windows[s];
    const id = Math.floor(time / w.bucketMs);
    const list = state.buckets[s];
    const newest = list.length > 0 ? list[list.length - 1].id : -Infinity;
    if (id <= newest - this.buckets) return null; // older than any window it could still count in
    let at = list.length;
    while (at > 0 && list[at - 1].id > id) at--;
    if (at > 0 && list[at - 1].id === id) return list[at - 1];
    const bucket = { id, sums: new Float64Array(2 * w.features.length) };
    list.splice(at, 0, bucket);
    let drop = 0;
    const limit = list[list.length - 1].id - this.buckets;
    while (drop < list.length && list[drop].id <= limit) drop++;
    if (drop > 0) list.splice(0, drop);
    return bucket;
  }

  /** Updates the in-memory state with one event; the entities it touched become dirty. */
  apply(event: FeatureEvent): void {
    const type = this.types.index(event.type);
    const strength = type >= 0 ? this.types.strength(type, event.value) : 0;
    const item = this.catalog.indexOrAdd(event.itemId);
    const t = event.timestamp;
    for (const group of this.groups) {
      const key =
        group.entity === 'user'
          ? entityKey('user', event.userId)
          : group.entity === 'item'
            ? entityKey('item', event.itemId)
            : entityKey('user-item', event.userId, event.itemId);
      let state = group.states.get(key);
      if (!state) group.states.set(key, (state = this.newState(group, item)));
      const { totals } = state;
      group.features.forEach((f, i) => {
        if (f.kind === 'recency') {
          if (countsForRecency(f, type) && !(totals[2 * i] >= t)) totals[2 * i] = t;
          return;
        }
        if (f.kind === 'age') {
          if (!(totals[2 * i] <= t)) totals[2 * i] = t;
          return;
        }
        if (!contribution(f, type, item, strength, this.catalog, this.scratch)) return;
        const s = group.slot[i];
        if (s < 0) {
          totals[2 * i] += this.scratch[0];
          totals[2 * i + 1] += this.scratch[1];
          return;
        }
        const bucket = this.bucketFor(state, group, s, t);
        if (!bucket) return;
        const p = group.posInSlot[i];
        bucket.sums[2 * p] += this.scratch[0];
        bucket.sums[2 * p + 1] += this.scratch[1];
      });
      this.dirty.set(key, { group, state });
    }
  }

  /** Applies every event of a loaded table (in time order), e.g. to start from history. */
  applyTable(table: EventTable): void {
    const ev: FeatureEvent = { userId: '', itemId: '', type: '', value: null, timestamp: 0 };
    for (let e = 0; e < table.length; e++) {
      ev.userId = table.users.id(table.user[e]);
      ev.itemId = table.catalog.items.id(table.item[e]);
      ev.type = table.types.names[table.type[e]];
      const v = table.value[e];
      ev.value = v === v ? v : null;
      ev.timestamp = table.time[e];
      this.apply(ev);
    }
  }

  private compute(group: Group, state: EntityState | undefined, t: number): FeatureValues {
    const out: FeatureValues = {};
    group.features.forEach((f, i) => {
      let s0: number;
      let s1: number;
      const slot = group.slot[i];
      if (!state) {
        s0 = f.kind === 'recency' || f.kind === 'age' ? NaN : 0;
        s1 = 0;
      } else if (slot < 0) {
        s0 = state.totals[2 * i];
        s1 = state.totals[2 * i + 1];
      } else {
        const k = Math.floor(t / group.windows[slot].bucketMs);
        const p = group.posInSlot[i];
        s0 = 0;
        s1 = 0;
        for (const b of state.buckets[slot]) {
          if (b.id > k - this.buckets && b.id <= k) {
            s0 += b.sums[2 * p];
            s1 += b.sums[2 * p + 1];
          }
        }
      }
      out[f.name] = featureValue(f, s0, s1, t, state ? state.item : -1, this.catalog);
    });
    return out;
  }

  /**
   * The updater's values for an entity key (from `entityKey`) at time `t` (default: the clock);
   * null when no feature is declared for that kind of entity.
   */
  values(key: string, t: number = this.now()): FeatureValues | null {
    const entity: FeatureEntity = key.startsWith('user_item:')
      ? 'user-item'
      : key.startsWith('user:')
        ? 'user'
        : 'item';
    const group = this.groups.find((g) => g.entity === entity);
    if (!group) return null;
    const state = group.states.get(key);
    if (!state && entity === 'item') {
      const item = this.catalog.items.index(key.slice('item:'.length));
      return this.compute(group, item >= 0 ? this.newState(group, item) : undefined, t);
    }
    return this.compute(group, state, t);
  }

  /** Applies the event and writes the user's, the item's and the pair's values as of the clock. */
  async applyEvent(event: FeatureEvent): Promise<void> {
    this.apply(event);
    await this.flush();
  }

  /** Writes every entity touched since the last flush, as of the clock; returns how many. */
  async flush(): Promise<number> {
    const t = this.now();
    const rows: OnlineRow[] = [];
    for (const [key, { group, state }] of this.dirty) {
      const values = this.compute(group, state, t);
      rows.push(
        group.ttlMs === undefined ? { entity: key, values } : { entity: key, values, ttlMs: group.ttlMs },
      );
    }
    this.dirty.clear();
    if (this.online && rows.length > 0) await this.online.putMany(rows);
    return rows.length;
  }
}
