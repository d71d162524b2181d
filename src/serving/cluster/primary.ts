/**
 * The primary process of a multi-process server: forks one serving worker per core asked for
 * (they share the listening port), hands every change a worker publishes to the other workers,
 * answers `/metrics` with the sum over all workers, and replaces a worker that dies.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { CHANGE_APPLIED, CHANGE_DONE, isChangeAck, isChangeMessage, type ChangeAck } from './worker-bus.js';
import {
  isMetricsRequest,
  isReadyMessage,
  METRICS_RESPONSE,
  WORKER_ENV,
  type MetricsResponse,
} from './messages.js';

export interface PrimaryOptions {
  workers: number;
  log?: (message: string) => void;
  /** A worker that dies within this many ms of starting is not replaced (default 10 s). */
  minUptimeMs?: number;
  /** Node flags the workers run with, after the primary's own. */
  nodeFlags?: readonly string[];
}

export interface RunningCluster {
  /** Resolves with the address once every worker listens. */
  ready: Promise<string>;
  /** Stops every worker and resolves when they have exited. */
  stop(): Promise<void>;
}

export function startPrimary(options: PrimaryOptions): RunningCluster {
  const log = options.log ?? ((m: string) => console.log(m));
  const minUptime = options.minUptimeMs ?? 10_000;
  const aggregator = new AggregatorRegistry();
  const started = new Map<number, number>();
  const indexOf = new Map<number, number>();
  /** Workers yet to apply each relayed change, by `<origin worker id>:<change id>`. */
  const awaiting = new Map<string, number>();
  let stopping = false;
  let readyCount = 0;
  let resolveReady: (url: string) => void = () => undefined;
  let rejectReady: (err: Error) => void = () => undefined;
  const ready = new Promise<string>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });

  const others = (from: Worker): Worker[] =>
    Object.values(cluster.workers ?? {}).filter(
      (w): w is Worker => !!w && w.id !== from.id && w.isConnected(),
    );

  if (options.nodeFlags && options.nodeFlags.length > 0)
    cluster.setupPrimary({ execArgv: [...process.execArgv, ...options.nodeFlags] });
  const fork = (index: number): void => {
    const worker = cluster.fork({ [WORKER_ENV]: String(index) });
    started.set(worker.id, Date.now());
    indexOf.set(worker.id, index);
    worker.on('message', (raw: unknown) => {
      if (isChangeMessage(raw)) {
        const targets = others(worker);
        if (targets.length === 0) return send(worker, { type: CHANGE_DONE, id: raw.id });
        awaiting.set(`${worker.id}:${raw.id}`, targets.length);
        for (const w of targets) w.send({ ...raw, origin: worker.id });
      } else if (isChangeAck(raw, CHANGE_APPLIED) && raw.origin !== undefined) {
        const key = `${raw.origin}:${raw.id}`;
        const left = (awaiting.get(key) ?? 1) - 1;
        if (left > 0) return void awaiting.set(key, left);
        awaiting.delete(key);
        const origin = cluster.workers?.[raw.origin];
        if (origin) send(origin, { type: CHANGE_DONE, id: raw.id });
      } else if (isMetricsRequest(raw)) {
        aggregator.clusterMetrics().then(
          (text) => send(worker, { type: METRICS_RESPONSE, id: raw.id, text }),
          (err: Error) => send(worker, { type: METRICS_RESPONSE, id: raw.id, error: err.message }),
        );
      } else if (isReadyMessage(raw)) {
        readyCount++;
        if (readyCount === options.workers) resolveReady(raw.url);
      }
    });
  };

  cluster.on('exit', (worker, code, signal) => {
    const index = indexOf.get(worker.id) ?? 0;
    if (stopping) return;
    const uptime = Date.now() - (started.get(worker.id) ?? 0);
    log(`worker ${index} exited (${signal ?? `code ${code}`}) after ${(uptime / 1000).toFixed(1)} s`);
    if (uptime < minUptime) {
      rejectReady(new Error(`worker ${index} exited while starting (${signal ?? `code ${code}`})`));
      void stop().then(() => process.exit(1));
      return;
    }
    log(`starting a new worker ${index}`);
    fork(index);
  });

  const stop = async (): Promise<void> => {
    stopping = true;
    const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
    await Promise.all(
      live.map(
        (w) =>
          new Promise<void>((resolve) => {
            w.once('exit', () => resolve());
            w.process.kill('SIGTERM');
          }),
      ),
    );
  };

  for (let i = 1; i <= options.workers; i++) fork(i);
  return { ready, stop };
}

function send(worker: Worker, message: MetricsResponse | ChangeAck): void {
  if (worker.isConnected()) worker.send(message);
}
