import { AppError } from '../errors.ts'

/** One entry of Salesforce's error array; sObject Collections name the code `statusCode`. */
export interface SalesforceErrorEntry { message: string, errorCode: string, fields: string[] }

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

/** Reads Salesforce's error body (array, single object, or anything else) into entries. */
export function parseSalesforceErrors (body: unknown): SalesforceErrorEntry[] {
  const list = Array.isArray(body) ? body : body !== null && typeof body === 'object' ? [body] : []
  return list.flatMap((item: unknown) => {
    if (item === null || typeof item !== 'object') return []
    const e = item as Record<string, unknown>
    const code = e.errorCode ?? e.statusCode
    if (typeof code !== 'string') return []
    return [{
      message: typeof e.message === 'string' ? e.message : code,
      errorCode: code,
      fields: Array.isArray(e.fields) ? e.fields.filter((f): f is string => typeof f === 'string') : []
    }]
  })
}
