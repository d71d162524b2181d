/**
 * The declared experiment `kindred eval` runs: where the interactions come from, how they are
 * split, what is measured, and which models (with which settings, or which search) compete.
 * Written as JSON; relative paths are resolved against the experiment file's folder.
 *
 *   {
 *     "name": "MovieLens 100K u1",
 *     "data": { "ratings": "ml-100k/u.data" },           // or { "store": true }
 *     "split": { "kind": "random-per-user", "testFraction": 0.2, "seed": 42 },
 *     "protocol": { "ks": [5, 10, 20], "metric": "ndcg", "mainK": 10, "threshold": 4 },
 *     "models": [
 *       { "name": "popularity" },
 *       { "name": "als", "params": { "factors": 64 } },
 *       { "name": "ease", "search": { "space": { "lambda": [100, 400] } } }
 *     ]
 *   }
 */
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { ValidationError } from '../domain/errors.js';
import { checkSchema } from '../domain/validate.js';
import type { Params } from '../models/params.js';
import { modelFamily } from '../models/registry.js';
import { RANKING_METRICS, type RankingMetricName } from './ranking-eval.js';
import { parseSplitSpec, type SplitSpec } from './splits.js';

const ParamValue = Type.Union([Type.Number(), Type.String(), Type.Boolean()]);

const SearchSchema = Type.Object(
  {
    /** Values to try per parameter; default: the model family's own search space. */
    space: Type.Optional(Type.Record(Type.String(), Type.Array(ParamValue, { minItems: 1 }))),
    /** `grid`: every combination (up to `trials`); `random`: a seeded sample of `trials`. */
    method: Type.Optional(Type.Union([Type.Literal('grid'), Type.Literal('random')])),
    trials: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    /** Successive halving over the training budget (epochs, iterations) where the model has one. */
    halving: Type.Optional(Type.Boolean()),
    /** How the validation split is carved out of the training part (default random per user, 20%). */
    validation: Type.Optional(Type.Unknown()),
    /** Save the winner for `kindred train` (default true). */
    save: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const ModelSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    label: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    params: Type.Optional(Type.Record(Type.String(), ParamValue)),
    search: Type.Optional(SearchSchema),
  },
  { additionalProperties: false },
);

