/**
 * Backend-independent helpers shared by the SQLite and PostgreSQL stores: paging, cursors,
 * event validation and the in-process id caches.
 */
import { ValidationError, type FieldError } from '../domain/errors.js';
import type { EventInput, EventType, JsonObject, ValueMode } from '../domain/types.js';
import type { ServedRecommendation } from '../serving/recommendation-log.js';
import type { EventBatch, Page } from './store.js';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_HISTORY_LIMIT = 100;
export const DEFAULT_SCAN_BATCH = 10_000;
/** At most this many field errors are reported for one rejected batch. */
const MAX_FIELD_ERRORS = 20;

const VALUE_MODES: readonly ValueMode[] = ['ignore', 'linear', 'log1p'];

/** Clamps a requested page size to 1..MAX_PAGE_SIZE. */
export function pageSize(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_PAGE_SIZE;
  return Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(limit)));
}

/** A positive row limit (history, scans) with a default. */
export function positiveLimit(limit: number | undefined, fallback: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.max(1, Math.floor(limit));
}

/** Cursors are the last key of the previous page, base64url-encoded so clients treat them as opaque. */
export function encodeCursor(key: number): string {
  return Buffer.from(`k${key}`, 'utf8').toString('base64url');
}

/** The key after which the next page starts; 0 (before every key) when there is no cursor. */
export function decodeCursor(cursor: string | null | undefined): number {
  if (cursor === undefined || cursor === null || cursor === '') return 0;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^k(\d{1,15})$/.exec(text);
  if (!match)
    throw new ValidationError('Invalid cursor', [
      { field: 'cursor', message: 'not a cursor returned by a previous page' },
    ]);
  return Number(match[1]);
}

/**
 * Turns `limit + 1` fetched rows into a page: the extra row only signals that another page exists.
 */
export function toPage<R, T>(rows: R[], limit: number, key: (row: R) => number, map: (row: R) => T): Page<T> {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  return {
    rows: pageRows.map(map),
    nextCursor: hasMore ? encodeCursor(key(pageRows[pageRows.length - 1])) : null,
  };
}

export function validateEventType(type: EventType): void {
  const details: FieldError[] = [];
  if (typeof type.name !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(type.name)) {
    details.push({ field: 'name', message: '1-64 letters, digits or _ . : -' });
  }
  if (typeof type.weight !== 'number' || !Number.isFinite(type.weight)) {
    details.push({ field: 'weight', message: 'must be a finite number' });
  }
  if (!VALUE_MODES.includes(type.valueMode)) {
    details.push({ field: 'valueMode', message: `must be one of ${VALUE_MODES.join(', ')}` });
  }
  if (typeof type.description !== 'string') {
    details.push({ field: 'description', message: 'must be a string' });
  }
  if (details.length > 0) throw new ValidationError('Invalid event type', details);
}

/** Events of a batch that are new (not repeated within the batch), with their resolved type keys. */
export interface PreparedEvents {
  events: EventInput[];
  typeIdx: number[];
  /** Rows dropped because an earlier row of the same batch carried the same clientEventId. */
  batchDuplicates: number;
}

/**
 * Checks every event of a batch before anything is written: the type must be configured and the
 * timestamp an integer, the value finite or null. Throws a ValidationError listing the offending rows.
 */
export function prepareEvents(
  events: EventInput[],
  typeIdxOf: (name: string) => number | undefined,
): PreparedEvents {
  const details: FieldError[] = [];
  const kept: EventInput[] = [];
  const typeIdx: number[] = [];
  const seen = new Set<string>();
  let batchDuplicates = 0;
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    const idx = typeIdxOf(event.type);
    if (idx === undefined) {
      details.push({ field: `/events/${i}/type`, message: `unknown event type '${event.type}'` });
    }
    if (!Number.isSafeInteger(event.timestamp)) {
      details.push({ field: `/events/${i}/timestamp`, message: 'must be an integer number of milliseconds' });
    }
    if (event.value !== null && event.value !== undefined && !Number.isFinite(event.value)) {
      details.push({ field: `/events/${i}/value`, message: 'must be a finite number or null' });
    }
    if (idx === undefined || details.length > 0) continue;
    const clientId = event.clientEventId;
    if (clientId !== null && clientId !== undefined) {
      if (seen.has(clientId)) {
        batchDuplicates++;
        continue;
      }
      seen.add(clientId);
    }
    kept.push(event);
    typeIdx.push(idx);
  }
  if (details.length > 0) {
    throw new ValidationError('Invalid events; nothing was written', details.slice(0, MAX_FIELD_ERRORS));
  }
  return { events: kept, typeIdx, batchDuplicates };
}

/** True when some event's type is not among `known` (a cue to reload the configured types). */
export function hasUnknownType(events: readonly EventInput[], known: ReadonlyMap<string, number>): boolean {
  return events.some((event) => !known.has(event.type));
}

/** Largest id the dense path of IdCache holds (ids above it use the Map). */
const DENSE_ID_LIMIT = 1 << 24;

