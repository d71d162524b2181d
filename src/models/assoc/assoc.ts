/**
 * "Frequently bought together": association rules A → B mined from baskets (see ./mine.ts for
 * the measures), served as a recommender.
 *
 * Baskets come from the training events: one user's events form a basket until a pause longer
 * than `sessionGapMinutes` (0: all of a user's events are one basket, e.g. when each "user" is a
 * transaction id). `fitBaskets` takes ready-made baskets instead, and optionally an item →
 * category map, in which case rules between categories are mined as well.
 *
 * Scoring from a history or cart (most recent first): its `historyLength` most recent distinct
 * items each vote for the consequents of their rules with the rule's `scoreBy` measure
 * (confidence: an estimate of P(item | history item); or lift), combined by `aggregate` (max
 * or sum). With category rules and `categoryWeight` > 0, an item without any item-level vote
 * gets a backed-off estimate from the categories of the history: for confidence,
 * confidence(category(h) → category(i)) · P(i | category(i)), for lift the category lift, times
 * `categoryWeight`. Items with no evidence score -Infinity. History items are not excluded
 * (filtering is the caller's job; `cartRecommendations` does exclude the cart).
 */
import type { InteractionData } from '../../data/interactions.js';
import type { JsonObject } from '../../domain/types.js';
import { topK } from '../../kernels/topk.js';
import { ArtifactError, requireArray, type Artifact, type SavableRecommender } from '../artifact.js';
import { expectModel, secondsSince } from '../model-kit.js';
import type { Contribution, Explainer, ModelInfo, ScoringContext, TopK } from '../model.js';
import { ParamReader, type Params } from '../params.js';
import type { ModelFamily } from '../registry.js';
import { basketsFromInteractions, groupBaskets, type Baskets, type ItemGrouping } from './baskets.js';
import { mineRules, rankRules, rulesOf, type AssocRule, type RuleRanking, type RuleSet } from './mine.js';

export type RuleAggregate = 'max' | 'sum';

export interface AssocParams {
  /** Minimum support of a pair: a basket count when >= 1, a fraction of the baskets when < 1. */
  minSupport: number;
  minConfidence: number;
  minLift: number;
  /** Rules kept per antecedent: its best by `scoreBy`. */
  maxRulesPerItem: number;
  /** Order of `rulesFor` and `similarItems`, and the score `similarItems` reports. */
  rankBy: RuleRanking;
  /** Rule measure used by `score` and `cartRecommendations`. */
  scoreBy: RuleRanking;
  /** How the votes of several history items for one item combine. */
  aggregate: RuleAggregate;
  /** Most recent distinct history items used for scoring. */
  historyLength: number;
  /** Pause (minutes) that ends a basket when baskets are built from events; 0: one basket per user. */
  sessionGapMinutes: number;
  /** Weight of the category back-off (0: off; used only when category rules were mined). */
  categoryWeight: number;
}

/** Rules between categories, with the item → category map they apply through. */
export interface CategoryRules {
  itemCategory: Int32Array;
  categoryIds: readonly string[];
  rules: RuleSet;
}

export interface FitBasketsOptions {
  /** Item → category map: rules between categories are mined too, for the back-off. */
  categories?: ItemGrouping;
  /** Users behind the baskets, for the model header (default: the number of baskets). */
  users?: number;
}

export class AssocModel implements SavableRecommender, Explainer {
  static readonly modelName = 'assoc';

  static readonly searchSpace = {
    minSupport: [2, 5, 10],
    minConfidence: [0, 0.02, 0.05],
    aggregate: ['max', 'sum'],
  } as const satisfies Record<string, readonly (string | number)[]>;

  /** 1 for history items already taken in the current call. */
  private readonly seen: Uint8Array;
  private readonly picked: Int32Array;
  private readonly catScore: Float32Array | null;
  private cartOut: Float32Array | null = null;

  private constructor(
    readonly info: ModelInfo,
    readonly itemIds: readonly string[],
    private readonly params: AssocParams,
    private readonly rules: RuleSet,
    private readonly category: CategoryRules | null,
  ) {
    this.seen = new Uint8Array(itemIds.length);
    this.picked = new Int32Array(Math.min(itemIds.length, params.historyLength));
    this.catScore = category ? new Float32Array(category.categoryIds.length) : null;
  }