const ProtocolSchema = Type.Object(
  {
    ks: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 1000 }), { minItems: 1, maxItems: 20 })),
    mainK: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    metric: Type.Optional(Type.Union(RANKING_METRICS.map((m) => Type.Literal(m)))),
    /** Test interactions with a value at least this are relevant (default 0: every one). */
    threshold: Type.Optional(Type.Number()),
    /** Only training interactions with a value at least this are trained on (default: all). */
    trainThreshold: Type.Optional(Type.Number()),
    confidence: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 })),
    bootstrap: Type.Optional(Type.Integer({ minimum: 100, maximum: 100_000 })),
    auc: Type.Optional(Type.Boolean()),
    beyondAccuracy: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const ExperimentSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    data: Type.Optional(
      Type.Union([
        Type.Object({ ratings: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
        Type.Object({ store: Type.Literal(true) }, { additionalProperties: false }),
      ]),
    ),
    split: Type.Unknown(),
    protocol: Type.Optional(ProtocolSchema),
    models: Type.Array(ModelSchema, { minItems: 1, maxItems: 100 }),
    /** `best` (default): every run against the best one; `all`: every pair. */
    compare: Type.Optional(Type.Union([Type.Literal('best'), Type.Literal('all')])),
    seed: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);

type RawExperiment = Static<typeof ExperimentSchema>;

export interface ModelEntry {
  name: string;
  label: string;
  params: Params;
  search: {
    space: Record<string, readonly (number | string | boolean)[]>;
    method: 'grid' | 'random';
    trials: number;
    halving: boolean;
    validation: SplitSpec;
    save: boolean;
  } | null;
}

export interface Experiment {
  name: string;
  data: { kind: 'ratings'; file: string } | { kind: 'store' } | { kind: 'split-files' };
  split: SplitSpec;
  protocol: {
    ks: number[];
    mainK: number;
    metric: RankingMetricName;
    threshold: number;
    trainThreshold: number | null;
    confidence: number;
    bootstrap: number;
    auc: boolean;
    beyondAccuracy: boolean;
  };
  models: ModelEntry[];
  compare: 'best' | 'all';
  seed: number;
}

const DEFAULT_VALIDATION = { kind: 'random-per-user', testFraction: 0.2, seed: 42 } as const;

/** Validates a parsed experiment file; `baseDir` anchors relative paths. Errors name the field. */
export function parseExperiment(raw: unknown, baseDir: string): Experiment {
  const e: RawExperiment = checkSchema(ExperimentSchema, raw, 'experiment');
  const resolve = (p: string): string => path.resolve(baseDir, p);
  const rawSplit = e.split as Record<string, unknown> | undefined;
  const anchored =
    rawSplit &&
    rawSplit.kind === 'predefined' &&
    typeof rawSplit.train === 'string' &&
    typeof rawSplit.test === 'string'
      ? { ...rawSplit, train: resolve(rawSplit.train), test: resolve(rawSplit.test) }
      : rawSplit;
  const split = parseSplitSpec(anchored, 'experiment.split');
  let data: Experiment['data'];
  if (split.kind === 'predefined') data = { kind: 'split-files' };
  else if (!e.data) throw new ValidationError('experiment.data is required unless the split is predefined');
  else data = 'ratings' in e.data ? { kind: 'ratings', file: resolve(e.data.ratings) } : { kind: 'store' };

  const p = e.protocol ?? {};
  const ks = [...new Set(p.ks ?? [5, 10, 20])].sort((a, b) => a - b);
  const mainK = p.mainK ?? (ks.includes(10) ? 10 : ks[ks.length - 1]);
  if (!ks.includes(mainK)) throw new ValidationError('experiment.protocol.mainK must be one of protocol.ks');

  const labels = new Set<string>();
  const models = e.models.map((m, i): ModelEntry => {
    const field = `experiment.models.${i}`;
    let family;
    try {
      family = modelFamily(m.name);
      family.resolveParams(m.params ?? {});
    } catch (err) {
      throw prefixed(err, field);
    }
    const label =
      m.label ?? (e.models.filter((o) => o.name === m.name).length > 1 ? `${m.name} #${i + 1}` : m.name);
    if (labels.has(label)) throw new ValidationError(`${field}.label '${label}' is used twice`);
    labels.add(label);
    let search: ModelEntry['search'] = null;
    if (m.search) {
      const space = m.search.space ?? family.searchSpace ?? {};
      if (Object.keys(space).length === 0)
        throw new ValidationError(
          `${field}.search.space is required: model '${m.name}' has no search space of its own`,
        );
      const validation = parseSplitSpec(
        m.search.validation ?? DEFAULT_VALIDATION,
        `${field}.search.validation`,
      );
      if (validation.kind === 'predefined' || validation.kind === 'k-fold')
        throw new ValidationError(`${field}.search.validation must carve one split out of the training part`);
      search = {
        space,
        method: m.search.method ?? 'random',
        trials: m.search.trials ?? 30,
        halving: m.search.halving ?? true,
        validation,
        save: m.search.save ?? true,
      };
    }
    return { name: m.name, label, params: m.params ?? {}, search };
  });

  return {
    name: e.name,
    data,
    split,
    protocol: {
      ks,
      mainK,
      metric: p.metric ?? 'ndcg',
      threshold: p.threshold ?? 0,
      trainThreshold: p.trainThreshold ?? null,
      confidence: p.confidence ?? 0.95,
      bootstrap: p.bootstrap ?? 1000,
      auc: p.auc ?? true,
      beyondAccuracy: p.beyondAccuracy ?? true,
    },
    models,
    compare: e.compare ?? 'best',
    seed: e.seed ?? 42,
  };
}

function prefixed(err: unknown, field: string): Error {
  if (err instanceof ValidationError) {
    const message = err.message.startsWith(field) ? err.message : `${field}: ${err.message}`;
    return new ValidationError(message, err.details);
  }
  return err instanceof Error ? err : new Error(String(err));
}
