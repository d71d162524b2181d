/** A serving worker of a multi-process server joins the others through the primary. */
import { AggregatorRegistry } from 'prom-client';
import type { Engine } from '../engine.js';
import { READY_MESSAGE, type ReadyMessage } from './messages.js';
import { clusterMetricsText, WorkerBus } from './worker-bus.js';

/**
 * Changes made by this worker reach the others and theirs apply here; `/metrics` answers with
 * the sum over every worker.
 */
export function joinCluster(engine: Engine, channel: NodeJS.Process = process): void {
  engine.attachBus(new WorkerBus(channel));
  // Constructing one installs the worker's answer to the primary's collection requests.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([engine.metrics.registry]);
  engine.metrics.serveTextFrom(() => clusterMetricsText(channel));
}

/** Tells the primary this worker listens. */
export function reportReady(url: string, channel: NodeJS.Process = process): void {
  const message: ReadyMessage = { type: READY_MESSAGE, url };
  channel.send?.(message);
}
