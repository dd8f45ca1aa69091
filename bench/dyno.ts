// The service as a dyno runs it (`npm start`: its own process, logs to stdout, here /dev/null),
// against baselines in processes of their own, with the CPU time each side spends per request.
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { actionPath } from '../src/actions/define.ts'
import { backendCpu, backendCpuSpent, cpuMs, ownCpuMs, startServerProcess, type ServerProcess } from './processes.ts'
import { compare, compareAll, httpLoad, percentile, type LoadResult } from './measure.ts'
import { LOCAL_ORG_DOMAINS, type BenchDatabase, type BenchStack } from './env.ts'

const root = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/** A side of a comparison with the CPU it cost per request, in ms. */
export interface CpuLoadResult extends LoadResult {
  /** Per request, over all measured rounds; `serverMsByRound`: the server's in each round, in order. */
  cpu: { serverMs: number, postgresMs: number, orgMs: number, serverMsByRound?: number[] }
}

export interface DynoOptions { seconds: number, rounds: number, connections: number, context: string }

/** `npm start`'s node options: OpenTelemetry's SDK first, when an OTLP endpoint is set. */
const WITH_TELEMETRY = ['--import', root('../src/telemetry/register.ts')]

/**
 * The service started as `npm start` starts it, as in production: NODE_ENV=production, no job
 * worker in the web process (WORKER_IN_WEB unset), the bench's database, no OTLP endpoint unless
 * `env` sets one.
 */
export async function startService (
  databaseUrl: string, env: Record<string, string> = {}, nodeArgs = WITH_TELEMETRY
): Promise<ServerProcess> {
  return await startServerProcess(root('../src/server.ts'), {
    ...env,
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    JOB_ENCRYPTION_KEYS: `bench:${randomBytes(32).toString('base64')}`,
    // The local org is the callers' org, on loopback.
    ORG_DOMAINS: LOCAL_ORG_DOMAINS
  }, 'APP_PORT', nodeArgs)
}

/**
 * Load on one server process, with the CPU time spent meanwhile by that process, the database's
 * backends and this process (which, while autocannon runs in a child, only runs the local org).
 */
export function measured (
  db: BenchDatabase, server: () => ServerProcess, load: (durationS: number) => Promise<LoadResult>
) {
  const totals = { requests: 0, serverMs: 0, postgresMs: 0, orgMs: 0 }
  const serverMsByRound: number[] = []
  const database = new URL(db.url).pathname.slice(1)
  let warmedUp = false
  const run = async (durationS: number): Promise<LoadResult> => {
    // compare's first call is the warm-up: not counted.
    if (!warmedUp) {
      warmedUp = true
      return await load(durationS)
    }
    const { pid } = server()
    const [pg0, server0, org0] = [await backendCpu(db.pool, database), cpuMs(pid), ownCpuMs()]
    const result = await load(durationS)
    const [org1, server1, pg1] = [ownCpuMs(), cpuMs(pid), await backendCpu(db.pool, database)]
    totals.requests += result.requests
    totals.serverMs += server1 - server0
    serverMsByRound.push((server1 - server0) / result.requests)
    totals.postgresMs += backendCpuSpent(pg0, pg1)
    totals.orgMs += org1 - org0
    return result
  }
  const perRequest = (result: LoadResult): CpuLoadResult => ({
    ...result,
    cpu: {
      serverMs: totals.serverMs / totals.requests,
      postgresMs: totals.postgresMs / totals.requests,
      orgMs: totals.orgMs / totals.requests,
      serverMsByRound
    }
  })
  return { run, perRequest }
}

type Measured = ReturnType<typeof measured>

/** Measures two sides in alternating rounds (after a warm-up), each with its CPU per request. */
export async function compareWithCpu (
  baseline: Measured, subject: Measured, opts: { seconds: number, rounds: number }
) {
  const result = await compare(baseline.run, subject.run, opts)
  return {
    baseline: baseline.perRequest(result.baseline),
    subject: subject.perRequest(result.subject),
    ratio: result.ratio
  }
}

export interface FrameworkResults { baseline: CpuLoadResult, whoAmI: CpuLoadResult, ratio: number }

