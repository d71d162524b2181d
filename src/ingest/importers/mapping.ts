/**
 * Column mappings: which column of a delimited record (or which key of a JSON line) feeds which
 * field, and the conversion of cells into store inputs.
 */
import { ValidationError } from '../../domain/errors.js';
import type { EventInput, EventType, JsonObject, JsonValue } from '../../domain/types.js';
import { unknownTypeMessage } from '../rows.js';
import { FastEventParser } from './fast-events.js';
import {
  checkPublishedAt,
  checkTimestamp,
  parseTimestampText,
  timestampMessage,
  type TimestampUnit,
} from '../timestamps.js';

/** A column by header name, or by 0-based position. */
export type Column = string | number;

export interface EventMapping {
  user: Column;
  item: Column;
  type?: Column;
  value?: Column;
  timestamp?: Column;
  /** Default `auto`. */
  timestampUnit?: TimestampUnit;
  session?: Column;
  clientEventId?: Column;
  /** Type of every event when there is no type column. Default `rating` with a value column, else `view`. */
  defaultType?: string;
}

/** Attribute columns: a list (attribute named after the header) or attribute name → column. */
export type AttributeColumns = Column[] | Record<string, Column>;

export interface ItemMapping {
  id: Column;
  title?: Column;
  text?: Column;
  categories?: Column;
  /** Between categories in one cell. Default `|`. */
  categorySeparator?: string;
  tags?: Column;
  /** Between tags in one cell. Default `|`. */
  tagSeparator?: string;
  /** true/false, 1/0, yes/no. */
  available?: Column;
  publishedAt?: Column;
  /** Default `auto`. */
  publishedAtUnit?: TimestampUnit;
  attributes?: AttributeColumns;
}

export interface UserMapping {
  id: Column;
  attributes?: AttributeColumns;
}

/** One record: a delimited line's cells, or a JSON object. */
export type Cells = readonly unknown[] | Readonly<Record<string, unknown>>;
/** A resolved column: an index into an array record or a key of an object record; -1 for none. */
export type Key = number | string;

function get(r: Cells, key: Key): unknown {
  return (r as Readonly<Record<Key, unknown>>)[key];
}

export interface FieldProblem {
  field: string;
  message: string;
}

const ALIASES = {
  user: ['userid', 'user_id', 'user', 'uid', 'customerid', 'customer_id', 'visitorid', 'visitor_id'],
  item: ['itemid', 'item_id', 'item', 'movieid', 'movie_id', 'productid', 'product_id', 'sku', 'iid'],
  type: ['type', 'eventtype', 'event_type', 'event', 'action'],
  value: ['value', 'rating', 'score', 'quantity'],
  timestamp: ['timestamp', 'ts', 'time', 'datetime', 'date', 'created_at', 'createdat'],
  session: ['sessionid', 'session_id', 'session'],
  clientEventId: ['clienteventid', 'client_event_id', 'eventid', 'event_id'],
  id: ['id'],
  title: ['title', 'name'],
  text: ['text', 'description'],
  categories: ['categories', 'category', 'genres', 'genre'],
  tags: ['tags', 'tag', 'keywords'],
  available: ['available', 'in_stock', 'instock'],
  publishedAt: ['publishedat', 'published_at', 'published', 'release_date'],
} as const;

function findAlias(header: readonly string[], names: readonly string[]): number {
  for (let i = 0; i < header.length; i++) if (names.includes(header[i].trim().toLowerCase())) return i;
  return -1;
}

/** Whether a header line names at least one known event, item or user column. */
export function looksLikeHeader(cells: readonly string[]): boolean {
  const known = new Set<string>(Object.values(ALIASES).flat());
  return cells.some((c) => known.has(c.trim().toLowerCase()));
}

/** Mapping guessed from a header (known column names) or, without one, `user, item[, value[, timestamp]]`. */
export function inferEventMapping(header: readonly string[] | null, columns: number): EventMapping {
  if (header === null) {
    const m: EventMapping = { user: 0, item: 1 };
    if (columns > 2) m.value = 2;
    if (columns > 3) m.timestamp = 3;
    return m;
  }
  const user = findAlias(header, ALIASES.user);
  const item = findAlias(header, ALIASES.item);
  if (user < 0 || item < 0) {
    throw new ValidationError(`cannot tell the user and item columns apart in header: ${header.join(', ')}`);
  }
  const m: EventMapping = { user, item };
  for (const key of ['type', 'value', 'timestamp', 'session', 'clientEventId'] as const) {
    const i = findAlias(header, ALIASES[key]);
    if (i >= 0) m[key] = i;
  }
  return m;
}

