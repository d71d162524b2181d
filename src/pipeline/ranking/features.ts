/**
 * Ranking features: one dense row of named numbers per candidate, written row-major into a
 * Float32Array (candidates x featureCount), the input of the learned ranker and what is logged
 * with each impression to train it.
 *
 * Features, in order (`featureNames` lists them):
 *
 * - `source:<name>`: the source's score normalised within the request, over the candidates not
 *   removed: `rank` (default) gives 1 − r/n for the candidate at rank r (0 = best, ties share the
 *   better rank) among the n the source proposed; `zscore` gives (score − mean) / std. 0 where
 *   the source did not propose the candidate.
 * - `source:<name>:proposed`: 1 when the source proposed the candidate.
 * - `sources:share`: the share of the sources that proposed the candidate.
 * - `popularity:log_count`: ln(1 + count) from `ItemStats.count`; one `popularity:log_count_<w>`
 *   per declared window; `popularity:ctr` when click-through rates are given (0 when unknown).
 * - `recency:log_age_days`: ln(1 + days since `publishedAt`, 0 for future items);
 *   `recency:unknown` is 1 when the item has no date (the age feature is then 0).
 * - `price:log`: ln(1 + price); `price:log_rel_user`: ln(1 + price) − ln(1 + mean price of the
 *   items in the user's history that have one), 0 when either is unknown; `price:unknown`.
 * - `affinity:category`: the largest share, over the item's categories, of the user's history
 *   entries that are in that category (an entry in several categories counts in each); 0 for an
 *   empty history or an item without categories.
 * - `anchor:same_category`: 1 when the item shares a category with the request's anchor item.
 * - `context:<key>=<value>`: one-hot of declared request-context keys (a value not declared
 *   sets none of them); `hour:<from>-<to>`: one-hot of the hour of day in buckets, from a numeric
 *   `context.hour` when given, else from the request time shifted by the configured UTC offset.
 *
 * An extractor is made once per placement; it keeps its scratch buffers (grown on demand), so a
 * request allocates nothing but a few typed-array views.
 */
import type { Catalog } from '../catalog.js';
import type { CandidateSet, RequestContext } from '../types.js';
import {
  growFloat32,
  growFloat64,
  growInt32,
  setSourceCount,
  sourceMoments,
  sourceRanks,
} from './source-ranks.js';

const DAY_MS = 86_400_000;
const NO_WINDOWS: readonly ItemCountWindow[] = [];

/** Interaction counts of one recent time window, by item index. */
export interface ItemCountWindow {
  /** Short name used in the feature name, e.g. `24h`, `7d`. */
  name: string;
  counts: Float32Array;
}

/**
 * Per-item statistics by item index. Arrays shorter than the catalogue read as 0 beyond their
 * end (items newer than the statistics).
 */
export interface ItemStats {
  /** Interactions per item over the whole history. */
  count: Float32Array;
  /** Interactions per item in recent windows. */
  windows?: readonly ItemCountWindow[];
  /** Clicks per impression of each item, NaN where unknown. */
  ctr?: Float32Array;
}

/** A request-context key turned into one-hot features over declared values. */
export interface ContextFeatureSpec {
  key: string;
  values: readonly string[];
}

export type SourceNormalisation = 'rank' | 'zscore';

export interface FeatureExtractorOptions {
  /** Source names in the column order of `CandidateSet.sourceScores` (bit s = source s). */
  sources: readonly string[];
  /** How source scores are made comparable within a request (default `rank`). */
  sourceNormalisation?: SourceNormalisation;
  /** Item statistics; their shape (windows, ctr) fixes the popularity features. */
  stats?: ItemStats | null;
  /** Request-context keys to one-hot encode. */
  context?: readonly ContextFeatureSpec[];
  /** One-hot of the hour of day in `buckets` equal buckets (24 must be a multiple); off when absent. */
  hourOfDay?: { buckets: number; utcOffsetMinutes?: number } | null;
}

function windowShape(stats: ItemStats | null | undefined): string {
  if (!stats) return 'none';
  return `${(stats.windows ?? []).map((w) => w.name).join(',')}|${stats.ctr ? 'ctr' : ''}`;
}

function statAt(a: Float32Array, item: number): number {
  return item < a.length ? a[item] : 0;
}

export class FeatureExtractor {
  readonly featureNames: readonly string[];
  readonly featureCount: number;
  readonly sources: readonly string[];

  private stats: ItemStats | null;
  private readonly shape: string;
  private readonly normalisation: SourceNormalisation;
  private readonly contextSpecs: readonly ContextFeatureSpec[];
  private readonly hourBuckets: number;
  private readonly utcOffsetMs: number;