  static resolveParams(raw?: Params): AssocParams {
    const r = new ParamReader(AssocModel.modelName, raw);
    const rankings: RuleRanking[] = ['lift', 'confidence'];
    const params: AssocParams = {
      minSupport: r.number('minSupport', 5, { min: 0 }),
      minConfidence: r.number('minConfidence', 0.01, { min: 0, max: 1 }),
      minLift: r.number('minLift', 1, { min: 0 }),
      maxRulesPerItem: r.number('maxRulesPerItem', 50, { min: 1, max: 100_000, integer: true }),
      rankBy: r.choice<RuleRanking>('rankBy', 'lift', rankings),
      scoreBy: r.choice<RuleRanking>('scoreBy', 'confidence', rankings),
      aggregate: r.choice<RuleAggregate>('aggregate', 'max', ['max', 'sum']),
      historyLength: r.number('historyLength', 20, { min: 1, max: 10_000, integer: true }),
      sessionGapMinutes: r.number('sessionGapMinutes', 30, { min: 0 }),
      categoryWeight: r.number('categoryWeight', 1, { min: 0 }),
    };
    r.done();
    return params;
  }

  /** Fits on baskets built from the events of `data` (see `sessionGapMinutes`). */
  static fit(data: InteractionData, raw?: Params): AssocModel {
    const params = AssocModel.resolveParams(raw);
    const gap = params.sessionGapMinutes === 0 ? Infinity : params.sessionGapMinutes * 60_000;
    const start = performance.now();
    const baskets = basketsFromInteractions(data, { sessionGapMs: gap });
    return AssocModel.build(baskets, data.items.ids.slice(), params, {}, start, data.users.size);
  }

  /** Fits on ready-made baskets; `itemIds` names the basket columns. */
  static fitBaskets(
    baskets: Baskets,
    itemIds: readonly string[],
    raw?: Params,
    options: FitBasketsOptions = {},
  ): AssocModel {
    const params = AssocModel.resolveParams(raw);
    if (itemIds.length !== baskets.items) {
      throw new RangeError(`${itemIds.length} item ids for ${baskets.items} basket columns`);
    }
    return AssocModel.build(baskets, itemIds, params, options, performance.now(), options.users);
  }

  private static build(
    baskets: Baskets,
    itemIds: readonly string[],
    params: AssocParams,
    options: FitBasketsOptions,
    start: number,
    users = baskets.count,
  ): AssocModel {
    const mine = {
      minSupport: params.minSupport,
      minConfidence: params.minConfidence,
      minLift: params.minLift,
      maxRulesPerItem: params.maxRulesPerItem,
      // The rules kept are those that score best; `rankBy` orders them at query time.
      rankBy: params.scoreBy,
    };
    const rules = mineRules(baskets, mine);
    let category: CategoryRules | null = null;
    if (options.categories) {
      const { itemGroup, groupIds } = options.categories;
      const catBaskets = groupBaskets(baskets, itemGroup, groupIds.length);
      category = {
        itemCategory: itemGroup,
        categoryIds: groupIds.slice(),
        rules: mineRules(catBaskets, mine),
      };
    }
    const info: ModelInfo = {
      name: AssocModel.modelName,
      params: { ...params },
      trainedAt: Date.now(),
      users,
      items: itemIds.length,
      interactions: baskets.idx.length,
      fitSeconds: secondsSince(start),
    };
    return new AssocModel(info, itemIds.slice(), params, rules, category);
  }

  static fromArtifact(artifact: Artifact): AssocModel {
    const { info, itemIds, extra } = artifact.header;
    expectModel(info, AssocModel.modelName);
    const params = AssocModel.resolveParams(info.params);
    const n = itemIds.length;
    const baskets = typeof extra?.baskets === 'number' ? extra.baskets : NaN;
    const rules = readRuleSet(artifact, '', n, baskets, Number(extra?.rulesFound ?? 0));
    let category: CategoryRules | null = null;
    const ids = extra?.categoryIds;
    if (Array.isArray(ids)) {
      const categoryIds = ids.map(String);
      const itemCategory = requireArray(artifact, 'itemCategory', Int32Array, n);
      for (let i = 0; i < n; i++) {
        if (itemCategory[i] < -1 || itemCategory[i] >= categoryIds.length) {
          throw new ArtifactError('assoc artifact: item category out of range');
        }
      }
      const catBaskets = typeof extra?.categoryBaskets === 'number' ? extra.categoryBaskets : NaN;
      const catRules = readRuleSet(
        artifact,
        'category',
        categoryIds.length,
        catBaskets,
        Number(extra?.categoryRulesFound ?? 0),
      );
      category = { itemCategory, categoryIds, rules: catRules };
    }
    return new AssocModel(info, itemIds, params, rules, category);
  }

