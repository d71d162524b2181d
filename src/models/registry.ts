/** Model families by name: how to train one from parameters and how to load a saved one. */
import type { InteractionData } from '../data/interactions.js';
import { ValidationError } from '../domain/errors.js';
import { AlsModel } from './als/als.js';
import { assocFamily } from './assoc/assoc.js';
import { contentFamily } from './content/content-model.js';
import { hybridFamily } from './hybrid/hybrid.js';
import { readArtifact, readArtifactSync, type Artifact, type SavableRecommender } from './artifact.js';
import { BprModel } from './bpr/bpr.js';
import { WarpModel } from './bpr/warp.js';
import { EaseModel } from './ease/ease.js';
import { ItemKnnModel } from './knn/item-knn.js';
import { UserKnnModel } from './knn/user-knn.js';
import type { Params } from './params.js';
import { PopularityModel } from './popularity/popularity.js';
import { TrendingModel } from './popularity/trending.js';
import { RATING_FAMILIES } from './rating/families.js';

/** Hears about a fit as it goes (families that train in iterations report each one). */
export interface FitObserver {
  iteration?(index: number, seconds: number): void;
}

export interface ModelFamily {
  name: string;
  /** Validates parameters and fills in defaults; throws ValidationError. */
  resolveParams(params?: Params): object;
  /** Fits the model; heavy families work on worker threads and keep the caller responsive. */
  fit(data: InteractionData, params?: Params, observer?: FitObserver): Promise<SavableRecommender>;
  fromArtifact(artifact: Artifact): SavableRecommender;
  /** Values worth trying for each parameter, for settings search on a validation split. */
  searchSpace?: Record<string, readonly (number | string | boolean)[]>;
}

const FAMILIES = new Map<string, ModelFamily>(
  (
    [
      {
        name: PopularityModel.modelName,
        resolveParams: (p) => PopularityModel.resolveParams(p),
        fit: async (data, p) => PopularityModel.fit(data, p),
        fromArtifact: (a) => PopularityModel.fromArtifact(a),
      },
      {
        name: TrendingModel.modelName,
        resolveParams: (p) => TrendingModel.resolveParams(p),
        fit: async (data, p) => TrendingModel.fit(data, p),
        fromArtifact: (a) => TrendingModel.fromArtifact(a),
      },
      {
        name: ItemKnnModel.modelName,
        resolveParams: (p) => ItemKnnModel.resolveParams(p),
        fit: (data, p) => ItemKnnModel.fitAsync(data, p),
        fromArtifact: (a) => ItemKnnModel.fromArtifact(a),
        searchSpace: ItemKnnModel.searchSpace,
      },
      {
        name: UserKnnModel.modelName,
        resolveParams: (p) => UserKnnModel.resolveParams(p),
        fit: (data, p) => UserKnnModel.fitAsync(data, p),
        fromArtifact: (a) => UserKnnModel.fromArtifact(a),
        searchSpace: UserKnnModel.searchSpace,
      },
      {
        name: AlsModel.modelName,
        resolveParams: (p) => AlsModel.resolveParams(p),
        fit: (data, p, o) => AlsModel.fit(data, p, { onIteration: o?.iteration }),
        fromArtifact: (a) => AlsModel.fromArtifact(a),
        searchSpace: AlsModel.searchSpace,
      },
      {
        name: EaseModel.modelName,
        resolveParams: (p) => EaseModel.resolveParams(p),
        fit: (data, p) => EaseModel.fitAsync(data, p),
        fromArtifact: (a) => EaseModel.fromArtifact(a),
        searchSpace: EaseModel.searchSpace,
      },
      {
        name: BprModel.modelName,
        resolveParams: (p) => BprModel.resolveParams(p),
        fit: (data, p) => BprModel.fitAsync(data, p),
        fromArtifact: (a) => BprModel.fromArtifact(a),
        searchSpace: BprModel.searchSpace,
      },
      {
        name: WarpModel.modelName,
        resolveParams: (p) => WarpModel.resolveParams(p),
        fit: (data, p) => WarpModel.fitAsync(data, p),
        fromArtifact: (a) => WarpModel.fromArtifact(a),
        searchSpace: WarpModel.searchSpace,
      },
      assocFamily,
      contentFamily,
      hybridFamily,
      ...RATING_FAMILIES,
    ] satisfies ModelFamily[]
  ).map((f): [string, ModelFamily] => [f.name, f]),
);

/** Names of every model family. */
export function modelNames(): string[] {
  return [...FAMILIES.keys()];
}

export function modelFamily(name: string): ModelFamily {
  const f = FAMILIES.get(name);
  if (!f) throw new ValidationError(`unknown model '${name}' (known: ${modelNames().join(', ')})`);
  return f;
}

/** A model family bound to validated parameters, ready to fit. */
export interface ModelTrainer {
  readonly name: string;
  readonly params: Params;
  fit(data: InteractionData, observer?: FitObserver): Promise<SavableRecommender>;
}

/** Binds a model family to parameters; unknown names and invalid parameters throw at once. */
export function createModel(name: string, params: Params = {}): ModelTrainer {
  const family = modelFamily(name);
  family.resolveParams(params);
  const bound = { ...params };
  return { name, params: bound, fit: (data, observer) => family.fit(data, bound, observer) };
}

/** The recommender stored in an artifact, dispatched on its model name. */
export function modelFromArtifact(artifact: Artifact): SavableRecommender {
  return modelFamily(artifact.header.info.name).fromArtifact(artifact);
}

/** Reads a saved model (synchronously: used at start-up). */
export function loadModel(file: string): SavableRecommender {
  return modelFromArtifact(readArtifactSync(file));
}

export async function loadModelAsync(file: string): Promise<SavableRecommender> {
  return modelFromArtifact(await readArtifact(file));
}

/**
 * The parameter that sets how long a family trains (`epochs` or `iterations`) and its default,
 * or null for families that fit in one pass (kNN, EASE, popularity). Settings searches give
 * early rungs a share of this budget.
 */
export function trainingBudget(name: string, params: Params = {}): { param: string; value: number } | null {
  const resolved = modelFamily(name).resolveParams(params) as Record<string, unknown>;
  for (const param of ['epochs', 'iterations']) {
    const value = resolved[param];
    if (typeof value === 'number') return { param, value };
  }
  return null;
}
