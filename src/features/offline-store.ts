/**
 * The offline feature store: feature values as of given points in time, for training sets.
 *
 * Point-in-time correctness: the value of a feature for a label at time t uses only events with
 * timestamp strictly before t (an event in the same millisecond as the label is left out, as it
 * may be the labelled event itself); a window W covers [t - W, t). Item attributes (price,
 * categories, publishedAt) are not versioned: the current catalog is used at every time.
 *
 * Events are read through `Store.scanEvents` — a SQL scan of the event table on both the SQLite and
 * the PostgreSQL backend — into typed columns, sorted by time, then swept once in time order
 * together with the labels sorted by time (PointInTimeEngine): cost O(events x features +
 * labels x features), no rescan per label.
 */
import type { Store } from '../store/store.js';
import { compileFeatures } from './compiled-feature.js';
import { defaultFeatures, selectFeatures, type FeatureDefinition } from './definitions.js';
import { loadEventTable, pairIndex, type EventTable, type LoadEventsOptions } from './event-table.js';
import { PointInTimeEngine } from './point-in-time.js';

/** One training example: the entity keys its features need, when, and its label. */
export interface LabelRow {
  userId?: string | null;
  itemId?: string | null;
  /** ms since epoch; features use events strictly before it. */
  timestamp: number;
  label: number;
}

/** Training set in columns, in the order of the labels given. */
export interface TrainingSet {
  length: number;
  /** Feature names, in the order asked for. */
  names: string[];
  /** One column per feature name; NaN = missing. */
  columns: Record<string, Float32Array>;
  labels: Float32Array;
  timestamps: Float64Array;
}

export interface TrainingSetOptions extends LoadEventsOptions {
  /** Definitions to choose from (default: `defaultFeatures` over the catalog's categories). */
  definitions?: readonly FeatureDefinition[];
}

/** Default definitions for the categories of the table's catalog. */
export function defaultFeaturesFor(table: EventTable): FeatureDefinition[] {
  return defaultFeatures(table.catalog.categories.ids);
}

/** Builds a training set from the store: reads its events, then `trainingSetFromTable`. */
export async function buildTrainingSet(
  store: Store,
  labels: readonly LabelRow[],
  features: readonly string[],
  options: TrainingSetOptions = {},
): Promise<TrainingSet> {
  const table = await loadEventTable(store, options);
  return trainingSetFromTable(table, labels, features, options.definitions);
}

/** Builds a training set from events already loaded. */
export function trainingSetFromTable(
  table: EventTable,
  labels: readonly LabelRow[],
  features: readonly string[],
  definitions: readonly FeatureDefinition[] = defaultFeaturesFor(table),
): TrainingSet {
  const compiled = compileFeatures(selectFeatures(definitions, features), table.types, table.catalog);
  const n = labels.length;
  const times = new Float64Array(n);
  const labelValues = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = labels[i].timestamp;
    if (typeof t !== 'number' || !Number.isFinite(t))
      throw new RangeError(`labels[${i}].timestamp must be a finite number`);
    times[i] = t;
    labelValues[i] = labels[i].label;
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => times[a] - times[b] || a - b);

  const columns = compiled.map(() => new Float32Array(n));
  const engine = new PointInTimeEngine(table, compiled);
  const needsUser = compiled.some((f) => f.entity !== 'item');
  const needsItem = compiled.some((f) => f.entity !== 'user');
  for (let k = 0; k < n; k++) {
    const i = order[k];
    engine.advanceTo(times[i]);
    const { userId, itemId } = labels[i];
    const hasUser = typeof userId === 'string';
    const hasItem = typeof itemId === 'string';
    const u = needsUser && hasUser ? table.users.index(userId) : -1;
    const it = needsItem && hasItem ? table.catalog.items.index(itemId) : -1;
    const p = hasUser && hasItem ? pairIndex(table, u, it) : -1;
    for (let f = 0; f < compiled.length; f++) {
      const entity = compiled[f].entity;
      const missingKey = (entity !== 'item' && !hasUser) || (entity !== 'user' && !hasItem);
      columns[f][i] = missingKey ? NaN : engine.value(f, u, it, p);
    }
  }
  const out: Record<string, Float32Array> = {};
  compiled.forEach((f, i) => (out[f.name] = columns[i]));
  return {
    length: n,
    names: compiled.map((f) => f.name),
    columns: out,
    labels: labelValues,
    timestamps: times,
  };
}