/** Mapping from a header: known item columns by name, every other column an attribute. */
export function inferItemMapping(header: readonly string[]): ItemMapping {
  let id = findAlias(header, ALIASES.id);
  if (id < 0) id = findAlias(header, ALIASES.item);
  if (id < 0) id = 0;
  const m: ItemMapping = { id };
  for (const key of ['title', 'text', 'categories', 'tags', 'available', 'publishedAt'] as const) {
    const i = findAlias(header, ALIASES[key]);
    if (i >= 0 && i !== id) m[key] = i;
  }
  const claimed = [m.id, m.title, m.text, m.categories, m.tags, m.available, m.publishedAt];
  m.attributes = header.map((_, i) => i).filter((i) => !claimed.includes(i));
  return m;
}

/** Mapping from a header: the id column by name (else the first), every other column an attribute. */
export function inferUserMapping(header: readonly string[]): UserMapping {
  let id = findAlias(header, ALIASES.id);
  if (id < 0) id = findAlias(header, ALIASES.user);
  if (id < 0) id = 0;
  return { id, attributes: header.map((_, i) => i).filter((i) => i !== id) };
}

/** Whether a mapping names any column by header name (so the file must have a header). */
export function usesNames(columns: readonly (Column | undefined)[]): boolean {
  return columns.some((c) => typeof c === 'string' && !/^\d+$/.test(c));
}

/**
 * Resolves a column to an index (delimited records with `header`, or without when it is a
 * position) or to an object key (`header` null and `objects` true, for JSON lines).
 */
export function resolveColumn(
  column: Column | undefined,
  field: string,
  header: readonly string[] | null,
  objects = false,
): Key {
  if (column === undefined) return -1;
  if (objects) {
    if (typeof column === 'number')
      throw new ValidationError(`${field}: JSON lines are read by key, not position (${column})`);
    return column;
  }
  if (typeof column === 'number' || /^\d+$/.test(column)) {
    const i = Number(column);
    if (!Number.isInteger(i) || i < 0)
      throw new ValidationError(`${field}: column ${column} is not a valid position`);
    return i;
  }
  if (header === null)
    throw new ValidationError(`${field}: column '${column}' is named, but the file has no header`);
  let i = header.indexOf(column);
  if (i < 0) i = header.findIndex((h) => h.trim().toLowerCase() === column.toLowerCase());
  if (i < 0)
    throw new ValidationError(`${field}: column '${column}' is not in the header (${header.join(', ')})`);
  return i;
}

/** Attribute name → key. */
export function resolveAttributes(
  columns: AttributeColumns | undefined,
  header: readonly string[] | null,
  objects = false,
): [string, Key][] {
  if (columns === undefined) return [];
  const entries: [string, Column][] = Array.isArray(columns)
    ? columns.map((c) => [
        typeof c === 'number' || /^\d+$/.test(c) ? (header?.[Number(c)] ?? `column${c}`) : c,
        c,
      ])
    : Object.entries(columns);
  return entries.map(([name, c]) => [name.trim(), resolveColumn(c, `attribute ${name}`, header, objects)]);
}

function show(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 40 ? `'${s.slice(0, 40)}…'` : `'${s}'`;
}

const MAX_ID = 256;

