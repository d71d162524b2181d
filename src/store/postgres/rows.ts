import type { EventType, Item, JsonObject, StoredEvent, User, ValueMode } from '../../domain/types.js';

/** Row shapes as node-postgres returns them: JSON and arrays parsed, BIGINT parsed to number. */
export interface UserRow {
  idx: number;
  id: string;
  attributes: JsonObject;
  created_at: number;
  updated_at: number;
}

export interface ItemRow {
  idx: number;
  id: string;
  title: string | null;
  text: string | null;
  categories: string[];
  tags: string[];
  attributes: JsonObject;
  available: boolean;
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
  context: JsonObject | null;
  clientEventId: string | null;
}

export interface EventTypeRow {
  name: string;
  weight: number;
  value_mode: string;
  description: string;
}

export function toUser(row: UserRow): User {
  return { id: row.id, attributes: row.attributes, createdAt: row.created_at, updatedAt: row.updated_at };
}

export function toItem(row: ItemRow): Item {
  return {
    id: row.id,
    title: row.title,
    text: row.text,
    categories: row.categories,
    tags: row.tags,
    attributes: row.attributes,
    available: row.available,
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
    context: row.context,
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
