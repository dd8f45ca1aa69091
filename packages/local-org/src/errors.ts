// Salesforce REST error bodies: arrays of { message, errorCode, fields? }.

export interface SfErrorItem {
  message: string
  errorCode: string
  fields?: string[]
}

export class SfError extends Error {
  readonly status: number
  readonly errorCode: string
  readonly fields: string[] | undefined

  constructor (status: number, errorCode: string, message: string, fields?: string[]) {
    super(message)
    this.status = status
    this.errorCode = errorCode
    this.fields = fields
  }

  item (): SfErrorItem {
    const out: SfErrorItem = { message: this.message, errorCode: this.errorCode }
    if (this.fields !== undefined) out.fields = this.fields
    return out
  }

  body (): SfErrorItem[] {
    return [this.item()]
  }
}

export const notFound = (): SfError => new SfError(404, 'NOT_FOUND', 'The requested resource does not exist')
export const invalidSession = (): SfError => new SfError(401, 'INVALID_SESSION_ID', 'Session expired or invalid')

/** 405 as Salesforce words it, naming the methods the resource takes. */
export function methodNotAllowed (method: string, allowed = 'GET,HEAD,PATCH,POST,DELETE'): SfError {
  return new SfError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed. Allowed are ${allowed}`)
}

/** A request body that must be a JSON object. */
export function asObject (body: unknown): Record<string, unknown> {
  if (body === null || body === undefined || typeof body !== 'object' || Array.isArray(body)) {
    throw new SfError(400, 'JSON_PARSER_ERROR', 'Expected a JSON object in the request body')
  }
  return body as Record<string, unknown>
}

/** The JSON of a request body; none for an empty body, a GET or a DELETE. */
export function parseJson (raw: string, method: string): unknown {
  if (raw.trim() === '' || method === 'GET' || method === 'DELETE') return undefined
  try {
    return JSON.parse(raw)
  } catch (e) {
    throw new SfError(400, 'JSON_PARSER_ERROR', `Unexpected character: ${(e as Error).message}`)
  }
}