/** An id cell as a string, or null when invalid. */
export function idCell(v: unknown): string | null {
  if (typeof v === 'string') return v.length > 0 && v.length <= MAX_ID ? v : null;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

function idProblem(v: unknown): string {
  if (v === undefined) return 'is missing';
  if (v === '' || v === null) return 'is empty';
  return `must be an id of 1 to ${MAX_ID} characters, got ${show(v)}`;
}

/** A JSON number read as a timestamp in `unit` (ms; NaN when invalid). */
function numericTimestamp(t: number, unit: TimestampUnit, check = checkTimestamp): number {
  switch (unit) {
    case 's':
      return check(t * 1000);
    case 'ms':
      return check(t);
    case 'auto':
      return check(Math.abs(t) < 1e11 ? t * 1000 : t);
    case 'iso':
      return NaN;
  }
}

/** Resolved event columns plus everything needed to turn a record into an `EventInput`. */
export interface EventColumns {
  user: Key;
  item: Key;
  type: Key;
  value: Key;
  timestamp: Key;
  session: Key;
  clientEventId: Key;
}

export function resolveEventColumns(
  m: EventMapping,
  header: readonly string[] | null,
  objects = false,
): EventColumns {
  return {
    user: resolveColumn(m.user, 'user', header, objects),
    item: resolveColumn(m.item, 'item', header, objects),
    type: resolveColumn(m.type, 'type', header, objects),
    value: resolveColumn(m.value, 'value', header, objects),
    timestamp: resolveColumn(m.timestamp, 'timestamp', header, objects),
    session: resolveColumn(m.session, 'session', header, objects),
    clientEventId: resolveColumn(m.clientEventId, 'clientEventId', header, objects),
  };
}

/**
 * Turns records into events. On a bad record `convert` returns null and leaves the reason in
 * `problem`. Written for the import hot path: no regexes, one object per event.
 */
export class EventConverter {
  problem: FieldProblem = { field: '', message: '' };
  private readonly unit: TimestampUnit;
  private readonly defaultType: string;

  constructor(
    private readonly cols: EventColumns,
    mapping: EventMapping,
    private readonly types: ReadonlyMap<string, EventType>,
    /** Timestamp of events without a timestamp column. */
    private readonly now: number,
  ) {
    this.unit = mapping.timestampUnit ?? 'auto';
    this.defaultType = mapping.defaultType ?? (mapping.value === undefined ? 'view' : 'rating');
    if (cols.type === -1 && !types.has(this.defaultType)) {
      throw new ValidationError(unknownTypeMessage(this.defaultType, types));
    }
  }

  /** The hot-path parser for unquoted lines, when every column is a position. */
  fastParser(delimiter: string): FastEventParser | null {
    const c = this.cols;
    const positions = [c.user, c.item, c.type, c.value, c.timestamp, c.session, c.clientEventId];
    if (!positions.every((k): k is number => typeof k === 'number')) return null;
    const [user, item, type, value, timestamp, session, clientEventId] = positions;
    const cols = { user, item, type, value, timestamp, session, clientEventId };
    return new FastEventParser(cols, delimiter, this.types, this.defaultType, this.unit, this.now);
  }

  convert(r: Cells): EventInput | null {
    const c = this.cols;
    const userId = idCell(get(r, c.user));
    if (userId === null) return this.fail('user', idProblem(get(r, c.user)));
    const itemId = idCell(get(r, c.item));
    if (itemId === null) return this.fail('item', idProblem(get(r, c.item)));

    let type = this.defaultType;
    if (c.type !== -1) {
      const t = get(r, c.type);
      if (typeof t !== 'string' || !this.types.has(t)) {
        return this.fail('type', typeof t === 'string' ? unknownTypeMessage(t, this.types) : idProblem(t));
      }
      type = t;
    }

    let value: number | null = null;
    if (c.value !== -1) {
      const v = get(r, c.value);
      if (typeof v === 'number') value = v;
      else if (typeof v === 'string' && v !== '') value = Number(v);
      else if (v !== undefined && v !== null && v !== '')
        return this.fail('value', `must be a number, got ${show(v)}`);
      if (value !== null && !Number.isFinite(value))
        return this.fail('value', `must be a number, got ${show(v)}`);
    }

    let timestamp = this.now;
    if (c.timestamp !== -1) {
      const t = get(r, c.timestamp);
      timestamp = this.timestampOf(t);
      if (Number.isNaN(timestamp)) {
        return this.fail(
          'timestamp',
          t === undefined || t === '' ? 'is missing' : `${timestampMessage(this.unit)}, got ${show(t)}`,
        );
      }
    }

    let sessionId: string | null = null;
    if (c.session !== -1) {
      const s = get(r, c.session);
      if (s !== undefined && s !== null && s !== '') {
        sessionId = idCell(s);
        if (sessionId === null) return this.fail('session', idProblem(s));
      }
    }

    let clientEventId: string | null = null;
    if (c.clientEventId !== -1) {
      const s = get(r, c.clientEventId);
      if (s !== undefined && s !== null && s !== '') {
        clientEventId = idCell(s);
        if (clientEventId === null) return this.fail('clientEventId', idProblem(s));
      }
    }

    return { userId, itemId, type, value, timestamp, sessionId, context: null, clientEventId };
  }

  private timestampOf(t: unknown): number {
    if (typeof t === 'string') return parseTimestampText(t, this.unit);
    return typeof t === 'number' ? numericTimestamp(t, this.unit) : NaN;
  }

  private fail(field: string, message: string): null {
    this.problem = { field, message };
    return null;
  }
}

/** A cell of free text: '' and null become null. */
function textCell(v: unknown): unknown {
  return v === '' ? null : v;
}

/** A label list: an array as it is, or a string cut at `separator` (trimmed, empties dropped). */
function labelsCell(v: unknown, separator: string): unknown {
  if (typeof v !== 'string') return v ?? [];
  const out: string[] = [];
  for (const part of v.split(separator)) {
    const s = part.trim();
    if (s.length > 0) out.push(s);
  }
  return out;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'y', 't']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'n', 'f']);

