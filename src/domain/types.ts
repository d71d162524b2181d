/**
 * Types shared by every layer: users, items, feedback events and event types.
 * Timestamps are milliseconds since the Unix epoch everywhere inside Kindred;
 * the HTTP layer converts them to and from ISO 8601.
 */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface UserInput {
  id: string;
  attributes?: JsonObject;
}

export interface User {
  id: string;
  attributes: JsonObject;
  createdAt: number;
  updatedAt: number;
}

export interface ItemInput {
  id: string;
  title?: string | null;
  text?: string | null;
  categories?: string[];
  tags?: string[];
  /** Free-form attributes such as price, brand, stock. */
  attributes?: JsonObject;
  /** False hides the item from every recommendation. Defaults to true. */
  available?: boolean;
  /** When the item was published or first offered (ms). */
  publishedAt?: number | null;
}

export interface Item {
  id: string;
  title: string | null;
  text: string | null;
  categories: string[];
  tags: string[];
  attributes: JsonObject;
  available: boolean;
  publishedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** Where an event happened: placement, the recommendation that showed the item, device, ... */
export type EventContext = JsonObject;

/** A validated event ready for the store. */
export interface EventInput {
  userId: string;
  itemId: string;
  type: string;
  value: number | null;
  timestamp: number;
  sessionId: string | null;
  context: EventContext | null;
  /** Client-chosen id; a second event with the same id is ignored (idempotent retries). */
  clientEventId: string | null;
}

export interface StoredEvent extends EventInput {
  /** Store-assigned, strictly increasing sequence number. */
  id: number;
}

/**
 * How an event's value turns into interaction strength:
 * - `ignore`: strength = weight
 * - `linear`: strength = weight * value (ratings, quantities)
 * - `log1p`:  strength = weight * ln(1 + value) (dwell or watch seconds)
 */
export type ValueMode = 'ignore' | 'linear' | 'log1p';

export interface EventType {
  name: string;
  weight: number;
  valueMode: ValueMode;
  description: string;
}

export const DEFAULT_EVENT_TYPES: readonly EventType[] = [
  { name: 'impression', weight: 0, valueMode: 'ignore', description: 'The item was shown to the user' },
  { name: 'view', weight: 1, valueMode: 'ignore', description: 'The user opened the item page' },
  { name: 'click', weight: 2, valueMode: 'ignore', description: 'The user clicked the item' },
  { name: 'search', weight: 1, valueMode: 'ignore', description: 'The item was reached from a search' },
  { name: 'like', weight: 3, valueMode: 'ignore', description: 'The user liked or saved the item' },
  { name: 'cart', weight: 4, valueMode: 'ignore', description: 'The user added the item to the cart' },
  { name: 'purchase', weight: 8, valueMode: 'ignore', description: 'The user bought the item' },
  { name: 'rating', weight: 1, valueMode: 'linear', description: 'An explicit rating; value is the rating' },
  { name: 'dwell', weight: 1, valueMode: 'log1p', description: 'Seconds spent on the item page' },
  { name: 'watch', weight: 1, valueMode: 'log1p', description: 'Seconds of the item watched or listened to' },
];

/** Interaction strength of one event under its type. */
export function eventStrength(type: EventType, value: number | null): number {
  switch (type.valueMode) {
    case 'ignore':
      return type.weight;
    case 'linear':
      return type.weight * (value ?? 1);
    case 'log1p':
      return type.weight * Math.log1p(Math.max(0, value ?? 0));
  }
}
