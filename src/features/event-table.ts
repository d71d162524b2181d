/**
 * The event store read into columns sorted by time, with dense user, item, type and user-item
 * pair indices: the input of the point-in-time computations.
 *
 * Events are read with `Store.scanEvents` (a SQL scan of the events table on both the SQLite and
 * the PostgreSQL backend) and sorted by timestamp (ties keep id order) with an index sort.
 */
import { IdMap } from '../data/id-map.js';
import { eventStrength, type EventType } from '../domain/types.js';
import type { Store } from '../store/store.js';
import { FeatureCatalog } from './catalog.js';

/** Event types by dense index. */
export class TypeTable {
  readonly names: string[] = [];
  readonly byName = new Map<string, number>();
  readonly types: EventType[] = [];

  constructor(types: readonly EventType[]) {
    for (const t of types) this.add(t);
  }

  add(type: EventType): number {
    const found = this.byName.get(type.name);
    if (found !== undefined) {
      this.types[found] = type;
      return found;
    }
    const i = this.names.length;
    this.names.push(type.name);
    this.byName.set(type.name, i);
    this.types.push(type);
    return i;
  }

  /** Index of a type name; -1 when unknown. */
  index(name: string): number {
    return this.byName.get(name) ?? -1;
  }

  strength(typeIndex: number, value: number | null): number {
    const t = this.types[typeIndex];
    return t === undefined ? 0 : eventStrength(t, value);
  }
}

/** Events in ascending timestamp order; every array is `length` long. */
export interface EventTable {
  length: number;
  user: Int32Array;
  item: Int32Array;
  type: Int32Array;
  /** Dense index of the (user, item) pair. */
  pair: Int32Array;
  /** Interaction strength under the event type (weight, value mode). */
  strength: Float64Array;
  /** The event's value; NaN: none. */
  value: Float64Array;
  /** ms since epoch, ascending. */
  time: Float64Array;
  users: IdMap;
  catalog: FeatureCatalog;
  types: TypeTable;
  /** Pair index by `userIndex * pairStride + itemIndex`. */
  pairs: Map<number, number>;
  pairStride: number;
  /** User and item index of each pair. */
  pairUser: Int32Array;
  pairItem: Int32Array;
}

/** Pair index of (user, item), or -1. */
export function pairIndex(table: EventTable, user: number, item: number): number {
  if (user < 0 || item < 0 || item >= table.pairStride) return -1;
  return table.pairs.get(user * table.pairStride + item) ?? -1;
}

/** Sort permutation of `time` (ties by position); null when it is already ascending. */
function timeOrder(time: Float64Array, n: number): Uint32Array | null {
  let sorted = true;
  for (let i = 1; i < n; i++) {
    if (time[i] < time[i - 1]) {
      sorted = false;
      break;
    }
  }
  if (sorted) return null;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => time[a] - time[b] || a - b);
  return order;
}

function permute<T extends Int32Array | Float64Array>(a: T, order: Uint32Array): T {
  const out = new (a.constructor as { new (n: number): T })(a.length);
  for (let i = 0; i < order.length; i++) out[i] = a[order[i]];
  return out;
}

export interface LoadEventsOptions {
  /** Rows per scanEvents batch. */
  batchSize?: number;
  /** Reuse an already loaded catalog. */
  catalog?: FeatureCatalog;
}

/** Reads the catalog, event types and every event of the store into an EventTable. */
export async function loadEventTable(store: Store, options: LoadEventsOptions = {}): Promise<EventTable> {
  const catalog = options.catalog ?? (await FeatureCatalog.load(store));
  const types = new TypeTable(await store.listEventTypes());
  const capacity = await store.countEvents();
  const users = new IdMap();
  let user = new Int32Array(capacity);
  let item = new Int32Array(capacity);
  let type = new Int32Array(capacity);
  let strength = new Float64Array(capacity);
  let value = new Float64Array(capacity);
  let time = new Float64Array(capacity);
  let n = 0;
  for await (const batch of store.scanEvents(options.batchSize)) {
    if (n + batch.length > user.length) {
      const grow = Math.max(n + batch.length, user.length * 2);
      const g32 = (a: Int32Array) => {
        const b = new Int32Array(grow);
        b.set(a.subarray(0, n));
        return b;
      };
      const g64 = (a: Float64Array) => {
        const b = new Float64Array(grow);
        b.set(a.subarray(0, n));
        return b;
      };
      user = g32(user);
      item = g32(item);
      type = g32(type);
      strength = g64(strength);
      value = g64(value);
      time = g64(time);
    }
    for (let k = 0; k < batch.length; k++) {
      const v = batch.values[k];
      let t = types.index(batch.types[k]);
      if (t < 0) t = types.add({ name: batch.types[k], weight: 0, valueMode: 'ignore', description: '' });
      user[n] = users.getOrAdd(batch.userIds[k]);
      item[n] = catalog.indexOrAdd(batch.itemIds[k]);
      type[n] = t;
      strength[n] = types.strength(t, Number.isNaN(v) ? null : v);
      value[n] = v;
      time[n] = batch.timestamps[k];
      n++;
    }
  }
  return eventTableFromColumns({
    user: user.subarray(0, n),
    item: item.subarray(0, n),
    type: type.subarray(0, n),
    strength: strength.subarray(0, n),
    value: value.subarray(0, n),
    time: time.subarray(0, n),
    users,
    catalog,
    types,
  });
}

export interface EventColumnsInput {
  user: Int32Array;
  item: Int32Array;
  type: Int32Array;
  strength: Float64Array;
  value: Float64Array;
  time: Float64Array;
  users: IdMap;
  catalog: FeatureCatalog;
  types: TypeTable;
}

/** Sorts parallel event columns by time and indexes the user-item pairs. */
export function eventTableFromColumns(input: EventColumnsInput): EventTable {
  const n = input.time.length;
  const order = timeOrder(input.time, n);
  const sorted = <T extends Int32Array | Float64Array>(a: T): T => (order ? permute(a, order) : a);
  const user = sorted(input.user);
  const item = sorted(input.item);
  const type = sorted(input.type);
  const strength = sorted(input.strength);
  const value = sorted(input.value);
  const time = sorted(input.time);
  const pairStride = Math.max(1, input.catalog.items.size);
  const pairs = new Map<number, number>();
  const pair = new Int32Array(n);
  const pu: number[] = [];
  const pi: number[] = [];
  for (let e = 0; e < n; e++) {
    const key = user[e] * pairStride + item[e];
    let p = pairs.get(key);
    if (p === undefined) {
      p = pu.length;
      pairs.set(key, p);
      pu.push(user[e]);
      pi.push(item[e]);
    }
    pair[e] = p;
  }
  return {
    length: n,
    user,
    item,
    type,
    pair,
    strength,
    value,
    time,
    users: input.users,
    catalog: input.catalog,
    types: input.types,
    pairs,
    pairStride,
    pairUser: Int32Array.from(pu),
    pairItem: Int32Array.from(pi),
  };
}
