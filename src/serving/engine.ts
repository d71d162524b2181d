import { ConflictError, KindredError } from '../domain/errors.js';
import { ArtifactRepository } from '../models/artifact-repo.js';
import type { Recommender } from '../models/model.js';
import { loadModel } from '../models/registry.js';
import { effectiveParams, readSettings } from '../models/settings-file.js';
import { DEFAULT_MODELS, trainModels } from '../models/training.js';
import type { Store } from '../store/store.js';
import path from 'node:path';
import { ModelRegistry } from '../models/model-registry.js';
import { DriftMonitor } from '../monitoring/drift.js';
import { Metrics } from '../monitoring/metrics.js';
import { loadModelAsync, modelNames } from '../models/registry.js';
import { PipelineService } from './pipeline-service.js';
import type { KindredConfig } from '../config.js';
import { RetrainScheduler, type RetrainPolicy } from './retrain-scheduler.js';
import { trainInChildProcess } from './train-process.js';
import { StoreRecommendationLog } from './store-recommendation-log.js';
import { RecommendationService } from './recommendation-service.js';

export interface TrainRequest {
  models?: string[];
  params?: Record<string, Record<string, number | string | boolean>>;
  /** Also measure every model on each user's latest interaction and record it in the registry. */
  evaluate?: boolean;
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
  /** Trained versions with their data snapshots and metrics; which version serves. */
  readonly registry: ModelRegistry;
  /** The multi-stage pipeline over the loaded models, with the placements' business rules. */
  readonly pipelines: PipelineService;
  /** Every list the pipeline served, for attribution and for training the learned ranker. */
  readonly recommendationLog: StoreRecommendationLog;
  /** Prometheus metrics of this process. */
  readonly metrics: Metrics;
  /** Live data against what the models were trained on. */
  readonly drift: DriftMonitor;
  private training = false;
  private scheduler: RetrainScheduler | null = null;

  constructor(
    readonly store: Store,
    readonly modelsDir: string,
    /** How the engine was opened; lets training run in a child process on the same store. */
    readonly config: KindredConfig | null = null,
  ) {
    this.service = new RecommendationService(store);
    this.repo = new ArtifactRepository(modelsDir);
    this.registry = new ModelRegistry(this.repo);
    this.metrics = new Metrics({
      models: () =>
        this.service.loadedModels().map((m) => ({ model: m.info.name, trainedAt: m.info.trainedAt })),
    });
    this.drift = new DriftMonitor();
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
    this.pipelines.observer = (served) => {
      this.metrics.observeRecommendation(
        served.placement,
        served.seconds,
        served.contributed,
        served.items.map((i) => i.sources),
      );
      this.drift.observeScores(served.items.map((i) => i.score));
      this.drift.observeServed(served.items.map((i) => i.itemId));
    };
  }

  /** Loads the event types and the latest saved version of every model family. */
  async start(): Promise<void> {
    await this.service.refreshEventTypes();
    const models: Recommender[] = [];
    const names = [...DEFAULT_MODELS, ...modelNames().filter((n) => !DEFAULT_MODELS.includes(n))];
    for (const name of names) {
      const file = this.registry.servingPath(name);
      if (file) models.push(loadModel(file));
    }
    if (models.length > 0) await this.swapIn(models);
  }

  /** Serves a given version of a family from now on (kept across restarts). */
  async promote(name: string, version: string): Promise<void> {
    await this.swapOne(loadModel(this.registry.promote(name, version)));
  }

  /** Serves the version before the one serving now. */
  async rollback(name: string): Promise<string> {
    await this.swapOne(loadModel(this.registry.rollback(name)));
    return this.registry.servingVersion(name) as string;
  }

  private async swapOne(model: Recommender): Promise<void> {
    const byName = new Map(this.service.loadedModels().map((m) => [m.info.name, m]));
    byName.set(model.info.name, model);
    await this.swapIn([...byName.values()]);
  }

  get isTraining(): boolean {
    return this.training;
  }

  /**
   * Trains in a child process on the same store (see train-process.ts) and then serves what it
   * saved: serving never waits on the fit. Needs the configuration the engine was opened with.
   */
  async trainDetached(request: TrainRequest = {}): Promise<void> {
    if (!this.config) throw new Error('training in a child process needs the engine configuration');
    if (this.training) throw new ConflictError('a training run is already in progress');
    this.training = true;
    try {
      const models = request.models && request.models.length > 0 ? request.models : DEFAULT_MODELS;
      await trainInChildProcess(this.config, models, request.progress);
      const byName = new Map(this.service.loadedModels().map((m) => [m.info.name, m]));
      for (const name of models) {
        const file = this.registry.servingPath(name);
        if (file) byName.set(name, await loadModelAsync(file));
      }
      await this.swapIn([...byName.values()]);
    } finally {
      this.training = false;
    }
  }

  /** Retrains on a schedule from now on (see RetrainScheduler); replaces an earlier schedule. */
  scheduleRetraining(policy: RetrainPolicy, log?: (message: string) => void): RetrainScheduler {
    void this.scheduler?.stop();
    // With the configuration at hand the runs go to a child process; else they run here.
    const target = this.config
      ? {
          get isTraining() {
            return this.engine.isTraining;
          },
          engine: this as Engine,
          train: (r: TrainRequest) => this.trainDetached(r),
        }
      : this;
    this.scheduler = new RetrainScheduler(target, policy, log);
    this.scheduler.start();
    return this.scheduler;
  }

  get retraining(): RetrainScheduler | null {
    return this.scheduler;
  }

  /** Counts acknowledged events towards a retraining schedule. */
  eventsAcknowledged(n: number): void {
    this.scheduler?.eventsAcknowledged(n);
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
        evaluate: request.evaluate,
      });
      const positive = [...this.service.getEventTypes().values()]
        .filter((t) => t.weight > 0)
        .map((t) => t.name);
      this.drift.setReferenceFromInteractions(result.data, { interactionTypes: positive });
      const byName = new Map(this.service.loadedModels().map((m) => [m.info.name, m]));
      for (const m of result.models) {
        // A family pinned to an earlier version keeps serving it; the new version waits in the registry.
        if (this.registry.servingPath(m.info.name) === result.paths[result.models.indexOf(m)])
          byName.set(m.info.name, m);
        else
          request.progress?.(
            `${m.info.name}: a promoted version is pinned; the new version is registered, not served`,
          );
      }
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
    await this.scheduler?.stop();
    await this.recommendationLog.close();
    await this.store.close();
  }
}