function booleanCell(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const s = v.trim().toLowerCase();
  if (TRUE_WORDS.has(s)) return true;
  if (FALSE_WORDS.has(s)) return false;
  return v;
}

const NUMBER_TEXT = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * An attribute cell: text that reads as a plain number (no leading zeros, so zip codes stay text)
 * or true/false becomes that JSON value; '' means absent.
 */
export function attributeCell(v: unknown): JsonValue | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') return v as JsonValue;
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (NUMBER_TEXT.test(v)) {
    const n = Number(v);
    if (Number.isFinite(n)) return n;
  }
  return v;
}

function attributesOf(r: Cells, keys: readonly [string, Key][]): JsonObject {
  const out: JsonObject = {};
  for (const [name, key] of keys) {
    const v = attributeCell(get(r, key));
    if (v !== undefined) out[name] = v;
  }
  return out;
}

export interface ItemColumns {
  id: Key;
  title: Key;
  text: Key;
  categories: Key;
  tags: Key;
  available: Key;
  publishedAt: Key;
  attributes: [string, Key][];
}

export function resolveItemColumns(
  m: ItemMapping,
  header: readonly string[] | null,
  objects = false,
): ItemColumns {
  return {
    id: resolveColumn(m.id, 'id', header, objects),
    title: resolveColumn(m.title, 'title', header, objects),
    text: resolveColumn(m.text, 'text', header, objects),
    categories: resolveColumn(m.categories, 'categories', header, objects),
    tags: resolveColumn(m.tags, 'tags', header, objects),
    available: resolveColumn(m.available, 'available', header, objects),
    publishedAt: resolveColumn(m.publishedAt, 'publishedAt', header, objects),
    attributes: resolveAttributes(m.attributes, header, objects),
  };
}

/**
 * A record as an item row in the wire format, ready for `validateItemRows`, or a problem with a
 * cell that the row validator would describe less precisely.
 */
export function itemRowOf(
  r: Cells,
  c: ItemColumns,
  m: ItemMapping,
): { row: Record<string, unknown> } | { problem: FieldProblem } {
  const row: Record<string, unknown> = { id: idCell(get(r, c.id)) ?? get(r, c.id) };
  if (c.title !== -1) row.title = textCell(get(r, c.title));
  if (c.text !== -1) row.text = textCell(get(r, c.text));
  if (c.categories !== -1) row.categories = labelsCell(get(r, c.categories), m.categorySeparator ?? '|');
  if (c.tags !== -1) row.tags = labelsCell(get(r, c.tags), m.tagSeparator ?? '|');
  if (c.available !== -1) {
    const a = get(r, c.available);
    if (a !== undefined && a !== '') row.available = booleanCell(a);
  }
  if (c.publishedAt !== -1) {
    const p = get(r, c.publishedAt);
    if (p === undefined || p === '' || p === null) {
      row.publishedAt = null;
    } else {
      const unit = m.publishedAtUnit ?? 'auto';
      const checked =
        typeof p === 'number'
          ? numericTimestamp(p, unit, checkPublishedAt)
          : parseTimestampText(String(p), unit, checkPublishedAt);
      if (Number.isNaN(checked)) {
        return { problem: { field: 'publishedAt', message: `${timestampMessage(unit, 1)}, got ${show(p)}` } };
      }
      row.publishedAt = checked;
    }
  }
  if (c.attributes.length > 0) row.attributes = attributesOf(r, c.attributes);
  return { row };
}

export interface UserColumns {
  id: Key;
  attributes: [string, Key][];
}

export function resolveUserColumns(
  m: UserMapping,
  header: readonly string[] | null,
  objects = false,
): UserColumns {
  return {
    id: resolveColumn(m.id, 'id', header, objects),
    attributes: resolveAttributes(m.attributes, header, objects),
  };
}

/** A record as a user row in the wire format, ready for `validateUserRows`. */
export function userRowOf(r: Cells, c: UserColumns): Record<string, unknown> {
  const row: Record<string, unknown> = { id: idCell(get(r, c.id)) ?? get(r, c.id) };
  if (c.attributes.length > 0) row.attributes = attributesOf(r, c.attributes);
  return row;
}
