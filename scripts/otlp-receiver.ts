// A small OTLP/HTTP receiver for the local stack (`npm run dev -- --traces`) and the tests: it
// takes OTLP/HTTP JSON (OTEL_EXPORTER_OTLP_PROTOCOL=http/json) on /v1/traces, /v1/metrics and
// /v1/logs, keeps what it got, and hands each batch of spans to a listener. Protobuf bodies are
// counted, not decoded.
import { createServer, type Server } from 'node:http'

/** A span as the receiver keeps it: OTLP JSON's fields, attributes flattened to values. */
export interface ReceivedSpan {
  traceId: string
  spanId: string
  parentSpanId: string
  name: string
  kind: number
  startNs: bigint
  endNs: bigint
  attributes: Record<string, unknown>
  status: { code?: number, message?: string }
  service: string
}

/** A metric data point, its metric's name and attributes flattened. */
export interface ReceivedPoint { metric: string, value: number, attributes: Record<string, unknown> }

export interface OtlpReceiver {
  url: string
  spans: ReceivedSpan[]
  points: ReceivedPoint[]
  /** Requests by path and content type, e.g. `/v1/traces application/x-protobuf`. */
  requests: Map<string, number>
  close: () => Promise<void>
}

interface AnyValue { stringValue?: string, intValue?: string | number, doubleValue?: number, boolValue?: boolean }
interface KeyValue { key: string, value?: AnyValue }

function flatten (attributes: KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const { key, value } of attributes ?? []) {
    out[key] = value?.stringValue ?? (value?.intValue === undefined ? undefined : Number(value.intValue)) ??
      value?.doubleValue ?? value?.boolValue
  }
  return out
}

/** OTLP JSON encodes ids as hex strings (the OTLP/HTTP JSON encoding differs from protobuf's base64 there). */
const id = (value: unknown): string => (typeof value === 'string' ? value : '')

interface TracesBody {
  resourceSpans?: Array<{
    resource?: { attributes?: KeyValue[] }
    scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }>
  }>
}

interface MetricsBody {
  resourceMetrics?: Array<{ scopeMetrics?: Array<{ metrics?: Array<Record<string, unknown>> }> }>
}

function spansOf (body: TracesBody): ReceivedSpan[] {
  return (body.resourceSpans ?? []).flatMap((resource) => {
    const service = String(flatten(resource.resource?.attributes)['service.name'] ?? '')
    return (resource.scopeSpans ?? []).flatMap((scope) => (scope.spans ?? []).map((span) => ({
      traceId: id(span.traceId),
      spanId: id(span.spanId),
      parentSpanId: id(span.parentSpanId),
      name: String(span.name),
      kind: Number(span.kind ?? 0),
      startNs: BigInt(String(span.startTimeUnixNano ?? 0)),
      endNs: BigInt(String(span.endTimeUnixNano ?? 0)),
      attributes: flatten(span.attributes as KeyValue[] | undefined),
      status: (span.status ?? {}) as { code?: number, message?: string },
      service
    })))
  })
}

function pointsOf (body: MetricsBody): ReceivedPoint[] {
  return (body.resourceMetrics ?? []).flatMap((resource) => (resource.scopeMetrics ?? []).flatMap((scope) =>
    (scope.metrics ?? []).flatMap((metric) => {
      type Data = { dataPoints?: Array<Record<string, unknown>> } | undefined
      const data = (metric.gauge ?? metric.sum ?? metric.histogram) as Data
      return (data?.dataPoints ?? []).map((point) => ({
        metric: String(metric.name),
        value: Number(point.asDouble ?? point.asInt ?? point.count ?? 0),
        attributes: flatten(point.attributes as KeyValue[] | undefined)
      }))
    })))
}

/** Listens on 127.0.0.1 (a free port); `onSpans` gets each batch of spans as it arrives. */
export async function startOtlpReceiver (onSpans?: (spans: ReceivedSpan[]) => void): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = []
  const points: ReceivedPoint[] = []
  const requests = new Map<string, number>()
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const type = (req.headers['content-type'] ?? '').split(';')[0] ?? ''
      const key = `${req.url ?? ''} ${type}`
      requests.set(key, (requests.get(key) ?? 0) + 1)
      if (type === 'application/json') {
        try {
          const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'))
          if (req.url === '/v1/traces') {
            const batch = spansOf(body as TracesBody)
            spans.push(...batch)
            onSpans?.(batch)
          } else if (req.url === '/v1/metrics') points.push(...pointsOf(body as MetricsBody))
        } catch {}
      }
      res.writeHead(200, { 'content-type': type === '' ? 'application/json' : type })
      res.end(type === 'application/json' ? '{}' : '')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    points,
    requests,
    close: async () => { await new Promise((resolve) => server.close(resolve)) }
  }
}

/**
 * A trace as a compact waterfall, one line per span under its parent: name, duration and offset
 * from the trace's start, and a bar placed on a 40-column timeline.
 */
export function waterfall (trace: ReceivedSpan[]): string[] {
  const start = trace.reduce((min, s) => (s.startNs < min ? s.startNs : min), trace[0]?.startNs ?? 0n)
  const end = trace.reduce((max, s) => (s.endNs > max ? s.endNs : max), 0n)
  const total = Number(end - start) || 1
  const ms = (ns: bigint) => (Number(ns) / 1e6).toFixed(1).padStart(7)
  const ids = new Set(trace.map((s) => s.spanId))
  const children = new Map<string, ReceivedSpan[]>()
  for (const span of [...trace].sort((a, b) => (a.startNs < b.startNs ? -1 : 1))) {
    const parent = ids.has(span.parentSpanId) ? span.parentSpanId : ''
    children.set(parent, [...(children.get(parent) ?? []), span])
  }
  const lines: string[] = []
  const walk = (parent: string, depth: number) => {
    for (const span of children.get(parent) ?? []) {
      const from = Math.round(40 * Number(span.startNs - start) / total)
      const width = Math.max(1, Math.round(40 * Number(span.endNs - span.startNs) / total))
      const bar = `${' '.repeat(from)}${'█'.repeat(Math.min(width, 40 - from))}`.padEnd(40)
      lines.push(`${ms(span.startNs - start)} ms ${ms(span.endNs - span.startNs)} ms |${bar}| ${'  '.repeat(depth)}${span.name}`)
      walk(span.spanId, depth + 1)
    }
  }
  walk('', 0)
  return lines
}
