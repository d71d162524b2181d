/**
 * Materialisation: computes every feature's latest value for every entity as of one time (exact
 * windows, events strictly before it) and writes them to an online store in batches. Users are
 * those with events, items the catalog plus items with events, user-item pairs those with events.
 */
import type { Store } from '../store/store.js';
import { compileFeatures, type CompiledFeature } from './compiled-feature.js';
import {
  entityKey,
  entityTtlMs,
  selectFeatures,
  type FeatureDefinition,
  type FeatureEntity,
} from './definitions.js';
import { loadEventTable, type EventTable } from './event-table.js';
import { defaultFeaturesFor } from './offline-store.js';
import type { FeatureValues, OnlineFeatureStore, OnlineRow } from './online-store.js';
import { PointInTimeEngine } from './point-in-time.js';

export interface MaterializeOptions {
  /** The time values are computed as of (default: Date.now()). */
  asOf?: number;
  /** Definitions (default: `defaultFeatures` over the catalog's categories). */
  definitions?: readonly FeatureDefinition[];
  /** Names to materialise (default: every definition). */
  features?: readonly string[];
  /** Entities per write (default 1,000). */
  batchSize?: number;
  /** Called after each batch with entities written so far and in all. */
  onProgress?: (done: number, total: number) => void;
}

export interface MaterializeResult {
  asOf: number;
  entities: number;
  features: number;
  users: number;
  items: number;
  pairs: number;
}

/** Reads the store's events (scanEvents) and materialises them. */
export async function materialize(
  source: Store | EventTable,
  online: OnlineFeatureStore,
  options: MaterializeOptions = {},
): Promise<MaterializeResult> {
  const table = 'scanEvents' in source ? await loadEventTable(source) : source;
  const definitions = options.definitions ?? defaultFeaturesFor(table);
  const defs = options.features ? selectFeatures(definitions, options.features) : [...definitions];
  const compiled = compileFeatures(defs, table.types, table.catalog);
  const asOf = options.asOf ?? Date.now();
  const engine = new PointInTimeEngine(table, compiled);
  engine.advanceTo(asOf);

  const byEntity = (entity: FeatureEntity) =>
    compiled.map((f, i) => ({ f, i })).filter(({ f }) => f.entity === entity);
  type Group = { entity: FeatureEntity; features: { f: CompiledFeature; i: number }[]; count: number };
  const all: Group[] = [
    { entity: 'user', features: byEntity('user'), count: table.users.size },
    { entity: 'item', features: byEntity('item'), count: table.catalog.items.size },
    { entity: 'user-item', features: byEntity('user-item'), count: table.pairUser.length },
  ];
  const groups = all.filter((g) => g.features.length > 0);
  const total = groups.reduce((s, g) => s + g.count, 0);
  const batchSize = options.batchSize ?? 1000;
  let done = 0;
  let batch: OnlineRow[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await online.putMany(batch);
    done += batch.length;
    batch = [];
    options.onProgress?.(done, total);
  };
  for (const g of groups) {
    const ttlMs = entityTtlMs(g.features.map(({ f }) => f.def));
    for (let e = 0; e < g.count; e++) {
      let key: string;
      let u = -1;
      let it = -1;
      let p = -1;
      if (g.entity === 'user') {
        u = e;
        key = entityKey('user', table.users.id(e));
      } else if (g.entity === 'item') {
        it = e;
        key = entityKey('item', table.catalog.items.id(e));
      } else {
        p = e;
        u = table.pairUser[e];
        it = table.pairItem[e];
        key = entityKey('user-item', table.users.id(u), table.catalog.items.id(it));
      }
      const values: FeatureValues = {};
      for (const { f, i } of g.features) values[f.name] = engine.value(i, u, it, p);
      batch.push(ttlMs === undefined ? { entity: key, values } : { entity: key, values, ttlMs });
      if (batch.length >= batchSize) await flush();
    }
  }
  await flush();
  const count = (entity: FeatureEntity) => groups.find((g) => g.entity === entity)?.count ?? 0;
  return {
    asOf,
    entities: done,
    features: compiled.length,
    users: count('user'),
    items: count('item'),
    pairs: count('user-item'),
  };
}
