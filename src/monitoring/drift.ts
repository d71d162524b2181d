/**
 * Drift monitoring: live traffic in a sliding window of time buckets, compared with a
 * reference from the training data.
 *
 * Checks (each with warn/alert thresholds and a minimum sample):
 * - `score_psi`: PSI of served scores over the reference's quantile bins;
 * - `event_type_psi`: PSI of the event-type mix;
 * - `item_popularity_psi`: PSI of interactions binned by the log2 reference popularity of their
 *   item (traffic moving to items that were rare or unknown in training);
 * - `user_activity_psi`: PSI of interactions per active user and bucket (log2 bins);
 * - `interaction_concentration` / `served_concentration`: Gini coefficient of interactions
 *   (or recommendations) per item in the window minus the Gini a sample of the same size
 *   drawn from the reference would have (so a small window is not mistaken for a concentrated one);
 * - `ctr_trend`: relative drop of clicks / impressions in the latest buckets below the reference.
 *
 * Observing is O(1) per event and per score: counts go into typed-array histograms of the
 * current bucket, plus per-bucket counts per item and, in the open bucket, per user.
 */
import { IdMap } from '../data/id-map.js';
import type { InteractionData } from '../data/interactions.js';
import { CumulativeSampler, Rng } from '../ingest/prng.js';
import {
  AlertBook,
  type AlertsView,
  type AlertTransition,
  type CheckOutcome,
  type DriftStatus,
  type Threshold,
} from './alerts.js';
import { binOf, gini, log2Bin, LOG2_BINS, psi, topShare } from './distribution.js';
import {
  referenceFromEvents,
  referenceFromInteractions,
  RoleSet,
  type DriftReference,
  type EventRoles,
  type InteractionReferenceOptions,
  type MonitoredEvent,
} from './drift-reference.js';

export type { Alert, AlertsView, AlertTransition, DriftStatus, Threshold } from './alerts.js';
export type { DriftReference, MonitoredEvent } from './drift-reference.js';

export interface DriftCheck extends CheckOutcome {
  /** Observations behind the live side of the check. */
  sample: number;
  /** CTR trend only: clicks / impressions per bucket of the window, oldest first (null: no impressions). */
  series?: (number | null)[];
}

export interface DriftReport {
  /** When the check ran (ms). */
  at: number;
  windowStart: number;
  windowEnd: number;
  /** Events observed in the window. */
  events: number;
  /** Worst status over the sufficient checks. */
  status: DriftStatus;
  checks: DriftCheck[];
  /** Alert state changes this check made (log or notify them). */
  transitions: AlertTransition[];
  /** False until a reference is set: every check is then insufficient. */
  reference: boolean;
}

export interface DriftOptions extends EventRoles {
  /** Live window length (default 24 h). */
  windowMs?: number;
  /** Buckets in the window (default 24); a bucket is also the user-activity slice. */
  buckets?: number;
  /** PSI thresholds (default warn 0.1, alert 0.25). */
  psi?: Threshold;
  /** Observations needed on the live side of a PSI check (default 500). */
  minSample?: number;
  /** Relative CTR drop thresholds (default warn 0.15, alert 0.3). */
  ctrDrop?: Threshold;
  /** Impressions needed in the latest CTR window (default 1000). */
  minImpressions?: number;
  /** Latest buckets whose CTR is compared (default: a quarter of the window, at least 1). */
  ctrBuckets?: number;
  /** Absolute Gini change thresholds (default warn 0.05, alert 0.1). */
  concentration?: Threshold;
  /** Interactions (or recommended items) needed for a concentration check (default 1000). */
  minConcentrationSample?: number;
  /** Transitions kept in the alert log (default 100). */
  maxRecentAlerts?: number;
  /** Clock in ms (default Date.now). */
  now?: () => number;
}

/** Event types tracked separately in the live window; more go to the last slot. */
const MAX_TYPES = 64;
/** Share of the catalogue making the "top" in top-share figures. */
const TOP_FRACTION = 0.01;

