/**
 * Runs the drift checks every `intervalMs`, publishes them as metrics and hands alert changes to
 * `onTransition` (e.g. to log them with driftAlertFields).
 */
import type { AlertTransition, DriftMonitor, DriftReport } from './drift.js';
import type { Metrics } from './metrics.js';

export interface DriftScheduleOptions {
  drift: DriftMonitor;
  metrics?: Metrics;
  /** Default 60 s. */
  intervalMs?: number;
  onTransition?: (t: AlertTransition) => void;
  onReport?: (r: DriftReport) => void;
}

/** Starts the periodic check (the timer does not keep the process alive); returns a stop function. */
export function scheduleDriftChecks(options: DriftScheduleOptions): () => void {
  const timer = setInterval(() => {
    const report = options.drift.check();
    options.metrics?.observeDrift(report.checks);
    if (options.onTransition) for (const t of report.transitions) options.onTransition(t);
    options.onReport?.(report);
  }, options.intervalMs ?? 60_000);
  timer.unref();
  return () => clearInterval(timer);
}