/**
 * The value of a canonical decimal id ("0", "42"; no sign, no leading zero) below
 * DENSE_ID_LIMIT, or -1 for any other string.
 */
export function denseIdValue(id: string): number {
  const n = id.length;
  if (n === 0 || n > 8) return -1;
  const first = id.charCodeAt(0);
  if (first === 48) return n === 1 ? 0 : -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = id.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v < DENSE_ID_LIMIT ? v : -1;
}

/**
 * External id → surrogate key. Ids that are small decimal integers (the common case in exports
 * from other systems) are held in a typed array indexed by their value, which avoids hashing a
 * fresh string per lookup; other ids use a Map. Bounded: `trim()` empties it once it outgrows
 * `maxEntries`, and it refills on demand, which keeps memory flat on catalogs with many millions
 * of users.
 */
export class IdCache {
  private readonly map = new Map<string, number>();
  /** dense[value] = key + 1 (0: not cached). */
  private dense = new Int32Array(0);
  private denseCount = 0;

  constructor(private readonly maxEntries = 2_000_000) {}

  get(id: string): number | undefined {
    const v = denseIdValue(id);
    if (v < 0) return this.map.get(id);
    if (v >= this.dense.length) return undefined;
    const k = this.dense[v];
    return k === 0 ? undefined : k - 1;
  }

  set(id: string, idx: number): void {
    const v = denseIdValue(id);
    if (v < 0 || idx >= 0x7fffffff) {
      this.map.set(id, idx);
      return;
    }
    if (v >= this.dense.length) {
      const grown = new Int32Array(Math.min(DENSE_ID_LIMIT, Math.max(1024, v + 1, this.dense.length * 2)));
      grown.set(this.dense);
      this.dense = grown;
    }
    if (this.dense[v] === 0) this.denseCount++;
    this.dense[v] = idx + 1;
  }

  get size(): number {
    return this.map.size + this.denseCount;
  }

  /** Call between batches, never while a batch relies on the cached keys. */
  trim(): void {
    if (this.size > this.maxEntries) this.clear();
  }

  delete(id: string): void {
    const v = denseIdValue(id);
    if (v < 0) {
      this.map.delete(id);
    } else if (v < this.dense.length && this.dense[v] !== 0) {
      this.dense[v] = 0;
      this.denseCount--;
    }
  }

  clear(): void {
    this.map.clear();
    this.dense = new Int32Array(0);
    this.denseCount = 0;
  }
}

/** Columnar buffers filled row by row while scanning events. */
export class EventBatchBuilder {
  readonly userIds: string[] = [];
  readonly itemIds: string[] = [];
  readonly types: string[] = [];
  readonly values: Float64Array;
  readonly timestamps: Float64Array;
  length = 0;

  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
    this.timestamps = new Float64Array(capacity);
  }

  push(userId: string, itemId: string, type: string, value: number | null, timestamp: number): void {
    const i = this.length++;
    this.userIds.push(userId);
    this.itemIds.push(itemId);
    this.types.push(type);
    this.values[i] = value ?? Number.NaN;
    this.timestamps[i] = timestamp;
  }

  build(): EventBatch {
    return {
      length: this.length,
      userIds: this.userIds,
      itemIds: this.itemIds,
      types: this.types,
      values: this.values.subarray(0, this.length),
      timestamps: this.timestamps.subarray(0, this.length),
    };
  }
}

/** Rejects rows whose `id` is not a non-empty string. */
export function requireIds(rows: readonly { id: string }[], what: 'users' | 'items'): void {
  const details: FieldError[] = [];
  rows.forEach((row, i) => {
    if (typeof row.id !== 'string' || row.id.length === 0) {
      details.push({ field: `/${what}/${i}/id`, message: 'must be a non-empty string' });
    }
  });
  if (details.length > 0) throw new ValidationError(`Invalid ${what}`, details.slice(0, MAX_FIELD_ERRORS));
}

/** Last occurrence of each id wins, as if the rows were written one after the other. */
export function lastById<T extends { id: string }>(rows: readonly T[]): T[] {
  const byId = new Map<string, T>();
  for (const row of rows) {
    byId.delete(row.id);
    byId.set(row.id, row);
  }
  return [...byId.values()];
}

/** One event as scanned: surrogate keys, not external ids. */
export type KeyRow = [
  id: number,
  userIdx: number,
  itemIdx: number,
  typeIdx: number,
  value: number | null,
  ts: number,
];

/**
 * Surrogate key → external id of users, items or event types during a scan. Mapping keys in memory
 * is several times faster than joining the names onto every event row.
 */
export class KeyNames {
  private readonly names: (string | undefined)[] = [];

  set(idx: number, name: string): void {
    this.names[idx] = name;
  }

  get(idx: number): string | undefined {
    return this.names[idx];
  }

  /** Distinct keys in `column` of `rows` whose name is not known yet. */
  unknown(rows: readonly KeyRow[], column: 1 | 2 | 3): number[] {
    const out = new Set<number>();
    for (const row of rows) if (this.names[row[column]] === undefined) out.add(row[column]);
    return [...out];
  }
}

