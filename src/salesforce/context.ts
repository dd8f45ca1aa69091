import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { Compile } from 'typebox/compile'
import { InvalidContext } from '../errors.ts'
import { CLIENT_CONTEXT_HEADER, ClientContextSchema, type ClientContext } from '@applink-actions/platform/client-context'

export { CLIENT_CONTEXT_HEADER, type ClientContext } from '@applink-actions/platform/client-context'

const checkClientContext = Compile(ClientContextSchema)

/** Who is calling, as handlers see it. The access token stays out of it (and out of logs). */
export interface Caller {
  org: { id: string, domainUrl: string, apiVersion: string, namespace: string }
  user: { id: string, username: string }
  requestId: string
}

/** Standard or URL-safe alphabet, optional padding; no nested quantifiers (long input stays linear). */
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/
/** Far above any real context (a token and a few ids), far below what would cost to parse. */
const MAX_HEADER_LENGTH = 16_384

/**
 * Decodes and checks the header with messages that say what is wrong; the AppLink SDK would
 * otherwise crash on a missing orgDomainUrl or accept a context without a token.
 */
export function decodeClientContext (header: string | string[] | undefined): ClientContext {
  if (header === undefined || header === '') {
    throw new InvalidContext('MISSING_CONTEXT', `The ${CLIENT_CONTEXT_HEADER} header is missing: call this service through Heroku AppLink`)
  }
  const encoded = (Array.isArray(header) ? header[0] ?? '' : header).replace(/\s+/g, '')
  if (encoded.length > MAX_HEADER_LENGTH) {
    throw new InvalidContext('INVALID_CONTEXT', `The ${CLIENT_CONTEXT_HEADER} header is longer than ${MAX_HEADER_LENGTH} characters`)
  }
  if (!BASE64.test(encoded) || encoded.length % 4 === 1) {
    throw new InvalidContext('INVALID_CONTEXT', `The ${CLIENT_CONTEXT_HEADER} header is not base64`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'))
  } catch {
    throw new InvalidContext('INVALID_CONTEXT', `The ${CLIENT_CONTEXT_HEADER} header is not base64-encoded JSON`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidContext('INVALID_CONTEXT', `The ${CLIENT_CONTEXT_HEADER} header does not hold a JSON object`)
  }
  const fields = parsed as Record<string, unknown>
  for (const required of ['userContext', 'orgDomainUrl', 'accessToken', 'orgId', 'apiVersion'] as const) {
    if (fields[required] === undefined || fields[required] === null || fields[required] === '') {
      throw new InvalidContext('INVALID_CONTEXT', `The ${CLIENT_CONTEXT_HEADER} header has no ${required}`)
    }
  }
  if (!checkClientContext.Check(parsed)) {
    const first = checkClientContext.Errors(parsed)[0]
    const where = first?.instancePath.slice(1).replaceAll('/', '.') ?? ''
    throw new InvalidContext('INVALID_CONTEXT', `The ${CLIENT_CONTEXT_HEADER} header has an invalid ${where || 'value'}: ${first?.message ?? 'unexpected shape'}`)
  }
  return parsed
}

/** apiVersion may come as "v62.0"; namespace as null, "null" or "". */
export function callerFrom (context: ClientContext, requestId: string): Caller {
  const domainUrl = context.orgDomainUrl.startsWith('http') ? context.orgDomainUrl : `https://${context.orgDomainUrl}`
  const namespace = context.namespace === null || context.namespace === undefined || context.namespace === 'null' ? '' : context.namespace
  return {
    org: {
      id: context.orgId,
      domainUrl: domainUrl.replace(/\/+$/, ''),
      apiVersion: context.apiVersion.replace(/^v/, ''),
      namespace
    },
    user: { id: context.userContext.userId, username: context.userContext.username },
    requestId
  }
}

/**
 * Where a request keeps its decoded header: a property of the request itself, not a WeakMap
 * entry, which cost about half a microsecond per request to add plus the collector's work on
 * weak entries (measured under whoAmI load, issue 16).
 */
const DECODED = Symbol('decodedClientContext')
type DecodedOn = IncomingMessage & { [DECODED]?: ClientContext | InvalidContext }

/** The header of a request decoded once, whoever asks first (request id or caller hook). */
export function decodeOnce (raw: IncomingMessage): ClientContext | InvalidContext {
  const request = raw as DecodedOn
  let result = request[DECODED]
  if (result === undefined) {
    try {
      result = decodeClientContext(raw.headers[CLIENT_CONTEXT_HEADER])
    } catch (err) {
      if (!(err instanceof InvalidContext)) throw err
      result = err
    }
    request[DECODED] = result
  }
  return result
}

const SANE_REQUEST_ID = /^[\w.:/-]{1,200}$/

/** The requestId of a header, even one too broken to be a valid context. */
function requestIdOf (raw: IncomingMessage): string | undefined {
  const context = decodeOnce(raw)
  if (!(context instanceof InvalidContext)) return context.requestId
  try {
    const header = raw.headers[CLIENT_CONTEXT_HEADER]
    const parsed: unknown = JSON.parse(Buffer.from(String(header), 'base64').toString('utf8'))
    return typeof parsed === 'object' && parsed !== null && 'requestId' in parsed && typeof parsed.requestId === 'string' ? parsed.requestId : undefined
  } catch {
    return undefined
  }
}

/**
 * Request ids follow the AppLink request id so every log line of a call can be found from
 * Salesforce's side; calls without one (or with an odd one) get a UUID.
 */
export function requestIdFrom (raw: IncomingMessage): string {
  if (raw.headers[CLIENT_CONTEXT_HEADER] === undefined) return randomUUID()
  const id = requestIdOf(raw)
  return id !== undefined && SANE_REQUEST_ID.test(id) ? id : randomUUID()
}
