/**
 * The ranker used before there is an impression log to learn from: a weighted fusion of the
 * candidate sources' scores plus small popularity and recency priors.
 *
 * score = Σ_s weight_s · g_s + popularityWeight · ln(1 + count) / ln(1 + largest count in the
 * request) + recencyWeight · 2^(−age days / recencyHalfLifeDays)
 *
 * where g_s is, among the candidates not removed that source s proposed:
 * - `rrf` (default): (k + 1) / (k + 1 + r) for the candidate at rank r (0 = best), 1 for the
 *   best, reciprocal-rank fusion scaled so each source brings at most its weight;
 * - `minmax`: (score − min) / (max − min), 1 when all are equal;
 * and 0 for a candidate the source did not propose.
 *
 * With a `primary` source, the primary keeps its order (`keepPrimaryOrder`, default true): the
 * fused scores of the candidates it proposed are handed back to them sorted, in the primary's
 * own order, so the others only decide where the candidates the primary did not propose slot
 * in. Source weights default to 1, and to 0.5 for the sources other than a primary, so by
 * default a candidate only another source proposed enters the list below the primary's head.
 */
import type { Catalog } from '../catalog.js';
import type { CandidateSet, Ranker, RequestContext } from '../types.js';
import type { ItemStats } from './features.js';
import {
  growFloat64,
  growInt32,
  setSourceCount,
  sortSlotsDescending,
  sourceRange,
  sourceRanks,
} from './source-ranks.js';

const DAY_MS = 86_400_000;

export type BlendMethod = 'rrf' | 'minmax';

export interface BlendRankerOptions {
  /** Source names in the column order of `CandidateSet.sourceScores`. */
  sources: readonly string[];
  /** Weight per source name (see the defaults above). */
  weights?: Readonly<Record<string, number>>;
  /** The source whose order is the base, when there is one. */
  primary?: string | null;
  /** Keep the primary's order among the candidates it proposed (default true). */
  keepPrimaryOrder?: boolean;
  method?: BlendMethod;
  /** k of reciprocal-rank fusion (default 60). */
  rrfK?: number;
  /** Weight of the popularity prior (default 0.02); needs `stats`. */
  popularityWeight?: number;
  /** Weight of the recency prior (default 0.01). */
  recencyWeight?: number;
  recencyHalfLifeDays?: number;
  stats?: ItemStats | null;
}

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);

/** The largest float32 below x (x finite). */
function nextFloat32Down(x: number): number {
  f32[0] = x;
  if (f32[0] === 0) return -1.401298464324817e-45;
  i32[0] += f32[0] > 0 ? -1 : 1;
  return f32[0];
}

export class BlendRanker implements Ranker {
  readonly name = 'blend';
  readonly weights: Float64Array;
  readonly primary: number;
  private readonly keepPrimaryOrder: boolean;
  private readonly method: BlendMethod;
  private readonly k: number;
  private readonly popularityWeight: number;
  private readonly recencyWeight: number;
  private readonly halfLifeDays: number;
  private stats: ItemStats | null;

  private ranks: Int32Array = new Int32Array(0);
  private sorted: Float64Array = new Float64Array(0);
  private fused: Float64Array = new Float64Array(0);
  private primarySlots: Int32Array = new Int32Array(0);
  private primaryOrder: Int32Array = new Int32Array(0);
  private cursor: Int32Array = new Int32Array(0);
  private readonly range = new Float64Array(2);

  constructor(
    readonly catalog: Catalog,
    options: BlendRankerOptions,
  ) {
    const sources = options.sources;
    this.primary = options.primary ? sources.indexOf(options.primary) : -1;
    if (options.primary && this.primary < 0)
      throw new Error(`primary source '${options.primary}' is not a source`);
    for (const name of Object.keys(options.weights ?? {}))
      if (!sources.includes(name)) throw new Error(`weight for unknown source '${name}'`);
    this.weights = Float64Array.from(sources, (s, i) => {
      const given = options.weights?.[s];
      if (given !== undefined) return given;
      return this.primary >= 0 && i !== this.primary ? 0.5 : 1;
    });
    this.keepPrimaryOrder = this.primary >= 0 && (options.keepPrimaryOrder ?? true);
    this.method = options.method ?? 'rrf';
    this.k = options.rrfK ?? 60;
    this.popularityWeight = options.popularityWeight ?? 0.02;
    this.recencyWeight = options.recencyWeight ?? 0.01;
    this.halfLifeDays = options.recencyHalfLifeDays ?? 30;
    this.stats = options.stats ?? null;
  }

