/**
 * What a product team configures per placement, beside its business rules: which candidate
 * sources run and how many candidates each proposes, how much each weighs in the blend, what
 * counts as already consumed, and how diverse the list must be. Kept in
 * `<data dir>/placements.json`, editable by API; a placement without settings uses the defaults.
 *
 *   {
 *     "home": {
 *       "sources": { "fresh": { "enabled": false }, "popular": { "limit": 100, "weight": 0.3 } },
 *       "seen": { "types": ["purchase"], "windowDays": 90, "reconsumableCategories": ["groceries"] },
 *       "diversity": { "lambda": 0.8, "maxPerCategory": 3 }
 *     }
 *   }
 */
import { existsSync, readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { ValidationError } from '../domain/errors.js';
import { checkSchema } from '../domain/validate.js';
import { writeFileAtomic } from '../io/atomic-file.js';

const SourceSettings = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    /** Candidates the source may propose per request. */
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
    /** Weight in the score blend (the primary source keeps its order either way). */
    weight: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
  },
  { additionalProperties: false },
);

export const PlacementSettingsSchema = Type.Object(
  {
    /** By source name as responses report it (e.g. `als`, `recent-neighbours`, `popular`). */
    sources: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 64 }), SourceSettings)),
    seen: Type.Optional(
      Type.Object(
        {
          /** Event types that count as consumed (default: every positive one). */
          types: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 50 })),
          /** Only consumption within this many days counts. */
          windowDays: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          /** Categories recommended again after consumption. */
          reconsumableCategories: Type.Optional(
            Type.Array(Type.String({ minLength: 1 }), { maxItems: 1000 }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    diversity: Type.Optional(
      Type.Object(
        {
          /** MMR trade-off: 1 = relevance only, lower = more diverse. */
          lambda: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
          /** At most this many items of one category in the list. */
          maxPerCategory: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          /** What similar means for MMR: shared categories, or the personal model's item vectors. */
          similarity: Type.Optional(Type.Union([Type.Literal('category'), Type.Literal('embedding')])),
        },
        { additionalProperties: false },
      ),
    ),
    /**
     * Reserve a bounded share of the list (one slot in ten) for fresh items, chosen by Thompson
     * sampling on their clicks per impression, so new items collect feedback (default off).
     */
    exploration: Type.Optional(Type.Boolean()),
    /** Propose what is popular in the request's part of the day and on its device (default off). */
    contextPopularity: Type.Optional(Type.Boolean()),
    /** The user attribute whose value defines the user's segment for the segment source. */
    segmentAttribute: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

export type PlacementSettings = Static<typeof PlacementSettingsSchema>;

/** Validates one placement's settings; errors name the field under `root`. */
export function parsePlacementSettings(raw: unknown, root = 'settings'): PlacementSettings {
  return checkSchema(PlacementSettingsSchema, raw, root);
}

export function readPlacementSettings(file: string): Record<string, PlacementSettings> {
  if (!existsSync(file)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ValidationError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ValidationError(`${file} must hold an object of placement settings`);
  const out: Record<string, PlacementSettings> = {};
  for (const [placement, s] of Object.entries(raw as Record<string, unknown>))
    out[placement] = parsePlacementSettings(s, placement);
  return out;
}

export function writePlacementSettings(file: string, all: Record<string, PlacementSettings>): void {
  writeFileAtomic(file, JSON.stringify(all, null, 2) + '\n');
}
