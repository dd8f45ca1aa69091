// Spans the code makes itself, on the OpenTelemetry API: no-ops unless the SDK was started
// (src/telemetry/sdk.ts). Names and attributes never carry a token, a username or a record id.
import {
  context, isSpanContextValid, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace,
  type Attributes, type Context, type Span
} from '@opentelemetry/api'
import { suppressTracing } from '@opentelemetry/core'

export const tracer = trace.getTracer('applink-actions')

export interface SpanOptions {
  kind?: SpanKind
  /** The attribute a failure's `errorCode` goes in (default `error.type`). */
  errorAttribute?: string
}

/**
 * Runs `work` in a span of its own (a child of the active one), recording a failure's error code
 * (an `errorCode` property, as the service's errors carry) and ending it however `work` ends.
 */
export async function inSpan<T> (
  name: string, attributes: Attributes, work: (span: Span) => Promise<T>, options: SpanOptions = {}
): Promise<T> {
  const { kind = SpanKind.INTERNAL, errorAttribute = 'error.type' } = options
  return await tracer.startActiveSpan(name, { kind, attributes }, async (span) => {
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
  })
}

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
  return await context.with(suppressTracing(active), async () => await work(traced))
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
  const query = path.indexOf('?')
  const bare = query === -1 ? path : path.slice(0, query)
  return bare.replace(ID_SEGMENT, (segment) => (/\d/.test(segment) ? '{id}' : segment))
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
