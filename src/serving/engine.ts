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
import { loadModelAsync, modelFamily, modelNames } from '../models/registry.js';
import { PipelineService } from './pipeline-service.js';
import type { KindredConfig } from '../config.js';
import { RetrainScheduler, type RetrainPolicy } from './retrain-scheduler.js';
import { trainInChildProcess } from './train-process.js';
import { StoreRecommendationLog } from './store-recommendation-log.js';
import { RecommendationService } from './recommendation-service.js';
import type { ChangeBus, EngineChange, ObservedEvent } from './cluster/changes.js';
import {
  driftReferencePath,
  loadDriftReference,
  saveDriftReference,
} from '../monitoring/drift-reference-file.js';

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
  /** Other serving processes of the same deployment, when there are any. */
  private bus: ChangeBus | null = null;
  /** The artifact each loaded family was read from. */
  private readonly servingFiles = new Map<string, string>();

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
      // A server (opened from its configuration) writes the log off the serving thread.
      writer: config ? (store.openServedWriter?.() ?? null) : null,
    });
    this.pipelines = new PipelineService(
      store,
      this.service,
      path.dirname(modelsDir),
      this.recommendationLog,
      modelsDir,
    );
    this.pipelines.indexFileOf = (name) => {
      const file = this.servingFiles.get(name);
      return file ? file.replace(/\.kdm$/, '.hnsw.kdvi') : null;
    };
    this.pipelines.observer = (served) => {
      this.metrics.observeRecommendation(
        served.placement,
        served.seconds,
        served.contributed,
        served.items.map((i) => i.sources),
      );
      if (served.cache) this.metrics.cacheRequest('anonymous-lists', served.cache === 'hit');
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
      if (file) models.push(this.loadFile(name, loadModel(file), file));
    }
    if (models.length > 0) await this.swapIn(models, false);
    this.loadDriftReference();
  }

  /** Takes the drift reference the latest training saved, when there is one. */
  private loadDriftReference(): void {
    const file = driftReferencePath(this.modelsDir);
    try {
      const ref = loadDriftReference(file);
      if (ref) this.drift.setReference(ref);
    } catch (err) {
      console.error(`drift reference not loaded from ${file}: ${(err as Error).message}`);
    }
  }

  private loadFile(name: string, model: Recommender, file: string): Recommender {
    this.servingFiles.set(name, file);
    return model;
  }

  /**
   * Joins the other serving processes of a deployment: changes made here are published to them,
   * and theirs are applied here.
   */
  attachBus(bus: ChangeBus): void {
    this.bus = bus;
    bus.subscribe((change) => this.apply(change));
  }

  /**
   * Tells the other serving processes, if any, about a change made here; resolves once they
   * applied it, so that the next request to any of them sees it.
   */
  announce(change: EngineChange): Promise<void> {
    return this.bus ? this.bus.publish(change) : Promise.resolve();
  }

  /**
   * Tells the other serving processes about acknowledged events: counted towards their retraining
   * schedule and observed by their exploration and context popularity (only the device of the
   * context travels).
   */
  announceEvents(inserted: number, events: readonly ObservedEvent[]): void {
    if (!this.bus || events.length === 0) return;
    // Not awaited: these only feed statistics.
    void this.bus.publish({
      kind: 'events',
      inserted,
      events: events.map((e) => {
        const device = e.context?.device;
        return {
          itemId: e.itemId,
          type: e.type,
          timestamp: e.timestamp,
          context: typeof device === 'string' ? { device } : null,
        };
      }),
    });
  }

  /** Applies a change another serving process made, without announcing it again. */
  async apply(change: EngineChange): Promise<void> {
    switch (change.kind) {
      case 'models':
        await this.reloadServing();
        return this.loadDriftReference();
      case 'items':
        for (const id of change.ids) {
          const item = await this.store.getItem(id);
          this.service.itemChanged(id, item?.available ?? false);
        }
        return this.pipelines.itemsWritten(change.ids);
      case 'events':
        this.scheduler?.eventsAcknowledged(change.inserted);
        this.pipelines.observeEvents(change.events);
        return;
      case 'event-types':
        return this.service.refreshEventTypes();
      case 'rules':
        return this.pipelines.refreshRules();
      case 'knowledge':
        return this.pipelines.knowledgeChanged();
      case 'settings':
        return this.pipelines.settingsChanged();
      case 'rankers':
        return this.pipelines.reloadRankers();
    }
  }

  /** Serves, for every family, the version the registry says serves, where it is not loaded yet. */
  private async reloadServing(): Promise<void> {
    const byName = new Map(this.service.loadedModels().map((m) => [m.info.name, m]));
    let changed = false;
    for (const name of new Set([...DEFAULT_MODELS, ...modelNames()])) {
      const file = this.registry.servingPath(name);
      if (!file || this.servingFiles.get(name) === file) continue;
      byName.set(name, this.loadFile(name, await loadModelAsync(file), file));
      changed = true;
    }
    if (changed) await this.swapIn([...byName.values()], false);
  }

  /** Serves a given version of a family from now on (kept across restarts). */
  async promote(name: string, version: string): Promise<void> {
    const file = this.registry.promote(name, version);
    await this.swapOne(this.loadFile(name, await loadModelAsync(file), file));
  }

  /** Serves the version before the one serving now. */
  async rollback(name: string): Promise<string> {
    const file = this.registry.rollback(name);
    await this.swapOne(this.loadFile(name, await loadModelAsync(file), file));
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
      for (const m of models) modelFamily(m); // an unknown name is a 400, not a failed child
      await trainInChildProcess(this.config, models, request.progress, { evaluate: request.evaluate });
      const byName = new Map(this.service.loadedModels().map((m) => [m.info.name, m]));
      for (const name of models) {
        const file = this.registry.servingPath(name);
        if (file) byName.set(name, this.loadFile(name, await loadModelAsync(file), file));
      }
      this.loadDriftReference();
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

  /**
   * Serves these models from now on, in the direct service and in the pipeline, and (unless the
   * swap follows another process's change) tells the other serving processes.
   */
  private async swapIn(models: Recommender[], announce = true): Promise<void> {
    await this.service.swap(models);
    await this.pipelines.rebuild(models);
    if (announce) await this.announce({ kind: 'models' });
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
      const reference = this.drift.setReferenceFromInteractions(result.data, { interactionTypes: positive });
      try {
        saveDriftReference(driftReferencePath(this.modelsDir), reference);
      } catch (err) {
        console.error(`drift reference not saved: ${(err as Error).message}`);
      }
      const byName = new Map(this.service.loadedModels().map((m) => [m.info.name, m]));
      for (const m of result.models) {
        // A family pinned to an earlier version keeps serving it; the new version waits in the registry.
        const file = result.paths[result.models.indexOf(m)];
        if (this.registry.servingPath(m.info.name) === file)
          byName.set(m.info.name, this.loadFile(m.info.name, m, file));
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
      byName.set(name, this.loadFile(name, loadModel(file), file));
    }
    await this.swapIn([...byName.values()]);
  }

  async close(): Promise<void> {
    await this.scheduler?.stop();
    await this.recommendationLog.close();
    await this.store.close();
  }
}
