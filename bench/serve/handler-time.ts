/**
 * How long the server's own handler took over a stretch of load, read from its /metrics (the
 * `http_request_duration_seconds` histogram of one route, summed over workers and labels). Set
 * beside the generator's latencies, it tells time spent handling a request from time spent
 * before the handler saw it (a busy event loop, collections, scheduling, the network).
 */

/** Cumulative request counts per bucket upper bound (seconds), `+Inf` included. */
export type HandlerBuckets = ReadonlyMap<number, number>;

const BUCKET = /^(?:\w+_)?http_request_duration_seconds_bucket\{([^}]*)\}\s+([0-9.eE+-]+)$/;

/** The route's histogram buckets out of a Prometheus text exposition, summed over its other labels. */
export function parseHandlerBuckets(text: string, route: string): HandlerBuckets {
  const out = new Map<number, number>();
  const routeLabel = `route="${route}"`;
  for (const line of text.split('\n')) {
    const m = BUCKET.exec(line.trim());
    if (!m) continue;
    const labels = m[1].split(',');
    if (!labels.includes(routeLabel)) continue;
    const le = labels.find((l) => l.startsWith('le="'));
    if (!le) continue;
    const raw = le.slice(4, -1);
    const bound = raw === '+Inf' ? Infinity : Number(raw);
    out.set(bound, (out.get(bound) ?? 0) + Number(m[2]));
  }
  return out;
}

export async function readHandlerBuckets(url: string, route: string): Promise<HandlerBuckets | null> {
  try {
    const res = await fetch(`${url}/metrics`);
    return res.ok ? parseHandlerBuckets(await res.text(), route) : null;
  } catch {
    return null;
  }
}

/**
 * What the handler took between two readings, as one line: the share of requests handled within
 * `withinMs`, and the bucket bound the 99th percentile falls under.
 */
export function describeHandlerTime(
  before: HandlerBuckets | null,
  after: HandlerBuckets | null,
  withinMs: number,
): string {
  if (!before || !after || !after.has(Infinity)) return 'time in the handler: not read (no /metrics)';
  const count = (bound: number) => (after.get(bound) ?? 0) - (before.get(bound) ?? 0);
  const total = count(Infinity);
  if (total <= 0) return 'time in the handler: no request observed';
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const within = bounds.filter((b) => b <= withinMs / 1000).at(-1);
  const share = within === undefined ? 0 : count(within) / total;
  const p99 = bounds.find((b) => count(b) >= 0.99 * total) ?? Infinity;
  const p99Text = p99 === Infinity ? 'over the largest bucket' : `≤ ${p99 * 1000} ms`;
  return `time in the server's handler: ${(share * 100).toFixed(1)}% within ${within === undefined ? 0 : within * 1000} ms, p99 ${p99Text} (${total} requests)`;
}
