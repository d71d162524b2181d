/**
 * Field names of the structured (pino) log lines, so that every line about a recommendation or
 * an ingest batch can be filtered the same way: `placement`, `recommendationId`, `models`, ...
 */

/** Models serving a request, as `name@trainedAt-ISO`, e.g. `als@2025-03-01T10:00:00.000Z`. */
export type ModelVersions = Record<string, string>;

export interface RecommendationLogFields {
  event: 'recommendation';
  placement: string;
  recommendationId: string;
  userId: string;
  items: number;
  /** Milliseconds spent computing the list. */
  ms: number;
  models?: ModelVersions;
}

/** Fields of one served recommendation list. */
export function recommendationFields(r: {
  placement: string;
  recommendationId: string;
  userId: string;
  items: number;
  ms: number;
  models?: ModelVersions;
}): RecommendationLogFields {
  const fields: RecommendationLogFields = {
    event: 'recommendation',
    placement: r.placement,
    recommendationId: r.recommendationId,
    userId: r.userId,
    items: r.items,
    ms: Math.round(r.ms * 1000) / 1000,
  };
  if (r.models) fields.models = r.models;
  return fields;
}

/** `{ name: version }` from the serving models and their training times (ms). */
export function modelVersions(models: readonly { name: string; trainedAt: number }[]): ModelVersions {
  const out: ModelVersions = {};
  for (const m of models) out[m.name] = new Date(m.trainedAt).toISOString();
  return out;
}

export interface IngestLogFields {
  event: 'ingest';
  accepted: number;
  duplicates: number;
  rejected: number;
}

/** Fields of one ingested event batch. */
export function ingestFields(r: { accepted: number; duplicates: number; rejected: number }): IngestLogFields {
  return { event: 'ingest', accepted: r.accepted, duplicates: r.duplicates, rejected: r.rejected };
}

export interface DriftLogFields {
  event: 'drift-alert';
  check: string;
  from: string;
  to: string;
  value: number;
  detail: string;
}

/** Fields of one drift alert transition (log it at warn level when `to` is not ok). */
export function driftAlertFields(t: {
  name: string;
  from: string;
  to: string;
  value: number;
  detail: string;
}): DriftLogFields {
  return { event: 'drift-alert', check: t.name, from: t.from, to: t.to, value: t.value, detail: t.detail };
}
