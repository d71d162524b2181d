import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ErrorBody } from '../schemas.js';
import type { RouteDeps } from './deps.js';

const Placement = Type.Object({
  placement: Type.String({
    pattern: '^(\\*|[A-Za-z0-9_.:-]{1,64})$',
    description: "A placement, or '*' for every one",
  }),
});

const RuleSetJson = Type.Object({
  placement: Type.String(),
  version: Type.Integer(),
  rules: Type.Array(Type.Unknown()),
  createdAt: Type.String(),
  comment: Type.Optional(Type.String()),
  author: Type.Optional(Type.String()),
  restoredFrom: Type.Optional(Type.Integer()),
});

const EditBody = {
  expectedVersion: Type.Optional(
    Type.Integer({
      minimum: 0,
      description: 'Refuse (409) when the rule set has moved on since this version',
    }),
  ),
  comment: Type.Optional(Type.String({ maxLength: 500 })),
  author: Type.Optional(Type.String({ maxLength: 200 })),
};

/**
 * Per placement: its settings (sources, what counts as seen, diversity) and its business rules
 * (versioned, every edit a new version, roll back to any).
 */
export const placementRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { engine }) => {
  app.get(
    '/placements/:placement/settings',
    {
      schema: {
        tags: ['placements'],
        summary: 'The settings of a placement ({} when it runs on the defaults)',
        params: Placement,
        response: { 200: Type.Record(Type.String(), Type.Unknown()), 400: ErrorBody },
      },
    },
    async (req) => engine.pipelines.placementSettings()[req.params.placement] ?? {},
  );

  app.put(
    '/placements/:placement/settings',
    {
      schema: {
        tags: ['placements'],
        summary: 'Replace the settings of a placement; they apply to the next request',
        description:
          '{ sources?: { <source name>: { enabled?, limit?, weight? } }, seen?: { types?, windowDays?, reconsumableCategories? }, diversity?: { lambda?, maxPerCategory?, similarity?: category | embedding } }',
        params: Placement,
        body: Type.Record(Type.String(), Type.Unknown()),
        response: { 200: Type.Record(Type.String(), Type.Unknown()), 400: ErrorBody },
      },
    },
    async (req) => engine.pipelines.setPlacementSettings(req.params.placement, req.body),
  );

  const rules = engine.pipelines.rules;
  const applied = async <T>(p: Promise<T>): Promise<T> => {
    const out = await p;
    await engine.pipelines.refreshRules();
    return out;
  };

  app.get(
    '/placements/:placement/rules',
    {
      schema: {
        tags: ['placements'],
        summary: 'The rules in force for a placement (version 0 with no rules when none were set)',
        params: Placement,
        response: { 200: RuleSetJson, 400: ErrorBody },
      },
    },
    async (req) => {
      const latest = await rules.latest(req.params.placement);
      return (
        latest ?? {
          placement: req.params.placement,
          version: 0,
          rules: [],
          createdAt: new Date(0).toISOString(),
        }
      );
    },
  );

  app.put(
    '/placements/:placement/rules',
    {
      schema: {
        tags: ['placements'],
        summary: 'Replace the rules of a placement (a new version)',
        description:
          'Each rule: { id, action: boost | bury | pin | filter, where: <expression>, when?, weight?, slot?, startsAt?, endsAt?, enabled?, priority?, description? }. See docs/rules.md.',
        params: Placement,
        body: Type.Object(
          { rules: Type.Array(Type.Unknown(), { maxItems: 1000 }), ...EditBody },
          { additionalProperties: false },
        ),
        response: { 200: RuleSetJson, 400: ErrorBody, 409: ErrorBody },
      },
    },
    async (req) => {
      const { rules: list, ...options } = req.body;
      // A rule sent to a placement's URL belongs to it and is on unless it says otherwise.
      const withDefaults = list.map((r) =>
        r !== null && typeof r === 'object' && !Array.isArray(r)
          ? { placement: req.params.placement, enabled: true, ...(r as Record<string, unknown>) }
          : r,
      );
      return applied(rules.replace(req.params.placement, withDefaults, options));
    },
  );

  app.get(
    '/placements/:placement/rules/versions',
    {
      schema: {
        tags: ['placements'],
        summary: 'Every version of the rules of a placement, oldest first',
        params: Placement,
        response: {
          200: Type.Object({ versions: Type.Array(Type.Record(Type.String(), Type.Unknown())) }),
          400: ErrorBody,
        },
      },
    },
    async (req) => ({ versions: (await rules.history(req.params.placement)).map((v) => ({ ...v })) }),
  );

  app.get(
    '/placements/:placement/rules/versions/:version',
    {
      schema: {
        tags: ['placements'],
        summary: 'One version of the rules of a placement',
        params: Type.Object({ ...Placement.properties, version: Type.Integer({ minimum: 1 }) }),
        response: { 200: RuleSetJson, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => rules.version(req.params.placement, req.params.version),
  );

  app.post(
    '/placements/:placement/rules/rollback',
    {
      schema: {
        tags: ['placements'],
        summary: 'Restore an earlier version (stored as a new version)',
        params: Placement,
        body: Type.Object(
          { version: Type.Integer({ minimum: 1 }), ...EditBody },
          { additionalProperties: false },
        ),
        response: { 200: RuleSetJson, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req) => {
      const { version, ...options } = req.body;
      return applied(rules.rollback(req.params.placement, version, options));
    },
  );

  const knowledge = engine.pipelines.knowledge;
  const knowledgeApplied = async <T>(p: Promise<T>): Promise<T> => {
    const out = await p;
    await engine.pipelines.knowledgeChanged();
    return out;
  };

  app.get(
    '/placements/:placement/knowledge',
    {
      schema: {
        tags: ['placements'],
        summary: 'The knowledge rules of a placement (version 0 with none when none were set)',
        params: Placement,
        response: { 200: RuleSetJson, 400: ErrorBody },
      },
    },
    async (req) => {
      const latest = await knowledge.latest(req.params.placement);
      return (
        latest ?? {
          placement: req.params.placement,
          version: 0,
          rules: [],
          createdAt: new Date(0).toISOString(),
        }
      );
    },
  );

  app.put(
    '/placements/:placement/knowledge',
    {
      schema: {
        tags: ['placements'],
        summary: 'Replace the knowledge rules of a placement (a new version)',
        description:
          'Each rule: { id, when?: <expression over user and context>, recommend?: { items?, where?, limit? }, reason: <text, may interpolate {user.x} or {item.title}>, constraints?: <expression over item and user>, priority?, enabled? }. See docs/knowledge.md.',
        params: Placement,
        body: Type.Object(
          { rules: Type.Array(Type.Unknown(), { maxItems: 1000 }), ...EditBody },
          { additionalProperties: false },
        ),
        response: { 200: RuleSetJson, 400: ErrorBody, 409: ErrorBody },
      },
    },
    async (req) => {
      const { rules: list, ...options } = req.body;
      return knowledgeApplied(knowledge.replace(req.params.placement, list, options));
    },
  );

  app.get(
    '/placements/:placement/knowledge/versions',
    {
      schema: {
        tags: ['placements'],
        summary: 'Every version of the knowledge rules of a placement, oldest first',
        params: Placement,
        response: {
          200: Type.Object({ versions: Type.Array(Type.Record(Type.String(), Type.Unknown())) }),
          400: ErrorBody,
        },
      },
    },
    async (req) => ({ versions: (await knowledge.history(req.params.placement)).map((v) => ({ ...v })) }),
  );

  app.post(
    '/placements/:placement/knowledge/rollback',
    {
      schema: {
        tags: ['placements'],
        summary: 'Restore an earlier version of the knowledge rules (stored as a new version)',
        params: Placement,
        body: Type.Object(
          { version: Type.Integer({ minimum: 1 }), ...EditBody },
          { additionalProperties: false },
        ),
        response: { 200: RuleSetJson, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req) => {
      const { version, ...options } = req.body;
      return knowledgeApplied(knowledge.rollback(req.params.placement, version, options));
    },
  );
};
