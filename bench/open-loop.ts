/**
 * Sends GET requests at a fixed rate and measures each from its scheduled time, so a slow answer
 * cannot hide the requests queued behind it (no coordinated omission). Unlike a closed loop of N
 * connections, requests do not arrive in bursts. The generator of bench/serve/bounded-open-loop.ts,
 * run to the end whatever the latencies.
 */
import { runBoundedOpenLoop } from './serve/bounded-open-loop.js';

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

export async function runOpenLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const r = await runBoundedOpenLoop({ ...o, giveUpMs: Infinity });
  return {
    sent: r.sent,
    ok: r.ok,
    failed: r.failed,
    achievedRate: r.completedRate,
    p50: r.p50,
    p90: r.p90,
    p99: r.p99,
    max: r.max,
  };
}
