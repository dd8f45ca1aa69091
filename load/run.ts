// `npm run load`: load; soak with faults (org 503s, answers lost after the write, a PostgreSQL
// restart); SIGKILL of the service and a restart on the same data; SIGTERM under load; two service
// processes on one database given the same keys. After each phase a drain retries every key that
// got no quote, and every key is checked against the org: 0 lost, 0 duplicated, 0 left unusable.
// Against the service running as its own process (`node src/server.ts`), with the local org at a
// realistic latency, the local sync and an embedded PostgreSQL that the run restarts. Writes the
// generated part of docs/reliability.md. Not part of `npm test`; about three minutes. Progress on
// stderr, summary on stdout.
import { MAPPING } from '../src/postgres/mapping.ts'
import { randomBytes } from 'node:crypto'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/postgres/embedded.ts'
import { migrate } from '../src/postgres/migrate.ts'
import { DEFAULT_ORG_DOMAINS } from '../src/config.ts'
import { actions } from '../src/actions/index.ts'
import { startLocalOrg } from '@applink-actions/local-org'
import { startLocalSync } from '@applink-actions/local-connect'
import { seedAppData } from '../scripts/app-data.ts'
import { startService, stopService, type Service } from './service.ts'
import {
  call, fixture, freshOpportunity, percentile, runLoad, type LoadRun, REPS, rememberFeedback
} from './workload.ts'
import { machine, writeReport, type Check, type LoadSummary, type Report } from './report.ts'

const CONNECTIONS = 16
const STEADY_S = Number(process.env.LOAD_STEADY_SECONDS ?? 20)
const FAULTS_S = 20
const SIGTERM_S = 8
const CRASH_S = 10
/** Share of org writes whose answer is lost after the write, during the faults phase. */
const LOST_ANSWER_RATE = 0.02
/** Keys sent to two service processes at once. */
const SHARED_KEYS = 60
/** A crashed claim is taken over after this; the drain waits it out between rounds. */
const LEASE_MS = 2000
const ORG_LATENCY: [number, number] = [50, 150]
/** The memory of a Heroku Standard-1X dyno. */
const RSS_BOUND_MB = 512
/** Growth of the live heap (after full GCs) across the steady run that still counts as flat. */
const HEAP_GROWTH_BOUND_MB = 25
/** Heroku kills 30 s after SIGTERM; the service's own delay is 25 s. */
const GRACE_MS = 30_000

