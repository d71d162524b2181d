import type { FastifySchemaCompiler } from 'fastify';
import { ValidationError, type FieldError } from '../../domain/errors.js';
import type { BatchResult } from '../schemas.js';

/** Most rows one batch request may carry. */
export const MAX_BATCH_ROWS = 10_000;

export interface RowError {
  index: number;
  field: string;
  message: string;
}

/**
 * Batch bodies are validated row by row (so the good rows of a batch are kept and every bad one
 * is reported); the route-level check only requires a JSON array of bounded size. The row schema
 * is still declared on the route, so the OpenAPI document shows it.
 */
export function batchBodyValidator<S>(): FastifySchemaCompiler<S> {
  return () => (data: unknown) => {
    if (!Array.isArray(data)) {
      return {
        error: new ValidationError('body must be a JSON array of rows', [
          { field: 'body', message: 'must be an array' },
        ]),
      };
    }
    if (data.length > MAX_BATCH_ROWS) {
      return {
        error: new ValidationError(`body has ${data.length} rows; at most ${MAX_BATCH_ROWS} per request`, [
          { field: 'body', message: `must have at most ${MAX_BATCH_ROWS} rows` },
        ]),
      };
    }
    return { value: data };
  };
}

export function batchResult(
  rows: number,
  valid: number,
  written: number,
  duplicates: number,
  errors: RowError[],
): BatchResult {
  return { accepted: written, duplicates, rejected: rows - valid, errors };
}

/** A single-row write (PUT) failed validation: report the row's errors as a 400. */
export function rowErrorsToValidation(errors: RowError[], prefix = 'body'): ValidationError {
  const details: FieldError[] = errors.map((e) => ({ field: `${prefix}/${e.field}`, message: e.message }));
  return new ValidationError(details.map((d) => `${d.field} ${d.message}`).join('; '), details);
}
