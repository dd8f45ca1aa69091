import fp from 'fastify-plugin'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../errors.ts'
import { closeIfBodyPending } from './request-limits.ts'
import { isDatabaseDown } from '../postgres/pool.ts'
import { mirrorNotReady } from '../postgres/mirror.ts'
import { SALESFORCE_ID_PATTERN, type ErrorBodyType } from '../schemas/common.ts'

export interface AjvError { keyword: string, instancePath: string, params: Record<string, unknown>, message?: string }

/** How many unknown keys an answer names, and how much of each. */
const MAX_UNKNOWN_KEYS = 10
const MAX_KEY_LENGTH = 64

/** A key of the caller's body as an answer names it: cut short, as the body is theirs to make long. */
const shortKey = (key: string): string => (key.length > MAX_KEY_LENGTH ? `${key.slice(0, MAX_KEY_LENGTH)}…` : key)

interface ObjectSchema { properties?: Record<string, unknown>, required?: string[], items?: unknown }

/** The part of a JSON schema at an Ajv instance path (`/items/0`), when the path leads somewhere. */
function schemaAt (schema: unknown, instancePath: string): ObjectSchema | undefined {
  let node = schema as ObjectSchema | undefined
  for (const segment of instancePath.split('/').slice(1)) {
    node = (/^\d+$/.test(segment) ? node?.items : node?.properties?.[segment]) as ObjectSchema | undefined
  }
  return node
}

/** The value of the body at an instance path. */
function valueAt (body: unknown, instancePath: string): unknown {
  let value = body
  for (const segment of instancePath.split('/').slice(1)) {
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[segment] : undefined
  }
  return value
}

/**
 * For an object the body got wrong: the keys it has that the schema does not know (a typo), and the
 * keys it expects, the required ones marked, so the message names the way out.
 */
