/**
 * Errors a handler throws. The one error handler (src/plugins/error-handler.ts) turns each into the
 * shared ErrorBody with its status; anything else becomes a 500 without internals.
 */
export interface AppErrorOptions { fields?: string[], retryAfterSeconds?: number, cause?: unknown }

export class AppError extends Error {
  readonly statusCode: number
  readonly errorCode: string
  readonly fields: string[]
  /** Seconds a caller should wait before retrying (sent as Retry-After). */
  readonly retryAfterSeconds: number | undefined

  constructor (statusCode: number, errorCode: string, message: string, opts: AppErrorOptions = {}) {
    super(message, { cause: opts.cause })
    this.name = new.target.name
    this.statusCode = statusCode
    this.errorCode = errorCode
    this.fields = opts.fields ?? []
    this.retryAfterSeconds = opts.retryAfterSeconds
  }
}

export class InvalidRequest extends AppError {
  constructor (message: string, fields: string[] = []) { super(400, 'INVALID_REQUEST', message, { fields }) }
}

/** The x-client-context header is missing or unreadable: the caller is unknown. */
export class InvalidContext extends AppError {
  constructor (errorCode: 'MISSING_CONTEXT' | 'INVALID_CONTEXT', message: string) { super(401, errorCode, message) }
}

export class NotFound extends AppError {
  constructor (message: string, fields: string[] = []) { super(404, 'NOT_FOUND', message, { fields }) }
}

export class Unprocessable extends AppError {
  constructor (errorCode: string, message: string, fields: string[] = []) { super(422, errorCode, message, { fields }) }
}

/**
 * A write was sent but its answer never came (timeout, dropped connection): it may or may not
 * have happened. Its idempotency key stays taken, so a retry cannot do it a second time.
 */
export class OutcomeUnknown extends AppError {
  constructor (message: string, cause?: unknown) { super(502, 'OUTCOME_UNKNOWN', message, { cause }) }
}

/** A dependency (database, org) is down or over its limit: retry later. */
export class Unavailable extends AppError {
  constructor (errorCode: string, message: string, retryAfterSeconds: number, cause?: unknown) {
    super(503, errorCode, message, { retryAfterSeconds, cause })
  }
}

/** A setting is missing or malformed: the process stops at start with this one-line message. */
export class ConfigError extends Error {}
