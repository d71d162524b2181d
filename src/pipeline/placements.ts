/**
 * The built-in placements and how each one is assembled from the loaded models:
 *
 * | placement | primary source | other sources |
 * |---|---|---|
 * | `home`, `email` | the best personal model | neighbours of recent items, bought together, session, segment, trending, popular, fresh |
 * | `similar` | neighbours of the anchor item | bought together, popular |
 * | `cart` | bought together with the cart | neighbours of the cart, popular |
 * | `next` | neighbours of the session | bought together, personal model, popular |
 *
 * Every placement filters the request's exclusions, unavailable and out-of-stock items, items
 * the user may not see, and (except `cart` for re-consumable categories) what the user consumed.
 */
import type { AssocModel } from '../models/assoc/assoc.js';
import type { Recommender } from '../models/model.js';
import type { VectorIndex } from '../retrieval/vector-index.js';
import type { Catalog } from './catalog.js';
import { AudienceFilter } from './filters/audience.js';
import { AvailabilityFilter } from './filters/availability.js';
import { RequestFilter } from './filters/request.js';
import { SeenFilter, type SeenOptions } from './filters/seen.js';
import type { SavableRecommender } from '../models/artifact.js';
import { dotProductArrays } from '../models/batch.js';
import type { ItemSimilarity } from '../eval/metrics.js';
import { Pipeline, type Diversifier, type PlacementSource, type SourceSizing } from './pipeline.js';
import type { PlacementSettings } from './placement-settings.js';
import { categoryJaccard, Diversifier as DiversityRanker, factorCosine } from './ranking/diversity.js';
import { BlendRanker } from './ranking/blend-ranker.js';
import type { ItemStats } from './ranking/features.js';
import type { CompiledRule } from './rules/index.js';
import { AnnSource, type EmbeddingModel } from './sources/ann-source.js';
import { FbtSource } from './sources/fbt-source.js';
import { ModelSource } from './sources/model-source.js';
import { NeighboursSource } from './sources/neighbours-source.js';
import { freshList, rankedList, RankedListSource, SegmentSource } from './sources/ranked-list-source.js';
import { ConstraintFilter, KnowledgeSource, type KnowledgeRules } from './knowledge/index.js';
import { FeatureExtractor } from './ranking/features.js';
import { CategoryInterestSource } from './sources/category-interest-source.js';
import { ContextPopularity, ContextPopularitySource } from './sources/context-popularity.js';
import { chainStages, ExplorationSource } from './sources/exploration-source.js';
import { NewItemContentSource, type NewItemNeighbours } from './sources/new-item-content-source.js';
import { LearnedRanker, type RankerModel } from './ranking/learned-ranker.js';
import type { CandidateFilter, CandidateSource, Ranker } from './types.js';

export const PLACEMENTS = ['home', 'email', 'similar', 'cart', 'next'] as const;
export type PlacementName = (typeof PLACEMENTS)[number];

/** Personal models in order of preference (best top-K quality first). */
export const PERSONAL_PREFERENCE = [
  'ease',
  'als',
  'warp',
  'rating-blend',
  'bpr',
  'svdpp',
  'mf-sgd',
  'item-knn',
  'user-knn',
];
/** Models whose similarItems define neighbours, in order of preference. */
export const NEIGHBOUR_PREFERENCE = ['item-knn', 'ease', 'als'];

