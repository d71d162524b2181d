import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ErrorBody } from '../schemas.js';
import type { RouteDeps } from './deps.js';

const ModelInfoJson = Type.Object({
  name: Type.String(),
  params: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String(), Type.Boolean()])),
  trainedAt: Type.String({ format: 'date-time' }),
  users: Type.Integer(),
  items: Type.Integer(),
  interactions: Type.Integer(),
  fitSeconds: Type.Number(),
});

export const modelRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { engine }) => {
  const infos = () =>
    engine.service
      .loadedModels()
      .map((m) => ({ ...m.info, trainedAt: new Date(m.info.trainedAt).toISOString() }));

  app.get(
    '/models',
    {
      schema: {
        tags: ['models'],
        summary: 'The models serving now',
        response: { 200: Type.Object({ models: Type.Array(ModelInfoJson) }) },
      },
    },
    async () => ({ models: infos() }),
  );

  app.post(
    '/models/train',
    {
      schema: {
        tags: ['models'],
        summary: 'Train models from the store now and swap them in',
        body: Type.Optional(
          Type.Object(
            { models: Type.Optional(Type.Array(Type.String(), { minItems: 1, uniqueItems: true })) },
            { additionalProperties: false },
          ),
        ),
        response: { 200: Type.Object({ models: Type.Array(ModelInfoJson) }), 400: ErrorBody, 409: ErrorBody },
      },
    },
    async (req) => {
      await engine.train({ models: req.body?.models });
      return { models: infos() };
    },
  );
};