  toArtifact(): Artifact {
    const r = this.rules;
    const extra: JsonObject = { baskets: r.baskets, rulesFound: r.rulesFound };
    const arrays: Artifact['arrays'] = {
      itemCounts: r.itemCounts,
      rulePtr: r.ptr,
      ruleItem: r.consequent,
      ruleCount: r.pairCount,
    };
    const c = this.category;
    if (c) {
      extra.categoryIds = [...c.categoryIds];
      extra.categoryBaskets = c.rules.baskets;
      extra.categoryRulesFound = c.rules.rulesFound;
      arrays.itemCategory = c.itemCategory;
      arrays.categoryItemCounts = c.rules.itemCounts;
      arrays.categoryRulePtr = c.rules.ptr;
      arrays.categoryRuleItem = c.rules.consequent;
      arrays.categoryRuleCount = c.rules.pairCount;
    }
    return { header: { info: this.info, itemIds: this.itemIds, extra }, arrays };
  }

  /** The item-level rules (do not modify). */
  get ruleSet(): Readonly<RuleSet> {
    return this.rules;
  }

  /** The category-level rules, when categories were given at fit time (do not modify). */
  get categoryRules(): Readonly<CategoryRules> | null {
    return this.category;
  }

  /** The rules A → B of item A, best first by `by` (default `rankBy`), with their measures. */
  rulesFor(itemIndex: number, by: RuleRanking = this.params.rankBy): AssocRule[] {
    return rankRules(rulesOf(this.rules, itemIndex), by);
  }

  /** The rules between the category and other categories, best first by `by` (default `rankBy`). */
  categoryRulesFor(categoryIndex: number, by: RuleRanking = this.params.rankBy): AssocRule[] {
    return this.category ? rankRules(rulesOf(this.category.rules, categoryIndex), by) : [];
  }

  /** The consequents of the item's rules, best first by `rankBy`, scored by that measure. */
  similarItems(itemIndex: number, k: number): TopK | null {
    if (!Number.isInteger(itemIndex) || itemIndex < 0 || itemIndex >= this.itemIds.length) return null;
    const by = this.params.rankBy;
    const rules = this.rulesFor(itemIndex, by).slice(0, Math.max(0, Math.floor(k)));
    return {
      indices: Int32Array.from(rules, (r) => r.consequent),
      scores: Float32Array.from(rules, (r) => r[by]),
    };
  }

  score(ctx: ScoringContext, out: Float32Array): void {
    const n = this.itemIds.length;
    out.fill(-Infinity, 0, n);
    const count = this.pickHistory(ctx.history);
    const { ptr, consequent } = this.rules;
    const by = this.params.scoreBy;
    const sum = this.params.aggregate === 'sum';
    for (let t = 0; t < count; t++) {
      const h = this.picked[t];
      for (let p = ptr[h], end = ptr[h + 1]; p < end; p++) {
        const c = consequent[p];
        const v = this.measure(h, p, by);
        const cur = out[c];
        if (sum) out[c] = cur === -Infinity ? v : cur + v;
        else if (v > cur) out[c] = v;
      }
    }
    if (this.category && this.catScore && this.params.categoryWeight > 0) this.backOff(count, out);
  }

  /** Fills items without item-level evidence from the category rules of the history's categories. */
  private backOff(count: number, out: Float32Array): void {
    const { itemCategory, rules } = this.category as CategoryRules;
    const cs = this.catScore as Float32Array;
    const by = this.params.scoreBy;
    cs.fill(0);
    let any = false;
    for (let t = 0; t < count; t++) {
      const g = itemCategory[this.picked[t]];
      if (g < 0) continue;
      for (let p = rules.ptr[g], end = rules.ptr[g + 1]; p < end; p++) {
        const v = measureOf(rules, g, p, by);
        const c = rules.consequent[p];
        if (v > cs[c]) cs[c] = v;
        any = true;
      }
    }
    if (!any) return;
    const w = this.params.categoryWeight;
    const itemCounts = this.rules.itemCounts;
    const catCounts = rules.itemCounts;
    for (let i = 0; i < out.length; i++) {
      if (out[i] !== -Infinity) continue;
      const g = itemCategory[i];
      if (g < 0 || !(cs[g] > 0)) continue;
      const share = by === 'confidence' ? (catCounts[g] > 0 ? itemCounts[i] / catCounts[g] : 0) : 1;
      if (share > 0) out[i] = w * cs[g] * share;
    }
  }