export interface ServingBundle {
  catalog: Catalog;
  /** Loaded models by family name; their item order must be the catalogue's. */
  models: ReadonlyMap<string, Recommender>;
  /** ANN indexes over a model's item vectors, by model name. */
  indexes?: ReadonlyMap<string, VectorIndex>;
  /** Popular items within each value of a user attribute. */
  segments?: {
    attribute: string;
    lists: ReadonlyMap<string, { items: Int32Array; scores: Float32Array }>;
  } | null;
  stats?: ItemStats | null;
  /** The business rules in force for a placement. */
  rules?: (placement: string) => readonly CompiledRule[];
  /** Knowledge rules in force for a placement (recommendations with reasons, and constraints). */
  knowledge?: KnowledgeRules;
  /** Decayed popularity per part of the day and device. */
  contextPopularity?: ContextPopularity | null;
  /** Items added since training, with the trained items most like them by content. */
  newItemNeighbours?: NewItemNeighbours | null;
  /** Fresh items' exploration slot, with its state of impressions and clicks. */
  exploration?: ExplorationSource | null;
  /** The learned ranker model of a placement, null to rank by the score blend. */
  rankers?: (placement: string) => RankerModel | null;
  /** Capture ranker features of served items (for training a learned ranker). */
  logFeatures?: boolean;
  /** Per-placement settings (sources, seen, diversity); see placement-settings.ts. */
  settings?: Readonly<Record<string, PlacementSettings>>;
  now?: number;
}

/**
 * Candidates asked of an ANN source: ANN_PER_K per item of the list served, at least ANN_MIN and
 * at most ANN_LIMIT (unless the placement sets the source's limit), searched with a candidate
 * list of that length. The search costs with it: on 50,000 items × 64 factors, 32 candidates take
 * 0.13–0.15 ms with recall@10 0.983–0.986 against exact search (`npm run bench:serve`), 64 take
 * about 0.27 ms for 0.998. The other sources fill the rest of the shortlist.
 */
export const ANN_LIMIT = 64;
export const ANN_MIN = 32;
export const ANN_PER_K = 3;
/** The sizing of an ANN source whose placement sets no limit for it. */
export const ANN_SIZING: SourceSizing = { limit: ANN_LIMIT, perK: { perK: ANN_PER_K, min: ANN_MIN } };
/** How many candidates each kind of source proposes (about a thousand per request in all). */
const LIMITS = {
  primary: 500,
  neighbours: 300,
  fbt: 100,
  session: 100,
  segment: 100,
  trending: 100,
  popular: 200,
  fresh: 50,
};

export function first(
  models: ReadonlyMap<string, Recommender>,
  names: readonly string[],
): [string, Recommender] | null {
  for (const n of names) {
    const m = models.get(n);
    if (m) return [n, m];
  }
  return null;
}

export function isEmbedding(m: Recommender): m is Recommender & EmbeddingModel {
  const e = m as Partial<EmbeddingModel>;
  return (
    typeof e.userVector === 'function' && typeof e.foldInUser === 'function' && typeof e.factors === 'number'
  );
}

function scoresOf(model: Recommender): Float32Array {
  const out = new Float32Array(model.itemIds.length);
  model.score({ userIndex: -1, history: new Int32Array(0), historyWeights: new Float32Array(0) }, out);
  return out;
}

