/** One training run: read the interactions once, fit each requested model, save its artifact. */
import {
  buildInteractions,
  type BuildInteractionsOptions,
  type InteractionData,
} from '../data/interactions.js';
import type { Store } from '../store/store.js';
import type { ArtifactRepository } from './artifact-repo.js';
import type { SavableRecommender } from './artifact.js';
import type { Params } from './params.js';
import { attachItemContent, loadItemContent } from './content/item-content.js';
import { holdoutMetrics } from './holdout-metrics.js';
import { attachUserLabels, loadUserLabels } from './hybrid/user-attributes.js';
import { ModelRegistry } from './model-registry.js';
import { createModel } from './registry.js';

export const DEFAULT_MODELS: readonly string[] = ['popularity', 'trending', 'item-knn'];

export interface TrainOptions {
  /** Model names, trained in this order (default DEFAULT_MODELS). */
  models?: readonly string[];
  /** Parameters by model name; entries for models not trained in this run are ignored. */
  params?: Record<string, Params>;
  repo: ArtifactRepository;
  progress?: (message: string) => void;
  /** How the training data is read (reference time, item universe, cutoff). */
  interactions?: BuildInteractionsOptions;
  /** Also measure each model on every user's latest interaction (a second fit) and record it. */
  evaluate?: boolean;
}

export interface TrainResult {
  /** Trained models, in the requested order. */
  models: SavableRecommender[];
  /** Saved artifact of each model (same order). */
  paths: string[];
  users: number;
  items: number;
  /** Distinct (user, item) pairs with positive strength. */
  interactions: number;
  /** Seconds spent reading the training data. */
  loadSeconds: number;
  /** The training data (for references that monitoring compares live data with). */
  data: InteractionData;
}

/** Trains and saves the requested models. Names and parameters are checked before any work. */
export async function trainModels(store: Store, options: TrainOptions): Promise<TrainResult> {
  const names =
    options.models && options.models.length > 0 ? [...new Set(options.models)] : [...DEFAULT_MODELS];
  const trainers = names.map((n) => createModel(n, options.params?.[n]));
  const progress = options.progress ?? (() => undefined);

  progress('reading interactions');
  const t0 = performance.now();
  const data = await buildInteractions(store, options.interactions);
  // The content and hybrid models read item metadata beside the interactions.
  if (names.includes('content') || names.includes('hybrid'))
    attachItemContent(data, await loadItemContent(store, data.items));
  // The hybrid model also reads user attributes.
  if (names.includes('hybrid')) attachUserLabels(data, await loadUserLabels(store, data.users));
  const loadSeconds = (performance.now() - t0) / 1000;
  const interactions = data.matrix.indptr[data.matrix.rows];
  progress(
    `read ${data.events.length} events: ${data.users.size} users, ${data.items.size} items, ` +
      `${interactions} interactions in ${loadSeconds.toFixed(2)}s`,
  );

  const models: SavableRecommender[] = [];
  const paths: string[] = [];
  for (const trainer of trainers) {
    const metrics = options.evaluate ? await holdoutMetrics(trainer, data) : {};
    if (options.evaluate)
      progress(
        `${trainer.name}: holdout ${Object.entries(metrics)
          .map(([k, v]) => `${k} ${Number(v.toFixed(4))}`)
          .join(', ')}`,
      );
    progress(`training ${trainer.name}`);
    const model = await trainer.fit(data, {
      iteration: (i, seconds) =>
        progress(`${trainer.name}: iteration ${i + 1} done in ${seconds.toFixed(2)}s`),
    });
    const file = await options.repo.save(model);
    new ModelRegistry(options.repo).writeCard(
      file,
      model.info,
      {
        events: data.events.length,
        users: data.users.size,
        items: data.items.size,
        interactions,
        lastEventTime: data.lastEventTime,
      },
      metrics,
    );
    progress(`trained ${trainer.name} in ${model.info.fitSeconds.toFixed(2)}s, saved ${file}`);
    models.push(model);
    paths.push(file);
  }
  return { models, paths, users: data.users.size, items: data.items.size, interactions, loadSeconds, data };
}
