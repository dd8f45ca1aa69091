// The OpenTelemetry SDK, configured the standard way (OTEL_* variables, read by the SDK itself:
// OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL http/protobuf or http/json,
// OTEL_SERVICE_NAME, OTEL_BSP_* batch settings, OTEL_METRIC_EXPORT_INTERVAL, …). It starts before
// the app's modules load (`node --import ./src/telemetry/register.ts`), so the instrumentations
// see Fastify and pg as they are required. With no endpoint set, or OTEL_SDK_DISABLED=true, it
// does not start at all: the API then hands out no-op tracers and meters, so the code's spans and
// instruments cost next to nothing.
import { createNoopMeter } from '@opentelemetry/api'

/** Whether telemetry is exported: an OTLP endpoint is configured and the SDK is not disabled. */
export function telemetryEnabled (env: NodeJS.ProcessEnv): boolean {
  // OpenTelemetry, "Environment Variable Specification": OTEL_SDK_DISABLED "Disable the SDK for all signals".
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false
  const endpoints = [
    env.OTEL_EXPORTER_OTLP_ENDPOINT, env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT
  ]
  return endpoints.some((value) => value !== undefined && value.trim() !== '')
}

let shutdown: (() => Promise<void>) | undefined

/** Starts the SDK when `telemetryEnabled`; idempotent. */
export async function startTelemetry (env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (shutdown !== undefined) return true
  if (!telemetryEnabled(env)) return false
  const [{ NodeSDK }, { PgInstrumentation }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/instrumentation-pg')
  ])
  // Statements only inside a trace (an action call or a job), not pg-boss's polling; no span for
  // taking a pooled connection (a third of a quote's spans, for a few microseconds each).
  const statements = new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true })
  // No Fastify instrumentation: the routes that tell (actions, MCP) open their server span themselves
  // (`traceRequests` in tracing.ts), for a fraction of @fastify/otel's cost per request (hooks on every
  // route, a context per hook, attributes that repeat the route).
  const sdk = new NodeSDK({
    instrumentations: [statements],
    // Logs stay on stdout (Heroku's log stream), with trace ids in each line (server-options.ts).
    logRecordProcessors: []
  })
  sdk.start()
  // No pg metrics (db.client.operation.duration and the pool's counters, recorded per statement and
  // per checkout): the statements are in the traces, and they cost a tenth of tracing's CPU.
  statements.setMeterProvider({ getMeter: () => createNoopMeter() })
  shutdown = async () => { await sdk.shutdown() }
  return true
}

/** Whether the SDK was started in this process: spans are then recorded and exported. */
export function telemetryStarted (): boolean {
  return shutdown !== undefined
}

/** Flushes and stops the SDK (spans and metrics not yet exported are sent); no-op when not started. */
export async function stopTelemetry (): Promise<void> {
  const stop = shutdown
  shutdown = undefined
  await stop?.()
}
