/**
 * Serves placements through the multi-stage pipeline: builds the catalogue snapshot and the
 * pipelines from the loaded models, keeps the business rules of every placement compiled, and
 * answers requests from the user's live history and attributes.
 */
import { existsSync } from 'node:fs';
import {
  defaultRankerModelPath,
  loadRankerModel,
  type RankerModel,
} from '../pipeline/ranking/learned-ranker.js';
import type { RecommendationLog } from './recommendation-log.js';
import path from 'node:path';
import { eventStrength, type Item } from '../domain/types.js';
import { segmentLists } from '../pipeline/sources/ranked-list-source.js';
import type { SavableRecommender } from '../models/artifact.js';
import { ContentModel } from '../models/content/content-model.js';
import type { Recommender, TopK } from '../models/model.js';
import { buildCatalog, type Catalog } from '../pipeline/catalog.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { dotProductArrays } from '../models/batch.js';
import { ValidationError } from '../domain/errors.js';
import {
  parsePlacementSettings,
  readPlacementSettings,
  writePlacementSettings,
  type PlacementSettings,
} from '../pipeline/placement-settings.js';
import {
  buildPipelines,
  first,
  isEmbedding,
  knownSourceNames,
  PERSONAL_PREFERENCE,
  PLACEMENTS,
  type ServingBundle,
} from '../pipeline/placements.js';
import { buildHnswOffThread } from '../retrieval/build-off-thread.js';
import { HnswIndex } from '../retrieval/hnsw-index.js';
import type { VectorIndex } from '../retrieval/vector-index.js';
import {
  requestContext,
  requestContextFromColumns,
  type RequestParams,
} from '../pipeline/request-context.js';
import { KnowledgeService } from '../pipeline/knowledge/index.js';
import { FileRuleRepository, RuleService, type CompiledRule } from '../pipeline/rules/index.js';
import { ContextPopularity } from '../pipeline/sources/context-popularity.js';
import { ExplorationSource } from '../pipeline/sources/exploration-source.js';
import type { Explanation, StageTrace } from '../pipeline/types.js';
import type { Store } from '../store/store.js';
import type { RecommendationService } from './recommendation-service.js';
import type { ObservedEvent } from './cluster/changes.js';
import { AnonymousListCache } from './anonymous-list-cache.js';
import { newRecommendationId } from './recommendation-id.js';

