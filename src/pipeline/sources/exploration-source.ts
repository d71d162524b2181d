/**
 * Exploration for new items: fresh items (published within `maxAgeDays`, fewer than
 * `maxImpressions` impressions) compete for a bounded share of every list, one slot in `every`,
 * by Thompson sampling. Each request draws, per fresh item, θ ~ Beta(clicks + 1, impressions −
 * clicks + 1) and proposes the items with the highest draws (score θ). Items that click well
 * draw high more often and take the slot more often; items nobody has seen yet draw from the
 * uniform prior, so each gets its turn and collects feedback.
 *
 * The ranker orders candidates by relevance, so the share needs a step after ranking that
 * guarantees it: `reserveSlots` (or `slotReserver`, shaped like the pipeline's `Diversifier`)
 * puts the best-drawn exploration candidates at the reserved positions and keeps every item
 * only this source proposed out of the other positions. Fresh items other sources proposed too
 * keep their place on merit.
 */
import { Rng } from '../../ingest/prng.js';
import type { EventBatch } from '../../store/store.js';
import type { Catalog } from '../catalog.js';
import type { Diversifier } from '../pipeline.js';
import { sourceScore } from '../ranking/source-ranks.js';
import type { CandidateSet, CandidateSource, Explanation, ItemNames, RequestContext } from '../types.js';
import { TopPicker } from './top.js';

const DAY_MS = 86_400_000;

export interface ExplorationOptions {
  /** Items published at most this many days before the request are fresh (default 14). */
  maxAgeDays?: number;
  /** Items with this many impressions or more are not fresh any more (default 1000). */
  maxImpressions?: number;
  /** One reserved slot per `every` positions of the list (default 10). */
  every?: number;
  /** 1-based position of the reserved slot within each block of `every` (default `every`: last). */
  at?: number;
  /** Seed of the sampler (default: from the clock); the same seed gives the same draws. */
  seed?: number;
  /** Event types counted as impressions and as clicks by `observeEvents`. */
  impressionTypes?: readonly string[];
  clickTypes?: readonly string[];
}

