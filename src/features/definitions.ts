/**
 * Declared features: what the offline store computes as of a point in time and the online store
 * serves. A feature is data (name, entity, kind, window, event-type filter, dtype, TTL), checked
 * with TypeBox; every error names the offending field.
 *
 * Kinds (values are float32; NaN means missing):
 * - `count`: number of the entity's events of the filtered types within the window.
 * - `strength`: summed interaction strength (event type weight and value mode) within the window.
 * - `recency`: days since the entity's latest filtered event (NaN: none yet).
 * - `affinity`: share of the user's filtered interaction strength within the window that went to
 *   items of `category` (NaN: no strength yet). One feature per category: `user.affinity.<category>`.
 * - `price-mean`: mean `attributes.price` of the items of the entity's filtered events within the
 *   window, over the events whose item has a numeric price (NaN: none).
 * - `ctr`: filtered events (`eventTypes`, e.g. clicks) divided by `denominatorTypes` events
 *   (e.g. impressions) within the window (NaN: no denominator event).
 * - `age`: days since the item's `publishedAt`, or since its first event when it has none.
 * - `price`: the item's current numeric `attributes.price` (item attributes are not versioned, so
 *   this is the current price at every point in time).
 *
 * `eventTypes: null` means every event type whose weight is positive (impressions excluded).
 */
import { Type, type Static } from '@sinclair/typebox';
import { ValidationError } from '../domain/errors.js';
import { checkSchema } from '../domain/validate.js';

export const FEATURE_ENTITIES = ['user', 'item', 'user-item'] as const;
export type FeatureEntity = (typeof FEATURE_ENTITIES)[number];

export const FEATURE_KINDS = [
  'count',
  'strength',
  'recency',
  'affinity',
  'price-mean',
  'ctr',
  'age',
  'price',
] as const;
export type FeatureKind = (typeof FEATURE_KINDS)[number];

const HOUR = 3_600_000;
export const DAY_MS = 24 * HOUR;

export const FeatureDefinitionSchema = Type.Object(
  {
    name: Type.String({ pattern: '^(user|item|user_item)\\.\\S+$', maxLength: 200 }),
    entity: Type.Union(FEATURE_ENTITIES.map((e) => Type.Literal(e))),
    kind: Type.Union(FEATURE_KINDS.map((k) => Type.Literal(k))),
    /** Sliding window such as `1h`, `24h`, `7d`, `15m`; null: every earlier event. */
    window: Type.Union([Type.String({ pattern: '^[1-9][0-9]*(m|h|d)$' }), Type.Null()]),
    /** Event types counted; null: every type with positive weight. */
    eventTypes: Type.Union([Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }), Type.Null()]),
    /** For `ctr`: the event types of the denominator. */
    denominatorTypes: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    /** For `affinity`: the item category. */
    category: Type.Optional(Type.String({ minLength: 1 })),
    /** Value domain; storage is float32 either way. */
    dtype: Type.Union([Type.Literal('int'), Type.Literal('float')]),
    /** How long an online value stays servable after it was written (ms); null: no expiry. */
    ttlMs: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);

export type FeatureDefinition = Static<typeof FeatureDefinitionSchema>;

/** Milliseconds of a window such as `7d`; null for null. */
export function windowMs(window: string | null): number | null {
  if (window === null) return null;
  const m = /^([1-9][0-9]*)(m|h|d)$/.exec(window);
  if (!m)
    throw new ValidationError(`window: must look like 15m, 1h or 7d`, [
      { field: 'window', message: 'must look like 15m, 1h or 7d' },
    ]);
  const n = Number(m[1]);
  return m[2] === 'm' ? n * 60_000 : m[2] === 'h' ? n * HOUR : n * DAY_MS;
}

const ENTITY_PREFIX: Record<FeatureEntity, string> = {
  user: 'user.',
  item: 'item.',
  'user-item': 'user_item.',
};

