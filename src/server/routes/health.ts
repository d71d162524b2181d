import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { workerNumber } from '../../serving/cluster/messages.js';
import { Type } from '@sinclair/typebox';
import type { RouteDeps } from './deps.js';

export const healthRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { engine }) => {
  app.get(
    '/health',
    {
      schema: {
        tags: ['ops'],
        summary: 'Liveness: the process answers',
        response: {
          200: Type.Object({
            status: Type.Literal('ok'),
            pid: Type.Integer({ description: 'The serving process that answered' }),
            worker: Type.Union([Type.Integer(), Type.Null()], {
              description: 'Its worker number in a multi-process server (serve --workers), else null',
            }),
          }),
        },
      },
    },
    async () => ({ status: 'ok' as const, pid: process.pid, worker: workerNumber() }),
  );

  app.get(
    '/ready',
    {
      schema: {
        tags: ['ops'],
        summary: 'Readiness: the store answers and at least one model is loaded',
        response: {
          200: Type.Object({
            status: Type.Literal('ready'),
            store: Type.String(),
            models: Type.Array(Type.String()),
          }),
          503: Type.Object({ status: Type.Literal('not-ready'), reason: Type.String() }),
        },
      },
    },
    async (_req, reply) => {
      try {
        await engine.store.ping();
      } catch (err) {
        return reply
          .status(503)
          .send({ status: 'not-ready' as const, reason: `store: ${(err as Error).message}` });
      }
      const models = engine.service.loadedModels().map((m) => m.info.name);
      if (models.length === 0) {
        return reply.status(503).send({ status: 'not-ready' as const, reason: 'no trained model is loaded' });
      }
      return { status: 'ready' as const, store: engine.store.kind, models };
    },
  );

  app.get(
    '/stats',
    {
      schema: {
        tags: ['ops'],
        summary: 'How many users, items and events are stored',
        response: {
          200: Type.Object({ users: Type.Integer(), items: Type.Integer(), events: Type.Integer() }),
        },
      },
    },
    async () => {
      const { store } = engine;
      const [users, items, events] = await Promise.all([
        store.countUsers(),
        store.countItems(),
        store.countEvents(),
      ]);
      return { users, items, events };
    },
  );
};