/** 1. whoAmI on the service process against a bare Fastify route in a process of its own. */
export async function frameworkInProcesses (stack: BenchStack, opts: DynoOptions): Promise<FrameworkResults> {
  const headers = { 'content-type': 'application/json', 'x-client-context': opts.context }
  const service = await startService(stack.db.url)
  const bare = await startServerProcess(root('./bare-server.ts'), {}, 'PORT')
  try {
    const request = { method: 'POST' as const, headers, body: '{}', connections: opts.connections }
    const { baseline, subject, ratio } = await compareWithCpu(
      measured(stack.db, () => bare, async (durationS) => await httpLoad({ ...request, url: `${bare.url}/bare`, durationS })),
      measured(stack.db, () => service, async (durationS) =>
        await httpLoad({ ...request, url: `${service.url}${actionPath('whoAmI')}`, durationS })),
      opts)
    return { baseline, whoAmI: subject, ratio }
  } finally {
    await Promise.all([service.stop(), bare.stop()])
  }
}

export interface QuoteResults { lines: number, baseline: CpuLoadResult, generateQuote: CpuLoadResult, ratio: number }

/**
 * generateQuote against Heroku's org-action sample on the SDK (bench/sample-server.ts), both in
 * processes of their own, on the same opportunity of the same local org, a new request id per call.
 */
export async function quoteVsSample (
  stack: BenchStack, opportunityId: string, lines: number, opts: DynoOptions
): Promise<QuoteResults> {
  const headers = { 'content-type': 'application/json', 'x-client-context': opts.context }
  const body = JSON.stringify({ opportunityId })
  const service = await startService(stack.db.url)
  const sample = await startServerProcess(root('./sample-server.ts'), {}, 'PORT')
  try {
    const request = { method: 'POST' as const, headers, body, connections: opts.connections, freshRequestId: true }
    const { baseline, subject, ratio } = await compareWithCpu(
      measured(stack.db, () => sample, async (durationS) =>
        await httpLoad({ ...request, url: `${sample.url}/generateQuote`, durationS })),
      measured(stack.db, () => service, async (durationS) =>
        await httpLoad({ ...request, url: `${service.url}${actionPath('generateQuote')}`, durationS })),
      opts)
    return { lines, baseline, generateQuote: subject, ratio }
  } finally {
    await Promise.all([service.stop(), sample.stop()])
  }
}

/** Seconds of load each telemetry side gets before the measurements. */
const TRACING_WARMUP_S = 3

/** The share of `off`'s most requests/s that all sides are then measured at. */
const TRACING_LOAD = 0.5

/** The middle half of a comparison's round-by-round ratios (subject ÷ baseline, each pair of rounds). */
export interface RoundSpread { low: number, median: number, high: number, rounds: number }

function roundSpread (subject: CpuLoadResult, baseline: CpuLoadResult): RoundSpread {
  const ratios = (subject.cpu.serverMsByRound ?? [])
    .map((ms, i) => ms / (baseline.cpu.serverMsByRound?.[i] ?? NaN)).sort((a, b) => a - b)
  return {
    low: percentile(ratios, 25), median: percentile(ratios, 50), high: percentile(ratios, 75), rounds: ratios.length
  }
}

export interface TracingResults {
  /** `node src/server.ts`, no SDK loaded: the service as it ran before telemetry. */
  bare: CpuLoadResult
  /** `npm start` without an endpoint: telemetry off. */
  off: CpuLoadResult
  /** `npm start` exporting every span and metric (OTLP/HTTP protobuf) to a local sink. */
  on: CpuLoadResult
  /** The requests/s every side was measured at: TRACING_LOAD of what `off` answered at most. */
  rate: number
  /** What each side answered at most (req/s, its warm-up, as fast as it answers; its processes' mean). */
  saturated: { bare: number, off: number, on: number }
  /** Trace export requests the sink received (protobuf, not decoded): proof the spans went out. */
  traceExports: number
  /** How the two ratios vary from one pair of rounds to the next: the noise the totals average out. */
  spread?: { onOff: RoundSpread, offBare: RoundSpread }
}

/**
 * Processes per side of figure 1d: two processes running the same code can differ in CPU per
 * request by 20–30 % for their whole life (how V8 happened to optimise them, where they run), so
 * each side's rounds turn over several processes of its own.
 */
const TRACING_PROCESSES = 3