/** Lets pending requests run between the steps of building a new snapshot. */
function yieldToRequests(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Trained items kept as content neighbours of each item added since training. */
const NEW_ITEM_NEIGHBOURS = 50;
/** Items kept per segment value. */
const SEGMENT_LIST = 200;
/** Store item keys beyond this are looked up each time rather than remembered (bounds the table). */
const MAX_MAPPED_KEY = 1 << 22;
/** How many of the user's latest events the pipeline reads. */
const HISTORY_LIMIT = 1000;
/** From this many items on, the personal embedding model retrieves through an HNSW index. */
export const ANN_MIN_ITEMS = 20_000;

/**
 * An HNSW index over the item vectors of the preferred personal model, when it scores by a plain
 * dot product of user and item vectors and the catalogue is large enough for it to pay.
 */
export async function annIndexes(
  models: ReadonlyMap<string, Recommender>,
  minItems = ANN_MIN_ITEMS,
  /** Where a model's index is kept between processes (null: built here each time). */
  indexFile: (model: string) => string | null = () => null,
): Promise<Map<string, VectorIndex>> {
  const out = new Map<string, VectorIndex>();
  const personal = first(models, PERSONAL_PREFERENCE);
  if (!personal) return out;
  const [name, model] = personal;
  if (model.itemIds.length < minItems || !isEmbedding(model)) return out;
  const savable = model as Partial<SavableRecommender>;
  if (typeof savable.toArtifact !== 'function') return out;
  const dot = dotProductArrays(savable.toArtifact(), model.info.users);
  if (!dot || dot.itemBias || dot.factors !== model.factors) return out;
  const file = indexFile(name);
  if (file && existsSync(file)) {
    try {
      const saved = await HnswIndex.loadAsync(file);
      if (saved.size === model.itemIds.length && saved.dim === dot.factors) {
        out.set(name, saved);
        return out;
      }
    } catch (err) {
      console.error(`rebuilding the index of ${name}: ${file} is not usable: ${(err as Error).message}`);
    }
  }
  // Built on a worker thread: serving goes on meanwhile. Kept beside the model for the next
  // process (other workers, restarts) to load instead.
  out.set(
    name,
    await buildHnswOffThread(dot.itemFactors, model.itemIds.length, dot.factors, {}, file ?? undefined),
  );
  return out;
}

export interface PipelineItem {
  itemId: string;
  score: number;
  rank: number;
  /** The first source that proposed the item. */
  source: string;
  sources: string[];
  explanations: Explanation[];
}

export interface PipelineRecommendation {
  recommendationId: string;
  userId: string;
  placement: string;
  items: PipelineItem[];
  /** Debug mode only: every stage with its timing and candidate count. */
  trace?: StageTrace[];
  /** Debug mode only: candidates proposed per source. */
  sources?: Record<string, number>;
}

export type PipelineRequest = Omit<RequestParams, 'userIndex' | 'user' | 'now'>;

/** What an observer of the pipeline hears about each served list. */
export interface ServedList {
  placement: string;
  /** Time spent in the pipeline itself. */
  seconds: number;
  /** Candidates proposed per source. */
  contributed: Record<string, number>;
  items: readonly { itemId: string; score: number; sources: string[] }[];
  /** For a visitor the engine knows nothing about: whether the list came from the cache. */
  cache?: 'hit' | 'miss';
}

export class PipelineService {
  readonly rules: RuleService;
  /** Knowledge rules per placement: recommendations from explicit knowledge, and constraints. */
  readonly knowledge: KnowledgeService;
  private exploration: ExplorationSource | null = null;
  private pipelines: Map<string, Pipeline> | null = null;
  private catalog: Catalog | null = null;
  private readonly compiledRules = new Map<string, readonly CompiledRule[]>();
  private served: Pick<ServingBundle, 'catalog' | 'models' | 'indexes'> | null = null;
  private segments: ServingBundle['segments'] = null;
  private contextPopularity: ContextPopularity | null = null;
  /** Where the ANN index of a served model is kept (beside its artifact); null: not kept. */
  indexFileOf: ((model: string) => string | null) | null = null;
  /** Hears about every served list (metrics, drift). */
  observer: ((served: ServedList) => void) | null = null;
  /** Items the models know (the head of the catalogue) and items added since. */
  private baseItems = 0;
  private extraItems = new Map<string, Item>();
  private newItemNeighbours = new Map<number, TopK>();
  private readonly settingsFile: string;
  /** Lists for visitors with no history and no attributes, by request shape. */
  private readonly anonymous = new AnonymousListCache();
  /** Placements that explore (their lists are drawn per request, never cached). */
  private exploring = new Set<string>();
  /** Catalogue index + 1 of each store item key seen in a history (0: not mapped yet), for `keyCatalog`. */
  private keyIndex = new Int32Array(0);
  private keyCatalog: Catalog | null = null;

  constructor(
    private readonly store: Store,
    private readonly recommendations: RecommendationService,
    dataDir: string,
    /** Where served lists are logged (none: not logged). */
    private readonly log: RecommendationLog | null = null,
    /** Where learned ranker models are found (`rankers/<placement>.json`, else `rankers/all.json`). */
    private readonly modelsDir: string | null = null,
    /** Catalogue size from which retrieval goes through an ANN index (KINDRED_ANN_MIN_ITEMS). */
    private readonly annMinItems = Number(process.env.KINDRED_ANN_MIN_ITEMS ?? ANN_MIN_ITEMS),
  ) {
    this.rules = new RuleService(new FileRuleRepository(path.join(dataDir, 'rules.json')));
    this.settingsFile = path.join(dataDir, 'placements.json');
    this.knowledge = KnowledgeService.inFile(path.join(dataDir, 'knowledge.json'));
  }

  get ready(): boolean {
    return this.pipelines !== null;
  }

  /** Rebuilds the catalogue and every pipeline over the given models (those sharing one item order). */
  async rebuild(models: readonly Recommender[]): Promise<void> {
    const reference = models.find((m) => m.info.name === 'popularity') ?? models[0];
    if (!reference) {
      this.pipelines = null;
      return;
    }
    const ids = reference.itemIds;
    const usable = new Map<string, Recommender>();
    for (const m of models) {
      if (m.itemIds.length === ids.length && m.itemIds.every((id, i) => id === ids[i]))
        usable.set(m.info.name, m);
    }
    const items: Item[] = [];
    let cursor: string | null = null;
    do {
      const page = await this.store.listItems({ limit: 1000, cursor });
      items.push(...page.rows);
      cursor = page.nextCursor;
      await yieldToRequests();
    } while (cursor);
    const catalog = buildCatalog(ids, items);
    await yieldToRequests();
    await this.refreshRules();
    await this.knowledge.refresh();
    // Everything the new snapshot needs is computed first (the ANN graph on a worker thread);
    // requests meanwhile are served by the old snapshot, then it is swapped at once.
    const indexes = await annIndexes(usable, this.annMinItems, (name) => this.indexFileOf?.(name) ?? null);
    const settings = readPlacementSettings(this.settingsFile);
    const segments = await this.segmentsFor(settings, catalog);
    const contextPopularity = await this.contextPopularityFor(settings, catalog);
    this.baseItems = ids.length;
    this.extraItems = new Map();
    this.newItemNeighbours = new Map();
    this.catalog = catalog;
    this.renewExploration(catalog);
    this.served = { catalog, models: usable, indexes };
    this.segments = segments;
    this.contextPopularity = contextPopularity;
    this.assemble();
  }

  /**
   * Popular items per value of the user attribute a placement names as its segment (the first
   * one named), counted over every stored event; computed when first asked for.
   */
  private async ensureSegments(settings: Record<string, PlacementSettings>): Promise<void> {
    if (this.catalog) this.segments = await this.segmentsFor(settings, this.catalog);
  }

  private async segmentsFor(
    settings: Record<string, PlacementSettings>,
    catalog: Catalog,
  ): Promise<ServingBundle['segments']> {
    const attribute = Object.values(settings).find((s) => s.segmentAttribute)?.segmentAttribute;
    if (!attribute) return null;
    if (this.segments?.attribute === attribute && this.catalog === catalog) return this.segments;
    const segmentOf = new Map<string, string>();
    let cursor: string | null = null;
    do {
      const page = await this.store.listUsers({ limit: 1000, cursor });
      for (const u of page.rows) {
        const v = u.attributes[attribute];
        if (typeof v === 'string' || typeof v === 'number') segmentOf.set(u.id, String(v));
      }
      cursor = page.nextCursor;
    } while (cursor);
    const types = this.recommendations.getEventTypes();
    const segs: (string | null)[] = [];
    const items: number[] = [];
    const strengths: number[] = [];
    for await (const batch of this.store.scanEvents()) {
      for (let e = 0; e < batch.length; e++) {
        const i = catalog.indexOf.get(batch.itemIds[e]);
        const t = types.get(batch.types[e]);
        if (i === undefined || !t) continue;
        segs.push(segmentOf.get(batch.userIds[e]) ?? null);
        items.push(i);
        strengths.push(eventStrength(t, Number.isNaN(batch.values[e]) ? null : batch.values[e]));
      }
    }
    return { attribute, lists: segmentLists(segs, items, strengths, catalog.size, SEGMENT_LIST) };
  }

  /** Builds the pipelines from the served models and the placement settings in force. */
  private assemble(): void {
    if (!this.served) return;
    this.anonymous.clear();
    const settings = readPlacementSettings(this.settingsFile);
    this.exploring = new Set(Object.keys(settings).filter((p) => settings[p].exploration));
    this.pipelines = buildPipelines({
      ...this.served,
      segments: this.segments,
      contextPopularity: this.contextPopularity,
      knowledge: (placement) => this.knowledge.compiled(placement),
      newItemNeighbours: this.newItemNeighbours,
      exploration: this.exploration,
      logFeatures: this.log !== null,
      rankers: (placement) => this.rankerFor(placement),
      settings,
      rules: (placement) => this.compiledRules.get(placement) ?? [],
    });
  }

  /** The learned ranker saved for a placement (or for all), null when there is none or it is unreadable. */
  private rankerFor(placement: string): RankerModel | null {
    if (!this.modelsDir) return null;
    for (const file of [
      defaultRankerModelPath(this.modelsDir, placement),
      defaultRankerModelPath(this.modelsDir),
    ]) {
      if (!existsSync(file)) continue;
      try {
        return loadRankerModel(file);
      } catch (err) {
        console.error(`ignoring the ranker in ${file}: ${(err as Error).message}`);
      }
    }
    return null;
  }

  /** Picks up newly trained rankers (and anything else that changed on disk) for the next request. */
  reloadRankers(): void {
    this.assemble();
  }

  /** The trained items most like each item added since training, when a content model serves. */
  private findContentNeighbours(catalog: Catalog): void {
    const content = this.served?.models.get('content');
    if (!(content instanceof ContentModel)) return;
    for (let i = this.baseItems; i < catalog.size; i++) {
      if (this.newItemNeighbours.has(i)) continue;
      const item = catalog.item(i);
      if (!item) continue;
      this.newItemNeighbours.set(
        i,
        content.neighboursOfContent(
          {
            title: item.title,
            text: item.text,
            tags: item.tags,
            categories: item.categories,
            attributes: item.attributes,
            publishedAt: item.publishedAt ?? item.createdAt,
          },
          NEW_ITEM_NEIGHBOURS,
        ),
      );
    }
  }

  /** A fresh exploration state over the catalogue, keeping what was observed before. */
  private renewExploration(catalog: Catalog): void {
    const next = new ExplorationSource(catalog);
    if (this.exploration) next.carryOver(this.exploration);
    this.exploration = next;
  }

  /**
   * Popularity per part of the day and device, seeded from the stored events' times when a
   * placement first asks for it, then fed by every acknowledged event.
   */
  private async ensureContextPopularity(settings: Record<string, PlacementSettings>): Promise<void> {
    if (this.contextPopularity || !this.catalog) return;
    this.contextPopularity = await this.contextPopularityFor(settings, this.catalog);
  }

  private async contextPopularityFor(
    settings: Record<string, PlacementSettings>,
    catalog: Catalog,
  ): Promise<ContextPopularity | null> {
    if (!Object.values(settings).some((s) => s.contextPopularity)) return null;
    const popularity = new ContextPopularity(catalog.size);
    const types = this.recommendations.getEventTypes();
    for await (const batch of this.store.scanEvents()) {
      for (let e = 0; e < batch.length; e++) {
        const t = types.get(batch.types[e]);
        if (!t || !(t.weight > 0)) continue;
        const i = catalog.indexOf.get(batch.itemIds[e]);
        if (i !== undefined) popularity.observe(i, batch.timestamps[e]);
      }
    }
    return popularity;
  }

  /** Acknowledged events: impressions and clicks for the exploration slot; context popularity. */
  observeEvents(events: readonly ObservedEvent[]): void {
    const x = this.exploration;
    const c = this.catalog;
    if (!c) return;
    const types = this.recommendations.getEventTypes();
    for (const e of events) {
      const i = c.indexOf.get(e.itemId);
      if (i === undefined) continue;
      if (e.type === 'impression') x?.observe(i, 1, 0);
      else if (e.type === 'click') x?.observe(i, 0, 1);
      const t = types.get(e.type);
      if (this.contextPopularity && t && t.weight > 0) {
        const device = e.context?.device;
        this.contextPopularity.observe(i, e.timestamp, typeof device === 'string' ? device : null);
      }
    }
  }

  /** Applies knowledge rule edits to the next request. */
  async knowledgeChanged(): Promise<void> {
    await this.knowledge.refresh();
    this.anonymous.clear();
  }

  /** The settings of every placement that has any. */
  placementSettings(): Record<string, PlacementSettings> {
    return readPlacementSettings(this.settingsFile);
  }

  /** Replaces one placement's settings (validated; errors name the field) and applies them at once. */
  async setPlacementSettings(placement: string, raw: unknown): Promise<PlacementSettings> {
    const settings = parsePlacementSettings(raw, 'settings');
    for (const name of Object.keys(settings.sources ?? {})) {
      if (!knownSourceNames().includes(name))
        throw new ValidationError(
          `settings.sources.${name}: unknown source (known: ${knownSourceNames().join(', ')})`,
          [{ field: `settings.sources.${name}`, message: 'unknown source' }],
        );
    }
    const all = readPlacementSettings(this.settingsFile);
    all[placement] = settings;
    writePlacementSettings(this.settingsFile, all);
    await this.applySettings(all);
    return settings;
  }

  /** Applies settings another process wrote to the settings file. */
  async settingsChanged(): Promise<void> {
    await this.applySettings(readPlacementSettings(this.settingsFile));
  }

  /** What the settings need computed (segments, popularity by context), then the pipelines. */
  private async applySettings(all: Record<string, PlacementSettings>): Promise<void> {
    await this.ensureSegments(all);
    await this.ensureContextPopularity(all);
    this.assemble();
  }

  /** Re-reads and compiles the rules of every placement that has any. */
  async refreshRules(): Promise<void> {
    this.anonymous.clear();
    const names = new Set<string>([...PLACEMENTS, ...(await this.rules.placements())]);
    for (const p of names) this.compiledRules.set(p, await this.rules.rulesFor(p));
  }

  /**
   * Keeps the snapshot in step with item writes: changed items are taken in place, new items are
   * added to the catalogue (recommendable at once by the sources that need no training: fresh,
   * rules, content), deleted ones become unavailable.
   */
  async itemsWritten(ids: readonly string[]): Promise<void> {
    const c = this.catalog;
    if (!c || !this.served) return;
    this.anonymous.clear();
    let added = false;
    for (const id of ids) {
      const item = await this.store.getItem(id);
      const i = c.indexOf.get(id);
      if (i !== undefined) {
        if (item) c.update(i, item);
        else c.available[i] = 0;
      } else if (item) {
        this.extraItems.set(id, item);
        added = true;
      }
    }
    if (added) {
      const base = this.served.catalog.itemIds.slice(0, this.baseItems);
      const items: Item[] = [];
      for (let i = 0; i < c.size; i++) {
        const it = c.item(i);
        if (it) items.push(it);
      }
      items.push(...this.extraItems.values());
      const ids = [...base, ...[...this.extraItems.keys()].filter((id) => !base.includes(id))];
      this.catalog = buildCatalog(ids, items);
      this.renewExploration(this.catalog);
      this.findContentNeighbours(this.catalog);
      this.served = { ...this.served, catalog: this.catalog };
      this.assemble();
    }
  }

  /**
   * The catalogue index of the item a store key names, -1 when the catalogue does not hold it.
   * Found items are remembered per catalogue snapshot: a key names one item for as long as it
   * exists, and a catalogue never moves an item it holds.
   */
  private indexOfKey(catalog: Catalog, key: number): number {
    if (this.keyCatalog !== catalog) {
      this.keyCatalog = catalog;
      this.keyIndex = new Int32Array(0);
    }
    if (key >= 0 && key < this.keyIndex.length && this.keyIndex[key] > 0) return this.keyIndex[key] - 1;
    const id = this.store.itemIdOfKey?.(key);
    const index = id === undefined ? -1 : (catalog.indexOf.get(id) ?? -1);
    if (index >= 0 && key >= 0 && key < MAX_MAPPED_KEY) {
      if (key >= this.keyIndex.length) {
        const grown = new Int32Array(Math.min(MAX_MAPPED_KEY, Math.max(1024, 2 * key + 1)));
        grown.set(this.keyIndex);
        this.keyIndex = grown;
      }
      this.keyIndex[key] = index + 1;
    }
    return index;
  }

  async recommend(request: PipelineRequest): Promise<PipelineRecommendation> {
    const pipelines = this.pipelines;
    const catalog = this.catalog;
    if (!pipelines || !catalog) throw new Error('the pipeline has no models yet');
    const pipeline = pipelines.get(request.placement) ?? (pipelines.get('home') as Pipeline);
    // From the in-memory history where the store has one: items by key, mapped once per catalogue.
    const columns = this.store.userHistoryColumns?.(request.userId, { limit: HISTORY_LIMIT }) ?? null;
    const [history, user] = await Promise.all([
      columns ? null : this.store.userHistory(request.userId, { limit: HISTORY_LIMIT }),
      this.store.getUser(request.userId),
    ]);
    const params = {
      ...request,
      // Models fold the user in from the live history, so the last event counts at once.
      userIndex: -1,
      user: user?.attributes ?? {},
    };
    const eventTypes = this.recommendations.getEventTypes();
    const ctx = columns
      ? requestContextFromColumns(
          catalog,
          columns,
          (key) => this.indexOfKey(catalog, key),
          eventTypes,
          params,
        )
      : requestContext(catalog, history ?? [], eventTypes, params);
    const historyLength = columns ? columns.length : (history?.length ?? 0);
    const t0 = performance.now();
    // Visitors the engine knows nothing about get the list of their request's shape.
    const cacheable =
      !request.debug &&
      historyLength === 0 &&
      Object.keys(user?.attributes ?? {}).length === 0 &&
      !this.exploring.has(request.placement);
    const key = cacheable ? AnonymousListCache.keyOf(request) : '';
    let result = cacheable ? this.anonymous.get(key, ctx.now) : undefined;
    const cache = cacheable ? (result ? 'hit' : 'miss') : undefined;
    if (!result) {
      result = pipeline.run(ctx);
      if (cacheable) this.anonymous.set(key, result, ctx.now);
    }
    this.observer?.({
      placement: request.placement,
      seconds: (performance.now() - t0) / 1000,
      contributed: result.contributed,
      items: result.items,
      ...(cache ? { cache } : {}),
    });
    const recommendationId = newRecommendationId(ctx.now);
    // Logged without waiting: the log batches its writes off the request path.
    void this.log
      ?.record({
        id: recommendationId,
        userId: request.userId,
        placement: request.placement,
        servedAt: ctx.now,
        items: result.items.map((it) => it.itemId),
        scores: result.items.map((it) => it.score),
        features: result.features ? { names: [...result.features.names], rows: result.features.rows } : null,
      })
      .catch(() => undefined);
    return {
      recommendationId,
      userId: request.userId,
      placement: request.placement,
      items: result.items.map((it, r) => ({
        itemId: it.itemId,
        score: it.score,
        rank: r + 1,
        source: it.sources[0] ?? pipeline.sourceNames[0] ?? 'none',
        sources: it.sources,
        explanations: it.explanations,
      })),
      ...(request.debug ? { trace: result.trace, sources: result.contributed } : {}),
    };
  }
}
