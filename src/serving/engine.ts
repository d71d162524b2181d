import { ConflictError } from '../domain/errors.js';
import { ArtifactRepository } from '../models/artifact-repo.js';
import type { Recommender } from '../models/model.js';
import { loadModel } from '../models/registry.js';
import { DEFAULT_MODELS, trainModels } from '../models/training.js';
import type { Store } from '../store/store.js';
import { RecommendationService } from './recommendation-service.js';

export interface TrainRequest {
  models?: string[];
  params?: Record<string, Record<string, number | string | boolean>>;
  progress?: (message: string) => void;
}

/**
 * The running engine: the store, the saved model artifacts, and the service answering from the
 * models loaded now. Training saves new artifacts and swaps them in without a restart.
 */
export class Engine {
  readonly service: RecommendationService;
  readonly repo: ArtifactRepository;
  private training = false;

  constructor(
    readonly store: Store,
    modelsDir: string,
  ) {
    this.service = new RecommendationService(store);
    this.repo = new ArtifactRepository(modelsDir);
  }

  /** Loads the event types and the latest saved version of every model family. */
  async start(): Promise<void> {
    await this.service.refreshEventTypes();
    const models: Recommender[] = [];
    for (const name of DEFAULT_MODELS) {
      const path = this.repo.latest(name);
      if (path) models.push(loadModel(path));
    }
    if (models.length > 0) await this.service.swap(models);
  }

  async train(request: TrainRequest = {}): Promise<Recommender[]> {
    if (this.training) throw new ConflictError('a training run is already in progress');
    this.training = true;
    try {
      const result = await trainModels(this.store, {
        models: request.models,
        params: request.params,
        repo: this.repo,
        progress: request.progress,
      });
      const byName = new Map(this.service.loadedModels().map((m) => [m.info.name, m]));
      for (const m of result.models) byName.set(m.info.name, m);
      await this.service.swap([...byName.values()]);
      return result.models;
    } finally {
      this.training = false;
    }
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
