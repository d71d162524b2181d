import { ConflictError, KindredError } from '../domain/errors.js';
import { ArtifactRepository } from '../models/artifact-repo.js';
import type { Recommender } from '../models/model.js';
import { loadModel } from '../models/registry.js';
import { effectiveParams, readSettings } from '../models/settings-file.js';
import { DEFAULT_MODELS, trainModels } from '../models/training.js';
import type { Store } from '../store/store.js';
import path from 'node:path';
import { modelNames } from '../models/registry.js';
import { PipelineService } from './pipeline-service.js';
import { StoreRecommendationLog } from './store-recommendation-log.js';
import { RecommendationService } from './recommendation-service.js';

export interface TrainRequest {
  models?: string[];
  params?: Record<string, Record<string, number | string | boolean>>;
  /** Settings saved by a settings search are used unless this is true (explicit params always win). */
  ignoreSavedSettings?: boolean;
  progress?: (message: string) => void;
}

/**
 * The running engine: the store, the saved model artifacts, and the service answering from the
 * models loaded now. Training saves new artifacts and swaps them in without a restart.
 */
export class Engine {
  readonly service: RecommendationService;
  readonly repo: ArtifactRepository;
  /** The multi-stage pipeline over the loaded models, with the placements' business rules. */
  readonly pipelines: PipelineService;
  /** Every list the pipeline served, for attribution and for training the learned ranker. */
  readonly recommendationLog: StoreRecommendationLog;
  private training = false;

  constructor(
    readonly store: Store,
    readonly modelsDir: string,
  ) {
    this.service = new RecommendationService(store);
    this.repo = new ArtifactRepository(modelsDir);
    this.recommendationLog = new StoreRecommendationLog(store, {
      onError: (err, lost) =>
        console.error(`recommendation log: ${lost} served lists not written: ${(err as Error).message}`),
    });
    this.pipelines = new PipelineService(
      store,
      this.service,
      path.dirname(modelsDir),
      this.recommendationLog,
      modelsDir,
    );
  }

  /** Loads the event types and the latest saved version of every model family. */
  async start(): Promise<void> {
    await this.service.refreshEventTypes();
    const models: Recommender[] = [];
    const names = [...DEFAULT_MODELS, ...modelNames().filter((n) => !DEFAULT_MODELS.includes(n))];
    for (const name of names) {
      const file = this.repo.latest(name);
      if (file) models.push(loadModel(file));
    }
    if (models.length > 0) await this.swapIn(models);
  }

  /** Serves these models from now on, in the direct service and in the pipeline. */
  private async swapIn(models: Recommender[]): Promise<void> {
    await this.service.swap(models);
    await this.pipelines.rebuild(models);
  }

  async train(request: TrainRequest = {}): Promise<Recommender[]> {
    if (this.training) throw new ConflictError('a training run is already in progress');
    this.training = true;
    try {
      const models = request.models && request.models.length > 0 ? request.models : DEFAULT_MODELS;
      const saved = request.ignoreSavedSettings ? {} : readSettings(this.modelsDir);
      for (const m of models) {
        if (saved[m] && Object.keys(saved[m].params).length > 0)
          request.progress?.(`${m}: using saved settings ${JSON.stringify(saved[m].params)}`);
      }
      const result = await trainModels(this.store, {
        models,
        params: effectiveParams(saved, request.params, models),
        repo: this.repo,
        progress: request.progress,
      });
      const byName = new Map(this.service.loadedModels().map((m) => [m.info.name, m]));
      for (const m of result.models) byName.set(m.info.name, m);
      await this.swapIn([...byName.values()]);
      return result.models;
    } finally {
      this.training = false;
    }
  }

  /** Loads the latest saved version of each named model beside the ones already loaded. */
  async load(names: readonly string[]): Promise<void> {
    const byName = new Map(this.service.loadedModels().map((m) => [m.info.name, m]));
    for (const name of names) {
      const file = this.repo.latest(name);
      if (!file)
        throw new KindredError(
          'NOT_READY',
          `model '${name}' has no trained version: run kindred train --models ${name}`,
        );
      byName.set(name, loadModel(file));
    }
    await this.swapIn([...byName.values()]);
  }

  async close(): Promise<void> {
    await this.recommendationLog.close();
    await this.store.close();
  }
}