/**
 * Validates one definition (shape, then the rules across fields) and returns it. Throws a
 * ValidationError whose details name each offending field as `<root>.<field>`.
 */
export function checkFeatureDefinition(input: unknown, root = 'feature'): FeatureDefinition {
  const def = checkSchema(FeatureDefinitionSchema, input, root);
  const problems: { field: string; message: string }[] = [];
  const at = (field: string) => `${root}.${field}`;
  if (!def.name.startsWith(ENTITY_PREFIX[def.entity])) {
    problems.push({
      field: at('name'),
      message: `must start with '${ENTITY_PREFIX[def.entity]}' for entity ${def.entity}`,
    });
  }
  const timeless = def.kind === 'recency' || def.kind === 'age' || def.kind === 'price';
  if (timeless && def.window !== null) {
    problems.push({ field: at('window'), message: `must be null for kind ${def.kind}` });
  }
  if ((def.kind === 'age' || def.kind === 'price') && def.entity !== 'item') {
    problems.push({ field: at('entity'), message: `must be item for kind ${def.kind}` });
  }
  if (def.kind === 'affinity') {
    if (def.entity !== 'user')
      problems.push({ field: at('entity'), message: 'must be user for kind affinity' });
    if (def.category === undefined)
      problems.push({ field: at('category'), message: 'is required for kind affinity' });
  } else if (def.category !== undefined) {
    problems.push({ field: at('category'), message: 'is only for kind affinity' });
  }
  if (def.kind === 'ctr') {
    if (def.denominatorTypes === undefined) {
      problems.push({ field: at('denominatorTypes'), message: 'is required for kind ctr' });
    }
  } else if (def.denominatorTypes !== undefined) {
    problems.push({ field: at('denominatorTypes'), message: 'is only for kind ctr' });
  }
  if (problems.length > 0)
    throw new ValidationError(`${problems[0].field}: ${problems[0].message}`, problems);
  return def;
}

/** Validates a list of definitions; names must be unique. */
export function checkFeatureDefinitions(input: unknown, root = 'features'): FeatureDefinition[] {
  if (!Array.isArray(input)) {
    throw new ValidationError(`${root}: must be an array`, [{ field: root, message: 'must be an array' }]);
  }
  const seen = new Set<string>();
  return input.map((item, i) => {
    const def = checkFeatureDefinition(item, `${root}.${i}`);
    if (seen.has(def.name)) {
      const field = `${root}.${i}.name`;
      throw new ValidationError(`${field}: duplicate feature name '${def.name}'`, [
        { field, message: `duplicate feature name '${def.name}'` },
      ]);
    }
    seen.add(def.name);
    return def;
  });
}

const TTL_USER = 2 * DAY_MS;
const TTL_ITEM = DAY_MS;
const TTL_PAIR = 7 * DAY_MS;

function feature(
  name: string,
  entity: FeatureEntity,
  kind: FeatureKind,
  window: string | null,
  eventTypes: string[] | null,
  extra: Partial<FeatureDefinition> = {},
): FeatureDefinition {
  const ttlMs = entity === 'user' ? TTL_USER : entity === 'item' ? TTL_ITEM : TTL_PAIR;
  const dtype = kind === 'count' ? 'int' : 'float';
  return { name, entity, kind, window, eventTypes, dtype, ttlMs, ...extra };
}

/** Event types counted per user by the default set. */
export const DEFAULT_USER_COUNT_TYPES = ['view', 'click', 'cart', 'purchase'] as const;
/** Windows of the default per-user counts. */
export const DEFAULT_USER_COUNT_WINDOWS = ['24h', '7d', '30d'] as const;

/** `user.affinity.<category>` for one category. */
export function affinityFeature(category: string, window: string | null = null): FeatureDefinition {
  return feature(`user.affinity.${category}`, 'user', 'affinity', window, null, {
    category,
    description: `Share of the user's interaction strength on items in ${category}`,
  });
}

