import type {
  EventType,
  Item,
  ItemInput,
  JsonObject,
  StoredEvent,
  User,
  ValueMode,
} from '../../domain/types.js';

/** Row shapes as SQLite returns them (JSON kept as text, booleans as 0/1). */
export interface UserRow {
  idx: number;
  id: string;
  attributes: string;
  created_at: number;
  updated_at: number;
}

export interface ItemRow {
  idx: number;
  id: string;
  title: string | null;
  text: string | null;
  categories: string;
  tags: string;
  attributes: string;
  available: number;
  published_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface EventRow {
  id: number;
  userId: string;
  itemId: string;
  type: string;
  value: number | null;
  ts: number;
  sessionId: string | null;
  context: string | null;
  clientEventId: string | null;
}

/**
 * Events in id order after an id, as KeyRows (store/shared.ts), a page at a time: the scan for
 * training and the in-memory history index both read the table this way.
 */
export const EVENT_KEYS_AFTER =
  'SELECT id, user_idx, item_idx, type_idx, value, ts FROM events WHERE id > ? ORDER BY id LIMIT ?';

/** A history row as keys: item, event type, value, timestamp. */
export type HistoryKeyRow = [itemIdx: number, typeIdx: number, value: number | null, ts: number];

/** A user's attributes (JSON text), created_at and updated_at, as raw columns. */
export type UserColumns = [attributes: string, createdAt: number, updatedAt: number];

export interface EventTypeRow {
  name: string;
  weight: number;
  value_mode: string;
  description: string;
}

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    attributes: JSON.parse(row.attributes) as JsonObject,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function userFromColumns(id: string, [attributes, createdAt, updatedAt]: UserColumns): User {
  return { id, attributes: JSON.parse(attributes) as JsonObject, createdAt, updatedAt };
}

export function toItem(row: ItemRow): Item {
  return {
    id: row.id,
    title: row.title,
    text: row.text,
    categories: JSON.parse(row.categories) as string[],
    tags: JSON.parse(row.tags) as string[],
    attributes: JSON.parse(row.attributes) as JsonObject,
    available: row.available === 1,
    publishedAt: row.published_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    userId: row.userId,
    itemId: row.itemId,
    type: row.type,
    value: row.value,
    timestamp: row.ts,
    sessionId: row.sessionId,
    context: row.context === null ? null : (JSON.parse(row.context) as JsonObject),
    clientEventId: row.clientEventId,
  };
}

export function toEventType(row: EventTypeRow): EventType {
  return {
    name: row.name,
    weight: row.weight,
    valueMode: row.value_mode as ValueMode,
    description: row.description,
  };
}

/** Bind parameters of one item row, defaults applied; `now` fills both timestamps. */
export function itemParams(item: ItemInput, now: number) {
  return [
    item.id,
    item.title ?? null,
    item.text ?? null,
    JSON.stringify(item.categories ?? []),
    JSON.stringify(item.tags ?? []),
    JSON.stringify(item.attributes ?? {}),
    item.available === false ? 0 : 1,
    item.publishedAt ?? null,
    now,
    now,
  ] as const;
}
