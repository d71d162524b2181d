/**
 * The reference the drift checks compare live traffic with, built from training data: from a
 * list of events (`referenceFromEvents`) or from an InteractionData snapshot
 * (`referenceFromInteractions`, which knows no event types, impressions or scores: give those
 * separately when you have them).
 */
import type { InteractionData } from '../data/interactions.js';
import { histogram, log2Bin, LOG2_BINS, quantileCuts } from './distribution.js';

/** The fields of an event the drift checks read; EventInput and StoredEvent fit. */
export interface MonitoredEvent {
  userId: string;
  itemId: string;
  type: string;
  /** ms since epoch; needed for the user-activity reference only. */
  timestamp?: number;
}

/** Which event types are impressions, clicks and interactions. */
export interface EventRoles {
  /** Default ['impression']. */
  impressionTypes?: readonly string[];
  /** Default ['click']. */
  clickTypes?: readonly string[];
  /**
   * Types counted as interactions for item popularity, user activity and concentration.
   * Default: every type that is not an impression.
   */
  interactionTypes?: readonly string[];
}

export interface DriftReference {
  /** Event-type mix: names and counts (null: unknown). */
  typeCounts: Map<string, number> | null;
  /** Interactions per item in the reference. */
  itemPopularity: Map<string, number>;
  /** Reference items, in the order of `itemCounts`. */
  itemIds: readonly string[];
  /** Interactions per item, aligned with `itemIds` (for concentration). */
  itemCounts: Float64Array;
  /** Interactions binned by the log2 reference popularity of their item (LOG2_BINS bins). */
  popularityHist: Float64Array;
  /** Active (user, slice) pairs binned by log2 of the user's interactions in the slice; null: unknown. */
  activityHist: Float64Array | null;
  /** Length of an activity slice in ms (the live bucket length must match). */
  sliceMs: number;
  /** Quantile cuts and histogram of served scores; null: unknown. */
  scoreCuts: Float64Array | null;
  scoreHist: Float64Array | null;
  /** Clicks and impressions; null: unknown. */
  ctr: { clicks: number; impressions: number } | null;
  /** Times each item was recommended, aligned with `servedIds`; null: unknown. */
  servedIds: readonly string[] | null;
  servedCounts: Float64Array | null;
}

export interface ReferenceOptions extends EventRoles {
  /** Activity slice length in ms (DriftMonitor passes its bucket length). */
  sliceMs: number;
  /** Served scores of the reference period. */
  scores?: ArrayLike<number>;
  /** Quantile bins of the score distribution (default 10). */
  scoreBins?: number;
  /** Item ids recommended in the reference period, one entry per time shown. */
  servedItems?: Iterable<string>;
}

/** Resolved event roles: a type's role in O(1). */
export class RoleSet {
  private readonly impressions: Set<string>;
  private readonly clicks: Set<string>;
  private readonly interactions: Set<string> | null;

  constructor(roles: EventRoles = {}) {
    this.impressions = new Set(roles.impressionTypes ?? ['impression']);
    this.clicks = new Set(roles.clickTypes ?? ['click']);
    this.interactions = roles.interactionTypes ? new Set(roles.interactionTypes) : null;
  }

  isImpression(type: string): boolean {
    return this.impressions.has(type);
  }

  isClick(type: string): boolean {
    return this.clicks.has(type);
  }

  isInteraction(type: string): boolean {
    return this.interactions ? this.interactions.has(type) : !this.impressions.has(type);
  }
}

function countsOf(ids: Iterable<string>): { ids: string[]; counts: Float64Array } {
  const m = new Map<string, number>();
  for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
  return { ids: [...m.keys()], counts: Float64Array.from(m.values()) };
}

/** Activity histogram from (slice, user) keys: one entry per interaction. */
function activityHistogram(keys: Map<number, number>): Float64Array {
  const h = new Float64Array(LOG2_BINS);
  for (const n of keys.values()) h[log2Bin(n)]++;
  return h;
}

function popularityHistogram(popularity: Map<string, number>): Float64Array {
  // every reference interaction is on an item of its own popularity: weight the bin by it
  const h = new Float64Array(LOG2_BINS);
  for (const n of popularity.values()) h[log2Bin(n)] += n;
  return h;
}

function scorePart(options: ReferenceOptions): Pick<DriftReference, 'scoreCuts' | 'scoreHist'> {
  if (!options.scores || options.scores.length === 0) return { scoreCuts: null, scoreHist: null };
  const cuts = quantileCuts(options.scores, options.scoreBins ?? 10);
  return { scoreCuts: cuts, scoreHist: histogram(cuts, options.scores) };
}

