import { NotFoundError, KindredError } from '../domain/errors.js';
import { eventStrength, type EventType } from '../domain/types.js';
import { topK } from '../kernels/topk.js';
import type { Recommender } from '../models/model.js';
import type { Store } from '../store/store.js';
import { ModelSet, type ServingModel } from './model-set.js';
import { newRecommendationId } from './recommendation-id.js';

export interface RecommendedItem {
  itemId: string;
  score: number;
  /** Which model put the item on the list. */
  source: string;
}

export interface Recommendation {
  recommendationId: string;
  userId: string;
  placement: string;
  items: RecommendedItem[];
}

export interface SimilarItems {
  itemId: string;
  model: string;
  items: RecommendedItem[];
}

/** How many of the user's most recent events are read: all of them count as consumed. */
const HISTORY_LIMIT = 10_000;
/** How many of the most recent ones the personalised model scores from. */
const SCORING_HISTORY = 500;

/** Personalised model first, then these to fill the list (unknown users start here). */
const PERSONAL_MODELS = ['item-knn'];
const FALLBACK_MODELS = ['popularity', 'trending'];
const SIMILARITY_MODELS = ['item-knn'];

/**
 * Answers recommendation requests from the models currently loaded: scores with the
 * personalised model from the user's live history (so a new event counts at once), removes
 * what the user already consumed and what is unavailable, and fills up with popularity.
 */
export class RecommendationService {
  private models: ModelSet | null = null;
  private eventTypes = new Map<string, EventType>();

  constructor(private readonly store: Store) {}

  async refreshEventTypes(): Promise<void> {
    const types = await this.store.listEventTypes();
    this.eventTypes = new Map(types.map((t) => [t.name, t]));
  }

  getEventTypes(): ReadonlyMap<string, EventType> {
    return this.eventTypes;
  }

  /** Replaces the serving models at once; requests in flight finish on the old set. */
  async swap(models: Recommender[]): Promise<void> {
    const unavailable = await this.unavailableItemIds();
    this.models = new ModelSet(models, unavailable);
  }

  get ready(): boolean {
    return this.models !== null && this.models.size > 0;
  }

  loadedModels(): Recommender[] {
    return this.models ? this.models.all().map((m) => m.model) : [];
  }

  /** Keeps the availability mask in step with item writes. */
  itemChanged(itemId: string, available: boolean): void {
    this.models?.setAvailable(itemId, available);
  }

  /**
   * The top k for a user: the personal model scores from the user's live history, popular and
   * trending items fill the rest. `options.model` names the personal model (default item-kNN).
   */
  async recommend(
    userId: string,
    k: number,
    placement = 'default',
    options: { model?: string } = {},
  ): Promise<Recommendation> {
    const models = this.requireModels();
    const personal = options.model ? models.get(options.model) : firstLoaded(models, PERSONAL_MODELS);
    if (options.model && !personal)
      throw new KindredError(
        'NOT_READY',
        `model '${options.model}' has no trained version: run kindred train --models ${options.model}`,
      );
    const history = await this.store.userHistory(userId, { limit: HISTORY_LIMIT });
    const items: RecommendedItem[] = [];
    const chosen = new Set<string>();
    const consumed = new Set<string>();
    for (const h of history) {
      const t = this.eventTypes.get(h.type);
      if (t && eventStrength(t, h.value) > 0) consumed.add(h.itemId);
    }

    if (personal && consumed.size > 0) {
      this.scoreFromHistory(
        personal,
        history.length > SCORING_HISTORY ? history.slice(0, SCORING_HISTORY) : history,
      );
      this.collect(personal, consumed, chosen, k, items, true);
    }
    for (const name of FALLBACK_MODELS) {
      if (items.length >= k) break;
      const m = models.get(name);
      if (!m) continue;
      m.model.score(EMPTY_CONTEXT, m.scores);
      this.collect(m, consumed, chosen, k, items, false);
    }
    return { recommendationId: newRecommendationId(), userId, placement, items };
  }

  async similar(itemId: string, k: number): Promise<SimilarItems> {
    const item = await this.store.getItem(itemId);
    if (!item) throw new NotFoundError('item', itemId);
    const models = this.requireModels();
    const m = firstLoaded(models, SIMILARITY_MODELS);
    const items: RecommendedItem[] = [];
    if (m) {
      const idx = m.itemIndex.get(itemId);
      const top = idx === undefined ? null : m.model.similarItems(idx, k + 64);
      if (top) {
        for (let r = 0; r < top.indices.length && items.length < k; r++) {
          const j = top.indices[r];
          if (m.blocked[j] || top.scores[r] <= 0) continue;
          items.push({ itemId: m.model.itemIds[j], score: top.scores[r], source: m.name });
        }
      }
    }
    return { itemId, model: m?.name ?? 'none', items };
  }

  private requireModels(): ModelSet {
    if (!this.models || this.models.size === 0) {
      throw new KindredError(
        'NOT_READY',
        'no trained model is loaded yet: run `kindred train` or POST /models/train',
      );
    }
    return this.models;
  }

  private scoreFromHistory(
    m: ServingModel,
    history: { itemId: string; type: string; value: number | null }[],
  ): void {
    const idx = new Int32Array(history.length);
    const w = new Float32Array(history.length);
    let n = 0;
    for (const h of history) {
      const i = m.itemIndex.get(h.itemId);
      const t = this.eventTypes.get(h.type);
      if (i === undefined || !t) continue;
      const s = eventStrength(t, h.value);
      if (s <= 0) continue;
      idx[n] = i;
      w[n] = s;
      n++;
    }
    m.model.score({ userIndex: -1, history: idx.subarray(0, n), historyWeights: w.subarray(0, n) }, m.scores);
  }

  /** Appends the model's best items not yet consumed, blocked or already on the list. */
  private collect(
    m: ServingModel,
    consumed: Set<string>,
    chosen: Set<string>,
    k: number,
    out: RecommendedItem[],
    positiveOnly: boolean,
  ): void {
    const mask = m.mask;
    mask.set(m.blocked);
    for (const id of consumed) exclude(m, id);
    for (const id of chosen) exclude(m, id);
    const top = topK(m.scores, k - out.length, mask);
    for (let r = 0; r < top.indices.length; r++) {
      const score = top.scores[r];
      if (positiveOnly && !(score > 0)) break;
      const itemId = m.model.itemIds[top.indices[r]];
      chosen.add(itemId);
      out.push({ itemId, score, source: m.name });
    }
  }

  private async unavailableItemIds(): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await this.store.listItems({ available: false, limit: 1000, cursor });
      for (const it of page.rows) ids.push(it.id);
      cursor = page.nextCursor;
    } while (cursor);
    return ids;
  }
}

const EMPTY_CONTEXT = { userIndex: -1, history: new Int32Array(0), historyWeights: new Float32Array(0) };

function firstLoaded(models: ModelSet, names: string[]): ServingModel | undefined {
  for (const n of names) {
    const m = models.get(n);
    if (m) return m;
  }
  return undefined;
}

function exclude(m: ServingModel, itemId: string): void {
  const i = m.itemIndex.get(itemId);
  if (i !== undefined) m.mask[i] = 1;
}
