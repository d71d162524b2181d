import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { NotFoundError } from '../../domain/errors.js';
import type {
  ItemOutcome,
  RecommendationLog,
  ServedRecommendation,
} from '../../serving/recommendation-log.js';
import { ErrorBody, IdParams } from '../schemas.js';

/** What the route needs: the engine's recommendation log (any object shaped like the engine). */
export interface RecommendationRouteDeps {
  engine: { readonly recommendationLog: RecommendationLog };
}

const Count = Type.Integer({ minimum: 0 });
const Ctr = Type.Union([Type.Number(), Type.Null()], {
  description: 'Clicks per impression; null while there is no impression',
});
const Revenue = Type.Number({
  description:
    "Purchase revenue: each purchase's context.revenue, else its value (default 1) × the item's price",
});

const ServedItemJson = Type.Object({
  itemId: Type.String(),
  rank: Type.Integer({ minimum: 1 }),
  score: Type.Union([Type.Number(), Type.Null()], { description: 'Ranking score; null when not finite' }),
  impressions: Count,
  clicks: Count,
  carts: Count,
  purchases: Count,
  revenue: Revenue,
  ctr: Ctr,
  features: Type.Optional(
    Type.Array(Type.Number(), { description: 'Ranker feature values, in the order of featureNames' }),
  ),
});

const TotalsJson = Type.Object({
  impressions: Count,
  clicks: Count,
  carts: Count,
  purchases: Count,
  revenue: Revenue,
  ctr: Ctr,
});

export const ServedRecommendationJson = Type.Object({
  recommendationId: Type.String(),
  userId: Type.String(),
  placement: Type.String(),
  servedAt: Type.String({ format: 'date-time' }),
  featureNames: Type.Union([Type.Array(Type.String()), Type.Null()], {
    description: 'Names of the ranker features logged with each item; null when none were logged',
  }),
  items: Type.Array(ServedItemJson, {
    description: 'The served items in rank order, with what happened next',
  }),
  totals: TotalsJson,
});
export type ServedRecommendationJson = Static<typeof ServedRecommendationJson>;

const ctr = (clicks: number, impressions: number): number | null =>
  impressions > 0 ? clicks / impressions : null;

/** The served list with per-item outcomes and totals, as the API returns it. */
export function servedRecommendationJson(
  served: ServedRecommendation,
  outcomes: readonly ItemOutcome[],
): ServedRecommendationJson {
  const totals = { impressions: 0, clicks: 0, carts: 0, purchases: 0, revenue: 0 };
  const width = served.features?.names.length ?? 0;
  const items = outcomes.map((o) => {
    totals.impressions += o.impressions;
    totals.clicks += o.clicks;
    totals.carts += o.carts;
    totals.purchases += o.purchases;
    totals.revenue += o.revenue;
    const row = o.rank - 1;
    const score = served.scores[row];
    const item: Static<typeof ServedItemJson> = {
      itemId: o.itemId,
      rank: o.rank,
      score: Number.isFinite(score) ? score : null,
      impressions: o.impressions,
      clicks: o.clicks,
      carts: o.carts,
      purchases: o.purchases,
      revenue: o.revenue,
      ctr: ctr(o.clicks, o.impressions),
    };
    if (served.features)
      item.features = Array.from(served.features.rows.subarray(row * width, (row + 1) * width));
    return item;
  });
  return {
    recommendationId: served.id,
    userId: served.userId,
    placement: served.placement,
    servedAt: new Date(served.servedAt).toISOString(),
    featureNames: served.features?.names ?? null,
    items,
    totals: { ...totals, ctr: ctr(totals.clicks, totals.impressions) },
  };
}

export const recommendationRoutes: FastifyPluginAsyncTypebox<RecommendationRouteDeps> = async (
  app,
  { engine },
) => {
  app.get(
    '/recommendations/:id',
    {
      schema: {
        tags: ['recommend'],
        summary: 'A served recommendation with what its impressions, clicks, carts and purchases were',
        description:
          'Events count for a served item when they carry this recommendationId in their context and name ' +
          'one of its items; events with the id on other items are ignored. A list is readable as soon as ' +
          'it was served.',
        params: IdParams,
        response: { 200: ServedRecommendationJson, 404: ErrorBody },
      },
    },
    async (req) => {
      const log = engine.recommendationLog;
      const served = await log.get(req.params.id);
      if (!served) throw new NotFoundError('recommendation', req.params.id);
      return servedRecommendationJson(served, await log.outcomes(req.params.id));
    },
  );
};
