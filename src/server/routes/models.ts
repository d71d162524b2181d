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
            {
              models: Type.Optional(Type.Array(Type.String(), { minItems: 1, uniqueItems: true })),
              evaluate: Type.Optional(
                Type.Boolean({ description: "Also measure each model on every user's latest interaction" }),
              ),
            },
            { additionalProperties: false },
          ),
        ),
        response: { 200: Type.Object({ models: Type.Array(ModelInfoJson) }), 400: ErrorBody, 409: ErrorBody },
      },
    },
    async (req) => {
      const request = { models: req.body?.models, evaluate: req.body?.evaluate };
      // A server opened from its configuration trains in a child process: serving never waits on the fit.
      await (engine.config ? engine.trainDetached(request) : engine.train(request));
      return { models: infos() };
    },
  );

  const VersionJson = Type.Object({
    name: Type.String(),
    version: Type.String(),
    savedAt: Type.String({ format: 'date-time' }),
    promoted: Type.Boolean(),
    serving: Type.Boolean(),
    info: ModelInfoJson,
    snapshot: Type.Object({
      events: Type.Integer(),
      users: Type.Integer(),
      items: Type.Integer(),
      interactions: Type.Integer(),
      lastEventTime: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    }),
    metrics: Type.Record(Type.String(), Type.Number()),
  });
  const versionJson = (v: import('../../models/model-registry.js').RegisteredVersion) => ({
    ...v,
    savedAt: new Date(v.savedAt).toISOString(),
    info: { ...v.info, trainedAt: new Date(v.info.trainedAt).toISOString() },
    snapshot: {
      ...v.snapshot,
      lastEventTime:
        v.snapshot.lastEventTime === null ? null : new Date(v.snapshot.lastEventTime).toISOString(),
    },
  });
  const Name = Type.Object({ name: Type.String({ pattern: '^[a-z0-9-]{1,64}$' }) });

  app.get(
    '/models/versions',
    {
      schema: {
        tags: ['models'],
        summary: 'Every trained version with its data snapshot, settings and offline metrics',
        querystring: Type.Object({ name: Type.Optional(Type.String({ pattern: '^[a-z0-9-]{1,64}$' })) }),
        response: { 200: Type.Object({ versions: Type.Array(VersionJson) }) },
      },
    },
    async (req) => ({ versions: engine.registry.versions(req.query.name).map(versionJson) }),
  );

  app.post(
    '/models/:name/promote',
    {
      schema: {
        tags: ['models'],
        summary: 'Serve this version of the model from now on (kept across restarts and later trainings)',
        params: Name,
        body: Type.Object({ version: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({ name: Type.String(), serving: Type.String() }),
          400: ErrorBody,
          404: ErrorBody,
        },
      },
    },
    async (req) => {
      await engine.promote(req.params.name, req.body.version);
      return { name: req.params.name, serving: req.body.version };
    },
  );

  app.post(
    '/models/:name/rollback',
    {
      schema: {
        tags: ['models'],
        summary: 'Serve the version before the one serving now',
        params: Name,
        response: {
          200: Type.Object({ name: Type.String(), serving: Type.String() }),
          400: ErrorBody,
          404: ErrorBody,
        },
      },
    },
    async (req) => ({ name: req.params.name, serving: await engine.rollback(req.params.name) }),
  );

  app.get(
    '/models/:name/compare',
    {
      schema: {
        tags: ['models'],
        summary: 'Two versions side by side: changed settings, snapshots and metric differences (b − a)',
        params: Name,
        querystring: Type.Object({ a: Type.String({ minLength: 1 }), b: Type.String({ minLength: 1 }) }),
        response: {
          200: Type.Object({
            a: Type.Record(Type.String(), Type.Unknown()),
            b: Type.Record(Type.String(), Type.Unknown()),
            paramsChanged: Type.Array(Type.String()),
            metricDeltas: Type.Record(Type.String(), Type.Number()),
          }),
          404: ErrorBody,
        },
      },
    },
    async (req) => {
      const c = engine.registry.compare(req.params.name, req.query.a, req.query.b);
      return { ...c, a: { ...c.a }, b: { ...c.b } };
    },
  );

  app.get(
    '/models/schedule',
    {
      schema: {
        tags: ['models'],
        summary: 'The retraining schedule and its last runs',
        response: {
          200: Type.Object({
            scheduled: Type.Boolean(),
            intervalSeconds: Type.Union([Type.Number(), Type.Null()]),
            afterEvents: Type.Union([Type.Integer(), Type.Null()]),
            runs: Type.Integer(),
            training: Type.Boolean(),
            lastError: Type.Union([Type.String(), Type.Null()]),
          }),
        },
      },
    },
    async () => {
      const s = engine.retraining;
      return {
        scheduled: s !== null,
        intervalSeconds: s?.policy.intervalMs !== undefined ? s.policy.intervalMs / 1000 : null,
        afterEvents: s?.policy.afterEvents ?? null,
        runs: s?.runs ?? 0,
        training: engine.isTraining,
        lastError: s?.lastError ?? null,
      };
    },
  );
};
