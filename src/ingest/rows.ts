/**
 * Wire format of one user, item or event row (HTTP bodies, JSONL files) and its validation into
 * store inputs. The schemas are exported for the OpenAPI document.
 */
import { FormatRegistry, Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, ValueErrorType, type TypeCheck } from '@sinclair/typebox/compiler';
import type { EventInput, EventType, ItemInput, JsonObject, UserInput } from '../domain/types.js';
import {
  parseIsoTimestamp,
  PUBLISHED_AT_MESSAGE,
  TIMESTAMP_MESSAGE,
  toPublishedAt,
  toTimestamp,
} from './timestamps.js';

if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set('date-time', (value) => !Number.isNaN(parseIsoTimestamp(value)));
}

const ID_MESSAGE = 'must be a string of 1 to 256 characters';

export const IdSchema = Type.String({ minLength: 1, maxLength: 256 });

export const JsonObjectSchema = Type.Unsafe<JsonObject>(
  Type.Object({}, { additionalProperties: true, description: 'Any JSON object' }),
);

export const TimestampSchema = Type.Union([Type.String({ format: 'date-time' }), Type.Number()], {
  description: 'ISO 8601 date-time (UTC when no zone is given) or epoch milliseconds, years 1970 to 2200',
});

const LabelListSchema = Type.Array(Type.String({ minLength: 1, maxLength: 256 }));

export const UserRow = Type.Object(
  {
    id: IdSchema,
    attributes: Type.Optional(JsonObjectSchema),
  },
  { additionalProperties: false },
);
export type UserRow = Static<typeof UserRow>;

