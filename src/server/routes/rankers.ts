import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { defaultRankerModelPath, saveRankerModel } from '../../pipeline/ranking/learned-ranker.js';
import { trainRankerFromLog } from '../../pipeline/ranking/train-from-log.js';
import { ErrorBody } from '../schemas.js';
import type { RouteDeps } from './deps.js';

/** Learned rankers, trained from the served lists and what happened to them. */
export const rankerRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { engine }) => {
  app.post(
    '/rankers/train',
    {
      schema: {
        tags: ['models'],
        summary:
          'Train the learned ranker of a placement (or of all) from the served log, and rank with it from now on',
        description:
          'The objective decides what the ranker learns to put first: clicked, purchased, or revenue-weighted purchased items. Refused (400) while the log holds too few positives for it; the score blend keeps ranking until then.',
        body: Type.Object(
          {
            objective: Type.Union([Type.Literal('click'), Type.Literal('purchase'), Type.Literal('revenue')]),
            placement: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' })),
            since: Type.Optional(Type.String({ format: 'date-time' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            objective: Type.String(),
            placement: Type.Union([Type.String(), Type.Null()]),
            lists: Type.Integer(),
            impressions: Type.Integer(),
            positives: Type.Integer(),
            holdoutAuc: Type.Union([Type.Number(), Type.Null()]),
            servedOrderAuc: Type.Union([Type.Number(), Type.Null()]),
          }),
          400: ErrorBody,
        },
      },
    },
    async (req) => {
      const { objective, placement, since } = req.body;
      await engine.recommendationLog.flush();
      const { model, report } = await trainRankerFromLog(engine.recommendationLog, {
        objective,
        placement,
        since: since ? Date.parse(since) : undefined,
      });
      saveRankerModel(defaultRankerModelPath(engine.modelsDir, placement), model);
      engine.pipelines.reloadRankers();
      await engine.announce({ kind: 'rankers' });
      const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
      return {
        objective,
        placement: placement ?? null,
        lists: report.lists,
        impressions: report.impressions,
        positives: report.positives,
        holdoutAuc: finite(report.holdoutAuc),
        servedOrderAuc: finite(report.blendHoldoutAuc),
      };
    },
  );
};
