// Child process of the benchmark: fires HTTP load with autocannon so the load generator does not
// share an event loop (or, on 2 cores, a core) with the server it measures.
import autocannon from 'autocannon'
import { readFileSync } from 'node:fs'
import type { Caller, LoadOptions, LoadResult } from './measure.ts'

// The options, or `@<file>` holding them (httpLoad: too long for one argument).
const arg = process.argv[2] ?? '{}'
const opts = JSON.parse(arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg) as LoadOptions
const context = opts.headers?.['x-client-context']
let sent = 0
/**
 * A fresh AppLink request id per call (as Salesforce sends one per invocation): a write action
 * keys its idempotency on it, so the same id again would be a replay.
 */
const freshContext = (): string => {
  const decoded = JSON.parse(Buffer.from(context ?? '', 'base64').toString('utf8')) as { requestId: string }
  const requestId = `${decoded.requestId}-${process.pid}-${sent++}`
  return Buffer.from(JSON.stringify({ ...decoded, requestId })).toString('base64')
}
/** The callers in turn, one request each (their own org, user and products). */
const callers = opts.callers ?? []
let turn = 0
const nextCaller = <R extends { headers: Record<string, string>, body?: string }>(request: R): R => {
  const caller = callers[turn++ % callers.length] as Caller
  return { ...request, headers: { ...request.headers, 'x-client-context': caller.context }, body: caller.body }
}
const result = await autocannon({
  url: opts.url,
  method: opts.method ?? 'GET',
  headers: opts.headers ?? {},
  ...(opts.body === undefined ? {} : { body: opts.body }),
  connections: opts.connections ?? 10,
  duration: opts.durationS,
  ...(opts.rate === undefined ? {} : { overallRate: opts.rate }),
  ...(callers.length > 0 ? { requests: [{ setupRequest: nextCaller }] } : {}),
  ...(opts.freshRequestId === true && context !== undefined
    ? {
        requests: [{
          setupRequest: (request) => ({ ...request, headers: { ...request.headers, 'x-client-context': freshContext() } })
        }]
      }
    : {})
})
const out: LoadResult = {
  rps: result.requests.total / result.duration,
  p50: result.latency.p50,
  p99: result.latency.p99,
  requests: result.requests.total,
  failures: result.errors + result.timeouts + result.non2xx
}
process.stdout.write(JSON.stringify(out))
