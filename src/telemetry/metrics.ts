// The service's metrics, on the OpenTelemetry metrics API: no-ops unless the SDK was started
// (src/telemetry/sdk.ts), which exports them every OTEL_METRIC_EXPORT_INTERVAL. What each means is
// in the README ("Telemetry"). Attributes hold org ids and operation ids, never users or records.
import { metrics, type Attributes, type BatchObservableResult } from '@opentelemetry/api'

const meter = metrics.getMeter('applink-actions')

/** Duration of each action call, by operation and outcome (`ok`, or the answer's HTTP status). */
const actionDuration = meter.createHistogram('applink.action.duration', {
  unit: 's',
  description: 'Duration of an action call, from the request to the answer'
})

/**
 * Orgs a per-org total is kept for: as many as the SDK's default cardinality limit per metric
 * stream, 2000 combinations, past which the SDK folds values into one point marked
 * `otel.metric.overflow=true` (OpenTelemetry blog, "Metric cardinality limits in OpenTelemetry:
 * a practical guide", paraphrased). Calls of orgs beyond it are reported together the same way.
 */
const MAX_ORGS = 2000
const OVERFLOW = 'overflow'

/** Calls made to each org's REST API so far, reported by `applink.org.api_calls` at each export. */
const orgApiCallTotals = new Map<string, number>()

/**
 * Records one action call, over REST or MCP: its duration and outcome, and the calls it made to
 * its org's API (`orgId` undefined when the call was refused before its caller was known).
 */
export function recordActionCall (
  operationId: string, status: number, seconds: number, orgId: string | undefined, orgApiCalls: number
): void {
  actionDuration.record(seconds, { 'applink.operation_id': operationId, 'applink.outcome': status < 400 ? 'ok' : String(status) })
  if (orgId !== undefined && orgApiCalls > 0) countOrgApiCalls(orgId, orgApiCalls)
}

/**
 * A total per org rather than a counter's `add`: the SDK hashes the attributes of every `add`,
 * once per call; a total is read once per export.
 */
function countOrgApiCalls (orgId: string, calls: number): void {
  let key = orgId.slice(0, 15)
  if (!orgApiCallTotals.has(key) && orgApiCallTotals.size >= MAX_ORGS) key = OVERFLOW
  orgApiCallTotals.set(key, (orgApiCallTotals.get(key) ?? 0) + calls)
}

meter.createObservableCounter('applink.org.api_calls', {
  description: 'Calls made to an org\'s REST API'
}).addCallback((result) => {
  for (const [orgId, calls] of orgApiCallTotals) {
    result.observe(calls, orgId === OVERFLOW ? { 'otel.metric.overflow': true } : { 'salesforce.org_id': orgId })
  }
})

/** Answers replayed from the idempotency store instead of running again, by operation. */
export const idempotentReplays = meter.createCounter('applink.idempotency.replays', {
  description: 'Write actions answered from an earlier call with the same idempotency key'
})

/** The last `Sforce-Limit-Info` seen per org: its daily API requests used and allowed. */
const orgApiUsage = new Map<string, { used: number, max: number }>()

/** Records what the org said of its daily API requests after a call. */
export function recordOrgApiUsage (orgId: string, used: number, max: number): void {
  orgApiUsage.set(orgId.slice(0, 15), { used, max })
}

meter.createObservableGauge('applink.org.api_remaining', {
  description: 'Daily API requests the org has left, from the Sforce-Limit-Info of its last answer'
}).addCallback((result) => {
  for (const [orgId, { used, max }] of orgApiUsage) result.observe(max - used, { 'salesforce.org_id': orgId })
})

/** One reading of a gauge that `observeFromDatabase` reports. */
export interface GaugeReading { gauge: string, value: number, attributes: Attributes }

/**
 * Gauges whose values come from the database, read once per export (one `read` for them all).
 * A failed read observes nothing (the SDK logs it). Returns the function that stops observing,
 * for the app's close.
 */
export function observeFromDatabase (
  gauges: Record<string, { unit?: string, description: string }>,
  read: () => Promise<GaugeReading[]>
): () => void {
  const instruments = new Map(Object.entries(gauges)
    .map(([name, options]) => [name, meter.createObservableGauge(name, options)]))
  const callback = async (result: BatchObservableResult): Promise<void> => {
    for (const { gauge, value, attributes } of await read()) {
      const instrument = instruments.get(gauge)
      if (instrument !== undefined) result.observe(instrument, value, attributes)
    }
  }
  meter.addBatchObservableCallback(callback, [...instruments.values()])
  return () => { meter.removeBatchObservableCallback(callback, [...instruments.values()]) }
}
