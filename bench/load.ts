import autocannon from 'autocannon';

export interface LoadResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  non2xx: number;
}

export interface LoadOptions {
  url: string;
  /** Run this long, or (with `amount`) until that many requests are answered. */
  durationSeconds?: number;
  amount?: number;
  connections: number;
  /** Fixed request rate across all connections (omit for as fast as possible). */
  rate?: number;
  method?: 'GET' | 'POST';
  /** Called before every request; returns the path and optional JSON body. */
  next: () => { path: string; body?: string };
  onResponse?: (status: number, body: string) => void;
}

/** Percentile of sorted values by nearest rank. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/**
 * Runs autocannon and returns latency percentiles in milliseconds, computed from every 2xx
 * response time (sub-millisecond resolution, unlike autocannon's own histogram).
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const t0 = performance.now();
  const opts: autocannon.Options = {
    url: o.url,
    connections: o.connections,
    ...(o.amount !== undefined ? { amount: o.amount } : { duration: o.durationSeconds ?? 10 }),
    overallRate: o.rate,
    requests: [
      {
        method: o.method ?? 'GET',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => {
          const n = o.next();
          return { ...req, path: n.path, body: n.body };
        },
        onResponse: o.onResponse ? (status, body) => o.onResponse!(status, body) : undefined,
      },
    ],
  };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
    instance.on('response', (_client, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
  const seconds = (performance.now() - t0) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: result.requests.total,
    seconds,
    requestsPerSecond: result.requests.total / seconds,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}