/** The sources of every kind the bundle can feed, by role. */
function sourcesOf(b: ServingBundle): Record<string, CandidateSource | null> {
  const personal = first(b.models, PERSONAL_PREFERENCE);
  let primary: CandidateSource | null = null;
  if (personal) {
    const [name, model] = personal;
    const index = b.indexes?.get(name);
    primary =
      index && isEmbedding(model)
        ? new AnnSource(name, model, index, model.info.users)
        : new ModelSource(name, model);
  }
  const nb = first(b.models, NEIGHBOUR_PREFERENCE);
  const assoc = b.models.get('assoc') as AssocModel | undefined;
  const popularity = b.models.get('popularity');
  const trending = b.models.get('trending');
  const now = b.now ?? Date.now();
  const popularScores = popularity ? scoresOf(popularity) : null;
  return {
    knowledge: b.knowledge
      ? new KnowledgeSource(b.catalog, b.knowledge, { order: popularScores ?? undefined })
      : null,
    interests: new CategoryInterestSource(b.catalog, popularScores),
    exploration: b.exploration ?? null,
    inContext: b.contextPopularity
      ? new ContextPopularitySource('in-context', b.contextPopularity, b.catalog)
      : null,
    newByContent:
      b.newItemNeighbours && b.newItemNeighbours.size > 0
        ? new NewItemContentSource('new-by-content', b.newItemNeighbours)
        : null,
    primary,
    neighbours: nb ? new NeighboursSource('recent-neighbours', nb[1]) : null,
    session: nb ? new NeighboursSource('session', nb[1], { seeds: 'session', recent: 5 }) : null,
    anchor: nb ? new NeighboursSource('similar', nb[1], { seeds: 'anchor', perItem: 300 }) : null,
    cartNeighbours: nb ? new NeighboursSource('cart-neighbours', nb[1], { seeds: 'cart' }) : null,
    fbt: assoc ? new FbtSource('bought-together', assoc) : null,
    popular: popularity
      ? new RankedListSource('popular', rankedList(scoresOf(popularity), LIMITS.popular), {
          kind: 'popular',
          text: 'Popular in {category}',
          fallback: 'Popular right now',
        })
      : null,
    trending: trending
      ? new RankedListSource('trending', rankedList(scoresOf(trending), LIMITS.trending), {
          kind: 'trending',
          text: 'Trending in {category}',
          fallback: 'Trending now',
        })
      : null,
    fresh: new RankedListSource('fresh', freshList(b.catalog, LIMITS.fresh, now), {
      kind: 'new',
      text: 'New in {category}',
      fallback: 'New',
    }),
    segment: b.segments ? new SegmentSource('segment', b.segments.attribute, b.segments.lists) : null,
  };
}

function limitOf(role: string): number {
  return (
    (LIMITS as Record<string, number>)[role] ??
    (role === 'anchor' ? 300 : role === 'cartNeighbours' ? 200 : 100)
  );
}

const DAY_MS = 86_400_000;

function seenOptions(settings: PlacementSettings | undefined): SeenOptions {
  const seen = settings?.seen;
  if (!seen) return {};
  return {
    types: seen.types,
    windowMs: seen.windowDays === undefined ? undefined : seen.windowDays * DAY_MS,
    reconsumableCategories: seen.reconsumableCategories,
  };
}

/** The MMR / category-cap stage of a placement, or undefined when its settings ask for none. */
function diversityStage(b: ServingBundle, settings: PlacementSettings | undefined): Diversifier | undefined {
  const d = settings?.diversity;
  if (!d || ((d.lambda ?? 1) >= 1 && d.maxPerCategory === undefined)) return undefined;
  let similarity: ItemSimilarity = categoryJaccard(b.catalog);
  if (d.similarity === 'embedding') {
    const personal = first(b.models, PERSONAL_PREFERENCE);
    const savable = personal?.[1] as Partial<SavableRecommender> | undefined;
    const dot = savable?.toArtifact ? dotProductArrays(savable.toArtifact(), personal![1].info.users) : null;
    if (dot) similarity = factorCosine(dot.itemFactors, dot.factors);
  }
  const diversifier = new DiversityRanker(b.catalog, {
    lambda: d.lambda ?? 1,
    maxPerCategory: d.maxPerCategory,
    similarity,
  });
  // The first k follow diversity. Without caps, the rest of the shortlist stays behind them in
  // score order (for rules that pin or filter); with caps, the list ends where the caps do.
  const capped = d.maxPerCategory !== undefined;
  return (ctx, set, order) => {
    const picked = diversifier.select(set, ctx.k);
    if (capped) return picked;
    const taken = new Set(picked);
    const out = new Int32Array(order.length + picked.length);
    out.set(picked);
    let n = picked.length;
    for (const slot of order) if (!taken.has(slot)) out[n++] = slot;
    return out.subarray(0, n);
  };
}

/** Sources that never set a list's base order: knowledge picks, interests, exploration. */
const ORDER_NEUTRAL = new Set(['knowledge', 'interests', 'exploration']);

