import http from 'node:http';
import { percentile } from './load.js';

export interface OpenLoopOptions {
  url: string;
  /** Requests per second, sent on a fixed schedule whatever the answers do (open loop). */
  rate: number;
  durationSeconds: number;
  /** Path of the i-th request. */
  path: (i: number) => string;
  /** Most requests in flight at once (sockets); a request that finds none free waits. */
  maxSockets?: number;
}

export interface OpenLoopResult {
  sent: number;
  ok: number;
  failed: number;
  achievedRate: number;
  /** Milliseconds from the scheduled send time to the last byte of the answer. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * Sends GET requests at a fixed rate and measures each from its scheduled time, so a slow
 * answer cannot hide the requests queued behind it (no coordinated omission). Unlike a closed
 * loop of N connections, requests do not arrive in bursts.
 */
export async function runOpenLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const target = new URL(o.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.maxSockets ?? 64 });
  const total = Math.round(o.rate * o.durationSeconds);
  const latencies = new Float64Array(total);
  let ok = 0;
  let failed = 0;
  let done = 0;
  const start = performance.now() + 50;

  await new Promise<void>((resolve) => {
    const finish = () => {
      if (++done === total) resolve();
    };
    const send = (i: number) => {
      const scheduled = start + (i * 1000) / o.rate;
      const req = http.get({ host: target.hostname, port: target.port, path: o.path(i), agent }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => {
          latencies[i] = performance.now() - scheduled;
          if (res.statusCode === 200) ok++;
          else failed++;
          finish();
        });
      });
      req.on('error', () => {
        latencies[i] = performance.now() - scheduled;
        failed++;
        finish();
      });
    };
    let next = 0;
    const tick = () => {
      const now = performance.now();
      while (next < total && start + (next * 1000) / o.rate <= now) send(next++);
      // Sleeps until the next send time rather than spinning (which would take a core from the
      // server); latency counts from each request's scheduled time either way.
      if (next < total) setTimeout(tick, Math.max(1, start + (next * 1000) / o.rate - performance.now()));
    };
    setTimeout(tick, 50);
  });
  agent.destroy();
  const elapsed = (performance.now() - start) / 1000;
  const sorted = latencies.slice().sort();
  return {
    sent: total,
    ok,
    failed,
    achievedRate: total / elapsed,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
  };
}