class Bucket {
  id = -1;
  closed = false;
  events = 0;
  interactions = 0;
  scoresSeen = 0;
  served = 0;
  impressions = 0;
  clicks = 0;
  readonly types = new Float64Array(MAX_TYPES);
  readonly popularity = new Float64Array(LOG2_BINS);
  readonly activity = new Float64Array(LOG2_BINS);
  scores: Float64Array;
  readonly itemCounts = new Map<number, number>();
  readonly servedCounts = new Map<number, number>();
  /** Interactions per user while the bucket is open; folded into `activity` when it closes. */
  readonly users = new Map<string, number>();

  constructor(scoreBins: number) {
    this.scores = new Float64Array(scoreBins);
  }

  reset(id: number, scoreBins: number): void {
    this.id = id;
    this.closed = false;
    this.events = this.interactions = this.scoresSeen = this.served = this.impressions = this.clicks = 0;
    this.types.fill(0);
    this.popularity.fill(0);
    this.activity.fill(0);
    if (this.scores.length !== scoreBins) this.scores = new Float64Array(scoreBins);
    else this.scores.fill(0);
    this.itemCounts.clear();
    this.servedCounts.clear();
    this.users.clear();
  }

  close(): void {
    if (this.closed) return;
    for (const n of this.users.values()) this.activity[log2Bin(n)]++;
    this.users.clear();
    this.closed = true;
  }
}

const WORST: Record<DriftStatus, number> = { ok: 0, warn: 1, alert: 2 };

function grade(value: number, t: Threshold): DriftStatus {
  return value >= t.alert ? 'alert' : value >= t.warn ? 'warn' : 'ok';
}

const fmt = (x: number, digits = 3): string => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

export class DriftMonitor {
  readonly windowMs: number;
  readonly bucketMs: number;
  private readonly nBuckets: number;
  private readonly psiThreshold: Threshold;
  private readonly minSample: number;
  private readonly ctrThreshold: Threshold;
  private readonly minImpressions: number;
  private readonly ctrBuckets: number;
  private readonly concThreshold: Threshold;
  private readonly minConcSample: number;
  private readonly clock: () => number;
  private readonly roles: RoleSet;
  private readonly roleOptions: EventRoles;

  private reference: DriftReference | null = null;
  private readonly ring: Bucket[];
  private currentId = -Infinity;
  private readonly typeIds = new IdMap();
  private items = new IdMap();
  private readonly book: AlertBook;
  private readonly expectedGini = new Map<string, number>();

  constructor(options: DriftOptions = {}) {
    this.windowMs = options.windowMs ?? 24 * 3600_000;
    this.nBuckets = Math.max(1, Math.floor(options.buckets ?? 24));
    this.bucketMs = this.windowMs / this.nBuckets;
    this.psiThreshold = options.psi ?? { warn: 0.1, alert: 0.25 };
    this.minSample = options.minSample ?? 500;
    this.ctrThreshold = options.ctrDrop ?? { warn: 0.15, alert: 0.3 };
    this.minImpressions = options.minImpressions ?? 1000;
    this.ctrBuckets = Math.max(
      1,
      Math.min(this.nBuckets, options.ctrBuckets ?? Math.ceil(this.nBuckets / 4)),
    );
    this.concThreshold = options.concentration ?? { warn: 0.05, alert: 0.1 };
    this.minConcSample = options.minConcentrationSample ?? 1000;
    this.clock = options.now ?? Date.now;
    this.roleOptions = {
      impressionTypes: options.impressionTypes,
      clickTypes: options.clickTypes,
      interactionTypes: options.interactionTypes,
    };
    this.roles = new RoleSet(this.roleOptions);
    this.book = new AlertBook(options.maxRecentAlerts ?? 100);
    this.ring = Array.from({ length: this.nBuckets }, () => new Bucket(1));
  }