/**
 * The cost of telemetry per generateQuote, in service CPU: off (the SDK not started) against the
 * service without `--import`, then on (every span exported to a local OTLP sink that accepts and
 * drops them) against off. All three in turns of the same rounds, but at one fixed rate
 * for all sides (half of what `off` answers at most): CPU per request falls as load rises (more
 * requests per turn of the event loop), so as fast as each answers, the slower side would be
 * charged for its lower rate as well as for its work (on read 1.3–1.8× off that way, 1.2× at the
 * same rate, in the same session). All three take turns in the same rounds: the same processes
 * measured a minute apart read up to 30 % apart on this 2-core VM.
 */
export async function tracingCost (
  stack: BenchStack, opportunityId: string, opts: DynoOptions
): Promise<TracingResults> {
  const headers = { 'content-type': 'application/json', 'x-client-context': opts.context }
  const request = { method: 'POST' as const, headers, body: JSON.stringify({ opportunityId }), connections: opts.connections, freshRequestId: true }
  // The sink in a process of its own, as a collector would be: in this process it would share an
  // event loop with the local org and slow the org's answers whenever an export came in.
  const sink = await startServerProcess(root('./otlp-sink.ts'), {}, 'PORT')
  const otel = {
    OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
    OTEL_SERVICE_NAME: 'applink-actions-bench',
    OTEL_METRIC_EXPORT_INTERVAL: '5000'
  }
  const kinds = [
    () => startService(stack.db.url, {}, []), () => startService(stack.db.url), () => startService(stack.db.url, otel)
  ]
  const running: ServerProcess[] = []
  const stopAll = async () => { await Promise.all([...running, sink].map(async (process) => { await process.stop() })) }
  try {
    // One at a time: nine processes starting at once on two cores can outlast startServerProcess's wait.
    for (const start of kinds) for (let i = 0; i < TRACING_PROCESSES; i++) running.push(await start())
  } catch (err) {
    await stopAll()
    throw err
  }
  const [bare, off, on] = [0, 1, 2].map((k) => running.slice(k * TRACING_PROCESSES, (k + 1) * TRACING_PROCESSES)) as
    [ServerProcess[], ServerProcess[], ServerProcess[]]
  const quote = async (server: ServerProcess, durationS: number, rate?: number) =>
    await httpLoad({ ...request, url: `${server.url}${actionPath('generateQuote')}`, durationS, ...(rate === undefined ? {} : { rate }) })
  try {
    // The same warm-up for every process before either pair: `off` is measured in both pairs, and a
    // process that has run longer has more of its code optimised (an on measured cold against an off
    // warmed by the first pair read 1.6–1.8×, an off against a cold bare 0.8×).
    const mostOf = async (side: ServerProcess[]) => {
      let rps = 0
      for (const server of side) rps += (await quote(server, TRACING_WARMUP_S)).rps
      return rps / side.length
    }
    const bareMost = await mostOf(bare)
    const offMost = await mostOf(off)
    const onMost = await mostOf(on)
    const rate = Math.max(1, Math.round(offMost * TRACING_LOAD))
    // Each counted round on the side's next process (measured reads the server before each).
    const load = (side: ServerProcess[]) => {
      let turn = 0
      let current = side[0] as ServerProcess
      return measured(stack.db, () => (current = side[turn++ % side.length] as ServerProcess),
        async (durationS) => await quote(current, durationS, rate))
    }
    // One three-way comparison, not two pairs: a pair measured after the other would compare the
    // processes measured in both (warmed further by the first pair) with ones that were not.
    const sides = [load(bare), load(off), load(on)]
    const [bareRun, offRun, onRun] = (await compareAll(sides.map((side) => side.run), opts))
      .map((result, k) => (sides[k] as Measured).perRequest(result)) as [CpuLoadResult, CpuLoadResult, CpuLoadResult]
    const exported = await (await fetch(`${sink.url}/exports`)).json() as Record<string, number>
    const traceExports = exported['/v1/traces'] ?? 0
    return {
      bare: bareRun,
      off: offRun,
      on: onRun,
      rate,
      saturated: { bare: bareMost, off: offMost, on: onMost },
      traceExports,
      spread: { onOff: roundSpread(onRun, offRun), offBare: roundSpread(offRun, bareRun) }
    }
  } finally {
    await stopAll()
  }
}