function knownKeys (e: AjvError, at: ErrorAt): { unknown: string[], expected: string } | undefined {
  if (e.keyword !== 'required' && e.keyword !== 'additionalProperties') return undefined
  const schema = schemaAt(at.bodySchema, e.instancePath)
  const value = valueAt(at.body, e.instancePath)
  if (schema?.properties === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
  const properties = schema.properties
  const required = new Set(schema.required ?? [])
  return {
    unknown: Object.keys(value).filter((key) => !Object.hasOwn(properties, key)),
    expected: Object.keys(properties).map((key) => (required.has(key) ? `${key} (required)` : key)).join(', ')
  }
}

/** The input field an Ajv error is about, as a dotted path (`lines.0.quantity`). */
function fieldOf (e: AjvError): string {
  const base = e.instancePath.split('/').slice(1).join('.')
  const child = e.params.missingProperty ?? e.params.additionalProperty
  return typeof child === 'string' ? (base === '' ? shortKey(child) : `${base}.${shortKey(child)}`) : base
}

function describe (e: AjvError, field: string): string {
  if (e.keyword === 'required') return `${field} is required`
  if (e.keyword === 'additionalProperties') return `${field} is not a known field`
  if (e.keyword === 'enum' && Array.isArray(e.params.allowedValues)) return `${field} must be one of ${e.params.allowedValues.join(', ')}`
  if (e.keyword === 'pattern' && e.params.pattern === SALESFORCE_ID_PATTERN) return `${field} must be a 15- or 18-character Salesforce id`
  return `${field === '' ? 'body' : field} ${e.message ?? 'is invalid'}`
}

export interface ErrorAnswer { status: number, body: ErrorBodyType, retryAfter?: number }

/** What the answer to a failure may say of the call: its id, and the input it was refused for. */
export interface ErrorAt {
  requestId: string
  /** The schema the input was validated against, to name the fields it expects. */
  bodySchema?: unknown
  body?: unknown
  /** false while the request's body was still arriving. */
  bodyComplete?: boolean
}

/** Validation errors of an input checked outside a route (MCP tool arguments): answered as a body's. */
export class InputInvalid extends Error {
  readonly validation: AjvError[]
  constructor (errors: AjvError[]) {
    super('invalid input')
    this.validation = errors
  }
}

/**
 * The status and shared error body of a failure: every door (the action routes, MCP tool calls)
 * answers the same errorCode, message and fields for the same fault.
 */
export function errorAnswer (
  failure: Error & { code?: string, statusCode?: number, validation?: unknown },
  at: ErrorAt
): ErrorAnswer {
  const { requestId } = at
  const err = mirrorNotReady(failure) ?? failure
  if (err instanceof AppError) {
    return {
      status: err.statusCode,
      body: { errorCode: err.errorCode, message: err.message, fields: err.fields, requestId },
      retryAfter: err.retryAfterSeconds
    }
  }
  if (Array.isArray(err.validation)) {
    const errors = err.validation as AjvError[]
    const fields = [...new Set(errors.map(fieldOf).filter((f) => f !== ''))]
    const first = errors[0]
    let message = first === undefined ? err.message : describe(first, fieldOf(first))
    const keys = first === undefined ? undefined : knownKeys(first, at)
    if (keys !== undefined && keys.unknown.length > 0) {
      const base = first?.instancePath.split('/').slice(1).join('.') ?? ''
      // A body's keys are the caller's text: a few, each cut short, go back (a 1 MB key must not).
      const unknown = keys.unknown.slice(0, MAX_UNKNOWN_KEYS)
        .map((key) => (base === '' ? shortKey(key) : `${base}.${shortKey(key)}`))
      message = `Unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}` +
        `${first?.keyword === 'required' ? ` (and ${describe(first, fieldOf(first))})` : ''}; the fields are ${keys.expected}`
      fields.push(...unknown.filter((f) => !fields.includes(f)))
    }
    return { status: 400, body: { errorCode: 'INVALID_REQUEST', message, fields, requestId } }
  }
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, body: { errorCode: 'REQUEST_TOO_LARGE', message: 'The request body is larger than this service accepts', fields: [], requestId } }
  }
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { status: 415, body: { errorCode: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send the request body as application/json', fields: [], requestId } }
  }
  // The connection closed while the body was arriving (the caller hung up, or was cut for being too
  // slow): nobody is left to answer, and it is no failure of the service's.
  if (err.code === 'ECONNRESET' && at.bodyComplete === false) {
    return {
      status: 400,
      body: { errorCode: 'INVALID_REQUEST', message: 'The request body was cut off', fields: [], requestId }
    }
  }
  if (err.statusCode === 400 && typeof err.code === 'string' && err.code.startsWith('FST_ERR_CTP')) {
    return { status: 400, body: { errorCode: 'INVALID_REQUEST', message: 'The request body is not valid JSON', fields: [], requestId } }
  }
  if (err.code === '22021' || err.code === '22P05') {
    return { status: 400, body: { errorCode: 'INVALID_REQUEST', message: 'The input holds characters that cannot be stored', fields: [], requestId } }
  }
  if (isDatabaseDown(err)) {
    return { status: 503, body: { errorCode: 'DATABASE_UNAVAILABLE', message: 'The database is not reachable right now; retry shortly', fields: [], requestId }, retryAfter: 5 }
  }
  return { status: 500, body: { errorCode: 'INTERNAL_ERROR', message: 'Something went wrong in the service; quote the request id when reporting it', fields: [], requestId } }
}

/**
 * The one error path: typed errors keep their status and code, Fastify's own errors get
 * Salesforce-friendly bodies, anything else is a 500 without internals (logged with the request).
 */
export interface ErrorHandlerOptions {
  /** The actions served, named when a call asks for one that is not. */
  actionNames?: readonly string[]
}

/** What a 404 says: for a path under /actions/, which actions exist and how they are called. */
function notFoundMessage (method: string, path: string, actionNames: readonly string[]): string {
  const route = `No route ${method} ${path}`
  if (!path.startsWith(ACTIONS_PREFIX) || actionNames.length === 0) return route
  const name = path.slice(ACTIONS_PREFIX.length)
  if (actionNames.includes(name)) return `${route}: actions are called with POST`
  return `No action ${name}; the actions are ${actionNames.join(', ')}`
}

const ACTIONS_PREFIX = '/actions/'

export default fp<ErrorHandlerOptions>(async (app, opts) => {
  const actionNames = opts.actionNames ?? []
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body, retryAfter } = errorAnswer(err, {
      requestId: String(request.id),
      bodySchema: request.routeOptions.schema?.body,
      body: request.body,
      bodyComplete: request.raw.complete
    })
    if (status >= 500) request.log.error({ err }, 'request failed')
    else request.log.info({ errorCode: body.errorCode, status }, body.message)
    if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter))
    closeIfBodyPending(request, reply)
    return reply.status(status).send(body)
  })
  app.setNotFoundHandler((request, reply) => {
    closeIfBodyPending(request, reply)
    return reply.status(404).send({
      errorCode: 'NOT_FOUND',
      message: notFoundMessage(request.method, request.url.split('?')[0] ?? '', actionNames),
      fields: [],
      requestId: String(request.id)
    })
  })
}, { name: 'error-handler' })
