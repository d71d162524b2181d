import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  MAX_PICKED_CATEGORIES,
  MAX_PICKED_ITEMS,
  OnboardingService,
  type OnboardingEngine,
} from '../../serving/onboarding.js';
import { ErrorBody } from '../schemas.js';

const UserParams = Type.Object({ userId: Type.String({ minLength: 1, maxLength: 256 }) });

const ChoicesJson = Type.Object({
  userId: Type.String(),
  categories: Type.Array(Type.Object({ name: Type.String(), items: Type.Integer() })),
  items: Type.Array(
    Type.Object({
      itemId: Type.String(),
      title: Type.Union([Type.String(), Type.Null()]),
      category: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});

const PicksBody = Type.Object(
  {
    categories: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
        maxItems: MAX_PICKED_CATEGORIES,
        description: "Categories the user is interested in; they replace the user's interests",
      }),
    ),
    items: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
        maxItems: MAX_PICKED_ITEMS,
        description: 'Items the user picked, best first; stored as onboarding events',
      }),
    ),
  },
  { additionalProperties: false },
);

const ResultJson = Type.Object({
  userId: Type.String(),
  interests: Type.Array(Type.String()),
  items: Type.Array(Type.String()),
  eventType: Type.String(),
  events: Type.Integer({ description: 'Onboarding events written' }),
  duplicates: Type.Integer({ description: 'Items picked in an earlier onboarding call, not stored again' }),
});

/**
 * Onboarding of new users: what to pick from, and the picks, which count from the very next
 * recommendation on.
 */
export const onboardingRoutes: FastifyPluginAsyncTypebox<{ engine: OnboardingEngine }> = async (
  app,
  { engine },
) => {
  const onboarding = new OnboardingService(engine);

  app.get(
    '/onboarding/:userId/options',
    {
      schema: {
        tags: ['users'],
        summary: 'Categories and popular items, diverse across categories, for a new user to pick from',
        params: UserParams,
        querystring: Type.Object({
          k: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 100, default: 12, description: 'How many items' }),
          ),
          categories: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 200, default: 30, description: 'How many categories' }),
          ),
        }),
        response: { 200: ChoicesJson, 400: ErrorBody },
      },
    },
    async (req) => ({
      userId: req.params.userId,
      ...(await onboarding.options(req.params.userId, req.query.k ?? 12, req.query.categories ?? 30)),
    }),
  );

  app.post(
    '/onboarding/:userId',
    {
      schema: {
        tags: ['users'],
        summary: "Store a user's onboarding picks; the next recommendation builds on them",
        description:
          "categories become the user attribute 'interests' (replacing it); items become events of the type 'onboarding' (created with weight 3 when missing). Unknown items or categories: 400 listing them, nothing stored.",
        params: UserParams,
        body: PicksBody,
        response: { 200: ResultJson, 400: ErrorBody },
      },
    },
    async (req) => onboarding.submit(req.params.userId, req.body),
  );
};
