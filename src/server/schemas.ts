import { Type, type Static } from '@sinclair/typebox';
import type { Item, StoredEvent, User } from '../domain/types.js';

/** Response shapes of the HTTP API (request rows live in src/ingest/rows.ts). */

const Id = Type.String({ minLength: 1, maxLength: 256 });
const Json = Type.Record(Type.String(), Type.Unknown());
const Iso = Type.String({ format: 'date-time' });

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code, e.g. VALIDATION_ERROR, NOT_FOUND' }),
      message: Type.String(),
      details: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
    }),
  },
  { $id: 'Error' },
);

export const UserJson = Type.Object({ id: Id, attributes: Json, createdAt: Iso, updatedAt: Iso });
export type UserJson = Static<typeof UserJson>;

export const ItemJson = Type.Object({
  id: Id,
  title: Type.Union([Type.String(), Type.Null()]),
  text: Type.Union([Type.String(), Type.Null()]),
  categories: Type.Array(Type.String()),
  tags: Type.Array(Type.String()),
  attributes: Json,
  available: Type.Boolean(),
  publishedAt: Type.Union([Iso, Type.Null()]),
  createdAt: Iso,
  updatedAt: Iso,
});
export type ItemJson = Static<typeof ItemJson>;

export const EventJson = Type.Object({
  id: Type.Integer(),
  userId: Id,
  itemId: Id,
  type: Type.String(),
  value: Type.Union([Type.Number(), Type.Null()]),
  timestamp: Iso,
  sessionId: Type.Union([Type.String(), Type.Null()]),
  context: Type.Union([Json, Type.Null()]),
  clientEventId: Type.Union([Type.String(), Type.Null()]),
});
export type EventJson = Static<typeof EventJson>;

export const BatchResult = Type.Object({
  accepted: Type.Integer({ description: 'Rows written' }),
  duplicates: Type.Integer({ description: 'Events skipped because their clientEventId was already stored' }),
  rejected: Type.Integer({ description: 'Rows refused; see errors' }),
  errors: Type.Array(
    Type.Object({
      index: Type.Integer({ description: 'Position of the row in the request array' }),
      field: Type.String(),
      message: Type.String(),
    }),
  ),
});
export type BatchResult = Static<typeof BatchResult>;

export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
});

export const IdParams = Type.Object({ id: Id });

export const DeleteResultJson = Type.Object({ deleted: Type.Boolean(), events: Type.Integer() });

export const RecommendedItemJson = Type.Object({
  itemId: Type.String(),
  score: Type.Number(),
  rank: Type.Integer(),
  source: Type.String({ description: 'The model or candidate source that proposed the item' }),
  sources: Type.Optional(
    Type.Array(Type.String(), { description: 'Every candidate source that proposed it' }),
  ),
  explanations: Type.Optional(
    Type.Array(
      Type.Object({
        kind: Type.String(),
        text: Type.String(),
        itemId: Type.Optional(Type.String()),
        category: Type.Optional(Type.String()),
      }),
      { description: 'Why the item is on the list' },
    ),
  ),
});

const iso = (ms: number): string => new Date(ms).toISOString();

export function userJson(u: User): UserJson {
  return { id: u.id, attributes: u.attributes, createdAt: iso(u.createdAt), updatedAt: iso(u.updatedAt) };
}

export function itemJson(it: Item): ItemJson {
  return {
    id: it.id,
    title: it.title,
    text: it.text,
    categories: it.categories,
    tags: it.tags,
    attributes: it.attributes,
    available: it.available,
    publishedAt: it.publishedAt === null ? null : iso(it.publishedAt),
    createdAt: iso(it.createdAt),
    updatedAt: iso(it.updatedAt),
  };
}

export function eventJson(e: StoredEvent): EventJson {
  return {
    id: e.id,
    userId: e.userId,
    itemId: e.itemId,
    type: e.type,
    value: e.value,
    timestamp: iso(e.timestamp),
    sessionId: e.sessionId,
    context: e.context,
    clientEventId: e.clientEventId,
  };
}
