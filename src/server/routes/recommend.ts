import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ErrorBody, RecommendedItemJson } from '../schemas.js';
import type { RouteDeps } from './deps.js';

const K = Type.Integer({ minimum: 1, maximum: 1000, default: 10, description: 'How many items' });

const RecommendationJson = Type.Object({
  recommendationId: Type.String({
    description: 'Send it back in the context of impressions, clicks and purchases to attribute them',
  }),
  userId: Type.String(),
  placement: Type.String(),
  items: Type.Array(RecommendedItemJson),
});

export const recommendRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { engine }) => {
  const { service } = engine;

  app.get(
    '/recommend/:userId',
    {
      schema: {
        tags: ['recommend'],
        summary: 'Personalised top-K for a user; unknown users get popular items',
        params: Type.Object({ userId: Type.String({ minLength: 1, maxLength: 256 }) }),
        querystring: Type.Object({
          k: Type.Optional(K),
          placement: Type.Optional(
            Type.String({
              pattern: '^[A-Za-z0-9_.:-]{1,64}$',
              description: 'Where the list is shown, e.g. home',
            }),
          ),
        }),
        response: { 200: RecommendationJson, 400: ErrorBody, 503: ErrorBody },
      },
    },
    async (req) => {
      const rec = await service.recommend(
        req.params.userId,
        req.query.k ?? 10,
        req.query.placement ?? 'default',
      );
      return { ...rec, items: rec.items.map((it, i) => ({ ...it, rank: i + 1 })) };
    },
  );

  app.get(
    '/items/:itemId/similar',
    {
      schema: {
        tags: ['recommend'],
        summary: 'Items similar to one item',
        params: Type.Object({ itemId: Type.String({ minLength: 1, maxLength: 256 }) }),
        querystring: Type.Object({ k: Type.Optional(K) }),
        response: {
          200: Type.Object({
            itemId: Type.String(),
            model: Type.String(),
            items: Type.Array(RecommendedItemJson),
          }),
          400: ErrorBody,
          404: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (req) => {
      const sim = await service.similar(req.params.itemId, req.query.k ?? 10);
      return { ...sim, items: sim.items.map((it, i) => ({ ...it, rank: i + 1 })) };
    },
  );
};