/** A Gamma(shape, 1) draw (Marsaglia and Tsang; shape < 1 through the boost Gamma(shape + 1)·U^(1/shape)). */
export function sampleGamma(rng: Rng, shape: number): number {
  if (shape < 1) return sampleGamma(rng, shape + 1) * Math.pow(1 - rng.next(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.next();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** A Beta(a, b) draw. */
export function sampleBeta(rng: Rng, a: number, b: number): number {
  const x = sampleGamma(rng, a);
  const y = sampleGamma(rng, b);
  return x / (x + y);
}

export class ExplorationSource implements CandidateSource {
  /** Impressions and clicks observed per item index. */
  readonly impressions: Float64Array;
  readonly clicks: Float64Array;
  private readonly rng: Rng;
  private readonly picker = new TopPicker();
  private readonly maxAgeMs: number;
  private readonly maxImpressions: number;
  readonly every: number;
  readonly at: number;
  private readonly impressionTypes: ReadonlySet<string>;
  private readonly clickTypes: ReadonlySet<string>;

  constructor(
    private readonly catalog: Catalog,
    options: ExplorationOptions = {},
    readonly name = 'exploration',
  ) {
    this.impressions = new Float64Array(catalog.size);
    this.clicks = new Float64Array(catalog.size);
    this.rng = new Rng(options.seed ?? Date.now());
    this.maxAgeMs = (options.maxAgeDays ?? 14) * DAY_MS;
    this.maxImpressions = options.maxImpressions ?? 1000;
    this.every = Math.max(1, Math.floor(options.every ?? 10));
    this.at = Math.min(this.every, Math.max(1, Math.floor(options.at ?? this.every)));
    this.impressionTypes = new Set(options.impressionTypes ?? ['impression']);
    this.clickTypes = new Set(options.clickTypes ?? ['click']);
  }

  /** Adds observed impressions and clicks of an item (clicks beyond impressions count as impressions too). */
  observe(item: number, impressions: number, clicks: number): void {
    if (item < 0 || item >= this.impressions.length) return;
    this.impressions[item] += impressions;
    this.clicks[item] += clicks;
  }

  /** Counts the impression and click events of a columnar batch (e.g. from `Store.scanEvents`). */
  observeEvents(batch: EventBatch): void {
    for (let e = 0; e < batch.length; e++) {
      const t = batch.types[e];
      const impression = this.impressionTypes.has(t);
      const click = this.clickTypes.has(t);
      if (!impression && !click) continue;
      const i = this.catalog.indexOf.get(batch.itemIds[e]);
      if (i !== undefined) this.observe(i, impression ? 1 : 0, click ? 1 : 0);
    }
  }

  /** Takes over the counts of the source of an earlier catalogue snapshot, by item id. */
  carryOver(previous: ExplorationSource): void {
    previous.catalog.itemIds.forEach((id, j) => {
      const i = this.catalog.indexOf.get(id);
      if (i !== undefined && j < previous.impressions.length)
        this.observe(i, previous.impressions[j], previous.clicks[j]);
    });
  }

  /** Whether the item is fresh at `now`: available, recently published, rarely shown. */
  isFresh(item: number, now: number): boolean {
    const c = this.catalog;
    const t = c.publishedAt[item];
    return (
      c.available[item] === 1 &&
      Number.isFinite(t) &&
      now - t <= this.maxAgeMs &&
      t <= now &&
      this.impressions[item] < this.maxImpressions
    );
  }

  generate(ctx: RequestContext, limit: number, add: (item: number, score: number) => void): number {
    const n = Math.min(this.catalog.size, this.impressions.length);
    this.picker.begin(limit);
    for (let i = 0; i < n; i++) {
      if (!this.isFresh(i, ctx.now)) continue;
      const shown = this.impressions[i];
      const clicked = Math.min(this.clicks[i], shown);
      this.picker.push(i, sampleBeta(this.rng, clicked + 1, shown - clicked + 1));
    }
    return this.picker.drain(add);
  }

  explain(_ctx: RequestContext, item: number, names: ItemNames): Explanation | null {
    const category = names.category(item);
    return category === null
      ? { kind: 'new', text: 'New: just added' }
      : { kind: 'new', text: `New: just added to ${category}`, category };
  }

  /**
   * How many slots a list of `k` reserves: one per `every` positions, and for the remainder one
   * more with probability remainder / every, so the expected share is exactly k / every.
   */
  slotsFor(k: number): number {
    const whole = Math.floor(k / this.every);
    const rest = k - whole * this.every;
    return whole + (rest > 0 && this.rng.next() < rest / this.every ? 1 : 0);
  }

  /**
   * Reorders ranked candidate slots (`order`, best first) so the first `k` hold the reserved
   * exploration slots: the exploration candidates (source column `sourceIndex`) with the best
   * draws that are not already among the first `k` on merit go to position `at`, `every + at`,
   * ... of the list; candidates only this source proposed appear nowhere else. Returns the new
   * order (the rest of the shortlist follows the first `k`).
   */
  reserveSlots(set: CandidateSet, order: Int32Array, sourceIndex: number, k: number): Int32Array {
    const bit = 1 << sourceIndex;
    const organic: number[] = [];
    for (const s of order) if (set.sources[s] !== bit) organic.push(s);
    const head = new Set(organic.slice(0, k));
    const pool: number[] = [];
    for (let s = 0; s < set.size; s++)
      if ((set.sources[s] & bit) !== 0 && !set.removed[s] && !head.has(s)) pool.push(s);
    const reserved = Math.min(this.slotsFor(k), pool.length, k);
    if (reserved === 0) return Int32Array.from(organic);
    pool.sort((a, b) => sourceScore(set, sourceIndex, b) - sourceScore(set, sourceIndex, a) || a - b);
    const out = organic.slice();
    for (let m = 0; m < reserved; m++) {
      const position = Math.min(m * this.every + this.at - 1, k - reserved + m, out.length);
      out.splice(position, 0, pool[m]);
    }
    return Int32Array.from(out);
  }

  /** `reserveSlots` as a post-ranking stage of a pipeline whose source `sourceIndex` is this one. */
  slotReserver(sourceIndex: number): Diversifier {
    return (ctx, set, order) => this.reserveSlots(set, order, sourceIndex, ctx.k);
  }
}

/** Runs post-ranking stages one after the other (e.g. diversity, then the exploration slots). */
export function chainStages(...stages: (Diversifier | undefined)[]): Diversifier | undefined {
  const present = stages.filter((d): d is Diversifier => d !== undefined);
  if (present.length <= 1) return present[0];
  return (ctx, set, order) => {
    let out = order;
    for (const d of present) out = d(ctx, set, out);
    return out;
  };
}
