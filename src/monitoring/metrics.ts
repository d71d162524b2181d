/**
 * Prometheus metrics of one Kindred process, on a registry of its own (several apps or tests
 * in one process never collide): request latency per route and placement, events ingested and
 * rejected, recommendations served, candidate-source and cache hit rates, model age, drift
 * statistics, and the default process metrics.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Latency buckets for millisecond serving: 0.5 ms .. 1 s. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];

/** A model and when it was trained (ms since epoch). */
export interface ModelTrainedAt {
  model: string;
  trainedAt: number;
}

/** One drift check as the metrics see it (see DriftReport in drift.ts). */
export interface DriftCheckSample {
  name: string;
  value: number;
  status: 'ok' | 'warn' | 'alert';
}

export interface MetricsOptions {
  /** Collect the default process metrics (CPU, memory, event loop, GC). Default true. */
  defaultMetrics?: boolean;
  /** Prefix of every metric name, e.g. `kindred_`. Default none. */
  prefix?: string;
  /** The models serving now; read at every scrape for `model_age_seconds`. */
  models?: () => readonly ModelTrainedAt[];
  /** Clock in ms (default Date.now). */
  now?: () => number;
  /**
   * Distinct values kept per free-form label (placement, route, event type, source, cache);
   * further values are counted under `other`. Default 64.
   */
  maxLabelValues?: number;
}

const STATUS_CODE: Record<DriftCheckSample['status'], number> = { ok: 0, warn: 1, alert: 2 };

/** Bounds the values of a label so that a client sending made-up names cannot grow the series. */
class LabelGuard {
  private readonly seen = new Set<string>();
  constructor(private readonly max: number) {}

  value(raw: string): string {
    const v = raw === '' ? 'none' : raw;
    if (this.seen.has(v)) return v;
    if (this.seen.size >= this.max) return 'other';
    this.seen.add(v);
    return v;
  }
}

export class Metrics {
  /** The registry behind `metricsText()`; register extra metrics here. */
  readonly registry: Registry;
  private readonly now: () => number;
  private textSource: (() => Promise<string>) | null = null;
  private models: () => readonly ModelTrainedAt[];
  private readonly guards: Record<'placement' | 'route' | 'type' | 'source' | 'cache', LabelGuard>;

  private readonly httpDuration: Histogram<'route' | 'method' | 'status' | 'placement'>;
  private readonly recommendationDuration: Histogram<'placement'>;
  private readonly recommendationsServed: Counter<'placement'>;
  private readonly itemsServed: Counter<'placement'>;
  private readonly eventsIngestedTotal: Counter<'type'>;
  private readonly eventsRejectedTotal: Counter;
  private readonly eventsDuplicateTotal: Counter;
  private readonly sourceProposed: Counter<'source'>;
  private readonly sourceShown: Counter<'source'>;
  private readonly cacheRequests: Counter<'cache' | 'result'>;
  private readonly driftValue: Gauge<'check'>;
  private readonly driftStatus: Gauge<'check'>;

  /** Running totals behind the ratio gauges (prom-client counters are write-only). */
  private readonly proposedBySource = new Map<string, number>();
  private readonly shownBySource = new Map<string, number>();
  private readonly cacheTotals = new Map<string, { hits: number; misses: number }>();

