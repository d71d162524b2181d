import { describe, expect, it } from 'vitest';
import { runDriftDemo } from '../../src/monitoring/demo-stream.js';
import { DriftMonitor } from '../../src/monitoring/drift.js';

describe('drift demo: replaying a stream against a two-week reference', () => {
  const result = runDriftDemo(() => new DriftMonitor());

  it('raises no alert for an unshifted continuation', () => {
    const { report, alerts } = result.unshifted;
    expect(report.reference).toBe(true);
    // every check had enough data to speak
    expect(report.checks.filter((c) => !c.sufficient).map((c) => c.name)).toEqual([]);
    expect(report.checks.filter((c) => c.status !== 'ok').map((c) => c.name)).toEqual([]);
    expect(report.status).toBe('ok');
    expect(alerts.active).toEqual([]);
    expect(alerts.recent).toEqual([]);
  });

  it('raises the alerts of what was shifted, and only those', () => {
    const { report, alerts } = result.shifted;
    expect(report.status).toBe('alert');
    const alerting = alerts.active.filter((a) => a.status === 'alert').map((a) => a.name);
    expect(alerting.sort()).toEqual([
      'ctr_trend',
      'event_type_psi',
      'interaction_concentration',
      'item_popularity_psi',
      'score_psi',
      'served_concentration',
    ]);
    // the users were not shifted: their activity stays within the reference
    const activity = report.checks.find((c) => c.name === 'user_activity_psi');
    expect(activity?.sufficient).toBe(true);
    expect(activity?.status).toBe('ok');
    // the click rate was halved
    const ctr = report.checks.find((c) => c.name === 'ctr_trend');
    expect(ctr?.value).toBeGreaterThan(0.4);
    expect(ctr?.value).toBeLessThan(0.6);
    for (const a of alerts.active) {
      expect(a.firstSeen).toBe(report.at);
      expect(alerts.recent.some((t) => t.name === a.name && t.from === 'ok' && t.to === 'alert')).toBe(true);
    }
  });
});
