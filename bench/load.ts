// Child process of the benchmark: fires HTTP load with autocannon so the load generator does not
// share an event loop (or, on 2 cores, a core) with the server it measures.
import autocannon from 'autocannon'
import type { LoadOptions, LoadResult } from './measure.ts'

const opts = JSON.parse(process.argv[2] ?? '{}') as LoadOptions
const result = await autocannon({
  url: opts.url,
  method: opts.method ?? 'GET',
  headers: opts.headers ?? {},
  ...(opts.body === undefined ? {} : { body: opts.body }),
  connections: opts.connections ?? 10,
  duration: opts.durationS
})
const out: LoadResult = {
  rps: result.requests.total / result.duration,
  p50: result.latency.p50,
  p99: result.latency.p99,
  requests: result.requests.total,
  failures: result.errors + result.timeouts + result.non2xx
}
process.stdout.write(JSON.stringify(out))
