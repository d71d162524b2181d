/**
 * One placement's pipeline: candidate sources → merge → filters → ranker → diversity →
 * business rules → top K with explanations, and a trace of every stage with its timing.
 */
import { applyRules, type CompiledRule, type ScoredCandidate } from './rules/index.js';
import type { Catalog } from './catalog.js';
import { BestSlots } from './best-slots.js';
import { CandidateBuffer } from './candidates.js';
import { catalogNames } from './explain.js';
import type { FeatureExtractor } from './ranking/features.js';
import { LearnedRanker } from './ranking/learned-ranker.js';
import { growInt32 } from './ranking/source-ranks.js';
import type {
  CandidateFilter,
  CandidateSet,
  CandidateSource,
  Explanation,
  ItemNames,
  Ranker,
  RequestContext,
  StageTrace,
} from './types.js';

export interface PlacementSource {
  source: CandidateSource;
  /** Candidates this source may propose per request. */
  limit: number;
  /**
   * When set, a request asks for `max(min, perK × k)` candidates, never more than `limit`: for a
   * source whose cost grows with the number asked for (an ANN search), sized to the list served.
   */
  perK?: { perK: number; min: number };
}

/** How many candidates a source is asked for: its limit and, when set, its per-item sizing. */
export type SourceSizing = Pick<PlacementSource, 'limit' | 'perK'>;

/** Candidates a source is asked for by a request for k items. */
export function sourceLimit(s: SourceSizing, k: number): number {
  if (!s.perK) return s.limit;
  return Math.min(s.limit, Math.max(s.perK.min, Math.ceil(s.perK.perK * k)));
}

/** Re-orders the best candidates (MMR, category caps); returns candidate slots, best first. */
export type Diversifier = (ctx: RequestContext, set: CandidateSet, order: Int32Array) => Int32Array;

export interface PipelineStages {
  placement: string;
  sources: PlacementSource[];
  filters: CandidateFilter[];
  ranker: Ranker;
  diversify?: Diversifier;
  /** The rules in force now for the request's placement (re-read per request, so edits apply at once). */
  rules?: (placement: string) => readonly CompiledRule[];
  /** How many ranked candidates go on to diversity and rules (default max(100, 5 K)). */
  shortlist?: number;
  /**
   * Ranker features of the served items, for the log a learned ranker is trained on. When the
   * ranker is a LearnedRanker over this extractor, its rows are reused.
   */
  features?: FeatureExtractor;
}

export interface PipelineItem {
  item: number;
  itemId: string;
  score: number;
  /** Names of the sources that proposed the item. */
  sources: string[];
  explanations: Explanation[];
}

export interface PipelineResult {
  items: PipelineItem[];
  /** Feature rows of `items` (row-major), when the placement logs features. */
  features: { names: readonly string[]; rows: Float32Array } | null;
  /** Candidates proposed per source. */
  contributed: Record<string, number>;
  trace: StageTrace[];
}

interface RuleCandidate extends ScoredCandidate {
  slot: number;
}

export class Pipeline {
  private readonly buffer: CandidateBuffer;
  private readonly names: ItemNames;
  private readonly best = new BestSlots();
  /** Slots of the items served by the current request, in list order. */
  private served: Int32Array = new Int32Array(16);

  constructor(
    private readonly catalog: Catalog,
    private readonly stages: PipelineStages,
  ) {
    this.buffer = new CandidateBuffer(catalog.size, stages.sources.length);
    this.names = catalogNames(catalog);
  }

  get placement(): string {
    return this.stages.placement;
  }

  get sourceNames(): string[] {
    return this.stages.sources.map((s) => s.source.name);
  }

