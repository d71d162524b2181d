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
  trace: Type.Optional(
    Type.Array(
      Type.Object({
        stage: Type.String(),
        ms: Type.Number(),
        candidates: Type.Integer(),
        detail: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      }),
      { description: 'Debug mode: every pipeline stage with its time and remaining candidates' },
    ),
  ),
  sources: Type.Optional(
    Type.Record(Type.String(), Type.Integer(), { description: 'Debug mode: candidates proposed per source' }),
  ),
});

const IdList = Type.String({
  pattern: '^[^,]{1,256}(,[^,]{1,256}){0,999}$',
  description: 'Comma-separated ids',
});

function list(raw: string | undefined): string[] | undefined {
  return raw === undefined ? undefined : raw.split(',').filter(Boolean);
}

export const recommendRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { engine }) => {
  const { service, pipelines } = engine;

  app.get(
    '/recommend/:userId',
    {
      schema: {
        tags: ['recommend'],
        summary:
          'Personalised top-K for a user through the placement pipeline; unknown users get popular items',
        description:
          "Placements: home (default), email, similar (needs item), cart (needs cart), next; any other name runs the home pipeline with that placement's rules. Every item carries the sources that proposed it and why it is shown; debug=true adds the stage trace with timings.",
        params: Type.Object({ userId: Type.String({ minLength: 1, maxLength: 256 }) }),
        querystring: Type.Object({
          k: Type.Optional(K),
          placement: Type.Optional(
            Type.String({
              pattern: '^[A-Za-z0-9_.:-]{1,64}$',
              description: 'Where the list is shown, e.g. home',
            }),
          ),
          item: Type.Optional(
            Type.String({ minLength: 1, maxLength: 256, description: 'Anchor item (similar, next)' }),
          ),
          cart: Type.Optional(IdList),
          exclude: Type.Optional(IdList),
          includeCategories: Type.Optional(IdList),
          excludeCategories: Type.Optional(IdList),
          debug: Type.Optional(Type.Boolean({ description: 'Add the stage trace' })),
          device: Type.Optional(
            Type.String({
              pattern: '^[A-Za-z0-9_.-]{1,32}$',
              description: 'The device the list is shown on, e.g. mobile',
            }),
          ),
        }),
        response: { 200: RecommendationJson, 400: ErrorBody, 503: ErrorBody },
      },
    },
    async (req) => {
      const q = req.query;
      if (pipelines.ready) {
        return pipelines.recommend({
          userId: req.params.userId,
          placement: q.placement ?? 'home',
          k: q.k ?? 10,
          itemId: q.item ?? null,
          cart: list(q.cart),
          exclude: list(q.exclude),
          includeCategories: list(q.includeCategories) ?? null,
          excludeCategories: list(q.excludeCategories) ?? null,
          debug: q.debug ?? false,
          context: q.device ? { device: q.device } : undefined,
        });
      }
      const rec = await service.recommend(req.params.userId, q.k ?? 10, q.placement ?? 'home');
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