  // Column offsets.
  private readonly colSources = 0;
  private readonly colShare: number;
  private readonly colPop: number;
  private readonly colCtr: number;
  private readonly colRecency: number;
  private readonly colPrice: number;
  private readonly colAffinity: number;
  private readonly colAnchor: number;
  private readonly colContext: number;
  private readonly colHour: number;

  // Scratch.
  private out: Float32Array = new Float32Array(0);
  private rank: Int32Array = new Int32Array(0);
  private sorted: Float64Array = new Float64Array(0);
  private readonly moments = new Float64Array(2);
  private categoryShare: Float64Array;
  private touched: Int32Array = new Int32Array(16);
  private touchedCount = 0;
  private anchorCats: Int32Array = new Int32Array(8);
  private anchorCount = 0;
  /** ln(1 + mean price) of the history (NaN when none is priced), 1 / history entries (0 when none). */
  private logUserPrice = NaN;
  private invEntries = 0;

  constructor(
    readonly catalog: Catalog,
    options: FeatureExtractorOptions,
  ) {
    this.sources = [...options.sources];
    if (this.sources.length > 32) throw new RangeError('at most 32 candidate sources');
    this.normalisation = options.sourceNormalisation ?? 'rank';
    this.stats = options.stats ?? null;
    this.shape = windowShape(this.stats);
    this.contextSpecs = (options.context ?? []).map((c) => ({ key: c.key, values: [...c.values] }));
    const hour = options.hourOfDay ?? null;
    this.hourBuckets = hour ? hour.buckets : 0;
    if (this.hourBuckets !== 0 && (!Number.isInteger(this.hourBuckets) || 24 % this.hourBuckets !== 0))
      throw new RangeError('hourOfDay.buckets must divide 24');
    this.utcOffsetMs = (hour?.utcOffsetMinutes ?? 0) * 60_000;

    const names: string[] = [];
    for (const s of this.sources) names.push(`source:${s}`, `source:${s}:proposed`);
    this.colShare = names.length;
    names.push('sources:share');
    this.colPop = names.length;
    names.push('popularity:log_count');
    for (const w of this.stats?.windows ?? []) names.push(`popularity:log_count_${w.name}`);
    this.colCtr = this.stats?.ctr ? names.length : -1;
    if (this.stats?.ctr) names.push('popularity:ctr');
    this.colRecency = names.length;
    names.push('recency:log_age_days', 'recency:unknown');
    this.colPrice = names.length;
    names.push('price:log', 'price:log_rel_user', 'price:unknown');
    this.colAffinity = names.length;
    names.push('affinity:category');
    this.colAnchor = names.length;
    names.push('anchor:same_category');
    this.colContext = names.length;
    for (const c of this.contextSpecs) for (const v of c.values) names.push(`context:${c.key}=${v}`);
    this.colHour = names.length;
    const width = 24 / Math.max(1, this.hourBuckets);
    for (let b = 0; b < this.hourBuckets; b++) {
      names.push(`hour:${String(b * width).padStart(2, '0')}-${String((b + 1) * width).padStart(2, '0')}`);
    }
    this.featureNames = names;
    this.featureCount = names.length;
    this.categoryShare = new Float64Array(catalog.categories.length);
  }

  /** Replaces the item statistics (fresh counts); they must have the same windows and ctr. */
  setStats(stats: ItemStats | null): void {
    if (windowShape(stats) !== this.shape)
      throw new Error('item statistics differ in shape from the ones the extractor was made with');
    this.stats = stats;
  }

  /** Column of a feature by name, -1 when absent. */
  column(name: string): number {
    return this.featureNames.indexOf(name);
  }

  /**
   * Writes the features of every slot of `set` (removed ones included, their source features
   * 0) and returns the row-major buffer: row j (slot j) at `j * featureCount`. The buffer is
   * reused by the next call.
   */
  extract(ctx: RequestContext, set: CandidateSet): Float32Array {
    const F = this.featureCount;
    const n = set.size;
    this.out = growFloat32(this.out, n * F);
    const out = this.out;
    out.fill(0, 0, n * F);
    this.rank = growInt32(this.rank, n);
    this.sorted = growFloat64(this.sorted, n);

    // Sources.
    const S = Math.min(this.sources.length, setSourceCount(set));
    const cap = set.items.length;
    for (let s = 0; s < S; s++) {
      const col = this.colSources + 2 * s;
      const bit = 1 << s;
      if (this.normalisation === 'rank') {
        const count = sourceRanks(set, s, this.rank, this.sorted);
        for (let j = 0; j < n; j++) {
          const r = this.rank[j];
          if (r >= 0) out[j * F + col] = 1 - r / count;
        }
      } else {
        sourceMoments(set, s, this.moments);
        const mean = this.moments[0];
        const sd = this.moments[1];
        const base = s * cap;
        for (let j = 0; j < n; j++) {
          const v = set.sourceScores[base + j];
          if (v === v && set.removed[j] === 0 && sd > 0) out[j * F + col] = (v - mean) / sd;
        }
      }
      for (let j = 0; j < n; j++) if ((set.sources[j] & bit) !== 0) out[j * F + col + 1] = 1;
    }
    for (let j = 0; j < n; j++) this.writeShare(set.sources[j], out, j * F);

    this.prepareUser(ctx);
    for (let j = 0; j < n; j++) this.writeItem(set.items[j], out, j * F, ctx.now);
    this.writeRequest(ctx, out, n);
    return out;
  }

