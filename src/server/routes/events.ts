import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { NotFoundError, ValidationError } from '../../domain/errors.js';
import { EventRow, validateEventRows } from '../../ingest/rows.js';
import { BatchResult, ErrorBody, EventJson, eventJson, PageQuery } from '../schemas.js';
import { batchBodyValidator, batchResult, MAX_BATCH_ROWS } from './batch.js';
import type { RouteDeps } from './deps.js';

const EventIdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const TimeBound = Type.String({ description: 'ISO 8601 date-time or epoch milliseconds' });

export const eventRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { engine }) => {
  const { store, service } = engine;

  app.post(
    '/events',
    {
      schema: {
        tags: ['events'],
        summary: `Append up to ${MAX_BATCH_ROWS} events; bad rows are reported, good rows kept`,
        description:
          'Users and items that do not exist yet are created. An event whose clientEventId was already stored is ' +
          'counted as a duplicate and not stored again, so a batch can be retried safely.',
        body: Type.Array(EventRow, { maxItems: MAX_BATCH_ROWS }),
        response: { 200: BatchResult, 400: ErrorBody },
      },
      validatorCompiler: batchBodyValidator(),
    },
    async (req) => {
      const rows = req.body as unknown[];
      const { valid, errors } = validateEventRows(rows, service.getEventTypes());
      const result = valid.length > 0 ? await store.insertEvents(valid) : { inserted: 0, duplicates: 0 };
      engine.eventsAcknowledged(result.inserted);
      engine.metrics.eventsIngested(valid.map((e) => e.type));
      if (errors.length > 0) engine.metrics.eventsRejected(errors.length);
      if (result.duplicates > 0) engine.metrics.eventsDuplicate(result.duplicates);
      engine.drift.observeEvents(valid);
      engine.pipelines.observeEvents(valid);
      engine.announceEvents(result.inserted, valid);
      return batchResult(rows.length, valid.length, result.inserted, result.duplicates, errors);
    },
  );

  app.get(
    '/events',
    {
      schema: {
        tags: ['events'],
        summary: 'List events in the order they were stored, optionally filtered',
        querystring: Type.Composite([
          PageQuery,
          Type.Object({
            userId: Type.Optional(Type.String()),
            itemId: Type.Optional(Type.String()),
            type: Type.Optional(Type.String()),
            since: Type.Optional(TimeBound),
            until: Type.Optional(TimeBound),
          }),
        ]),
        response: {
          200: Type.Object({
            events: Type.Array(EventJson),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          400: ErrorBody,
        },
      },
    },
    async (req) => {
      const q = req.query;
      const page = await store.listEvents({
        limit: q.limit,
        cursor: q.cursor ?? null,
        userId: q.userId,
        itemId: q.itemId,
        type: q.type,
        since: q.since === undefined ? undefined : parseTime('since', q.since),
        until: q.until === undefined ? undefined : parseTime('until', q.until),
      });
      return { events: page.rows.map(eventJson), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/events/:id',
    {
      schema: {
        tags: ['events'],
        summary: 'One event',
        params: EventIdParams,
        response: { 200: EventJson, 404: ErrorBody },
      },
    },
    async (req) => {
      const e = await store.getEvent(req.params.id);
      if (!e) throw new NotFoundError('event', req.params.id);
      return eventJson(e);
    },
  );

  app.delete(
    '/events/:id',
    {
      schema: {
        tags: ['events'],
        summary: 'Delete one event',
        params: EventIdParams,
        response: { 200: Type.Object({ deleted: Type.Boolean() }), 404: ErrorBody },
      },
    },
    async (req) => {
      if (!(await store.deleteEvent(req.params.id))) throw new NotFoundError('event', req.params.id);
      return { deleted: true };
    },
  );
};

function parseTime(field: string, raw: string): number {
  const ms = /^-?\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms)) {
    throw new ValidationError(`${field} must be an ISO 8601 date-time or epoch milliseconds`, [
      { field, message: 'must be an ISO 8601 date-time or epoch milliseconds' },
    ]);
  }
  return ms;
}