/**
 * The default feature set: per-user counts per event type and window, recency, category
 * affinity (one feature per category given) and price level; per-item popularity over 1 h, 24 h
 * and 7 d, CTR, age and price; per user-item pair count and days since the last event.
 */
export function defaultFeatures(categories: readonly string[] = []): FeatureDefinition[] {
  const defs: FeatureDefinition[] = [];
  for (const type of DEFAULT_USER_COUNT_TYPES) {
    for (const window of DEFAULT_USER_COUNT_WINDOWS) {
      defs.push(feature(`user.count.${type}.${window}`, 'user', 'count', window, [type]));
    }
  }
  defs.push(
    feature('user.count.all.7d', 'user', 'count', '7d', null),
    feature('user.recency.days', 'user', 'recency', null, null, {
      description: 'Days since the user last interacted with any item',
    }),
    feature('user.price.mean', 'user', 'price-mean', null, ['click', 'cart', 'purchase'], {
      description: 'Mean price of the items the user clicked, carted or bought',
    }),
  );
  for (const c of categories) defs.push(affinityFeature(c));
  for (const window of ['1h', '24h', '7d']) {
    defs.push(
      feature(`item.popularity.${window}`, 'item', 'count', window, null, {
        description: `Positive-weight events on the item within ${window}`,
      }),
    );
  }
  defs.push(
    feature('item.ctr.7d', 'item', 'ctr', '7d', ['click'], {
      denominatorTypes: ['impression'],
      description: 'Clicks per impression within 7 days',
    }),
    feature('item.age.days', 'item', 'age', null, null, {
      description: 'Days since publishedAt, or since the first event when unpublished',
    }),
    feature('item.price', 'item', 'price', null, null, { description: 'Current attributes.price' }),
    feature('user_item.count', 'user-item', 'count', null, null, {
      description: "The user's positive-weight events on the item",
    }),
    feature('user_item.last.days', 'user-item', 'recency', null, null, {
      description: "Days since the user's last positive-weight event on the item",
    }),
  );
  return checkFeatureDefinitions(defs);
}

/** Picks definitions by name, in the order given; throws naming the unknown ones. */
export function selectFeatures(
  defs: readonly FeatureDefinition[],
  names: readonly string[],
): FeatureDefinition[] {
  const byName = new Map(defs.map((d) => [d.name, d]));
  const out: FeatureDefinition[] = [];
  const unknown: { field: string; message: string }[] = [];
  names.forEach((name, i) => {
    const def = byName.get(name);
    if (def) out.push(def);
    else unknown.push({ field: `features.${i}`, message: `unknown feature '${name}'` });
  });
  if (unknown.length > 0) throw new ValidationError(`${unknown[0].field}: ${unknown[0].message}`, unknown);
  return out;
}

/** Online-store key of an entity: `user:<id>`, `item:<id>`, `user_item:<userId length>:<userId>:<itemId>`. */
export function entityKey(entity: 'user' | 'item', id: string): string;
export function entityKey(entity: 'user-item', userId: string, itemId: string): string;
export function entityKey(entity: FeatureEntity, a: string, b?: string): string {
  if (entity === 'user') return `user:${a}`;
  if (entity === 'item') return `item:${a}`;
  if (b === undefined) throw new TypeError('a user-item key needs an item id');
  return `user_item:${a.length}:${a}:${b}`;
}

/**
 * TTL of an online record holding these features: the shortest declared TTL, so no value is
 * served longer than its own TTL allows; undefined when none declares one.
 */
export function entityTtlMs(defs: readonly Pick<FeatureDefinition, 'ttlMs'>[]): number | undefined {
  let ttl = Infinity;
  for (const d of defs) if (d.ttlMs !== null && d.ttlMs < ttl) ttl = d.ttlMs;
  return ttl === Infinity ? undefined : ttl;
}
