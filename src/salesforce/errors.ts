import { AppError } from '../errors.ts'
import type { SalesforceErrorEntry } from '@applink-actions/platform/errors'

export { parseSalesforceErrors, type SalesforceErrorEntry } from '@applink-actions/platform/errors'

/** Status the service answers with for an error the org returned. */
function statusFor (httpStatus: number, errorCode: string): number {
  if (errorCode === 'INVALID_SESSION_ID' || httpStatus === 401) return 401
  if (errorCode === 'REQUEST_LIMIT_EXCEEDED') return 503
  if (httpStatus === 404 || errorCode === 'NOT_FOUND' || errorCode === 'ENTITY_IS_DELETED') return 404
  if (httpStatus === 403 || errorCode.startsWith('INSUFFICIENT_ACCESS')) return 403
  if (httpStatus >= 500) return 502
  return 400
}

/** The org refused a call; carries Salesforce's own errorCode, message and fields. */
export class SalesforceApiError extends AppError {
  readonly httpStatus: number
  readonly errors: SalesforceErrorEntry[]

  constructor (httpStatus: number, errors: SalesforceErrorEntry[], retryAfterSeconds?: number) {
    const first = errors[0] ?? { message: `Salesforce answered HTTP ${httpStatus}`, errorCode: 'UNKNOWN_EXCEPTION', fields: [] }
    super(statusFor(httpStatus, first.errorCode), first.errorCode, first.message, {
      fields: first.fields,
      retryAfterSeconds: retryAfterSeconds ?? (first.errorCode === 'REQUEST_LIMIT_EXCEEDED' ? 300 : undefined)
    })
    this.httpStatus = httpStatus
    this.errors = errors
  }

  /** Transient on Salesforce's side: worth retrying an idempotent call. */
  get transient (): boolean {
    return this.httpStatus === 503 || this.httpStatus === 502 || this.errorCode === 'UNABLE_TO_LOCK_ROW' || this.errorCode === 'SERVER_UNAVAILABLE'
  }
}
