/**
 * A synthetic shop stream for the drift demo: every step serves one item with a score and shows
 * it (an impression), which may be clicked, carted and bought; views and searches of items
 * arrive alongside. Item popularity follows a power law over a seeded order of the items, users
 * are drawn by a power law of activity. Changing the options shifts the stream: another
 * popularity order or exponent, another click rate, type mix or score distribution.
 */
import { powerLawSampler } from '../ingest/synthetic.js';
import { Rng } from '../ingest/prng.js';
import type { DriftMonitor } from './drift.js';
import type { MonitoredEvent } from './drift-reference.js';

export interface ShopStreamOptions {
  users: number;
  items: number;
  /** First timestamp (ms). */
  start: number;
  hours: number;
  impressionsPerHour: number;
  /** Randomness of the draws. */
  seed: number;
  /** Seed of the item popularity order (same seed: same popular items). */
  popularitySeed: number;
  /** Item popularity exponent (default 0.8). */
  exponent?: number;
  /** Clicks per impression (default 0.06). */
  ctr?: number;
  /** Carts per click (default 0.25) and purchases per cart (default 0.4). */
  cartRate?: number;
  purchaseRate?: number;
  /** Views and searches per impression (default 0.28 and 0.02). */
  viewRate?: number;
  searchRate?: number;
  /** Served scores ~ Normal(mean, sd) (default 0.55, 0.12). */
  scoreMean?: number;
  scoreSd?: number;
}

export interface TimedEvent extends MonitoredEvent {
  timestamp: number;
}

export interface ShopStream {
  /** In time order. */
  events: TimedEvent[];
  /** Served score and item of each impression, with its time. */
  scores: Float64Array;
  served: string[];
  servedAt: Float64Array;
  end: number;
}

export function shopStream(o: ShopStreamOptions): ShopStream {
  const rng = new Rng(o.seed);
  const order = new Rng(o.popularitySeed);
  const itemOfRank = Array.from({ length: o.items }, (_, i) => `i${i}`);
  order.shuffle(itemOfRank);
  const userOfRank = Array.from({ length: o.users }, (_, i) => `u${i}`);
  new Rng(12345).shuffle(userOfRank);
  const itemRank = powerLawSampler(o.items, o.exponent ?? 0.8);
  const userRank = powerLawSampler(o.users, 0.5);
  const ctr = o.ctr ?? 0.06;
  const cartRate = o.cartRate ?? 0.25;
  const purchaseRate = o.purchaseRate ?? 0.4;
  const viewRate = o.viewRate ?? 0.28;
  const searchRate = o.searchRate ?? 0.02;
  const mean = o.scoreMean ?? 0.55;
  const sd = o.scoreSd ?? 0.12;

  const steps = Math.round(o.hours * o.impressionsPerHour);
  const dt = 3_600_000 / o.impressionsPerHour;
  const events: TimedEvent[] = [];
  const scores = new Float64Array(steps);
  const servedAt = new Float64Array(steps);
  const served: string[] = [];
  const item = () => itemOfRank[itemRank(rng.next())];
  const user = () => userOfRank[userRank(rng.next())];
  for (let k = 0; k < steps; k++) {
    const timestamp = o.start + Math.floor(k * dt);
    const userId = user();
    const itemId = item();
    scores[k] = mean + sd * rng.normal();
    servedAt[k] = timestamp;
    served.push(itemId);
    events.push({ userId, itemId, type: 'impression', timestamp });
    if (rng.chance(ctr)) {
      events.push({ userId, itemId, type: 'click', timestamp });
      if (rng.chance(cartRate)) {
        events.push({ userId, itemId, type: 'cart', timestamp });
        if (rng.chance(purchaseRate)) events.push({ userId, itemId, type: 'purchase', timestamp });
      }
    }
    if (rng.chance(viewRate)) events.push({ userId: user(), itemId: item(), type: 'view', timestamp });
    if (rng.chance(searchRate)) events.push({ userId: user(), itemId: item(), type: 'search', timestamp });
  }
  return { events, scores, served, servedAt, end: o.start + o.hours * 3_600_000 };
}

/**
 * Feeds a stream to the monitor in batches of `batchMs` (default one minute), each observed at
 * its batch's end time, as a live server would see it.
 */
export function replay(monitor: DriftMonitor, stream: ShopStream, batchMs = 60_000): void {
  const { events, scores, served, servedAt } = stream;
  let e = 0;
  let s = 0;
  const start = Math.min(
    events.length > 0 ? events[0].timestamp : Infinity,
    servedAt.length > 0 ? servedAt[0] : Infinity,
  );
  if (!Number.isFinite(start)) return;
  for (let t = start + batchMs; e < events.length || s < scores.length; t += batchMs) {
    const from = e;
    while (e < events.length && events[e].timestamp < t) e++;
    const fromS = s;
    while (s < scores.length && servedAt[s] < t) s++;
    const at = t - 1;
    monitor.observeEvents(events.slice(from, e), at);
    monitor.observeScores(scores.subarray(fromS, s), at);
    monitor.observeServed(served.slice(fromS, s), at);
  }
}

/** The demo scenario: two weeks of reference traffic, then 26 hours replayed unshifted or shifted. */
export const DEMO_SHOP = {
  users: 5000,
  items: 2000,
  start: Date.UTC(2025, 0, 6),
  referenceHours: 14 * 24,
  liveHours: 26,
  impressionsPerHour: 1000,
};

/** What changes in the shifted stream. */
export const DEMO_SHIFT: Partial<ShopStreamOptions> = {
  popularitySeed: 99,
  exponent: 1.05,
  ctr: 0.03,
  viewRate: 0.15,
  searchRate: 0.15,
  scoreMean: 0.45,
  scoreSd: 0.15,
};

export interface DriftDemoResult {
  referenceEvents: number;
  unshifted: { report: import('./drift.js').DriftReport; alerts: import('./drift.js').AlertsView };
  shifted: { report: import('./drift.js').DriftReport; alerts: import('./drift.js').AlertsView };
}

/** Runs the demo on fresh monitors made by `makeMonitor` (one per replay). */
export function runDriftDemo(makeMonitor: () => DriftMonitor): DriftDemoResult {
  const base = {
    users: DEMO_SHOP.users,
    items: DEMO_SHOP.items,
    impressionsPerHour: DEMO_SHOP.impressionsPerHour,
    popularitySeed: 7,
  };
  const reference = shopStream({ ...base, start: DEMO_SHOP.start, hours: DEMO_SHOP.referenceHours, seed: 1 });
  const liveStart = reference.end;
  const live = { ...base, start: liveStart, hours: DEMO_SHOP.liveHours };
  const run = (stream: ShopStream) => {
    const monitor = makeMonitor();
    monitor.setReferenceFromEvents(reference.events, {
      scores: reference.scores,
      servedItems: reference.served,
    });
    replay(monitor, stream);
    const report = monitor.check(stream.end);
    return { report, alerts: monitor.alerts() };
  };
  return {
    referenceEvents: reference.events.length,
    unshifted: run(shopStream({ ...live, seed: 2 })),
    shifted: run(shopStream({ ...live, ...DEMO_SHIFT, seed: 3 })),
  };
}
