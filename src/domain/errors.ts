/**
 * Errors with stable machine-readable codes. The HTTP layer maps them to status codes;
 * the CLI prints their message.
 */
export type ErrorCode =
  | 'VALIDATION_ERROR'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'NOT_READY'
  | 'BAD_REQUEST'
  | 'PAYLOAD_TOO_LARGE'
  | 'INTERNAL_ERROR';

export interface FieldError {
  /** JSON path of the offending field, e.g. `/events/3/timestamp` or `type`. */
  field: string;
  message: string;
}

export class KindredError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: FieldError[] = [],
  ) {
    super(message);
    this.name = 'KindredError';
  }
}

export class NotFoundError extends KindredError {
  constructor(what: string, id: string | number) {
    super('NOT_FOUND', `${what} '${id}' not found`);
  }
}

export class ValidationError extends KindredError {
  constructor(message: string, details: FieldError[] = []) {
    super('VALIDATION_ERROR', message, details);
  }
}

export class ConflictError extends KindredError {
  constructor(message: string) {
    super('CONFLICT', message);
  }
}