export interface ScanNames {
  users: KeyNames;
  items: KeyNames;
  types: KeyNames;
}

/** Columnar batch of scanned rows; rows whose user, item or type was deleted meanwhile are dropped. */
export function batchFromKeys(rows: readonly KeyRow[], names: ScanNames): EventBatch {
  const batch = new EventBatchBuilder(rows.length);
  for (const [, user, item, type, value, ts] of rows) {
    const userId = names.users.get(user);
    const itemId = names.items.get(item);
    const typeName = names.types.get(type);
    if (userId !== undefined && itemId !== undefined && typeName !== undefined) {
      batch.push(userId, itemId, typeName, value, ts);
    }
  }
  return batch.build();
}

// ---- served recommendations ----

/** The `context` key whose string value ties an event to the recommendation that showed the item. */
export const RECOMMENDATION_ID_KEY = 'recommendationId';

/** The recommendation id an event carries in its context, or null. */
export function recommendationIdOf(context: JsonObject | null | undefined): string | null {
  if (!context) return null;
  const id = context[RECOMMENDATION_ID_KEY];
  return typeof id === 'string' && id.length > 0 ? id : null;
}

/**
 * Checks served lists before anything is written: ids present, as many scores as items, and
 * feature rows of `items.length × names.length` values. Throws a ValidationError naming the rows.
 */
export function validateServed(rows: readonly ServedRecommendation[]): void {
  const details: FieldError[] = [];
  rows.forEach((row, i) => {
    const at = `/recommendations/${i}`;
    for (const key of ['id', 'userId', 'placement'] as const) {
      if (typeof row[key] !== 'string' || row[key].length === 0)
        details.push({ field: `${at}/${key}`, message: 'must be a non-empty string' });
    }
    if (!Number.isSafeInteger(row.servedAt))
      details.push({ field: `${at}/servedAt`, message: 'must be an integer number of milliseconds' });
    if (!Array.isArray(row.items) || row.items.some((item) => typeof item !== 'string'))
      details.push({ field: `${at}/items`, message: 'must be an array of item ids' });
    else if (!Array.isArray(row.scores) || row.scores.length !== row.items.length)
      details.push({ field: `${at}/scores`, message: 'must hold one number per item' });
    if (row.features !== null) {
      const { names, rows: values } = row.features;
      if (!(values instanceof Float32Array) || values.length !== row.items.length * names.length)
        details.push({ field: `${at}/features`, message: 'must hold items × names values' });
    }
  });
  if (details.length > 0)
    throw new ValidationError(
      'Invalid recommendations; nothing was written',
      details.slice(0, MAX_FIELD_ERRORS),
    );
}

/** The bytes of a typed array (platform byte order, little-endian on every supported CPU). */
export function typedBytes(values: Float32Array | Float64Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

/** Copies stored bytes into a fresh, aligned Float32Array. */
export function float32FromBytes(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer, 0, bytes.byteLength >>> 2);
}

/** Copies stored bytes into a plain array of doubles. */
export function float64sFromBytes(bytes: Uint8Array): number[] {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return Array.from(new Float64Array(copy.buffer, 0, bytes.byteLength >>> 3));
}

/** Cursor of a served-recommendation page: the (servedAt, seq) key of its last row. */
export function encodeServedCursor(servedAt: number, seq: number): string {
  return Buffer.from(`r${servedAt}.${seq}`, 'utf8').toString('base64url');
}

/** The (servedAt, seq) key after which the next page starts; null when there is no cursor. */
export function decodeServedCursor(cursor: string | null | undefined): [number, number] | null {
  if (cursor === undefined || cursor === null || cursor === '') return null;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^r(-?\d{1,16})\.(\d{1,15})$/.exec(text);
  if (!match)
    throw new ValidationError('Invalid cursor', [
      { field: 'cursor', message: 'not a cursor returned by a previous page' },
    ]);
  return [Number(match[1]), Number(match[2])];
}

/** The stored columns of a served recommendation that both backends map back the same way. */
export interface ServedColumns {
  seq: number;
  id: string;
  userId: string;
  placement: string;
  servedAt: number;
  items: string[];
  scores: Uint8Array;
  featureNames: string[] | null;
  features: Uint8Array | null;
}

export function servedFromColumns(row: ServedColumns): ServedRecommendation {
  return {
    id: row.id,
    userId: row.userId,
    placement: row.placement,
    servedAt: row.servedAt,
    items: row.items,
    scores: float64sFromBytes(row.scores),
    features:
      row.featureNames !== null && row.features !== null
        ? { names: row.featureNames, rows: float32FromBytes(row.features) }
        : null,
  };
}

/** Turns `limit + 1` fetched rows into a page of served recommendations. */
export function toServedPage(rows: ServedColumns[], limit: number): Page<ServedRecommendation> {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const last = pageRows[pageRows.length - 1];
  return {
    rows: pageRows.map(servedFromColumns),
    nextCursor: hasMore ? encodeServedCursor(last.servedAt, last.seq) : null,
  };
}
