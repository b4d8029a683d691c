// Typed errors that domain code throws; one middleware turns them into
// `{ error: message, code, details? }` (shared/schemas/errors.ts) with the status they carry.

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** Extra response headers (e.g. Retry-After). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequest extends AppError {
  constructor(message: string, details?: unknown, code = 'bad_request') {
    super(400, code, message, details);
  }
}

export class Unauthorized extends AppError {
  constructor(message = 'A valid credential is required.', code = 'unauthorized') {
    super(401, code, message);
  }
}

export class Forbidden extends AppError {
  constructor(message: string, code = 'forbidden', details?: unknown) {
    super(403, code, message, details);
  }
}

export class NotFound extends AppError {
  constructor(message: string, code = 'not_found', details?: unknown) {
    super(404, code, message, details);
  }
}

export class Conflict extends AppError {
  constructor(message: string, code = 'conflict', details?: unknown) {
    super(409, code, message, details);
  }
}

export class PayloadTooLarge extends AppError {
  constructor(message: string, code = 'payload_too_large') {
    super(413, code, message);
  }
}

export class Unprocessable extends AppError {
  constructor(message: string, code = 'unprocessable', details?: unknown) {
    super(422, code, message, details);
  }
}

/** A tool the request needs is missing or not set up (e.g. gh not logged in). */
export class FailedDependency extends AppError {
  constructor(message: string, code = 'failed_dependency', details?: unknown) {
    super(424, code, message, details);
  }
}

export class TooManyRequests extends AppError {
  constructor(message: string, retryAfterSeconds: number) {
    super(429, 'rate_limited', message, undefined, { 'Retry-After': String(retryAfterSeconds) });
  }
}

export class ServiceUnavailable extends AppError {
  constructor(message: string, code = 'service_unavailable') {
    super(503, code, message);
  }
}

/** A path or method the gateway does not have (404), or a table route not built yet (501).
 *  Its reply carries NO `code` on the wire: the web client reads a code-less 404/501 as
 *  "this desktop version lacks the route". `code` stays for logs and telemetry. */
export class NoSuchRoute extends AppError {
  constructor(status: 404 | 501, message: string, details?: unknown) {
    super(status, status === 404 ? 'no_such_route' : 'not_implemented', message, details);
  }
}

/** The same error, with a `reason` beside `code` in the reply (the web client's pr/comments reader switches on it). */
export class WithReason extends AppError {
  constructor(
    cause: AppError,
    readonly reason: string,
  ) {
    super(cause.status, cause.code, cause.message, cause.details, cause.headers);
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
