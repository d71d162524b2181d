/**
 * Alert state of the drift checks: a check that turns warn or alert opens an alert (first
 * seen), later checks keep it current (last seen) or change its level, and an ok check
 * resolves it. Every change is kept in a bounded log of recent transitions.
 */

export type DriftStatus = 'ok' | 'warn' | 'alert';

export interface Threshold {
  warn: number;
  alert: number;
}

/** The outcome of one check, as the alert book reads it. */
export interface CheckOutcome {
  name: string;
  statistic: string;
  value: number;
  threshold: Threshold;
  status: DriftStatus;
  /** False when the check had too little data or no reference: it leaves the alert state alone. */
  sufficient: boolean;
  detail: string;
}

export interface Alert {
  name: string;
  status: Exclude<DriftStatus, 'ok'>;
  statistic: string;
  value: number;
  threshold: Threshold;
  detail: string;
  /** When the check left ok (ms). */
  firstSeen: number;
  /** The latest check that found it not ok (ms). */
  lastSeen: number;
  /** When it reached its current status (ms). */
  since: number;
}

export interface AlertTransition {
  at: number;
  name: string;
  from: DriftStatus;
  to: DriftStatus;
  value: number;
  detail: string;
}

export interface AlertsView {
  active: Alert[];
  recent: AlertTransition[];
}

export class AlertBook {
  private readonly active = new Map<string, Alert>();
  private readonly log: AlertTransition[] = [];

  constructor(private readonly maxRecent = 100) {}

  /** Applies the outcomes of one round of checks made at `at` (ms); returns the transitions it made. */
  update(outcomes: readonly CheckOutcome[], at: number): AlertTransition[] {
    const made: AlertTransition[] = [];
    for (const o of outcomes) {
      if (!o.sufficient) continue;
      const current = this.active.get(o.name);
      const from: DriftStatus = current ? current.status : 'ok';
      if (o.status === 'ok') {
        if (current) {
          this.active.delete(o.name);
          this.record({ at, name: o.name, from, to: 'ok', value: o.value, detail: o.detail }, made);
        }
        continue;
      }
      if (current) {
        if (current.status !== o.status) {
          current.since = at;
          this.record({ at, name: o.name, from, to: o.status, value: o.value, detail: o.detail }, made);
        }
        current.status = o.status;
        current.value = o.value;
        current.threshold = o.threshold;
        current.detail = o.detail;
        current.lastSeen = at;
      } else {
        this.active.set(o.name, {
          name: o.name,
          status: o.status,
          statistic: o.statistic,
          value: o.value,
          threshold: o.threshold,
          detail: o.detail,
          firstSeen: at,
          lastSeen: at,
          since: at,
        });
        this.record({ at, name: o.name, from, to: o.status, value: o.value, detail: o.detail }, made);
      }
    }
    return made;
  }

  /** Active alerts (alert level first, then by name) and the recent transitions, newest first. */
  view(): AlertsView {
    const active = [...this.active.values()]
      .map((a) => ({ ...a, threshold: { ...a.threshold } }))
      .sort((a, b) => (a.status === b.status ? a.name.localeCompare(b.name) : a.status === 'alert' ? -1 : 1));
    return { active, recent: [...this.log].reverse() };
  }

  clear(): void {
    this.active.clear();
    this.log.length = 0;
  }

  private record(t: AlertTransition, made: AlertTransition[]): void {
    made.push(t);
    this.log.push(t);
    if (this.log.length > this.maxRecent) this.log.splice(0, this.log.length - this.maxRecent);
  }
}