  run(ctx: RequestContext): PipelineResult {
    const trace: StageTrace[] = [];
    const set = this.buffer;
    set.reset();
    let t = performance.now();
    const stamp = (stage: string, detail?: Record<string, unknown>): void => {
      const now = performance.now();
      trace.push({ stage, ms: now - t, candidates: set.alive(), ...(detail ? { detail } : {}) });
      t = now;
    };

    const contributed: Record<string, number> = {};
    this.stages.sources.forEach((s, j) => {
      contributed[s.source.name] = s.source.generate(ctx, sourceLimit(s, ctx.k), (item, score) =>
        set.add(j, item, score),
      );
    });
    stamp('candidates', { ...contributed });

    const removedBy: Record<string, number> = {};
    for (const f of this.stages.filters) removedBy[f.name] = f.apply(ctx, set);
    stamp('filters', removedBy);

    this.stages.ranker.rank(ctx, set);
    const shortlist = this.stages.shortlist ?? Math.max(100, 5 * ctx.k);
    let order = this.best.select(set, shortlist);
    stamp('rank', { ranker: this.stages.ranker.name });

    if (this.stages.diversify) {
      order = this.stages.diversify(ctx, set, order);
      stamp('diversity');
    }

    const rules = this.stages.rules?.(ctx.placement) ?? [];
    if (rules.length > 0) {
      const candidates: RuleCandidate[] = Array.from(order, (slot) => ({
        slot,
        itemId: this.catalog.itemIds[set.items[slot]],
        score: set.score[slot],
      }));
      const outcome = applyRules(candidates, {
        rules,
        item: (c) => this.catalog.item(set.items[c.slot]),
        user: { id: ctx.userId, attributes: ctx.user as Record<string, unknown> },
        context: {
          placement: ctx.placement,
          now: ctx.now,
          attributes: ctx.context as Record<string, unknown>,
        },
        trace: ctx.debug,
      });
      order = Int32Array.from(outcome.candidates, (c) => c.slot);
      for (const c of outcome.candidates) set.score[c.slot] = c.score;
      stamp('rules', ctx.debug ? { applied: outcome.trace } : { rules: rules.length });
    }

    const items: PipelineItem[] = [];
    for (let r = 0; r < order.length && items.length < ctx.k; r++) {
      const slot = order[r];
      const item = set.items[slot];
      this.served = growInt32(this.served, items.length + 1);
      this.served[items.length] = slot;
      items.push({
        item,
        itemId: this.catalog.itemIds[item],
        score: set.score[slot],
        sources: this.sourcesOf(set.sources[slot]),
        explanations: this.explain(ctx, item, set.sources[slot]),
      });
    }
    stamp('explain');
    const served = this.served;
    let features: PipelineResult['features'] = null;
    const fx = this.stages.features;
    if (fx && items.length > 0) {
      const ranker = this.stages.ranker;
      const F = fx.featureCount;
      const rows = new Float32Array(items.length * F);
      if (ranker instanceof LearnedRanker && ranker.extractor === fx) {
        // The ranker extracted every candidate's row: copy the served ones.
        for (let r = 0; r < items.length; r++) fx.copyRow(served[r], rows.subarray(r * F, r * F + F));
      } else fx.extractRows(ctx, set, served, items.length, rows);
      features = { names: fx.featureNames, rows };
      stamp('features');
    }
    return { items, contributed, trace, features };
  }

  private sourcesOf(bits: number): string[] {
    const out: string[] = [];
    const sources = this.stages.sources;
    for (let j = 0; j < sources.length; j++) if (bits & (1 << j)) out.push(sources[j].source.name);
    return out;
  }

  /** One reason per proposing source, in the placement's source order, duplicates dropped, two at most. */
  private explain(ctx: RequestContext, item: number, bits: number): Explanation[] {
    const out: Explanation[] = [];
    const sources = this.stages.sources;
    for (let j = 0; j < sources.length && out.length < 2; j++) {
      const source = sources[j].source;
      if (!(bits & (1 << j)) || !source.explain) continue;
      const e = source.explain(ctx, item, this.names);
      if (e && !(out.length > 0 && out[0].text === e.text)) out.push(e);
    }
    return out;
  }
}

/** The `n` best candidate slots by score (removed ones left out), best first; ties by slot. */
export function bestSlots(set: CandidateSet, n: number): Int32Array {
  return new BestSlots().select(set, n);
}