  /**
   * Writes the features of the slots `slots[0..count)` only, row r for slots[r], into `target`
   * (at least count × featureCount): the very values `extract` gives those slots, without the
   * rows of the other candidates. The buffer `copyRow` and `describeRow` read is left as it was.
   */
  extractRows(
    ctx: RequestContext,
    set: CandidateSet,
    slots: ArrayLike<number>,
    count: number,
    target: Float32Array,
  ): void {
    const F = this.featureCount;
    target.fill(0, 0, count * F);
    this.rank = growInt32(this.rank, count);
    this.sorted = growFloat64(this.sorted, count);
    const S = Math.min(this.sources.length, setSourceCount(set));
    for (let s = 0; s < S; s++) {
      const col = this.colSources + 2 * s;
      const bit = 1 << s;
      if (this.normalisation === 'rank') this.writeSourceRankRows(set, s, slots, count, target, col);
      else {
        sourceMoments(set, s, this.moments);
        const mean = this.moments[0];
        const sd = this.moments[1];
        const base = s * set.items.length;
        for (let r = 0; r < count; r++) {
          const j = slots[r];
          const v = set.sourceScores[base + j];
          if (v === v && set.removed[j] === 0 && sd > 0) target[r * F + col] = (v - mean) / sd;
        }
      }
      for (let r = 0; r < count; r++) if ((set.sources[slots[r]] & bit) !== 0) target[r * F + col + 1] = 1;
    }
    for (let r = 0; r < count; r++) this.writeShare(set.sources[slots[r]], target, r * F);

    this.prepareUser(ctx);
    for (let r = 0; r < count; r++) this.writeItem(set.items[slots[r]], target, r * F, ctx.now);
    this.writeRequest(ctx, target, count);
  }

  /**
   * The rank feature of source `s` for the given slots: 1 − r/n with r the number of the
   * source's candidates (not removed) scored strictly higher, n their number, as sourceRanks
   * gives, counted in one pass over the source's column instead of sorting it.
   */
  private writeSourceRankRows(
    set: CandidateSet,
    s: number,
    slots: ArrayLike<number>,
    count: number,
    target: Float32Array,
    col: number,
  ): void {
    const F = this.featureCount;
    const base = s * set.items.length;
    const scores = set.sourceScores;
    const own = this.sorted;
    const higher = this.rank;
    for (let r = 0; r < count; r++) {
      const j = slots[r];
      const v = scores[base + j];
      own[r] = v === v && set.removed[j] === 0 ? v : NaN;
      higher[r] = 0;
    }
    let proposed = 0;
    for (let j = 0; j < set.size; j++) {
      const v = scores[base + j];
      if (v !== v || set.removed[j] !== 0) continue;
      proposed++;
      for (let r = 0; r < count; r++) if (v > own[r]) higher[r]++;
    }
    for (let r = 0; r < count; r++) {
      if (own[r] === own[r]) target[r * F + col] = 1 - higher[r] / proposed;
    }
  }

  /** `sources:share` of a candidate from its source bits. */
  private writeShare(bits: number, out: Float32Array, row: number): void {
    if (this.sources.length === 0) return;
    const inv = 1 / this.sources.length;
    let m = bits >>> 0;
    let c = 0;
    while (m !== 0) {
      m &= m - 1;
      c++;
    }
    out[row + this.colShare] = c * inv;
  }

