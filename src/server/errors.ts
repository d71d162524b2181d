import type { FastifyError, FastifyInstance } from 'fastify';
import { KindredError, type ErrorCode, type FieldError } from '../domain/errors.js';

const STATUS: Record<ErrorCode, number> = {
  VALIDATION_ERROR: 400,
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  NOT_READY: 503,
  INTERNAL_ERROR: 500,
};

interface ErrorPayload {
  error: { code: ErrorCode; message: string; details?: FieldError[] };
}

function payload(code: ErrorCode, message: string, details?: FieldError[]): ErrorPayload {
  return { error: details && details.length > 0 ? { code, message, details } : { code, message } };
}

interface AjvError {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Turns an Ajv error into a field path the caller recognises: `k`, `body/attributes/price`, ... */
function fieldOf(context: string | undefined, e: AjvError): string {
  const parts = (e.instancePath ?? '').split('/').filter(Boolean);
  const missing = e.params?.missingProperty;
  if (typeof missing === 'string') parts.push(missing);
  const extra = e.params?.additionalProperty;
  if (typeof extra === 'string') parts.push(extra);
  const where = context === 'body' ? ['body'] : [];
  const path = [...where, ...parts].join('/');
  return path || context || '(request)';
}

function messageOf(e: AjvError): string {
  if (typeof e.params?.additionalProperty === 'string') return 'is not a known field';
  return e.message ?? 'is invalid';
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | KindredError | Error, request, reply) => {
    if (err instanceof KindredError) {
      const status = STATUS[err.code];
      if (status >= 500) request.log.error({ err }, err.message);
      return reply.status(status).send(payload(err.code, err.message, err.details));
    }
    const fe = err as FastifyError & { validation?: AjvError[]; validationContext?: string };
    if (fe.validation) {
      const details = fe.validation.map((v) => ({
        field: fieldOf(fe.validationContext, v),
        message: messageOf(v),
      }));
      const first = details[0];
      const message = first ? `${first.field} ${first.message}` : 'request is invalid';
      return reply.status(400).send(payload('VALIDATION_ERROR', message, details));
    }
    if (fe.statusCode === 413) {
      return reply.status(413).send(payload('PAYLOAD_TOO_LARGE', fe.message));
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send(payload('BAD_REQUEST', fe.message));
    }
    request.log.error({ err }, 'unhandled error');
    return reply.status(500).send(payload('INTERNAL_ERROR', 'internal error'));
  });

  app.setNotFoundHandler((request, reply) => {
    reply
      .status(404)
      .send(payload('NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]}`));
  });
}
