// Spans the code makes itself, on the OpenTelemetry API: no-ops unless the SDK was started
// (src/telemetry/sdk.ts). Names and attributes never carry a token, a username or a record id.
import {
  context, isSpanContextValid, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace,
  type Attributes, type Context, type Span
} from '@opentelemetry/api'
import { suppressTracing, W3CTraceContextPropagator } from '@opentelemetry/core'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { telemetryStarted } from './sdk.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's server span, when its scope is traced (`traceRequests`) and the SDK runs; else null. */
    serverSpan: Span | null
  }
}

export const tracer = trace.getTracer('applink-actions')

export interface SpanOptions {
  kind?: SpanKind
  /** The attribute a failure's `errorCode` goes in (default `error.type`). */
  errorAttribute?: string
  /**
   * Nothing that traces runs beneath the span (an org call, a batched claim): it is not made the
   * active span, which saves a context and its activation per span.
   */
  leaf?: boolean
}

/**
 * Runs `work` in a span of its own (a child of the active one), recording a failure's error code
 * (an `errorCode` property, as the service's errors carry) and ending it however `work` ends.
 */
export async function inSpan<T> (
  name: string, attributes: Attributes, work: (span: Span) => Promise<T>, options: SpanOptions = {}
): Promise<T> {
  const { kind = SpanKind.INTERNAL, errorAttribute = 'error.type', leaf = false } = options
  const run = async (span: Span): Promise<T> => {
    try {
      return await work(span)
    } catch (err) {
      const errorCode = (err as { errorCode?: unknown } | null)?.errorCode
      span.setStatus({ code: SpanStatusCode.ERROR, ...(typeof errorCode === 'string' ? { message: errorCode } : {}) })
      if (typeof errorCode === 'string') span.setAttribute(errorAttribute, errorCode)
      throw err
    } finally {
      span.end()
    }
  }
  const spanOptions = { kind, attributes }
  return leaf ? await run(tracer.startSpan(name, spanOptions)) : await tracer.startActiveSpan(name, spanOptions, run)
}

/** No span active, tracing suppressed: one context for every `untraced` call. */
const UNTRACED = suppressTracing(ROOT_CONTEXT)

/**
 * Runs `work` with tracing suppressed: statements it sends make no spans, but for what it hands to
 * `traced`, which runs in the caller's context. For scaffolding around the statement that tells
 * (the BEGIN and COMMIT of a one-statement transaction), and for work that serves several calls at
 * once (a statement batching many calls' claims), whose span would be filed under whichever call
 * happened to start it.
 */
export async function untraced<T> (
  work: (traced: <U>(inner: () => Promise<U>) => Promise<U>) => Promise<T>
): Promise<T> {
  const active = context.active()
  const traced = async <U>(inner: () => Promise<U>): Promise<U> => await context.with(active, inner)
  // No active span, not just tracing suppressed: the pg instrumentation (requireParentSpan) skips a
  // statement at once when no span is active, but checks no suppression: in a suppressed context
  // below a span it would still build the statement's attributes, parse its SQL, wrap its promise.
  return await context.with(UNTRACED, async () => await work(traced))
}

/**
 * Opens a server span for each request of `app`'s scope, active from its first hook to its answer,
 * so what its handler does (org calls, statements) hangs beneath it, and ends it with the status
 * sent. No hooks at all when the SDK was not started (`npm start` without an endpoint).
 *
 * Named and marked as OpenTelemetry's "Semantic conventions for HTTP spans" say: "HTTP server span
 * names SHOULD be `{method} {http.route}` if there is a (low-cardinality) `http.route` available",
 * and "For HTTP status codes in the 4xx range span status MUST be left unset in case of
 * `SpanKind.SERVER`"; "in the 5xx range ... span status MUST be set to `Error`" (with `error.type`,
 * the status as a string). A caller's `traceparent` (W3C Trace Context) makes it a child of the
 * caller's span.
 */
export function traceRequests (app: FastifyInstance): void {
  if (!app.hasRequestDecorator('serverSpan')) app.decorateRequest('serverSpan', null)
  if (!telemetryStarted()) return
  app.addHook('onRequest', startServerSpan)
  // Again once the body is read: the hooks after it and the handler run from the body's last chunk,
  // in the connection's context when that chunk came in a later packet than the headers.
  app.addHook('preValidation', activateServerSpan)
  app.addHook('onResponse', (request, reply, done) => {
    endServerSpan(request, reply.statusCode)
    done()
  })
  // A caller gone before its answer: no onResponse will come.
  app.addHook('onRequestAbort', (request, done) => {
    endServerSpan(request, undefined)
    done()
  })
}