  /** Sets the reference and starts an empty live window (scores binned on the new cuts). */
  setReference(reference: DriftReference): void {
    if (reference.sliceMs !== this.bucketMs) {
      throw new RangeError(
        `reference slices are ${reference.sliceMs} ms, the live buckets ${this.bucketMs} ms`,
      );
    }
    this.reference = reference;
    this.items = new IdMap(reference.itemIds);
    if (reference.servedIds) for (const id of reference.servedIds) this.items.getOrAdd(id);
    this.expectedGini.clear();
    this.currentId = -Infinity;
    for (const b of this.ring) b.reset(-1, this.scoreBins());
  }

  /** Reference from the events (and served scores and items) of the training period. */
  setReferenceFromEvents(
    events: Iterable<MonitoredEvent>,
    extra: { scores?: ArrayLike<number>; scoreBins?: number; servedItems?: Iterable<string> } = {},
  ): DriftReference {
    const ref = referenceFromEvents(events, { ...this.roleOptions, ...extra, sliceMs: this.bucketMs });
    this.setReference(ref);
    return ref;
  }

  /** Reference from a training snapshot; type mix, CTR and scores from `extra` when known. */
  setReferenceFromInteractions(
    data: InteractionData,
    extra: Omit<InteractionReferenceOptions, 'sliceMs'> = {},
  ): DriftReference {
    const ref = referenceFromInteractions(data, { ...this.roleOptions, ...extra, sliceMs: this.bucketMs });
    this.setReference(ref);
    return ref;
  }

  hasReference(): boolean {
    return this.reference !== null;
  }

  /** Events as they are ingested; `now` (ms) places them in the window (default: the clock). */
  observeEvents(events: readonly MonitoredEvent[], now = this.clock()): void {
    if (events.length === 0) return;
    const b = this.bucketAt(now);
    const ref = this.reference;
    for (let k = 0; k < events.length; k++) {
      const e = events[k];
      b.events++;
      let t = this.typeIds.index(e.type);
      if (t < 0) t = this.typeIds.size < MAX_TYPES - 1 ? this.typeIds.getOrAdd(e.type) : MAX_TYPES - 1;
      b.types[t]++;
      if (this.roles.isImpression(e.type)) b.impressions++;
      if (this.roles.isClick(e.type)) b.clicks++;
      if (!this.roles.isInteraction(e.type)) continue;
      b.interactions++;
      b.popularity[log2Bin(ref ? (ref.itemPopularity.get(e.itemId) ?? 0) : 0)]++;
      const item = this.items.getOrAdd(e.itemId);
      b.itemCounts.set(item, (b.itemCounts.get(item) ?? 0) + 1);
      if (!b.closed) b.users.set(e.userId, (b.users.get(e.userId) ?? 0) + 1);
    }
  }

  /** Scores of served items (only counted once a reference with scores is set). */
  observeScores(scores: ArrayLike<number>, now = this.clock()): void {
    const cuts = this.reference?.scoreCuts;
    if (!cuts || scores.length === 0) return;
    const b = this.bucketAt(now);
    for (let i = 0; i < scores.length; i++) {
      const s = scores[i];
      if (!Number.isFinite(s)) continue;
      b.scores[binOf(cuts, s)]++;
      b.scoresSeen++;
    }
  }

  /** Ids of recommended items, one entry per time shown. */
  observeServed(itemIds: readonly string[], now = this.clock()): void {
    if (itemIds.length === 0) return;
    const b = this.bucketAt(now);
    for (const id of itemIds) {
      const item = this.items.getOrAdd(id);
      b.servedCounts.set(item, (b.servedCounts.get(item) ?? 0) + 1);
    }
    b.served += itemIds.length;
  }

