import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { NotFoundError } from '../../domain/errors.js';
import { ErrorBody } from '../schemas.js';
import type { RouteDeps } from './deps.js';

const EventTypeJson = Type.Object({
  name: Type.String(),
  weight: Type.Number(),
  valueMode: Type.Union([Type.Literal('ignore'), Type.Literal('linear'), Type.Literal('log1p')]),
  description: Type.String(),
});

const EventTypeBody = Type.Object(
  {
    weight: Type.Number({
      minimum: -100,
      maximum: 100,
      description: 'Interaction strength of one event of this type',
    }),
    valueMode: Type.Optional(
      Type.Union([Type.Literal('ignore'), Type.Literal('linear'), Type.Literal('log1p')], {
        description: 'ignore: strength = weight; linear: weight * value; log1p: weight * ln(1 + value)',
        default: 'ignore',
      }),
    ),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);

const NameParams = Type.Object({ name: Type.String({ pattern: '^[a-z][a-z0-9_-]{0,63}$' }) });

export const eventTypeRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { engine }) => {
  const { store, service } = engine;

  app.get(
    '/event-types',
    {
      schema: {
        tags: ['event-types'],
        summary: 'The configured event types and their weights',
        response: { 200: Type.Object({ eventTypes: Type.Array(EventTypeJson) }) },
      },
    },
    async () => ({ eventTypes: await store.listEventTypes() }),
  );

  app.put(
    '/event-types/:name',
    {
      schema: {
        tags: ['event-types'],
        summary: 'Create or change an event type',
        params: NameParams,
        body: EventTypeBody,
        response: { 200: EventTypeJson, 400: ErrorBody },
      },
    },
    async (req) => {
      const t = {
        name: req.params.name,
        weight: req.body.weight,
        valueMode: req.body.valueMode ?? 'ignore',
        description: req.body.description ?? '',
      };
      await store.upsertEventType(t);
      await service.refreshEventTypes();
      await engine.announce({ kind: 'event-types' });
      return t;
    },
  );

  app.delete(
    '/event-types/:name',
    {
      schema: {
        tags: ['event-types'],
        summary: 'Remove an event type that no stored event uses',
        params: NameParams,
        response: { 200: Type.Object({ deleted: Type.Boolean() }), 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req) => {
      if (!(await store.deleteEventType(req.params.name)))
        throw new NotFoundError('event type', req.params.name);
      await service.refreshEventTypes();
      await engine.announce({ kind: 'event-types' });
      return { deleted: true };
    },
  );
};