/**
 * The caller's trace context, and nothing else: its `traceparent` and `tracestate` (W3C Trace
 * Context), not its baggage, which would ride along into jobs and callbacks.
 */
const callerTrace = new W3CTraceContextPropagator()
const headerGetter = {
  keys: (headers: FastifyRequest['headers']) => Object.keys(headers),
  get: (headers: FastifyRequest['headers'], key: string) => headers[key]
}

function startServerSpan (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  // Extracting costs a parse and a context: only for a caller that sent one.
  const parent = request.headers.traceparent === undefined
    ? ROOT_CONTEXT
    : callerTrace.extract(ROOT_CONTEXT, request.headers, headerGetter)
  const route = request.routeOptions.url ?? ''
  const span = tracer.startSpan(`${request.method} ${route}`, {
    kind: SpanKind.SERVER,
    attributes: {
      'http.request.method': request.method,
      'http.route': route,
      'url.path': withoutQuery(request.url),
      'url.scheme': request.protocol
    }
  }, parent)
  request.serverSpan = span
  // The rest of the request (hooks, handler, and what they await) runs in the span's context.
  context.with(trace.setSpan(parent, span), done)
}

function activateServerSpan (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const span = request.serverSpan
  if (span === null) done()
  else context.with(trace.setSpan(context.active(), span), done)
}

/** Ends the request's span once: with the status sent, or (`undefined`) as aborted by the caller. */
function endServerSpan (request: FastifyRequest, status: number | undefined): void {
  const span = request.serverSpan
  if (span === null) return
  request.serverSpan = null
  if (status !== undefined) span.setAttribute('http.response.status_code', status)
  if (status === undefined || status >= 500) {
    // OpenTelemetry's `error.type`: the status as a string, or an identifier of the failure.
    span.setAttribute('error.type', status === undefined ? 'aborted' : String(status))
    span.setStatus({ code: SpanStatusCode.ERROR })
  }
  span.end()
}

/**
 * A path segment that may be a Salesforce id: 15 or 18 letters and digits, or a query cursor (the
 * id and `-2000` of a `nextRecordsUrl`).
 */
const ID_SEGMENT = /(?<=\/)[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?(?:-\d+)?(?=\/|$)/g

/**
 * A REST path as a template: record ids and other ids become `{id}`, the query string goes
 * (a SOQL query names records). `/sobjects/Quote/0Q0…` → `/sobjects/Quote/{id}`. A segment of
 * letters only stays, as an sObject name of that length (`ProcessInstance`) must: ids carry digits
 * (inferred from their key prefixes and the zeros of their record numbers, not documented).
 */
export function pathTemplate (path: string): string {
  return withoutQuery(path).replace(ID_SEGMENT, (segment) => (/\d/.test(segment) ? '{id}' : segment))
}

/** A URL's path without its query string. */
function withoutQuery (url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

/** The active trace as W3C headers (`traceparent`, `tracestate`), to carry across a queue or an HTTP call. */
export function traceHeaders (): Record<string, string> {
  const carrier: Record<string, string> = {}
  propagation.inject(context.active(), carrier)
  return carrier
}

/** The context a carrier of `traceHeaders` continues; the root context when it carries none. */
function contextFrom (carrier: Record<string, string> | undefined): Context {
  return carrier === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, carrier)
}

/** `inSpan`, as a child of the trace `carrier` holds (work that left its request through a queue). */
export async function inSpanContinuing<T> (
  carrier: Record<string, string> | undefined, name: string, attributes: Attributes, work: (span: Span) => Promise<T>
): Promise<T> {
  return await context.with(contextFrom(carrier), async () => await inSpan(name, attributes, work))
}

/**
 * The active span's ids for a log line (`trace_id`, `span_id`, as OpenTelemetry's log data model
 * names them), so a line written during a call or a job leads to its trace. A pino `mixin`.
 */
export function traceFields (): Record<string, string> {
  // A new object every time: pino merges the line's fields into what the mixin returns.
  const span = trace.getActiveSpan()
  if (span === undefined) return {}
  const ids = span.spanContext()
  return isSpanContextValid(ids) ? { trace_id: ids.traceId, span_id: ids.spanId } : {}
}

export { SpanKind }
