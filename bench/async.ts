// rescoreAccounts: API calls per job and records per second by 1 and 2 worker processes.
import type { ChildProcess } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import type { ActionDefinition } from '../src/actions/define.ts'
import { actions } from '../src/actions/index.ts'
import { startLocalOrg, type LocalOrg } from '@applink-actions/local-org'
import { BENCH_JOB_ENCRYPTION_KEYS, benchDatabase, loadMirror, serveApp, type BenchDatabase } from './env.ts'
import { progress } from './measure.ts'
import { startWorkerProcess } from './processes.ts'
import { rescoreAccountsJob } from '../src/jobs/rescore.ts'

export type RescoreCalls =
  | { rows: Array<{ accounts: number, calls: number, orgCalls: number, callbackStatus: number | null }> }
  | { notMeasured: string }
export type AsyncResults =
  | { accounts: number, jobs: number, rows: Array<{ workers: number, recordsPerS: number, seconds: number }> }
  | { notMeasured: string }

const ADMIN = 'admin@acme.local'
const FILTER = { segment: 'Customer', industry: 'Technology' }
const JOB_ENV = { JOB_POLL_SECONDS: '0.5', JOB_CONCURRENCY: '2', LOG_LEVEL: 'warn' }

/** The job actions, loaded only when they exist and load: they are being built alongside. */
async function jobActions (): Promise<ActionDefinition[] | string> {
  try {
    const rescore = (await import('../src/actions/rescore-accounts.ts')).default as ActionDefinition
    const status = (await import('../src/actions/get-job-status.ts')).default as ActionDefinition
    return [
      ...actions.filter((a) => a.operationId !== rescore.operationId && a.operationId !== status.operationId),
      rescore,
      status
    ]
  } catch (err) {
    return `the rescoreAccounts action does not load (${err instanceof Error ? err.message : String(err)})`
  }
}

interface Rig { org: LocalOrg, db: BenchDatabase, app: FastifyInstance, url: string, close: () => Promise<void> }

/** A local org with `accounts` extra Customer/Technology accounts, mirrored into a fresh database, and the app. */
async function rig (accounts: number, list: ActionDefinition[], env: Record<string, string>): Promise<Rig> {
  const org = await startLocalOrg({ port: 0, dataset: 'small', seed: 1 })
  const owners = org.users.filter((u) => u.profile === 'rep')
  for (let i = 0; i < accounts; i++) {
    org.insertRecord('Account', { Name: `Bench Rescore ${i}`, Type: 'Customer', Industry: 'Technology', OwnerId: owners[i % owners.length]?.id })
  }
  const db = await benchDatabase()
  try {
    await loadMirror(org, db)
    const { app, url } = await serveApp({ DATABASE_URL: db.url, ...JOB_ENV, ...env }, list)
    return { org, db, app, url, close: async () => { await app.close(); await org.close(); await db.drop() } }
  } catch (err) {
    await org.close()
    await db.drop()
    throw err
  }
}

interface Enqueued { jobId: string, owner: { orgId: string, userId: string } }

async function enqueue (r: Rig, filter: Record<string, string>): Promise<Enqueued> {
  const context = r.org.contextFor(ADMIN)
  const res = await fetch(`${r.url}/actions/rescoreAccounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-client-context': Buffer.from(JSON.stringify(context)).toString('base64') },
    body: JSON.stringify({ ...filter, callbackUrl: `${r.org.url}/callback/bench` })
  })
  if (res.status !== 202) throw new Error(`rescoreAccounts ${res.status}: ${await res.text()}`)
  const { jobId } = await res.json() as { jobId: string }
  return { jobId, owner: { orgId: context.orgId, userId: context.userContext.userId } }
}

/** Waits for a job to complete; its stored result (total, written, callbackStatus). */
async function completed (
  app: FastifyInstance,
  job: Enqueued,
  timeoutMs = 120_000
): Promise<{ total: number, written: number, callbackStatus?: number }> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const status = await app.jobs.status(job.jobId, job.owner, rescoreAccountsJob)
    if (status?.state === 'completed') return status.result as { total: number, written: number, callbackStatus?: number }
    if (status?.state === 'failed' || status?.state === 'cancelled') throw new Error(`job ${job.jobId} ${status.state}: ${JSON.stringify(status)}`)
    if (Date.now() > deadline) throw new Error(`job ${job.jobId} still ${status?.state ?? 'missing'} after ${timeoutMs} ms`)
    await sleep(50)
  }
}

/** API calls of one job over N accounts: the org's count plus the callback (not an API call there). */
export async function measureRescoreCalls (): Promise<RescoreCalls> {
  const list = await jobActions()
  if (typeof list === 'string') return { notMeasured: list }
  const rows: Extract<RescoreCalls, { rows: unknown }>['rows'] = []
  for (const accounts of [1000, 10_000]) {
    const r = await rig(accounts, list, { WORKER_IN_WEB: 'true' })
    try {
      r.org.resetStats()
      const result = await completed(r.app, await enqueue(r, FILTER))
      const orgCalls = r.org.stats.apiCalls
      // The callback goes to the org's domain (the local org answers it 404, outside its API count).
      const callback = result.callbackStatus === undefined ? 0 : 1
      rows.push({
        accounts: result.total,
        calls: orgCalls + callback,
        orgCalls,
        callbackStatus: result.callbackStatus ?? null
      })
    } finally {
      await r.close()
    }
  }
  return { rows }
}

async function startWorker (databaseUrl: string): Promise<ChildProcess> {
  return await startWorkerProcess({
    ...process.env,
    DATABASE_URL: databaseUrl,
    ...JOB_ENV,
    LOG_LEVEL: 'info',
    NODE_ENV: 'development',
    JOB_ENCRYPTION_KEYS: BENCH_JOB_ENCRYPTION_KEYS
  })
}

async function stopWorker (child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}

/**
 * 5. Records scored and written per second: one job per rep over 10,000 accounts, queued at once,
 * worked by 1 then 2 `npm run worker` processes (2 jobs at a time each, the default).
 */
export async function measureAsync (accounts = 10_000): Promise<AsyncResults> {
  const list = await jobActions()
  if (typeof list === 'string') return { notMeasured: list }
  const r = await rig(accounts, list, { WORKER_IN_WEB: 'false' })
  try {
    const reps = r.org.users.filter((u) => u.profile === 'rep')
    const rows: Extract<AsyncResults, { rows: unknown }>['rows'] = []
    for (const workers of [1, 2]) {
      progress(`5/7 async: ${reps.length} jobs over ${accounts.toLocaleString('en-US')} accounts, ${workers} worker${workers === 1 ? '' : 's'}`)
      const children = await Promise.all(Array.from({ length: workers }, () => startWorker(r.db.url)))
      try {
        const t0 = performance.now()
        const jobs = await Promise.all(reps.map((rep) => enqueue(r, { ...FILTER, ownerId: rep.id })))
        const results = await Promise.all(jobs.map((job) => completed(r.app, job)))
        const seconds = (performance.now() - t0) / 1000
        rows.push({ workers, recordsPerS: results.reduce((n, res) => n + res.written, 0) / seconds, seconds })
      } finally {
        await Promise.all(children.map(stopWorker))
      }
    }
    return { accounts, jobs: reps.length, rows }
  } finally {
    await r.close()
  }
}