function servedPart(options: ReferenceOptions): Pick<DriftReference, 'servedIds' | 'servedCounts'> {
  if (!options.servedItems) return { servedIds: null, servedCounts: null };
  const { ids, counts } = countsOf(options.servedItems);
  return ids.length > 0 ? { servedIds: ids, servedCounts: counts } : { servedIds: null, servedCounts: null };
}

/** Key of a (slice, user) pair; exact while slices stay below 2^21. */
const sliceUserKey = (slice: number, user: number): number => slice * 4294967296 + user;

/** Reference from the events of the training period (one pass, per-user state only). */
export function referenceFromEvents(
  events: Iterable<MonitoredEvent>,
  options: ReferenceOptions,
): DriftReference {
  const roles = new RoleSet(options);
  const typeCounts = new Map<string, number>();
  const popularity = new Map<string, number>();
  const userIndex = new Map<string, number>();
  const activity = new Map<number, number>();
  let firstSlice = NaN;
  let timed = true;
  let clicks = 0;
  let impressions = 0;
  for (const e of events) {
    typeCounts.set(e.type, (typeCounts.get(e.type) ?? 0) + 1);
    if (roles.isImpression(e.type)) impressions++;
    if (roles.isClick(e.type)) clicks++;
    if (!roles.isInteraction(e.type)) continue;
    popularity.set(e.itemId, (popularity.get(e.itemId) ?? 0) + 1);
    if (e.timestamp === undefined || !Number.isFinite(e.timestamp)) {
      timed = false;
      continue;
    }
    const slice = Math.floor(e.timestamp / options.sliceMs);
    if (Number.isNaN(firstSlice)) firstSlice = slice;
    let u = userIndex.get(e.userId);
    if (u === undefined) userIndex.set(e.userId, (u = userIndex.size));
    const key = sliceUserKey(slice - firstSlice + 2 ** 20, u);
    activity.set(key, (activity.get(key) ?? 0) + 1);
  }
  return {
    typeCounts: typeCounts.size > 0 ? typeCounts : null,
    itemPopularity: popularity,
    itemIds: [...popularity.keys()],
    itemCounts: Float64Array.from(popularity.values()),
    popularityHist: popularityHistogram(popularity),
    activityHist: timed && activity.size > 0 ? activityHistogram(activity) : null,
    sliceMs: options.sliceMs,
    ...scorePart(options),
    ctr: impressions > 0 ? { clicks, impressions } : null,
    ...servedPart(options),
  };
}

export interface InteractionReferenceOptions extends ReferenceOptions {
  /** Event counts per type of the training period, when known. */
  typeCounts?: Readonly<Record<string, number>>;
  /** Clicks and impressions of the training period, when known. */
  ctr?: { clicks: number; impressions: number };
}

/**
 * Reference from a training snapshot: item popularity and user activity from its events (every
 * kept event counts as one interaction), the rest from the options.
 */
export function referenceFromInteractions(
  data: InteractionData,
  options: InteractionReferenceOptions,
): DriftReference {
  const { events, items } = data;
  const perItem = new Float64Array(items.size);
  const activity = new Map<number, number>();
  let firstSlice = Infinity;
  for (let e = 0; e < events.length; e++)
    firstSlice = Math.min(firstSlice, Math.floor(events.time[e] / options.sliceMs));
  for (let e = 0; e < events.length; e++) {
    perItem[events.item[e]]++;
    const key = sliceUserKey(Math.floor(events.time[e] / options.sliceMs) - firstSlice, events.user[e]);
    activity.set(key, (activity.get(key) ?? 0) + 1);
  }
  const popularity = new Map<string, number>();
  const itemIds: string[] = [];
  const counts: number[] = [];
  for (let i = 0; i < perItem.length; i++) {
    if (perItem[i] > 0) {
      const id = items.id(i);
      popularity.set(id, perItem[i]);
      itemIds.push(id);
      counts.push(perItem[i]);
    }
  }
  const typeCounts = options.typeCounts ? new Map(Object.entries(options.typeCounts)) : null;
  const ctr = options.ctr && options.ctr.impressions > 0 ? { ...options.ctr } : null;
  return {
    typeCounts: typeCounts && typeCounts.size > 0 ? typeCounts : null,
    itemPopularity: popularity,
    itemIds,
    itemCounts: Float64Array.from(counts),
    popularityHist: popularityHistogram(popularity),
    activityHist: activity.size > 0 ? activityHistogram(activity) : null,
    sliceMs: options.sliceMs,
    ...scorePart(options),
    ctr,
    ...servedPart(options),
  };
}
