import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { Compile } from 'typebox/compile'
import { InvalidContext } from '../errors.ts'
import { normalizeId } from '@applink-actions/platform/ids'
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

const invalid = (message: string) => new InvalidContext('INVALID_CONTEXT', `The ${CLIENT_CONTEXT_HEADER} header ${message}`)

/**
 * The text of a header in standard base64, or undefined for any other spelling. `atob` checks and
 * decodes in one native pass (WHATWG "forgiving-base64 decode": ASCII whitespace dropped, padding
 * optional, any other character outside the standard alphabet refused), where the alphabet's
 * regular expression, a whitespace strip and a Buffer cost several: the header is read on every
 * action call, and its checks were the largest part of whoAmI's cost over a bare route (issue 16).
 * Node calls `atob` legacy, not deprecated. That AppLink uses the standard alphabet is inferred:
 * its SDK decodes with `Buffer.from(header, 'base64')`, which takes either, so either is served.
 */
function standardBase64Text (header: string): string | undefined {
  if (header.length > MAX_HEADER_LENGTH) return undefined
  let binary: string
  try {
    binary = atob(header)
  } catch {
    return undefined
  }
  // Nothing but whitespace: the strict path says it is not base64, as it always has.
  if (binary === '') return undefined
  // One character per byte: when every byte is ASCII, that string is already the UTF-8 text.
  return Buffer.byteLength(binary, 'utf8') === binary.length ? binary : Buffer.from(binary, 'latin1').toString('utf8')
}

/** Any other spelling, checked with messages: whitespace dropped, either alphabet, optional padding. */
function checkedBase64Text (header: string): string {
  const encoded = header.replace(/\s+/g, '')
  if (encoded.length > MAX_HEADER_LENGTH) throw invalid(`is longer than ${MAX_HEADER_LENGTH} characters`)
  if (!BASE64.test(encoded) || encoded.length % 4 === 1) throw invalid('is not base64')
  return Buffer.from(encoded, 'base64').toString('utf8')
}

/** Why a decoded value is not a context, named as precisely as its first fault allows. */
function contextFault (parsed: unknown): InvalidContext {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return invalid('does not hold a JSON object')
  const fields = parsed as Record<string, unknown>
  for (const required of ['userContext', 'orgDomainUrl', 'accessToken', 'orgId', 'apiVersion'] as const) {
    if (fields[required] === undefined || fields[required] === null || fields[required] === '') return invalid(`has no ${required}`)
  }
  const first = checkClientContext.Errors(parsed)[0]
  const where = first?.instancePath.slice(1).replaceAll('/', '.') ?? ''
  return invalid(`has an invalid ${where || 'value'}: ${first?.message ?? 'unexpected shape'}`)
}

/**
 * Decodes and checks the header with messages that say what is wrong; the AppLink SDK would
 * otherwise crash on a missing orgDomainUrl or accept a context without a token.
 */
export function decodeClientContext (header: string | string[] | undefined): ClientContext {
  if (header === undefined || header === '') {
    throw new InvalidContext('MISSING_CONTEXT', `The ${CLIENT_CONTEXT_HEADER} header is missing: call this service through Heroku AppLink`)
  }
  const given = Array.isArray(header) ? header[0] ?? '' : header
  const text = standardBase64Text(given) ?? checkedBase64Text(given)
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw invalid('is not base64-encoded JSON')
  }
  // The schema holds every rule of contextFault, so a context that passes needs no other check.
  if (checkClientContext.Check(parsed)) return parsed
  throw contextFault(parsed)
}

/**
 * The canonical 18-character form of a context's id. The same user or org given in 15 and 18
 * characters must be one caller (idempotency keys, job and feedback owners are keyed by it), and an
 * 18-character id whose suffix does not match its first 15 is no id at all.
 */
function canonicalId (id: string, name: string): string {
  const canonical = normalizeId(id)
  if (canonical === undefined) throw invalid(`has an invalid ${name}: not a Salesforce id`)
  return canonical
}

/** apiVersion may come as "v62.0"; namespace as null, "null" or "". Ids come out in 18 characters. */
export function callerFrom (context: ClientContext, requestId: string): Caller {
  const domainUrl = context.orgDomainUrl.startsWith('http') ? context.orgDomainUrl : `https://${context.orgDomainUrl}`
  const namespace = context.namespace === null || context.namespace === undefined || context.namespace === 'null' ? '' : context.namespace
  return {
    org: {
      id: canonicalId(context.orgId, 'orgId'),
      domainUrl: domainUrl.endsWith('/') ? domainUrl.replace(/\/+$/, '') : domainUrl,
      apiVersion: context.apiVersion.startsWith('v') ? context.apiVersion.slice(1) : context.apiVersion,
      namespace
    },
    user: { id: canonicalId(context.userContext.userId, 'userContext.userId'), username: context.userContext.username },
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