  /** Runs every check over the window ending at `now`, updates the alerts and returns the report. */
  check(now = this.clock()): DriftReport {
    this.bucketAt(now);
    const nowId = Math.floor(now / this.bucketMs);
    const window = this.ring
      .filter((b) => b.id > nowId - this.nBuckets && b.id <= nowId)
      .sort((a, b) => a.id - b.id);
    const checks: DriftCheck[] = [
      this.scoreCheck(window),
      this.typeCheck(window),
      this.popularityCheck(window),
      this.activityCheck(window),
      this.concentrationCheck(window, 'interaction_concentration'),
      this.concentrationCheck(window, 'served_concentration'),
      this.ctrCheck(window, nowId),
    ];
    const transitions = this.book.update(checks, now);
    let status: DriftStatus = 'ok';
    for (const c of checks) if (c.sufficient && WORST[c.status] > WORST[status]) status = c.status;
    let events = 0;
    for (const b of window) events += b.events;
    return {
      at: now,
      windowStart: (nowId - this.nBuckets + 1) * this.bucketMs,
      windowEnd: now,
      events,
      status,
      checks,
      transitions,
      reference: this.reference !== null,
    };
  }

  /** Active alerts and recent transitions. */
  alerts(): AlertsView {
    return this.book.view();
  }

  private scoreBins(): number {
    const cuts = this.reference?.scoreCuts;
    return cuts ? cuts.length + 1 : 1;
  }

  /** The bucket of time `now`, advancing (and closing) buckets when time moved on. */
  private bucketAt(now: number): Bucket {
    const id = Math.floor(now / this.bucketMs);
    if (id > this.currentId) {
      const prev = this.ring[this.slot(this.currentId)];
      if (Number.isFinite(this.currentId) && prev.id === this.currentId) prev.close();
      const from = Number.isFinite(this.currentId)
        ? Math.max(this.currentId + 1, id - this.nBuckets + 1)
        : id;
      for (let k = from; k <= id; k++) {
        const b = this.ring[this.slot(k)];
        b.reset(k, this.scoreBins());
        if (k < id) b.close();
      }
      this.currentId = id;
    }
    // late observations (clock went back) count in the current bucket
    return this.ring[this.slot(this.currentId)];
  }

  private slot(id: number): number {
    if (!Number.isFinite(id)) return 0;
    return ((id % this.nBuckets) + this.nBuckets) % this.nBuckets;
  }

  private psiCheck(
    name: string,
    reference: Float64Array | null,
    live: Float64Array,
    sample: number,
    what: string,
  ): DriftCheck {
    const threshold = { ...this.psiThreshold };
    if (!reference) {
      return {
        name,
        statistic: 'psi',
        value: 0,
        threshold,
        status: 'ok',
        sufficient: false,
        sample,
        detail: `no reference ${what}`,
      };
    }
    if (sample < this.minSample) {
      return {
        name,
        statistic: 'psi',
        value: 0,
        threshold,
        status: 'ok',
        sufficient: false,
        sample,
        detail: `${sample} ${what} in the window, ${this.minSample} needed`,
      };
    }
    const value = psi(reference, live);
    const status = grade(value, threshold);
    return {
      name,
      statistic: 'psi',
      value,
      threshold,
      status,
      sufficient: true,
      sample,
      detail: `PSI ${fmt(value)} over ${live.length} bins of ${sample} ${what}`,
    };
  }

  private scoreCheck(window: Bucket[]): DriftCheck {
    const ref = this.reference?.scoreHist ?? null;
    const live = new Float64Array(ref ? ref.length : 1);
    let n = 0;
    for (const b of window) {
      if (b.scores.length !== live.length) continue;
      for (let i = 0; i < live.length; i++) live[i] += b.scores[i];
      n += b.scoresSeen;
    }
    return this.psiCheck('score_psi', ref, live, n, 'served scores');
  }

