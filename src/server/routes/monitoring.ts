import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type {
  Alert,
  AlertTransition,
  DriftCheck,
  DriftMonitor,
  DriftReport,
} from '../../monitoring/drift.js';
import { driftAlertFields } from '../../monitoring/log-fields.js';
import type { Metrics } from '../../monitoring/metrics.js';

export interface MonitoringDeps {
  metrics: Metrics;
  drift: DriftMonitor;
}

const Iso = Type.String({ format: 'date-time' });
const Status = Type.Union([Type.Literal('ok'), Type.Literal('warn'), Type.Literal('alert')]);
const ThresholdJson = Type.Object({
  warn: Type.Number({ description: 'The statistic at or above which the check warns' }),
  alert: Type.Number({ description: 'The statistic at or above which the check alerts' }),
});

const DriftCheckJson = Type.Object({
  name: Type.String({
    description: 'score_psi, event_type_psi, item_popularity_psi, user_activity_psi, ...',
  }),
  statistic: Type.String({ description: 'psi, gini_change or ctr_relative_drop' }),
  value: Type.Number(),
  threshold: ThresholdJson,
  status: Status,
  sufficient: Type.Boolean({
    description: 'False when the window holds too little data or there is no reference; status is then ok',
  }),
  sample: Type.Integer({ description: 'Observations behind the live side of the check' }),
  detail: Type.String(),
  series: Type.Optional(
    Type.Array(Type.Union([Type.Number(), Type.Null()]), {
      description: 'CTR per bucket of the window, oldest first; null where there was no impression',
    }),
  ),
});

const TransitionJson = Type.Object({
  at: Iso,
  name: Type.String(),
  from: Status,
  to: Status,
  value: Type.Number(),
  detail: Type.String(),
});

const DriftReportJson = Type.Object({
  at: Iso,
  windowStart: Iso,
  windowEnd: Iso,
  events: Type.Integer({ description: 'Events observed in the window' }),
  status: Status,
  reference: Type.Boolean({ description: 'Whether a training reference is set' }),
  checks: Type.Array(DriftCheckJson),
  transitions: Type.Array(TransitionJson, { description: 'Alert changes made by this check' }),
});

const AlertJson = Type.Object({
  name: Type.String(),
  status: Type.Union([Type.Literal('warn'), Type.Literal('alert')]),
  statistic: Type.String(),
  value: Type.Number(),
  threshold: ThresholdJson,
  detail: Type.String(),
  firstSeen: Iso,
  lastSeen: Iso,
  since: Iso,
});

const iso = (ms: number): string => new Date(ms).toISOString();

function checkJson(c: DriftCheck) {
  const out = {
    name: c.name,
    statistic: c.statistic,
    value: Number.isFinite(c.value) ? c.value : 0,
    threshold: { ...c.threshold },
    status: c.status,
    sufficient: c.sufficient,
    sample: Math.round(c.sample),
    detail: c.detail,
  };
  return c.series ? { ...out, series: c.series } : out;
}

const transitionJson = (t: AlertTransition) => ({ ...t, at: iso(t.at) });

const alertJson = (a: Alert) => ({
  ...a,
  firstSeen: iso(a.firstSeen),
  lastSeen: iso(a.lastSeen),
  since: iso(a.since),
});

function reportJson(r: DriftReport) {
  return {
    at: iso(r.at),
    windowStart: iso(r.windowStart),
    windowEnd: iso(r.windowEnd),
    events: r.events,
    status: r.status,
    reference: r.reference,
    checks: r.checks.map(checkJson),
    transitions: r.transitions.map(transitionJson),
  };
}

export const monitoringRoutes: FastifyPluginAsyncTypebox<MonitoringDeps> = async (
  app,
  { metrics, drift },
) => {
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['ops'],
        summary: 'Prometheus metrics (text exposition format 0.0.4)',
        produces: ['text/plain'],
        response: { 200: Type.String({ description: 'Prometheus text exposition' }) },
      },
    },
    async (_req, reply) => {
      const text = await metrics.metricsText();
      return reply.type(metrics.contentType).send(text);
    },
  );

  app.get(
    '/monitoring/drift',
    {
      schema: {
        tags: ['ops'],
        summary: 'Run the drift checks now: live window against the training reference',
        description:
          'Population stability index of served scores, event-type mix, item popularity and user activity; ' +
          'catalogue concentration; CTR trend. Updates the alerts and the drift_* metrics.',
        response: { 200: DriftReportJson },
      },
    },
    async (req) => {
      const report = drift.check();
      metrics.observeDrift(report.checks);
      for (const t of report.transitions) {
        const fields = driftAlertFields(t);
        if (t.to === 'ok') req.log.info(fields, `drift check ${t.name} back to ok`);
        else req.log.warn(fields, `drift check ${t.name}: ${t.to}`);
      }
      return reportJson(report);
    },
  );

  app.get(
    '/monitoring/alerts',
    {
      schema: {
        tags: ['ops'],
        summary: 'Active drift alerts and recent alert changes (newest first)',
        description: 'Alerts change when the drift checks run (GET /monitoring/drift or the periodic check).',
        response: {
          200: Type.Object({ active: Type.Array(AlertJson), recent: Type.Array(TransitionJson) }),
        },
      },
    },
    async () => {
      const view = drift.alerts();
      return { active: view.active.map(alertJson), recent: view.recent.map(transitionJson) };
    },
  );
};
