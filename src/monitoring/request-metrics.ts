/**
 * Fastify hook feeding `http_request_duration_seconds`: every response is observed under its
 * route pattern (never the raw URL) and placement.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Metrics } from './metrics.js';

/** The placement of a request: its `placement` query parameter, else '' (no placement). */
export function placementOfRequest(request: FastifyRequest): string {
  const q = request.query as Record<string, unknown> | undefined;
  const p = q?.placement;
  return typeof p === 'string' ? p : '';
}

export interface RequestMetricsOptions {
  placementOf?: (request: FastifyRequest) => string;
  /** Routes not observed (default: `/metrics`). */
  skip?: readonly string[];
}

/** Adds an onResponse hook to `app` (register it at the root so that it sees every route). */
export function installRequestMetrics(
  app: FastifyInstance,
  metrics: Metrics,
  options: RequestMetricsOptions = {},
): void {
  const placementOf = options.placementOf ?? placementOfRequest;
  const skip = new Set(options.skip ?? ['/metrics']);
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (skip.has(route)) return;
    metrics.observeRequest(
      route,
      request.method,
      reply.statusCode,
      reply.elapsedTime / 1000,
      placementOf(request),
    );
  });
}