  constructor(options: MetricsOptions = {}) {
    const prefix = options.prefix ?? '';
    const registers = [(this.registry = new Registry())];
    this.now = options.now ?? Date.now;
    this.models = options.models ?? (() => []);
    const max = options.maxLabelValues ?? 64;
    this.guards = {
      placement: new LabelGuard(max),
      route: new LabelGuard(max),
      type: new LabelGuard(max),
      source: new LabelGuard(max),
      cache: new LabelGuard(max),
    };
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix });

    this.httpDuration = new Histogram({
      name: `${prefix}http_request_duration_seconds`,
      help: 'HTTP request latency by route, method, status class and placement',
      labelNames: ['route', 'method', 'status', 'placement'],
      buckets: [...LATENCY_BUCKETS_SECONDS],
      registers,
    });
    this.recommendationDuration = new Histogram({
      name: `${prefix}recommendation_duration_seconds`,
      help: 'Time spent computing one recommendation list, by placement',
      labelNames: ['placement'],
      buckets: [...LATENCY_BUCKETS_SECONDS],
      registers,
    });
    this.recommendationsServed = new Counter({
      name: `${prefix}recommendations_served_total`,
      help: 'Recommendation lists served, by placement',
      labelNames: ['placement'],
      registers,
    });
    this.itemsServed = new Counter({
      name: `${prefix}recommended_items_total`,
      help: 'Items on the recommendation lists served, by placement',
      labelNames: ['placement'],
      registers,
    });
    this.eventsIngestedTotal = new Counter({
      name: `${prefix}events_ingested_total`,
      help: 'Events stored, by event type',
      labelNames: ['type'],
      registers,
    });
    this.eventsRejectedTotal = new Counter({
      name: `${prefix}events_rejected_total`,
      help: 'Event rows refused by validation',
      registers,
    });
    this.eventsDuplicateTotal = new Counter({
      name: `${prefix}events_duplicate_total`,
      help: 'Events skipped because their clientEventId was already stored',
      registers,
    });
    this.sourceProposed = new Counter({
      name: `${prefix}candidate_source_proposed_total`,
      help: 'Candidates proposed, by candidate source',
      labelNames: ['source'],
      registers,
    });
    this.sourceShown = new Counter({
      name: `${prefix}candidate_source_shown_total`,
      help: 'Items shown that the candidate source had proposed',
      labelNames: ['source'],
      registers,
    });
    const proposedBySource = this.proposedBySource;
    const shownBySource = this.shownBySource;
    new Gauge({
      name: `${prefix}candidate_source_hit_rate`,
      help: 'Shown / proposed candidates per source since the process started',
      labelNames: ['source'],
      registers,
      aggregator: 'average',
      collect() {
        for (const [source, proposed] of proposedBySource) {
          if (proposed > 0) this.set({ source }, (shownBySource.get(source) ?? 0) / proposed);
        }
      },
    });
    this.cacheRequests = new Counter({
      name: `${prefix}cache_requests_total`,
      help: 'Cache look-ups by cache and result (hit or miss)',
      labelNames: ['cache', 'result'],
      registers,
    });
    const cacheTotals = this.cacheTotals;
    new Gauge({
      name: `${prefix}cache_hit_ratio`,
      help: 'Hits / look-ups per cache since the process started',
      labelNames: ['cache'],
      registers,
      aggregator: 'average',
      collect() {
        for (const [cache, t] of cacheTotals) {
          const n = t.hits + t.misses;
          if (n > 0) this.set({ cache }, t.hits / n);
        }
      },
    });
    const ages = () => this.models();
    const now = this.now;
    new Gauge({
      name: `${prefix}model_age_seconds`,
      help: 'Seconds since the serving model was trained',
      labelNames: ['model'],
      registers,
      aggregator: 'max',
      collect() {
        this.reset();
        const t = now();
        for (const m of ages()) this.set({ model: m.model }, Math.max(0, (t - m.trainedAt) / 1000));
      },
    });
    this.driftValue = new Gauge({
      name: `${prefix}drift_statistic`,
      help: 'Latest value of each drift check (PSI, relative CTR drop, concentration change)',
      labelNames: ['check'],
      registers,
      aggregator: 'max',
    });
    this.driftStatus = new Gauge({
      name: `${prefix}drift_status`,
      help: 'Latest status of each drift check: 0 ok, 1 warn, 2 alert',
      labelNames: ['check'],
      registers,
      aggregator: 'max',
    });
  }

  /** Replaces the provider of serving models read at each scrape. */
  setModelProvider(models: () => readonly ModelTrainedAt[]): void {
    this.models = models;
  }

  /** One HTTP request: `route` is the route pattern (`/recommend/:userId`), never the raw URL. */
  observeRequest(route: string, method: string, statusCode: number, seconds: number, placement = ''): void {
    this.httpDuration.observe(
      {
        route: this.guards.route.value(route),
        method,
        status: `${Math.floor(statusCode / 100)}xx`,
        placement: this.guards.placement.value(placement),
      },
      seconds,
    );
  }

  /**
   * One recommendation list served: how long it took, how many candidates each source proposed,
   * and for each shown item the sources that had proposed it.
   */
  observeRecommendation(
    placement: string,
    seconds: number,
    sources: Readonly<Record<string, number>>,
    shownSources: readonly (readonly string[])[],
  ): void {
    const p = this.guards.placement.value(placement);
    this.recommendationDuration.observe({ placement: p }, seconds);
    this.recommendationsServed.inc({ placement: p });
    if (shownSources.length > 0) this.itemsServed.inc({ placement: p }, shownSources.length);
    for (const name in sources) {
      const n = sources[name];
      if (!(n > 0)) continue;
      const source = this.guards.source.value(name);
      this.sourceProposed.inc({ source }, n);
      this.proposedBySource.set(source, (this.proposedBySource.get(source) ?? 0) + n);
    }
    const shown = new Map<string, number>();
    for (const list of shownSources) {
      for (const name of list) shown.set(name, (shown.get(name) ?? 0) + 1);
    }
    for (const [name, n] of shown) {
      const source = this.guards.source.value(name);
      this.sourceShown.inc({ source }, n);
      this.shownBySource.set(source, (this.shownBySource.get(source) ?? 0) + n);
    }
  }

  /** Events stored, one entry per event (its type). */
  eventsIngested(types: readonly string[]): void {
    const counts = new Map<string, number>();
    for (const t of types) counts.set(t, (counts.get(t) ?? 0) + 1);
    for (const [t, n] of counts) this.eventsIngestedTotal.inc({ type: this.guards.type.value(t) }, n);
  }

  /** Event rows refused by validation. */
  eventsRejected(count: number): void {
    if (count > 0) this.eventsRejectedTotal.inc(count);
  }

  /** Events skipped as already stored. */
  eventsDuplicate(count: number): void {
    if (count > 0) this.eventsDuplicateTotal.inc(count);
  }

  /** Cache look-ups: `hits` and `misses` of the cache named `cache`. */
  cacheLookups(cache: string, hits: number, misses = 0): void {
    const c = this.guards.cache.value(cache);
    if (hits > 0) this.cacheRequests.inc({ cache: c, result: 'hit' }, hits);
    if (misses > 0) this.cacheRequests.inc({ cache: c, result: 'miss' }, misses);
    const t = this.cacheTotals.get(c) ?? { hits: 0, misses: 0 };
    t.hits += Math.max(0, hits);
    t.misses += Math.max(0, misses);
    this.cacheTotals.set(c, t);
  }

  /** One cache look-up. */
  cacheRequest(cache: string, hit: boolean): void {
    this.cacheLookups(cache, hit ? 1 : 0, hit ? 0 : 1);
  }

  /** Publishes the latest drift checks as `drift_statistic` and `drift_status`. */
  observeDrift(checks: readonly DriftCheckSample[]): void {
    for (const c of checks) {
      if (Number.isFinite(c.value)) this.driftValue.set({ check: c.name }, c.value);
      this.driftStatus.set({ check: c.name }, STATUS_CODE[c.status]);
    }
  }

  /** Content type of `metricsText()`: Prometheus text exposition 0.0.4. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * Answers `metricsText()` from elsewhere from now on, e.g. with the metrics of every worker of a
   * multi-process server summed.
   */
  serveTextFrom(source: () => Promise<string>): void {
    this.textSource = source;
  }

  /** Every metric in the Prometheus text exposition format. */
  metricsText(): Promise<string> {
    return this.textSource ? this.textSource() : this.registry.metrics();
  }
}