  private typeCheck(window: Bucket[]): DriftCheck {
    const refCounts = this.reference?.typeCounts ?? null;
    if (!refCounts) return this.psiCheck('event_type_psi', null, new Float64Array(1), 0, 'event-type mix');
    // categories: reference types, then one for types unknown to the reference
    const names = [...refCounts.keys()];
    const index = new Map(names.map((n, i) => [n, i]));
    const ref = new Float64Array(names.length + 1);
    names.forEach((n, i) => (ref[i] = refCounts.get(n) ?? 0));
    const live = new Float64Array(names.length + 1);
    let n = 0;
    for (const b of window) {
      for (let t = 0; t < MAX_TYPES; t++) {
        const c = b.types[t];
        if (c === 0) continue;
        const name = t < this.typeIds.size ? this.typeIds.id(t) : '';
        live[index.get(name) ?? names.length] += c;
        n += c;
      }
    }
    const check = this.psiCheck('event_type_psi', ref, live, n, 'events');
    if (check.sufficient) {
      const share = (h: Float64Array, i: number) => {
        let s = 0;
        for (const v of h) s += v;
        return s > 0 ? h[i] / s : 0;
      };
      const moved = names
        .map((name, i) => ({ name, ref: share(ref, i), live: share(live, i) }))
        .sort((a, b) => Math.abs(b.live - b.ref) - Math.abs(a.live - a.ref))
        .slice(0, 3)
        .map((m) => `${m.name} ${fmt(m.ref * 100, 1)}% → ${fmt(m.live * 100, 1)}%`);
      check.detail += `; largest moves: ${moved.join(', ')}`;
    }
    return check;
  }

  private popularityCheck(window: Bucket[]): DriftCheck {
    const ref = this.reference?.popularityHist ?? null;
    const live = new Float64Array(LOG2_BINS);
    let n = 0;
    for (const b of window) {
      for (let i = 0; i < LOG2_BINS; i++) live[i] += b.popularity[i];
      n += b.interactions;
    }
    const check = this.psiCheck('item_popularity_psi', ref, live, n, 'interactions');
    if (check.sufficient && n > 0)
      check.detail += `; ${fmt((live[0] / n) * 100, 1)}% on items unknown to the reference`;
    return check;
  }

  private activityCheck(window: Bucket[]): DriftCheck {
    const ref = this.reference?.activityHist ?? null;
    const live = new Float64Array(LOG2_BINS);
    let n = 0;
    for (const b of window) {
      if (!b.closed) continue;
      for (let i = 0; i < LOG2_BINS; i++) {
        live[i] += b.activity[i];
        n += b.activity[i];
      }
    }
    return this.psiCheck('user_activity_psi', ref, live, n, 'active users per bucket (closed buckets)');
  }

  private concentrationCheck(
    window: Bucket[],
    name: 'interaction_concentration' | 'served_concentration',
  ): DriftCheck {
    const served = name === 'served_concentration';
    const refCounts = served ? (this.reference?.servedCounts ?? null) : (this.reference?.itemCounts ?? null);
    const threshold = { ...this.concThreshold };
    const merged = new Map<number, number>();
    let n = 0;
    for (const b of window) {
      for (const [item, c] of served ? b.servedCounts : b.itemCounts) {
        merged.set(item, (merged.get(item) ?? 0) + c);
        n += c;
      }
    }
    const base = { name, statistic: 'gini_change', value: 0, threshold, status: 'ok' as const, sample: n };
    if (!refCounts || refCounts.length === 0) {
      return {
        ...base,
        sufficient: false,
        detail: `no reference ${served ? 'recommendations' : 'interactions'}`,
      };
    }
    if (n < this.minConcSample) {
      return {
        ...base,
        sufficient: false,
        detail: `${n} ${served ? 'recommended items' : 'interactions'} in the window, ${this.minConcSample} needed`,
      };
    }
    // catalogue: the reference's items plus the live items it does not know
    const size = Math.max(refCounts.length, this.items.size);
    const liveCounts = Float64Array.from(merged.values());
    const liveGini = gini(liveCounts, size);
    const expected = this.expectedConcentration(refCounts, n, size, name);
    const value = liveGini - expected.gini;
    const status = grade(Math.abs(value), threshold);
    const liveTop = topShare(liveCounts, TOP_FRACTION, size);
    return {
      ...base,
      value,
      status,
      sufficient: true,
      detail:
        `Gini ${fmt(liveGini)} vs ${fmt(expected.gini)} expected from the reference at ${n} events; ` +
        `top 1% of items hold ${fmt(liveTop * 100, 1)}% (reference sample ${fmt(expected.top * 100, 1)}%)`,
    };
  }