export const ItemRow = Type.Object(
  {
    id: IdSchema,
    title: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    text: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    categories: Type.Optional(LabelListSchema),
    tags: Type.Optional(LabelListSchema),
    attributes: Type.Optional(JsonObjectSchema),
    available: Type.Optional(Type.Boolean({ description: 'False hides the item from recommendations' })),
    publishedAt: Type.Optional(
      Type.Union([TimestampSchema, Type.Null()], {
        description: 'When the item was published: ISO 8601 date-time or epoch milliseconds, years 1 to 2200',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ItemRow = Static<typeof ItemRow>;

export const EventRow = Type.Object(
  {
    userId: IdSchema,
    itemId: IdSchema,
    type: Type.String({ minLength: 1, description: 'A configured event type, e.g. view or purchase' }),
    value: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    timestamp: Type.Optional(TimestampSchema),
    sessionId: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
    context: Type.Optional(Type.Union([JsonObjectSchema, Type.Null()])),
    clientEventId: Type.Optional(Type.Union([IdSchema, Type.Null()])),
  },
  { additionalProperties: false },
);
export type EventRow = Static<typeof EventRow>;

export interface RowError {
  /** Position of the row in the input array. */
  index: number;
  /** Path of the offending field within the row (`timestamp`, `categories/2`), or `(row)`. */
  field: string;
  message: string;
}

export interface Validated<T> {
  valid: T[];
  /** `validIndex[k]` is the input position of `valid[k]`. */
  validIndex: number[];
  errors: RowError[];
}

const LABELS_MESSAGE = 'must be an array of strings of 1 to 256 characters';

const USER_MESSAGES: Record<string, string> = {
  id: ID_MESSAGE,
  attributes: 'must be an object',
};

const ITEM_MESSAGES: Record<string, string> = {
  id: ID_MESSAGE,
  title: 'must be a string or null',
  text: 'must be a string or null',
  categories: LABELS_MESSAGE,
  tags: LABELS_MESSAGE,
  attributes: 'must be an object',
  available: 'must be true or false',
  publishedAt: PUBLISHED_AT_MESSAGE,
};

const EVENT_MESSAGES: Record<string, string> = {
  userId: ID_MESSAGE,
  itemId: ID_MESSAGE,
  type: 'must be the name of a configured event type',
  value: 'must be a finite number or null',
  timestamp: TIMESTAMP_MESSAGE,
  sessionId: 'must be a string of at most 256 characters or null',
  context: 'must be an object or null',
  clientEventId: `${ID_MESSAGE} or null`,
};

interface Compiled<T extends TSchema> {
  check: TypeCheck<T>;
  messages: Record<string, string>;
  allowed: string;
}

function compile<T extends TSchema>(schema: T, messages: Record<string, string>): Compiled<T> {
  return { check: TypeCompiler.Compile(schema), messages, allowed: Object.keys(messages).join(', ') };
}

let compiled:
  | {
      user: Compiled<typeof UserRow>;
      item: Compiled<typeof ItemRow>;
      event: Compiled<typeof EventRow>;
    }
  | undefined;

function validators(): NonNullable<typeof compiled> {
  compiled ??= {
    user: compile(UserRow, USER_MESSAGES),
    item: compile(ItemRow, ITEM_MESSAGES),
    event: compile(EventRow, EVENT_MESSAGES),
  };
  return compiled;
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Readable errors for a row that failed the schema check: at most one per field. */
function describeErrors<T extends TSchema>(
  c: Compiled<T>,
  row: unknown,
  index: number,
  out: RowError[],
): void {
  if (!isPlainObject(row)) {
    out.push({ index, field: '(row)', message: 'must be an object' });
    return;
  }
  const seen = new Set<string>();
  for (const error of c.check.Errors(row)) {
    const parts = error.path.split('/').slice(1).map(unescapePointer);
    let field: string;
    let message: string;
    if (error.type === ValueErrorType.ObjectAdditionalProperties) {
      field = parts.join('/');
      message = `is not a known field (allowed: ${c.allowed})`;
    } else if (error.type === ValueErrorType.ObjectRequiredProperty) {
      field = parts.join('/');
      message = 'is required';
    } else {
      const root = parts[0] ?? '(row)';
      const element = Array.isArray(row[root]) && parts.length > 1;
      field = element ? `${root}/${parts[1]}` : root;
      message = element ? 'must be a string of 1 to 256 characters' : (c.messages[root] ?? error.message);
    }
    if (seen.has(field)) continue;
    seen.add(field);
    out.push({ index, field, message });
  }
}

/** Appends an error unless the row (whose errors start at `first`) already has one for `field`. */
function addOnce(errors: RowError[], first: number, index: number, field: string, message: string): void {
  for (let k = first; k < errors.length; k++) if (errors[k].field === field) return;
  errors.push({ index, field, message });
}

/** Validates user rows; valid ones become `UserInput`s. */
export function validateUserRows(rows: unknown[]): Validated<UserInput> {
  const c = validators().user;
  const result: Validated<UserInput> = { valid: [], validIndex: [], errors: [] };
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (!c.check.Check(row)) {
      describeErrors(c, row, i, result.errors);
      continue;
    }
    const user: UserInput = { id: row.id };
    if (row.attributes !== undefined) user.attributes = row.attributes;
    result.valid.push(user);
    result.validIndex.push(i);
  }
  return result;
}

/** Validates item rows; valid ones become `ItemInput`s (absent fields stay absent). */
export function validateItemRows(rows: unknown[]): Validated<ItemInput> {
  const c = validators().item;
  const result: Validated<ItemInput> = { valid: [], validIndex: [], errors: [] };
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (!c.check.Check(row)) {
      const first = result.errors.length;
      describeErrors(c, row, i, result.errors);
      if (
        isPlainObject(row) &&
        typeof row.publishedAt === 'number' &&
        Number.isNaN(toPublishedAt(row.publishedAt))
      ) {
        addOnce(result.errors, first, i, 'publishedAt', ITEM_MESSAGES.publishedAt);
      }
      continue;
    }
    const item: ItemInput = { id: row.id };
    if (row.publishedAt !== undefined) {
      if (row.publishedAt === null) {
        item.publishedAt = null;
      } else {
        const ms = toPublishedAt(row.publishedAt);
        if (Number.isNaN(ms)) {
          result.errors.push({ index: i, field: 'publishedAt', message: ITEM_MESSAGES.publishedAt });
          continue;
        }
        item.publishedAt = ms;
      }
    }
    if (row.title !== undefined) item.title = row.title;
    if (row.text !== undefined) item.text = row.text;
    if (row.categories !== undefined) item.categories = row.categories;
    if (row.tags !== undefined) item.tags = row.tags;
    if (row.attributes !== undefined) item.attributes = row.attributes;
    if (row.available !== undefined) item.available = row.available;
    result.valid.push(item);
    result.validIndex.push(i);
  }
  return result;
}

/** Message for a type name that is not configured. */
export function unknownTypeMessage(type: string, eventTypes: ReadonlyMap<string, EventType>): string {
  const names = [...eventTypes.keys()].sort();
  return `unknown event type '${type}' (configured types: ${names.length > 0 ? names.join(', ') : 'none'})`;
}

/**
 * Validates event rows against the schema and the configured event types. A missing timestamp
 * becomes `now`; missing optional fields become null.
 */
export function validateEventRows(
  rows: unknown[],
  eventTypes: ReadonlyMap<string, EventType>,
  now: number = Date.now(),
): Validated<EventInput> {
  const c = validators().event;
  const result: Validated<EventInput> = { valid: [], validIndex: [], errors: [] };
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (!c.check.Check(row)) {
      const first = result.errors.length;
      describeErrors(c, row, i, result.errors);
      if (!isPlainObject(row)) continue;
      if (typeof row.type === 'string' && row.type !== '' && !eventTypes.has(row.type)) {
        addOnce(result.errors, first, i, 'type', unknownTypeMessage(row.type, eventTypes));
      }
      if (typeof row.timestamp === 'number' && Number.isNaN(toTimestamp(row.timestamp))) {
        addOnce(result.errors, first, i, 'timestamp', TIMESTAMP_MESSAGE);
      }
      continue;
    }
    let ok = true;
    if (!eventTypes.has(row.type)) {
      result.errors.push({ index: i, field: 'type', message: unknownTypeMessage(row.type, eventTypes) });
      ok = false;
    }
    const timestamp = row.timestamp === undefined ? now : toTimestamp(row.timestamp);
    if (Number.isNaN(timestamp)) {
      result.errors.push({ index: i, field: 'timestamp', message: TIMESTAMP_MESSAGE });
      ok = false;
    }
    if (!ok) continue;
    result.valid.push({
      userId: row.userId,
      itemId: row.itemId,
      type: row.type,
      value: row.value ?? null,
      timestamp,
      sessionId: row.sessionId ?? null,
      context: row.context ?? null,
      clientEventId: row.clientEventId ?? null,
    });
    result.validIndex.push(i);
  }
  return result;
}

/** Event types by name, as `validateEventRows` wants them. */
export function eventTypeMap(types: Iterable<EventType>): Map<string, EventType> {
  const map = new Map<string, EventType>();
  for (const t of types) map.set(t.name, t);
  return map;
}
