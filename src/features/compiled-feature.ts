/**
 * Definitions resolved against the event types and the catalog, and the per-event arithmetic
 * shared by the offline (exact windows) and online (bucketed windows) computations.
 *
 * Every kind keeps two sums per entity, `s0` and `s1`, that events add to (and, leaving a
 * window, subtract from); `recency` keeps the latest event time in `s0` and `age` the first.
 */
import {
  DAY_MS,
  windowMs,
  type FeatureDefinition,
  type FeatureEntity,
  type FeatureKind,
} from './definitions.js';
import type { FeatureCatalog } from './catalog.js';
import type { TypeTable } from './event-table.js';

const EPSILON = 1e-9;

export interface CompiledFeature {
  def: FeatureDefinition;
  name: string;
  kind: FeatureKind;
  entity: FeatureEntity;
  /** null: no window (every earlier event). */
  windowMs: number | null;
  /** 1 at the type indices counted. */
  mask: Uint8Array;
  /** For ctr: 1 at the denominator's type indices. */
  denominator: Uint8Array | null;
  /** For affinity: category index (-1 when no item has it yet). */
  category: number;
}

function typeMask(types: TypeTable, names: readonly string[] | null): Uint8Array {
  const mask = new Uint8Array(Math.max(1, types.names.length));
  if (names === null) {
    types.types.forEach((t, i) => {
      if (t.weight > 0) mask[i] = 1;
    });
  } else {
    for (const n of names) {
      const i = types.index(n);
      if (i >= 0) mask[i] = 1;
    }
  }
  return mask;
}

export function compileFeatures(
  defs: readonly FeatureDefinition[],
  types: TypeTable,
  catalog: FeatureCatalog,
): CompiledFeature[] {
  return defs.map((def) => ({
    def,
    name: def.name,
    kind: def.kind,
    entity: def.entity,
    windowMs: windowMs(def.window),
    mask: typeMask(types, def.eventTypes),
    denominator: def.denominatorTypes ? typeMask(types, def.denominatorTypes) : null,
    category: def.category === undefined ? -1 : catalog.categories.getOrAdd(def.category),
  }));
}

/** Whether the kind keeps the latest (recency) or first (age) event time instead of sums. */
export function isTimeKind(kind: FeatureKind): boolean {
  return kind === 'recency' || kind === 'age';
}

/**
 * What one event adds to the feature's sums: writes `out[0]`, `out[1]` and returns false when it
 * adds nothing. Not for `recency`, `age` and `price`.
 */
export function contribution(
  f: CompiledFeature,
  type: number,
  item: number,
  strength: number,
  catalog: FeatureCatalog,
  out: Float64Array,
): boolean {
  const counted = type >= 0 && f.mask[type] === 1;
  switch (f.kind) {
    case 'count':
      if (!counted) return false;
      out[0] = 1;
      out[1] = 0;
      return true;
    case 'strength':
      if (!counted) return false;
      out[0] = strength;
      out[1] = 0;
      return true;
    case 'affinity':
      if (!counted || strength === 0) return false;
      out[0] = catalog.hasCategory(item, f.category) ? strength : 0;
      out[1] = strength;
      return true;
    case 'price-mean': {
      const p = catalog.price[item];
      if (!counted || !(p === p)) return false;
      out[0] = p;
      out[1] = 1;
      return true;
    }
    case 'ctr': {
      const den = type >= 0 && f.denominator !== null && f.denominator[type] === 1;
      if (!counted && !den) return false;
      out[0] = counted ? 1 : 0;
      out[1] = den ? 1 : 0;
      return true;
    }
    default:
      return false;
  }
}

/** Whether the event moves the latest-event time of a `recency` feature. */
export function countsForRecency(f: CompiledFeature, type: number): boolean {
  return type >= 0 && f.mask[type] === 1;
}

/**
 * The feature's value at time `t` from its sums. For items, `item` is the item index (-1 when
 * unknown); `s0`, `s1` are 0 (NaN for recency and age) when the entity has no events.
 */
export function featureValue(
  f: CompiledFeature,
  s0: number,
  s1: number,
  t: number,
  item: number,
  catalog: FeatureCatalog,
): number {
  switch (f.kind) {
    case 'count':
    case 'strength':
      // sums that went in and out of a window may leave rounding residue
      return Math.abs(s0) < EPSILON ? 0 : s0;
    case 'affinity':
    case 'price-mean':
    case 'ctr':
      return s1 > EPSILON ? s0 / s1 : NaN;
    case 'recency':
      return s0 === s0 ? (t - s0) / DAY_MS : NaN;
    case 'age': {
      const published = item >= 0 ? catalog.publishedAt[item] : NaN;
      const origin = published === published ? published : s0;
      return origin === origin ? (t - origin) / DAY_MS : NaN;
    }
    case 'price':
      return item >= 0 ? catalog.price[item] : NaN;
  }
}