  setStats(stats: ItemStats | null): void {
    this.stats = stats;
  }

  rank(ctx: RequestContext, set: CandidateSet): void {
    const n = set.size;
    this.fused = growFloat64(this.fused, n);
    this.ranks = growInt32(this.ranks, n);
    this.sorted = growFloat64(this.sorted, n);
    const fused = this.fused;
    fused.fill(0, 0, n);
    const S = Math.min(this.weights.length, setSourceCount(set));
    const cap = set.items.length;
    let proposing = 0;
    for (let j = 0; j < n; j++) proposing |= set.sources[j];
    for (let s = 0; s < S; s++) {
      const w = this.weights[s];
      // A source that proposed nothing adds nothing.
      if (w === 0 || (proposing & (1 << s)) === 0) continue;
      if (this.method === 'rrf') {
        sourceRanks(set, s, this.ranks, this.sorted);
        const k1 = this.k + 1;
        for (let j = 0; j < n; j++) {
          const r = this.ranks[j];
          if (r >= 0) fused[j] += (w * k1) / (k1 + r);
        }
      } else {
        sourceRange(set, s, this.range);
        const lo = this.range[0];
        const span = this.range[1] - lo;
        const base = s * cap;
        for (let j = 0; j < n; j++) {
          const v = set.sourceScores[base + j];
          if (v === v && set.removed[j] === 0) fused[j] += w * (span > 0 ? (v - lo) / span : 1);
        }
      }
    }

    // Priors.
    const stats = this.stats;
    if (stats && this.popularityWeight !== 0) {
      let maxCount = 0;
      for (let j = 0; j < n; j++) {
        const it = set.items[j];
        if (set.removed[j] === 0 && it < stats.count.length && stats.count[it] > maxCount)
          maxCount = stats.count[it];
      }
      if (maxCount > 0) {
        const scale = this.popularityWeight / Math.log1p(maxCount);
        for (let j = 0; j < n; j++) {
          const it = set.items[j];
          if (it < stats.count.length) fused[j] += scale * Math.log1p(Math.max(0, stats.count[it]));
        }
      }
    }
    if (this.recencyWeight !== 0) {
      const cat = this.catalog;
      const perDay = 1 / (this.halfLifeDays * DAY_MS);
      for (let j = 0; j < n; j++) {
        const it = set.items[j];
        if (it < 0 || it >= cat.size) continue;
        const t = cat.publishedAt[it];
        if (t === t) fused[j] += this.recencyWeight * Math.pow(2, -Math.max(0, ctx.now - t) * perDay);
      }
    }

    for (let j = 0; j < n; j++) if (set.removed[j] === 0) set.score[j] = fused[j];
    if (this.keepPrimaryOrder && this.primary < S) this.restorePrimaryOrder(set);
  }

  /** Hands the fused scores of the primary's candidates back to them in the primary's order. */
  private restorePrimaryOrder(set: CandidateSet): void {
    const n = set.size;
    const bit = 1 << this.primary;
    this.primarySlots = growInt32(this.primarySlots, n);
    this.primaryOrder = growInt32(this.primaryOrder, n);
    this.cursor = growInt32(this.cursor, n);
    const slots = this.primarySlots;
    let m = 0;
    const base = this.primary * set.items.length;
    for (let j = 0; j < n; j++) {
      const v = set.sourceScores[base + j];
      if (set.removed[j] === 0 && (set.sources[j] & bit) !== 0 && v === v) slots[m++] = j;
    }
    if (m < 2) return;
    const primaryScores = set.sourceScores.subarray(base, base + set.items.length);
    sortSlotsDescending(primaryScores, slots, m, this.sorted, this.cursor, this.primaryOrder);
    const order = this.primaryOrder;
    const values = this.sorted;
    for (let i = 0; i < m; i++) values[i] = this.fused[slots[i]];
    values.subarray(0, m).sort();
    let prev = Infinity;
    for (let i = 0; i < m; i++) {
      let v = Math.fround(values[m - 1 - i]);
      if (v >= prev) v = nextFloat32Down(prev);
      set.score[order[i]] = v;
      prev = v;
    }
  }
}