  /** The `k` best items for a cart (most recent first), the cart's own items excluded. */
  cartRecommendations(cartItems: ArrayLike<number>, k: number): TopK {
    const n = this.itemIds.length;
    if (!this.cartOut) this.cartOut = new Float32Array(n);
    const history = Int32Array.from(cartItems);
    this.score(
      { userIndex: -1, history, historyWeights: new Float32Array(history.length).fill(1) },
      this.cartOut,
    );
    const exclude = new Uint8Array(n);
    for (let e = 0; e < history.length; e++) if (history[e] >= 0 && history[e] < n) exclude[history[e]] = 1;
    return topK(this.cartOut, k, exclude);
  }

  /** The history items whose rules point to the item, with the measure of each rule, largest first. */
  explain(ctx: ScoringContext, itemIndex: number, max: number): Contribution[] {
    if (!Number.isInteger(itemIndex) || itemIndex < 0 || itemIndex >= this.itemIds.length || !(max >= 1)) {
      return [];
    }
    const count = this.pickHistory(ctx.history);
    const { ptr, consequent } = this.rules;
    const out: Contribution[] = [];
    for (let t = 0; t < count; t++) {
      const h = this.picked[t];
      for (let p = ptr[h], end = ptr[h + 1]; p < end; p++) {
        if (consequent[p] !== itemIndex) continue;
        out.push({ itemIndex: h, weight: this.measure(h, p, this.params.scoreBy) });
        break;
      }
    }
    out.sort((a, b) => b.weight - a.weight || a.itemIndex - b.itemIndex);
    return out.slice(0, Math.floor(max));
  }

  /** Takes the most recent distinct valid history items into `picked`; returns how many. */
  private pickHistory(history: Int32Array): number {
    const n = this.itemIds.length;
    const limit = this.picked.length;
    let count = 0;
    for (let e = 0; e < history.length && count < limit; e++) {
      const h = history[e];
      if (h < 0 || h >= n || this.seen[h]) continue;
      this.seen[h] = 1;
      this.picked[count++] = h;
    }
    for (let t = 0; t < count; t++) this.seen[this.picked[t]] = 0;
    return count;
  }

  private measure(a: number, p: number, by: RuleRanking): number {
    return measureOf(this.rules, a, p, by);
  }
}

function measureOf(rules: RuleSet, a: number, p: number, by: RuleRanking): number {
  const nAB = rules.pairCount[p];
  const nA = rules.itemCounts[a];
  if (by === 'confidence') return nAB / nA;
  return (nAB * rules.baskets) / (nA * rules.itemCounts[rules.consequent[p]]);
}

function readRuleSet(artifact: Artifact, prefix: string, n: number, baskets: number, found: number): RuleSet {
  const name = (s: string): string => (prefix ? prefix + s[0].toUpperCase() + s.slice(1) : s);
  if (!(Number.isInteger(baskets) && baskets >= 0)) {
    throw new ArtifactError(`assoc artifact: missing basket count${prefix ? ` (${prefix})` : ''}`);
  }
  const itemCounts = requireArray(artifact, name('itemCounts'), Int32Array, n);
  const ptr = requireArray(artifact, name('rulePtr'), Int32Array, n + 1);
  const nnz = ptr[n];
  const consequent = requireArray(artifact, name('ruleItem'), Int32Array, nnz);
  const pairCount = requireArray(artifact, name('ruleCount'), Int32Array, nnz);
  if (ptr[0] !== 0) throw new ArtifactError('assoc artifact: rule offsets must start at 0');
  for (let i = 0; i < n; i++) {
    if (ptr[i + 1] < ptr[i]) throw new ArtifactError('assoc artifact: rule offsets are not monotone');
  }
  for (let p = 0; p < nnz; p++) {
    if (consequent[p] < 0 || consequent[p] >= n)
      throw new ArtifactError('assoc artifact: rule item out of range');
    if (!(pairCount[p] > 0)) throw new ArtifactError('assoc artifact: rule count must be positive');
  }
  return { baskets, itemCounts, ptr, consequent, pairCount, rulesFound: found };
}

/** The `assoc` model family, for the registry. */
export const assocFamily = {
  name: AssocModel.modelName,
  resolveParams: (p?: Params) => AssocModel.resolveParams(p),
  fit: async (data: InteractionData, p?: Params) => AssocModel.fit(data, p),
  fromArtifact: (a: Artifact) => AssocModel.fromArtifact(a),
  searchSpace: AssocModel.searchSpace,
} satisfies ModelFamily;
