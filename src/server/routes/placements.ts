import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
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
    async (req) => {
      const settings = await engine.pipelines.setPlacementSettings(req.params.placement, req.body);
      await engine.announce({ kind: 'settings' });
      return settings;
    },
  );

  versionedSetRoutes(app, {
    path: 'rules',
    noun: 'rules',
    ruleShape:
      'Each rule: { id, action: boost | bury | pin | filter, where: <expression>, when?, weight?, slot?, startsAt?, endsAt?, enabled?, priority?, description? }. See docs/rules.md.',
    // A rule sent to a placement's URL belongs to it and is on unless it says otherwise.
    defaults: (placement) => ({ placement, enabled: true }),
    sets: engine.pipelines.rules,
    applied: async () => {
      await engine.pipelines.refreshRules();
      await engine.announce({ kind: 'rules' });
    },
  });
  versionedSetRoutes(app, {
    path: 'knowledge',
    noun: 'knowledge rules',
    ruleShape:
      'Each rule: { id, when?: <expression over user and context>, recommend?: { items?, where?, limit? }, reason: <text, may interpolate {user.x} or {item.title}>, constraints?: <expression over item and user>, priority?, enabled? }. See docs/knowledge.md.',
    defaults: () => ({}),
    sets: engine.pipelines.knowledge,
    applied: async () => {
      await engine.pipelines.knowledgeChanged();
      await engine.announce({ kind: 'knowledge' });
    },
  });
};

/** A versioned set of rules per placement: business rules and knowledge rules alike. */
interface VersionedSets {
  latest(placement: string): Promise<SetVersion | undefined>;
  version(placement: string, version: number): Promise<SetVersion>;
  history(placement: string): Promise<readonly object[]>;
  replace(placement: string, rules: unknown, options: EditOptions): Promise<SetVersion>;
  rollback(placement: string, version: number, options: EditOptions): Promise<SetVersion>;
}

type SetVersion = Static<typeof RuleSetJson>;

interface EditOptions {
  expectedVersion?: number;
  comment?: string;
  author?: string;
}

/** GET and PUT of the latest set, its versions, one version, and rollback, under /placements/{p}/<path>. */
function versionedSetRoutes(
  app: Parameters<FastifyPluginAsyncTypebox<RouteDeps>>[0],
  o: {
    path: string;
    noun: string;
    ruleShape: string;
    defaults: (placement: string) => Record<string, unknown>;
    sets: VersionedSets;
    applied: () => Promise<void>;
  },
): void {
  const base = `/placements/:placement/${o.path}`;
  const apply = async (p: Promise<SetVersion>): Promise<SetVersion> => {
    const out = await p;
    await o.applied();
    return out;
  };

  app.get(
    base,
    {
      schema: {
        tags: ['placements'],
        summary: `The ${o.noun} in force for a placement (version 0 with none when none were set)`,
        params: Placement,
        response: { 200: RuleSetJson, 400: ErrorBody },
      },
    },
    async (req) =>
      (await o.sets.latest(req.params.placement)) ?? {
        placement: req.params.placement,
        version: 0,
        rules: [],
        createdAt: new Date(0).toISOString(),
      },
  );

  app.put(
    base,
    {
      schema: {
        tags: ['placements'],
        summary: `Replace the ${o.noun} of a placement (a new version)`,
        description: o.ruleShape,
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
      const defaults = o.defaults(req.params.placement);
      const withDefaults = list.map((r) =>
        r !== null && typeof r === 'object' && !Array.isArray(r)
          ? { ...defaults, ...(r as Record<string, unknown>) }
          : r,
      );
      return apply(o.sets.replace(req.params.placement, withDefaults, options));
    },
  );

  app.get(
    `${base}/versions`,
    {
      schema: {
        tags: ['placements'],
        summary: `Every version of the ${o.noun} of a placement, oldest first`,
        params: Placement,
        response: {
          200: Type.Object({ versions: Type.Array(Type.Record(Type.String(), Type.Unknown())) }),
          400: ErrorBody,
        },
      },
    },
    async (req) => ({ versions: (await o.sets.history(req.params.placement)).map((v) => ({ ...v })) }),
  );

  app.get(
    `${base}/versions/:version`,
    {
      schema: {
        tags: ['placements'],
        summary: `One version of the ${o.noun} of a placement`,
        params: Type.Object({ ...Placement.properties, version: Type.Integer({ minimum: 1 }) }),
        response: { 200: RuleSetJson, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => o.sets.version(req.params.placement, req.params.version),
  );

  app.post(
    `${base}/rollback`,
    {
      schema: {
        tags: ['placements'],
        summary: `Restore an earlier version of the ${o.noun} (stored as a new version)`,
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
      return apply(o.sets.rollback(req.params.placement, version, options));
    },
  );
}