/** Source names a placement's settings may refer to. */
export function knownSourceNames(): string[] {
  return [
    ...PERSONAL_PREFERENCE,
    'recent-neighbours',
    'session',
    'similar',
    'cart-neighbours',
    'bought-together',
    'popular',
    'trending',
    'fresh',
    'segment',
    'knowledge',
    'interests',
    'exploration',
    'new-by-content',
    'in-context',
  ];
}

/**
 * Builds one pipeline per built-in placement from what the bundle has, and one per placement
 * that only has settings (it runs the home sources with its own settings and rules).
 */
export function buildPipelines(b: ServingBundle): Map<string, Pipeline> {
  const s = sourcesOf(b);
  const roles: Record<string, string[]> = {
    home: [
      'knowledge',
      'primary',
      'neighbours',
      'fbt',
      'session',
      'newByContent',
      'interests',
      'segment',
      'inContext',
      'trending',
      'popular',
      'fresh',
      'exploration',
    ],
    email: [
      'knowledge',
      'primary',
      'neighbours',
      'fbt',
      'newByContent',
      'interests',
      'segment',
      'inContext',
      'trending',
      'popular',
      'fresh',
    ],
    similar: ['anchor', 'newByContent', 'fbt', 'popular'],
    cart: ['fbt', 'cartNeighbours', 'popular'],
    next: ['session', 'fbt', 'primary', 'popular'],
  };
  const out = new Map<string, Pipeline>();
  const placements = new Set<string>([...PLACEMENTS, ...Object.keys(b.settings ?? {})]);
  for (const placement of placements) {
    const settings = b.settings?.[placement];
    const sources: PlacementSource[] = [];
    const weights: Record<string, number> = {};
    for (const role of roles[placement] ?? roles.home) {
      const src = s[role];
      if (!src || sources.some((x) => x.source === src)) continue;
      if (role === 'exploration' && settings?.exploration !== true) continue;
      if (role === 'inContext' && settings?.contextPopularity !== true) continue;
      const own = settings?.sources?.[src.name];
      if (own?.enabled === false) continue;
      if (src instanceof AnnSource && own?.limit === undefined) sources.push({ source: src, ...ANN_SIZING });
      else sources.push({ source: src, limit: own?.limit ?? limitOf(role) });
      if (own?.weight !== undefined) weights[src.name] = own.weight;
    }
    const filters: CandidateFilter[] = [
      new RequestFilter(b.catalog),
      new AvailabilityFilter(b.catalog),
      new AudienceFilter(b.catalog),
      new SeenFilter(b.catalog, seenOptions(settings)),
    ];
    if (b.knowledge) filters.push(new ConstraintFilter(b.catalog, b.knowledge));
    // Knowledge leads the explanations, but the personal model's order is the blend's base.
    const base = sources.find((x) => !ORDER_NEUTRAL.has(x.source.name)) ?? sources[0];
    const explorationAt = sources.findIndex((x) => x.source === s.exploration);
    const names = sources.map((x) => x.source.name);
    const blend = new BlendRanker(b.catalog, {
      sources: names,
      primary: base?.source.name ?? null,
      weights,
      stats: b.stats ?? null,
    });
    const learned = b.rankers?.(placement) ?? null;
    const extractor =
      learned || b.logFeatures
        ? new FeatureExtractor(b.catalog, { sources: names, stats: b.stats ?? null })
        : undefined;
    let ranker: Ranker = blend;
    if (learned && extractor) {
      try {
        ranker = new LearnedRanker(extractor, learned);
      } catch {
        // A model trained on other sources or features than this placement now has: blend.
        ranker = blend;
      }
    }
    out.set(
      placement,
      new Pipeline(b.catalog, {
        placement,
        sources,
        filters,
        ranker,
        diversify: chainStages(
          diversityStage(b, settings),
          explorationAt >= 0 && s.exploration instanceof ExplorationSource
            ? s.exploration.slotReserver(explorationAt)
            : undefined,
        ),
        rules: b.rules,
        features: extractor,
      }),
    );
  }
  return out;
}
