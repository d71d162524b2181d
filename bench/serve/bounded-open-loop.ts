/**
 * Open-loop load: GET requests on a fixed schedule, each measured from its scheduled time (no
 * coordinated omission), with a give-up bound: once an answer takes longer than `giveUpMs` the
 * server is overloaded at this rate, so no further requests are scheduled (those in flight are
 * awaited). Without it an overloaded run lasts until the whole backlog drains. Requests go out over
 * a lean keep-alive client (keep-alive-client.ts), so the generator takes little CPU from a server
 * on the same machine.
 */
import { percentile } from '../load.js';
import { KeepAliveClient } from './keep-alive-client.js';
import { watchOwnGc, type GcTotals } from './gc-stats.js';

export interface BoundedOpenLoopOptions {
  url: string;
  /** Requests per second, sent on a fixed schedule whatever the answers do. */
  rate: number;
  durationSeconds: number;
  path: (i: number) => string;
  /** Stop scheduling once one answer took this long, measured from its scheduled time. */
  giveUpMs: number;
  maxSockets?: number;
}

export interface BoundedOpenLoopResult {
  /** Requests scheduled and sent. */
  sent: number;
  /** Requests the full run would have sent. */
  planned: number;
  ok: number;
  failed: number;
  /** True when the run stopped early on the give-up bound. */
  overloaded: boolean;
  /** Requests answered per second of the run (sending start to last answer). */
  completedRate: number;
  /** Milliseconds from the scheduled send time to the last byte of the answer, over the sent requests. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** The generator's own collections during the run, which delay its sends and readings. */
  ownGc: GcTotals;
}

export async function runBoundedOpenLoop(o: BoundedOpenLoopOptions): Promise<BoundedOpenLoopResult> {
  // Requests take the connection idle longest (FIFO), so the load spreads over every open
  // connection as from many clients instead of piling onto the one freed last (which a
  // multi-process server receives on one worker, since connections are what it balances).
  const client = new KeepAliveClient(o.url, o.maxSockets ?? 64);
  const planned = Math.round(o.rate * o.durationSeconds);
  const requests = client.requests(planned, o.path);
  const latencies = new Float64Array(planned);
  let ok = 0;
  let failed = 0;
  let done = 0;
  let next = 0;
  let overloaded = false;
  // Garbage from before the run is collected now, not during it, where the process allows it
  // (--expose-gc, as npm run bench:serve runs it): the generator's pauses would count as latency.
  (globalThis as { gc?: () => void }).gc?.();
  const ownGc = watchOwnGc();
  const start = performance.now() + 50;

  await new Promise<void>((resolve) => {
    let stopped = false;
    const finish = (i: number) => {
      const latency = performance.now() - (start + (i * 1000) / o.rate);
      latencies[i] = latency;
      if (latency > o.giveUpMs && !stopped) {
        overloaded = true;
        stopped = true;
      }
      done++;
      if ((stopped || next === planned) && done === next) resolve();
    };
    const send = (i: number) => {
      client.get(requests(i), (status) => {
        if (status === 200) ok++;
        else failed++;
        finish(i);
      });
    };
    const tick = () => {
      if (stopped) {
        if (done === next) resolve();
        return;
      }
      const now = performance.now();
      while (next < planned && start + (next * 1000) / o.rate <= now) send(next++);
      // Sleeps until the next send time (timers fire at best every millisecond); requests whose
      // time has come meanwhile go out together, and their latency still counts from their
      // scheduled time. Spinning on setImmediate instead would take a core from the server.
      if (next < planned) setTimeout(tick, Math.max(1, start + (next * 1000) / o.rate - performance.now()));
    };
    setTimeout(tick, 50);
  });
  const elapsed = (performance.now() - start) / 1000;
  const ownGcTotals = await ownGc();
  client.close();
  const sorted = latencies.slice(0, next).sort();
  return {
    sent: next,
    planned,
    ok,
    failed,
    overloaded,
    completedRate: next / elapsed,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? sorted[sorted.length - 1] : NaN,
    ownGc: ownGcTotals,
  };
}
