import Fastify from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/ingest/prng.js';
import { DriftMonitor, type MonitoredEvent } from '../../src/monitoring/drift.js';
import { Metrics } from '../../src/monitoring/metrics.js';
import { installRequestMetrics } from '../../src/monitoring/request-metrics.js';
import { installErrorHandling } from '../../src/server/errors.js';
import { monitoringRoutes } from '../../src/server/routes/monitoring.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 0, 1);

interface CheckJson {
  name: string;
  status: string;
  sufficient: boolean;
  value: number;
}
interface ReportJson {
  reference: boolean;
  status: string;
  events: number;
  checks: CheckJson[];
  transitions: { name: string; from: string; to: string; at: string }[];
}
interface AlertsJson {
  active: { name: string; status: string; firstSeen: string; lastSeen: string }[];
  recent: { name: string; to: string }[];
}

describe('monitoring routes', () => {
  let now = T0 + 100 * HOUR;
  const metrics = new Metrics({ defaultMetrics: false });
  const drift = new DriftMonitor({
    now: () => now,
    minSample: 50,
    minImpressions: 100,
    minConcentrationSample: 50,
  });
  const app = Fastify().withTypeProvider<TypeBoxTypeProvider>();

  beforeAll(async () => {
    installErrorHandling(app);
    installRequestMetrics(app, metrics);
    await app.register(monitoringRoutes, { metrics, drift });
    await app.ready();
  });
  afterAll(() => app.close());

  it('serves Prometheus text with request latencies per route and placement', async () => {
    metrics.eventsIngested(['view', 'view']);
    await app.inject({ method: 'GET', url: '/monitoring/alerts?placement=home' });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.headers['content-type']).toContain('version=0.0.4');
    expect(res.body).toContain('events_ingested_total{type="view"} 2');
    expect(res.body).toContain(
      'http_request_duration_seconds_count{route="/monitoring/alerts",method="GET",status="2xx",placement="home"} 1',
    );
    // the scrape itself is not observed
    expect(res.body).not.toContain('route="/metrics"');
  });

  it('reports every check as insufficient before a reference is set', async () => {
    const res = await app.inject({ method: 'GET', url: '/monitoring/drift' });
    expect(res.statusCode).toBe(200);
    const report = res.json<ReportJson>();
    expect(report.reference).toBe(false);
    expect(report.status).toBe('ok');
    expect(report.checks.length).toBe(7);
    expect(report.checks.every((c) => !c.sufficient)).toBe(true);
  });

  it('raises an alert readable over the API when the live mix shifts', async () => {
    const rng = new Rng(5);
    const ev = (type: string, _k: number): MonitoredEvent => ({
      userId: `u${rng.int(40)}`,
      itemId: `i${rng.int(50)}`,
      type,
    });
    const reference: MonitoredEvent[] = [];
    for (let k = 0; k < 20_000; k++)
      reference.push(ev('impression', k), ...(k % 10 === 0 ? [ev('click', k)] : []));
    drift.setReferenceFromEvents(reference);

    // the same mix: no alert
    const same: MonitoredEvent[] = [];
    for (let k = 0; k < 1000; k++) same.push(ev('impression', k), ...(k % 10 === 0 ? [ev('click', k)] : []));
    drift.observeEvents(same);
    let report = (await app.inject({ method: 'GET', url: '/monitoring/drift' })).json<ReportJson>();
    expect(report.checks.filter((c) => c.status !== 'ok').map((c) => c.name)).toEqual([]);
    expect(report.checks.find((c) => c.name === 'ctr_trend')?.sufficient).toBe(true);

    // an hour later: clicks on one impression in 50
    now += HOUR;
    const fewer: MonitoredEvent[] = [];
    for (let k = 0; k < 1000; k++) fewer.push(ev('impression', k), ...(k % 50 === 0 ? [ev('click', k)] : []));
    drift.observeEvents(fewer);
    report = (await app.inject({ method: 'GET', url: '/monitoring/drift' })).json<ReportJson>();
    const ctr = report.checks.find((c) => c.name === 'ctr_trend');
    expect(ctr?.status).toBe('alert');
    expect(report.transitions.some((t) => t.name === 'ctr_trend' && t.to === 'alert')).toBe(true);

    const alerts = (await app.inject({ method: 'GET', url: '/monitoring/alerts' })).json<AlertsJson>();
    const active = alerts.active.find((a) => a.name === 'ctr_trend');
    expect(active?.status).toBe('alert');
    expect(active?.firstSeen).toBe(new Date(now).toISOString());
    expect(alerts.recent[0].name).toBeDefined();

    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toContain('drift_status{check="ctr_trend"} 2');
  });

  it('answers unknown monitoring paths with the error body', async () => {
    const res = await app.inject({ method: 'GET', url: '/monitoring/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('NOT_FOUND');
  });
});