const say = (line: string): void => { process.stderr.write(`[load] ${line}\n`) }
const started = performance.now()
const checks: Check[] = []
const check = (name: string, ok: boolean, detail: string): void => {
  checks.push({ name, ok, detail })
  say(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${detail}`)
}

const dir = await mkdtemp(path.join(tmpdir(), 'applink-load-'))
// As root the embedded server runs as an unprivileged user, which must reach its data folder.
await chmod(dir, 0o755)
const pgDir = path.join(dir, 'pg')
const cleanups: Array<() => Promise<unknown>> = [async () => { await rm(dir, { recursive: true, force: true }) }]

async function main (): Promise<void> {
  say(`embedded PostgreSQL in ${dir}`)
  let db: EmbeddedDatabase = await startEmbeddedPostgres(pgDir)
  cleanups.unshift(async () => { await db.stop() })
  const dbPort = Number(new URL(db.url).port)

  const org = await startLocalOrg({ port: 0, dataset: 'small', seed: 7 })
  cleanups.unshift(org.close)
  const pool = new pg.Pool({ connectionString: db.url, max: 4 })
  // The restart terminates this pool's idle clients too.
  pool.on('error', () => {})
  cleanups.unshift(async () => { await pool.end() })
  let syncErrors = 0
  const sync = await startLocalSync({
    mapping: MAPPING,
    pool,
    schema: 'salesforce',
    orgUrl: org.url,
    accessToken: org.user('integration@acme.local').accessToken,
    intervalMs: 2000,
    onError: () => { syncErrors++ }
  })
  cleanups.unshift(sync.stop)
  await migrate(pool)
  await seedAppData(pool, 'salesforce')
  org.setFaults({ latencyMs: ORG_LATENCY })
  const f = fixture(org)

  const secrets = [...org.users.map((u) => u.accessToken), `:${new URL(db.url).password}@`]
  const env = {
    NODE_ENV: 'development',
    DATABASE_URL: db.url,
    APP_PORT: '0',
    LOG_LEVEL: 'info',
    DOCS_ENABLED: 'false',
    // A stalled answer is given up on sooner than the default 10 s, and a crashed claim taken over sooner.
    ORG_TIMEOUT_MS: '5000',
    IDEMPOTENCY_LEASE_MS: String(LEASE_MS),
    JOB_ENCRYPTION_KEYS: `load:${randomBytes(32).toString('base64')}`,
    // The local org is the callers' org, on loopback.
    ORG_DOMAINS: `${DEFAULT_ORG_DOMAINS},${org.url}`,
    CALLBACK_ALLOW_PRIVATE_ADDRESSES: 'true'
  }
  let service: Service = await startService(env, secrets, say)
  cleanups.unshift(async () => { await stopService(service, 5000) })
  say(`service pid ${service.pid} at ${service.url}`)

  // Smoke: every action answers 2xx once, so the load measures a working service.
  // Each rep records one feedback first, so each has an id of their own for getSyncStatus.
  for (const username of REPS) {
    const smoke = await call(service.url, org, 'logProductFeedback', { productCode: f.productCodes[0], rating: 5 }, username)
    if (smoke.status !== 200) throw new Error(`logProductFeedback: ${smoke.status} ${JSON.stringify(smoke.json)}`)
    rememberFeedback(f, username, Number(smoke.json.feedbackId))
  }

  say('warm-up: 3 s')
  await runLoad({ url: service.url, fixture: f, label: 'warmup', seconds: 3, connections: CONNECTIONS })
  const rssBefore = service.rssMb()

  // 1. Steady.
  say(`steady: ${STEADY_S} s, ${CONNECTIONS} connections, org latency ${ORG_LATENCY.join('-')} ms`)
  const orgCalls0 = org.stats.apiCalls
  const steadyStart = Date.now()
  const rssSeries: number[] = []
  const sampler = setInterval(() => { rssSeries.push(service.rssMb()) }, 2000)
  const steady = await runLoad({ url: service.url, fixture: f, label: 'steady', seconds: STEADY_S, connections: CONNECTIONS })
  clearInterval(sampler)
  const rssAfter = service.rssMb()
  const steadyErrors = steady.tally.failures.length + steady.result.errors
  check('steady: no error', steadyErrors === 0, `${steady.tally.failures.length} non-2xx, ${steady.result.errors} connection errors of ${steady.result.requests.total} requests`)
  check(`steady: RSS under ${RSS_BOUND_MB} MB`, Math.max(rssAfter, ...rssSeries) < RSS_BOUND_MB, `${rssBefore.toFixed(1)} MB after warm-up → ${rssAfter.toFixed(1)} MB at the end (V8 grows its heap to the load, then holds)`)
  await drain(service.url, org, steady)
  const steadyChecks = await verifyWrites(steady, pool, org)

  // 2. Faults: 5 % org 503s, 2 % of write answers lost after the write, one PostgreSQL restart.
  say(`faults: ${FAULTS_S} s with 5 % org 503s, ${LOST_ANSWER_RATE * 100} % of write answers lost ` +
    `and a PostgreSQL restart at ${FAULTS_S / 2 - 2} s`)
  org.setFaults({ rate503: 0.05, rateLostAnswer: LOST_ANSWER_RATE })
  const outage = { stopAt: 0, downMs: 0, upAt: 0 }
  const faults = await runLoad({
    url: service.url,
    fixture: f,
    label: 'faults',
    seconds: FAULTS_S,
    connections: CONNECTIONS,
    during: async () => {
      await sleep((FAULTS_S / 2 - 2) * 1000)
      outage.stopAt = Date.now()
      await db.stop()
      outage.downMs = Date.now() - outage.stopAt
      say(`PostgreSQL stopped (${outage.downMs} ms); starting again in 2 s`)
      await sleep(2000)
      db = await startEmbeddedPostgres(pgDir, () => {}, dbPort)
      outage.upAt = Date.now()
      say(`PostgreSQL up again after ${outage.upAt - outage.stopAt} ms`)
    }
  })
  org.setFaults({ rate503: undefined, rateLostAnswer: undefined })
  const rssAfterFaults = service.rssMb()
  const faultsSummary = classifyFaults(faults, outage)
  // Full GCs are rare (the live heap is small): the steady and the faults runs together give a few.
  const heap = service.log.heapAfterGc.filter((g) => g.at >= steadyStart).map((g) => g.mb)
  const heapFirst = heap[0] ?? NaN
  const heapLast = heap.at(-1) ?? NaN
  check(`steady + faults: live heap after full GC grows under ${HEAP_GROWTH_BOUND_MB} MB`,
    heap.length >= 2 ? heapLast - heapFirst < HEAP_GROWTH_BOUND_MB : heapFirst < 4 * HEAP_GROWTH_BOUND_MB,
    `${heap.length} full GCs: ${heapFirst.toFixed(1)} MB first, ${heapLast.toFixed(1)} MB last${heap.length < 2 ? ` (one GC only: checked under ${4 * HEAP_GROWTH_BOUND_MB} MB instead)` : ''}`)
  check('faults: only documented failures', faultsSummary.undocumented.length === 0 && faults.result.errors === 0,
    `${faults.tally.failures.length} failed of ${faults.result.requests.total}; undocumented: ${JSON.stringify(faultsSummary.undocumented)}; connection errors ${faults.result.errors}`)
  check('faults: DATABASE_UNAVAILABLE only around the outage', faultsSummary.dbOutsideOutage === 0, `${faultsSummary.dbOutsideOutage} outside [stop, up + 5 s]`)
  check('faults: no 500', !faults.tally.failures.some((x) => x.status === 500), 'none')
  const retry = await drain(service.url, org, faults)
  const faultsChecks = await verifyWrites(faults, pool, org)

  // 3. SIGKILL under load, and the service started again on the same data (same port, same database).
  say(`crash: ${CRASH_S} s of load, SIGKILL at ${CRASH_S / 2} s, started again on the same data`)
  const crashedLogs = [service.log]
  const port = new URL(service.url).port
  const crash = await runLoad({
    url: service.url,
    fixture: f,
    label: 'crash',
    seconds: CRASH_S,
    connections: CONNECTIONS,
    during: async () => {
      await sleep(CRASH_S / 2 * 1000)
      process.kill(service.pid, 'SIGKILL')
      await service.exited
      service = await startService({ ...env, APP_PORT: port }, secrets, say)
      say(`killed and started again: pid ${service.pid}`)
    }
  })
  const crashDrain = await drain(service.url, org, crash)
  check('crash: every key usable after the restart', crashDrain.unusable === 0,
    `${crash.tally.quotes.size} keys, ${crash.result.errors} connection errors while the service was down; ` +
    `drain: ${JSON.stringify(crashDrain)}`)
  await verifyWrites(crash, pool, org)

  // 4. SIGTERM under load, with a rescore job running when the action exists.
  const rescoreServed = actions.some((a) => a.operationId === 'rescoreAccounts')
  // Requests the earlier runs' clients cut at their end (never answered, by the client's doing) are not this phase's.
  const earlier = new Set(service.log.open.keys())
  const shutdown = await sigtermUnderLoad(service, f, rescoreServed)
  const inFlight = service.log.openAtShutdown.filter((id) => !earlier.has(id)).length
  const unanswered = [...service.log.open.keys()].filter((id) => !earlier.has(id)).length
  check('SIGTERM: exit 0 within the grace period', shutdown.exit.code === 0 && shutdown.exit.ms < GRACE_MS, `exit ${shutdown.exit.code} after ${Math.round(shutdown.exit.ms)} ms`)
  const resets = [...shutdown.connErrors].filter(([code]) => code !== 'ECONNREFUSED').reduce((a, [, v]) => a + v, 0)
  check('SIGTERM: every accepted request answered', unanswered === 0, `${inFlight} in flight at SIGTERM, ${unanswered} never answered; client resets of requests the service never read (idle keep-alive connections closed at SIGTERM as the client wrote): ${resets}`)
  const serviceLogs = [...crashedLogs, service.log]
  service = await startService(env, secrets, say)
  const after = await call(service.url, org, 'whoAmI', {})
  check('SIGTERM: restarted service serves', after.status === 200, `whoAmI ${after.status}`)
  let job: Report['shutdown']['job'] = { available: false }
  if (rescoreServed && shutdown.jobId !== undefined) {
    job = await followJob(service.url, org, shutdown.jobId, shutdown.jobStateAtSigterm)
  }
  if (job.available) check('SIGTERM: the rescore job completes after the restart', job.finalState === 'completed', JSON.stringify(job))
  serviceLogs.push(service.log)

  // 5. Two service processes on one database (two dynos), each key sent to both at once.
  const second = await startService(env, secrets, say)
  serviceLogs.push(second.log)
  const shared = await sameKeysToTwo(service.url, second.url, f)
  await stopService(second, GRACE_MS)
  check('two processes, the same key to both: one quote, one answer',
    shared.split === 0 && shared.duplicated === 0 && shared.failed === 0,
    `${SHARED_KEYS} keys: ${shared.failed} not answered 200 by both ${JSON.stringify(shared.failures)}, ` +
    `${shared.split} answered with two quote ids, ${shared.duplicated} opportunities with 2+ quotes`)

  const secretHits = serviceLogs.reduce((n, l) => n + l.secretHits, 0)
  check('no token or database password in any service log line', secretHits === 0, `${serviceLogs.reduce((n, l) => n + l.lines, 0)} lines scanned, ${secretHits} hits`)

  const report: Report = {
    date: new Date().toISOString(),
    machine: machine(),
    command: 'npm run load',
    connections: CONNECTIONS,
    orgLatencyMs: ORG_LATENCY,
    steady: {
      ...summarize(steady, STEADY_S),
      rssBeforeMb: rssBefore,
      rssAfterMb: rssAfter,
      rssSeriesMb: rssSeries,
      heapAfterGcMb: heap,
      rssBoundMb: RSS_BOUND_MB,
      orgApiCalls: org.stats.apiCalls - orgCalls0,
      writes: steadyChecks
    },
    faults: {
      ...summarize(faults, FAULTS_S),
      rssAfterMb: rssAfterFaults,
      outage,
      byClass: faultsSummary.byClass,
      retry,
      writes: faultsChecks
    },
    shutdown: {
      requests: shutdown.requests,
      connErrors: Object.fromEntries(shutdown.connErrors),
      statuses: shutdown.statuses,
      inFlightAtSigterm: inFlight,
      unanswered,
      exitCode: shutdown.exit.code,
      exitMs: shutdown.exit.ms,
      job
    },
    serviceLogErrors: Object.fromEntries(serviceLogs.flatMap((l) => [...l.errors])),
    syncErrors,
    checks,
    runtimeS: (performance.now() - started) / 1000
  }
  await writeReport(report)
  const failed = checks.filter((c) => !c.ok)
  process.stdout.write([
    `steady: ${report.steady.rps.toFixed(0)} req/s, p50 ${report.steady.p50} ms, p99 ${report.steady.p99} ms, ${report.steady.requests} requests, ${report.steady.failed} errors, RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MB`,
    `faults: ${report.faults.requests} requests, ${report.faults.failed} failed: ${JSON.stringify(report.faults.byClass)}`,
    `SIGTERM: ${report.shutdown.inFlightAtSigterm} in flight, ${report.shutdown.unanswered} unanswered, exit ${report.shutdown.exitCode} in ${Math.round(report.shutdown.exitMs)} ms; job: ${JSON.stringify(job)}`,
    `checks: ${checks.length - failed.length}/${checks.length} passed${failed.length > 0 ? ` — FAILED: ${failed.map((c) => c.name).join('; ')}` : ''}`,
    `docs/reliability.md updated; ${report.runtimeS.toFixed(0)} s`,
    ''
  ].join('\n'))
  process.exitCode = failed.length > 0 ? 1 : 0
}

function summarize (run: LoadRun, seconds: number): LoadSummary {
  const perAction: Record<string, { n: number, p50: number, p99: number }> = {}
  for (const [op, list] of run.tally.latencies) {
    perAction[op] = { n: list.length, p50: Math.round(percentile(list, 50)), p99: Math.round(percentile(list, 99)) }
  }
  return {
    requests: run.result.requests.total,
    rps: run.result.requests.total / seconds,
    p50: run.result.latency.p50,
    p99: run.result.latency.p99,
    failed: run.tally.failures.length + run.result.errors,
    connErrors: run.result.errors,
    perAction,
    outcomes: Object.fromEntries([...run.tally.outcomes].sort())
  }
}

/**
 * The failures the design documents under these faults: 503 DATABASE_UNAVAILABLE while the
 * database is away, 502 SERVER_UNAVAILABLE where the org's 503 could not be retried (creates) or
 * kept failing (reads), 502 OUTCOME_UNKNOWN where the answer to a quote's graph was lost (the
 * drain's retry then answers the quote). Anything else is undocumented.
 */
function classifyFaults (run: LoadRun, outage: { stopAt: number, upAt: number }) {
  const byClass: Record<string, number> = {}
  const undocumented: string[] = []
  let dbOutsideOutage = 0
  for (const x of run.tally.failures) {
    const cls = `${x.status} ${x.errorCode}`
    byClass[cls] = (byClass[cls] ?? 0) + 1
    const documented = (x.status === 503 && x.errorCode === 'DATABASE_UNAVAILABLE') ||
      (x.status === 502 && (x.errorCode === 'SERVER_UNAVAILABLE' || x.errorCode === 'OUTCOME_UNKNOWN'))
    if (!documented && !undocumented.includes(`${x.operationId} ${cls}`)) undocumented.push(`${x.operationId} ${cls}`)
    if (x.errorCode === 'DATABASE_UNAVAILABLE' && (x.at < outage.stopAt || x.at > outage.upAt + 5000)) dbOutsideOutage++
  }
  return { byClass, undocumented, dbOutsideOutage }
}

/**
 * A caller (a Flow, an agent) retries a failed quote with the same key once the faults are gone,
 * as often as it takes (a claim of a killed process is taken over once its lease ran out): every
 * key must come to 200, never a second quote. Keys still failing after the last round are unusable.
 */
async function drain (
  url: string, org: ReturnType<typeof fixture>['org'], run: LoadRun
): Promise<Record<string, number> & { unusable: number }> {
  // Including keys whose request was still in flight when the run's clients stopped (no answer at all).
  let pending = [...run.tally.quotes.values()].filter((q) => q.quoteIds.size === 0)
  say(`drain: retrying ${pending.length} quote keys without a quote, with the same key`)
  const outcome: Record<string, number> = {}
  for (let round = 0; round < 4 && pending.length > 0; round++) {
    if (round > 0) await sleep(LEASE_MS + 500)
    let next = 0
    const queue = pending
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < queue.length) {
        const q = queue[next++]
        if (q === undefined) break
        q.attempts++
        const body = { opportunityId: q.opportunityId, idempotencyKey: q.key }
        const res = await call(url, org, 'generateQuote', body, q.username)
        const cls = res.status === 200
          ? `200${res.json.replayed === true ? ' replayed' : ''}`
          : `${res.status} ${String(res.json.errorCode)}`
        outcome[cls] = (outcome[cls] ?? 0) + 1
        q.statuses.push(res.status)
        if (res.status === 200) q.quoteIds.add(String(res.json.quoteId))
      }
    }))
    pending = pending.filter((q) => q.quoteIds.size === 0)
  }
  return { ...outcome, unusable: pending.length }
}

/** Each key, on a fresh opportunity, to both processes at once: both must answer the same single quote. */
async function sameKeysToTwo (first: string, second: string, f: ReturnType<typeof fixture>) {
  say(`two processes: ${SHARED_KEYS} keys, each sent to both at once`)
  let failed = 0; let split = 0; let next = 0
  const failures: Record<string, number> = {}
  const opportunities: string[] = []
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < SHARED_KEYS) {
      const n = next++
      const username = REPS[n % REPS.length] as string
      const opportunityId = freshOpportunity(f, username, 900_000 + n)
      opportunities.push(opportunityId)
      const body = { opportunityId, idempotencyKey: `load-shared-${n}` }
      const ask = async (url: string) => await call(url, f.org, 'generateQuote', body, username)
      const [a, b] = await Promise.all([ask(first), ask(second)])
      for (const res of [a, b].filter((r) => r.status !== 200)) {
        const cls = `${res.status} ${String(res.json.errorCode)}`
        failures[cls] = (failures[cls] ?? 0) + 1
      }
      if (a.status !== 200 || b.status !== 200) failed++
      else if (a.json.quoteId !== b.json.quoteId) split++
    }
  }))
  const quotes = f.org.records('Quote')
  const duplicated = opportunities.filter((id) => quotes.filter((q) => q.OpportunityId === id).length > 1).length
  return { failed, failures, split, duplicated }
}

/** No quote twice, none answered but missing, no feedback answered 200 but missing in Postgres. */
async function verifyWrites (run: LoadRun, pool: pg.Pool, org: ReturnType<typeof fixture>['org']) {
  const label = [...run.tally.quotes.keys()][0]?.split('-')[1] ?? '?'
  const quotesByOpp = new Map<string, string[]>()
  for (const q of org.records('Quote')) {
    const list = quotesByOpp.get(String(q.OpportunityId)) ?? []
    list.push(String(q.Id))
    quotesByOpp.set(String(q.OpportunityId), list)
  }
  let twice = 0; let answeredMissing = 0; let keysWithTwoIds = 0; let answered = 0; let orphans = 0
  for (const q of run.tally.quotes.values()) {
    const inOrg = quotesByOpp.get(q.opportunityId) ?? []
    if (inOrg.length > 1) twice++
    if (q.quoteIds.size > 1) keysWithTwoIds++
    if (q.quoteIds.size === 1) {
      answered++
      if (!inOrg.includes([...q.quoteIds][0] as string)) answeredMissing++
    } else if (inOrg.length > 0) orphans++
  }
  const unanswered = run.tally.quotes.size - answered
  const ok = twice === 0 && keysWithTwoIds === 0 && answeredMissing === 0 && orphans === 0 && unanswered === 0
  check(`${label}: every key against the org, after the drain: 0 lost, 0 duplicated, 0 unusable`, ok,
    `${run.tally.quotes.size} keys (one fresh opportunity each), ${answered} answered with a quote; opportunities with 2+ quotes: ${twice}; keys answered with 2 ids: ${keysWithTwoIds}; answered quotes missing in the org: ${answeredMissing}; quotes created but never answered (lost): ${orphans}; keys without a quote (unusable): ${unanswered}; replays ${run.tally.replays.sameQuote}/${run.tally.replays.sent} returned the first quote`)
  const ids = run.tally.feedback
  const { rows } = await pool.query<{ n: number }>('SELECT count(DISTINCT external_id__c)::int AS n FROM salesforce.product_feedback__c WHERE external_id__c = ANY($1::text[])', [ids])
  const found = rows[0]?.n ?? 0
  const written = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM salesforce.product_feedback__c WHERE comment__c LIKE $1', [`load ${label} %`])
  check(`${label}: no feedback row lost`, found === ids.length, `${ids.length} answered 200, ${found} found by externalId; rows written by the run: ${written.rows[0]?.n ?? 0}`)
  return {
    quoteKeys: run.tally.quotes.size,
    quotesAnswered: answered,
    quotesTwice: twice,
    quotesOrphaned: orphans,
    replays: run.tally.replays,
    feedbackAnswered: ids.length,
    feedbackFound: found,
    feedbackRows: written.rows[0]?.n ?? 0
  }
}

async function sigtermUnderLoad (service: Service, f: ReturnType<typeof fixture>, rescoreServed: boolean) {
  say(`SIGTERM: ${SIGTERM_S} s of load, SIGTERM at ${SIGTERM_S / 2} s${rescoreServed ? ', a rescore job started just before' : ' (rescoreAccounts is not served: no job)'}`)
  let jobId: string | undefined
  let jobStateAtSigterm: string | undefined
  let exit = { code: 'not sent' as number | string, ms: NaN }
  const jobLines = service.watch((l) => l.component === 'jobs' || /job/i.test(String(l.msg)))
  const run = await runLoad({
    url: service.url,
    fixture: f,
    label: 'sigterm',
    seconds: SIGTERM_S,
    connections: CONNECTIONS,
    during: async (stop) => {
      await sleep(SIGTERM_S / 2 * 1000)
      if (rescoreServed) {
        const res = await call(service.url, f.org, 'rescoreAccounts', { callbackUrl: `${f.org.url}/load-callback` }, 'admin@acme.local')
        if (res.status === 202) jobId = String(res.json.jobId)
        else say(`rescoreAccounts answered ${res.status}: ${JSON.stringify(res.json)}`)
      }
      // SIGTERM while the job runs (a worker polls every JOB_POLL_SECONDS), not before it starts.
      if (jobId !== undefined) {
        for (const until = Date.now() + 5000; Date.now() < until;) {
          jobStateAtSigterm = String((await call(service.url, f.org, 'getJobStatus', { jobId }, 'admin@acme.local')).json.state)
          if (jobStateAtSigterm !== 'queued') break
          await sleep(25)
        }
      }
      say('sending SIGTERM')
      exit = await stopService(service, GRACE_MS)
      // Nothing listens any more: stop hammering a closed port.
      stop()
    }
  })
  const statuses: Record<string, number> = {}
  for (const [k, v] of run.tally.outcomes) {
    const status = k.split(' ').slice(1).join(' ')
    statuses[status] = (statuses[status] ?? 0) + v
  }
  say(`job log lines during shutdown: ${jobLines.slice(-5).map((l) => l.msg).join(' | ')}`)
  return { requests: run.tally.requests, connErrors: run.connErrors, statuses, exit, jobId, jobStateAtSigterm }
}

async function followJob (
  url: string,
  org: ReturnType<typeof fixture>['org'],
  jobId: string,
  stateAtSigterm: string | undefined
): Promise<Report['shutdown']['job']> {
  const deadline = Date.now() + 60_000
  let last: Record<string, unknown> = {}
  while (Date.now() < deadline) {
    last = (await call(url, org, 'getJobStatus', { jobId }, 'admin@acme.local')).json
    if (last.state === 'completed' || last.state === 'failed') break
    await sleep(1000)
  }
  const result = last.result as Record<string, unknown> | undefined
  return {
    available: true,
    jobId,
    stateAtSigterm: stateAtSigterm ?? '?',
    finalState: String(last.state),
    attempts: Number(last.attempts),
    total: Number(result?.total ?? NaN),
    written: Number(result?.written ?? NaN),
    failed: Number(result?.failed ?? NaN)
  }
}

try {
  await main()
} catch (err) {
  say(`load run failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
  process.exitCode = 1
} finally {
  for (const cleanup of cleanups) await cleanup().catch((err: unknown) => { say(`cleanup: ${String(err)}`) })
  say(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`)
}
// Pools and timers of the local org and sync must not keep the run alive.
process.exit()