  /** Per-request user state: the history's category shares, its mean log price, the anchor's categories. */
  private prepareUser(ctx: RequestContext): void {
    const cat = this.catalog;
    const history = ctx.history;
    for (let t = 0; t < this.touchedCount; t++) this.categoryShare[this.touched[t]] = 0;
    this.touchedCount = 0;
    if (this.categoryShare.length < cat.categories.length)
      this.categoryShare = new Float64Array(cat.categories.length);
    let entries = 0;
    let priceSum = 0;
    let priced = 0;
    for (let h = 0; h < history.length; h++) {
      const it = history[h];
      if (it < 0 || it >= cat.size) continue;
      entries++;
      const p = cat.price[it];
      if (p === p && p >= 0) {
        priceSum += p;
        priced++;
      }
      for (let q = cat.categoryPtr[it]; q < cat.categoryPtr[it + 1]; q++) {
        const c = cat.categoryIdx[q];
        if (this.categoryShare[c] === 0) {
          this.touched = growInt32(this.touched, this.touchedCount + 1);
          this.touched[this.touchedCount++] = c;
        }
        this.categoryShare[c] += 1;
      }
    }
    this.logUserPrice = priced > 0 ? Math.log1p(priceSum / priced) : NaN;
    this.invEntries = entries > 0 ? 1 / entries : 0;

    this.anchorCount = 0;
    const anchor = ctx.anchorItem;
    if (anchor >= 0 && anchor < cat.size) {
      this.anchorCount = cat.categoryPtr[anchor + 1] - cat.categoryPtr[anchor];
      this.anchorCats = growInt32(this.anchorCats, this.anchorCount);
      for (let q = 0; q < this.anchorCount; q++)
        this.anchorCats[q] = cat.categoryIdx[cat.categoryPtr[anchor] + q];
    }
  }

  /** The item's own features (popularity, recency, price, affinity, anchor) at `row` (after prepareUser). */
  private writeItem(item: number, out: Float32Array, row: number, now: number): void {
    const cat = this.catalog;
    const stats = this.stats;
    if (stats) {
      out[row + this.colPop] = Math.log1p(Math.max(0, statAt(stats.count, item)));
      const windows = stats.windows ?? NO_WINDOWS;
      for (let w = 0; w < windows.length; w++)
        out[row + this.colPop + 1 + w] = Math.log1p(Math.max(0, statAt(windows[w].counts, item)));
      if (this.colCtr >= 0 && stats.ctr) {
        const c = item < stats.ctr.length ? stats.ctr[item] : NaN;
        out[row + this.colCtr] = c === c ? c : 0;
      }
    }
    if (item < 0 || item >= cat.size) {
      out[row + this.colRecency + 1] = 1;
      out[row + this.colPrice + 2] = 1;
      return;
    }
    const published = cat.publishedAt[item];
    if (published === published) {
      out[row + this.colRecency] = Math.log1p(Math.max(0, (now - published) / DAY_MS));
    } else out[row + this.colRecency + 1] = 1;
    const price = cat.price[item];
    if (price === price && price >= 0) {
      const lp = Math.log1p(price);
      out[row + this.colPrice] = lp;
      if (this.logUserPrice === this.logUserPrice) out[row + this.colPrice + 1] = lp - this.logUserPrice;
    } else out[row + this.colPrice + 2] = 1;
    let best = 0;
    let same = 0;
    for (let q = cat.categoryPtr[item]; q < cat.categoryPtr[item + 1]; q++) {
      const c = cat.categoryIdx[q];
      const share = this.categoryShare[c] * this.invEntries;
      if (share > best) best = share;
      for (let a = 0; a < this.anchorCount; a++) if (this.anchorCats[a] === c) same = 1;
    }
    out[row + this.colAffinity] = best;
    out[row + this.colAnchor] = same;
  }

  /** The request context's one-hot features, the same on rows 0..rows). */
  private writeRequest(ctx: RequestContext, out: Float32Array, rows: number): void {
    const F = this.featureCount;
    let col = this.colContext;
    for (const spec of this.contextSpecs) {
      const raw = ctx.context[spec.key];
      const value =
        typeof raw === 'string'
          ? raw
          : typeof raw === 'number' || typeof raw === 'boolean'
            ? String(raw)
            : null;
      const hit = value === null ? -1 : spec.values.indexOf(value);
      if (hit >= 0) for (let j = 0; j < rows; j++) out[j * F + col + hit] = 1;
      col += spec.values.length;
    }
    if (this.hourBuckets > 0) {
      const given = ctx.context.hour;
      const hour =
        typeof given === 'number' && given >= 0 && given < 24
          ? Math.floor(given)
          : Math.floor(((((ctx.now + this.utcOffsetMs) % DAY_MS) + DAY_MS) % DAY_MS) / 3_600_000);
      const b = Math.floor(hour / (24 / this.hourBuckets));
      for (let j = 0; j < rows; j++) out[j * F + this.colHour + b] = 1;
    }
  }

  /** A copy of one slot's row from the last `extract` (to log with the impression). */
  copyRow(slot: number, target?: Float32Array): Float32Array {
    const F = this.featureCount;
    const row = target ?? new Float32Array(F);
    row.set(this.out.subarray(slot * F, slot * F + F));
    return row;
  }

  /** A slot's features from the last `extract` by name, for debug traces and explanations. */
  describeRow(slot: number): Record<string, number> {
    const F = this.featureCount;
    const result: Record<string, number> = {};
    for (let f = 0; f < F; f++) result[this.featureNames[f]] = this.out[slot * F + f];
    return result;
  }
}
