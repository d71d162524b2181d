/** Messages between the primary of a multi-process server and its workers, besides changes. */

/** Environment variable holding a worker's number (1..N); absent in a single-process server. */
export const WORKER_ENV = 'KINDRED_WORKER';
export const READY_MESSAGE = 'kindred:ready';
export const METRICS_REQUEST = 'kindred:metrics-request';
export const METRICS_RESPONSE = 'kindred:metrics-response';

export interface ReadyMessage {
  type: typeof READY_MESSAGE;
  url: string;
}

export interface MetricsRequest {
  type: typeof METRICS_REQUEST;
  id: number;
}

export interface MetricsResponse {
  type: typeof METRICS_RESPONSE;
  id: number;
  text?: string;
  error?: string;
}

const typed = (raw: unknown, type: string): boolean =>
  typeof raw === 'object' && raw !== null && (raw as { type?: unknown }).type === type;

export const isReadyMessage = (raw: unknown): raw is ReadyMessage => typed(raw, READY_MESSAGE);
export const isMetricsRequest = (raw: unknown): raw is MetricsRequest =>
  typed(raw, METRICS_REQUEST) && typeof (raw as { id?: unknown }).id === 'number';
export const isMetricsResponse = (raw: unknown): raw is MetricsResponse =>
  typed(raw, METRICS_RESPONSE) && typeof (raw as { id?: unknown }).id === 'number';

/** This worker's number, or null outside a multi-process server. */
export function workerNumber(env: NodeJS.ProcessEnv = process.env): number | null {
  const raw = env[WORKER_ENV];
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(n) && n > 0 ? n : null;
}