  /**
   * Gini and top-1% share of `n` draws from the reference counts over a catalogue of `size`
   * (seeded, memoised by n rounded to 5%): what an unshifted window of that size would show.
   */
  private expectedConcentration(
    refCounts: Float64Array,
    n: number,
    size: number,
    name: string,
  ): { gini: number; top: number } {
    const step = Math.round(Math.log(n) / Math.log(1.05));
    const key = `${name}:${step}:${size}`;
    const memo = this.expectedGini.get(key);
    const topKey = `${key}:top`;
    if (memo !== undefined) return { gini: memo, top: this.expectedGini.get(topKey) ?? 0 };
    if (this.expectedGini.size > 512) this.expectedGini.clear();
    const draws = Math.round(Math.pow(1.05, step));
    const sampler = new CumulativeSampler(refCounts);
    const rng = new Rng(7);
    const counts = new Float64Array(refCounts.length);
    for (let i = 0; i < draws; i++) counts[sampler.draw(rng)]++;
    const g = gini(counts, size);
    const top = topShare(counts, TOP_FRACTION, size);
    this.expectedGini.set(key, g);
    this.expectedGini.set(topKey, top);
    return { gini: g, top };
  }

  private ctrCheck(window: Bucket[], nowId: number): DriftCheck {
    const ref = this.reference?.ctr ?? null;
    const threshold = { ...this.ctrThreshold };
    const byId = new Map(window.map((b) => [b.id, b]));
    const series: (number | null)[] = [];
    for (let id = nowId - this.nBuckets + 1; id <= nowId; id++) {
      const b = byId.get(id);
      series.push(b && b.impressions > 0 ? b.clicks / b.impressions : null);
    }
    let clicks = 0;
    let impressions = 0;
    for (const b of window) {
      if (b.id > nowId - this.ctrBuckets) {
        clicks += b.clicks;
        impressions += b.impressions;
      }
    }
    const base = {
      name: 'ctr_trend',
      statistic: 'ctr_relative_drop',
      threshold,
      status: 'ok' as const,
      sample: impressions,
      series,
    };
    if (!ref) return { ...base, value: 0, sufficient: false, detail: 'no reference impressions' };
    const refCtr = ref.clicks / ref.impressions;
    if (impressions < this.minImpressions) {
      return {
        ...base,
        value: 0,
        sufficient: false,
        detail: `${impressions} impressions in the latest ${this.ctrBuckets} buckets, ${this.minImpressions} needed`,
      };
    }
    const liveCtr = clicks / impressions;
    const value = refCtr > 0 ? 1 - liveCtr / refCtr : 0;
    // standard error of the live CTR under the reference rate: how many sigmas the drop is
    const z =
      refCtr > 0 && refCtr < 1 ? (refCtr - liveCtr) / Math.sqrt((refCtr * (1 - refCtr)) / impressions) : 0;
    return {
      ...base,
      value,
      status: grade(value, threshold),
      sufficient: true,
      detail:
        `CTR ${fmt(liveCtr * 100, 2)}% over the latest ${this.ctrBuckets} buckets (${impressions} impressions) ` +
        `vs ${fmt(refCtr * 100, 2)}% reference: ${fmt(Math.abs(value) * 100, 1)}% ${value >= 0 ? 'lower' : 'higher'}, ` +
        `z ${fmt(z, 1)}`,
    };
  }
}
