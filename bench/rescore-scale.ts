// A rescore of a whole segment at production volume (issue 28): startAccountRescore over a local org
// of `accounts` accounts (its 'large' data set), from the start to the job's end, as a web process and
// a worker process run it, with the resident memory of both sampled throughout. Runnable alone (the
// local org of a million accounts needs a larger heap than Node's default, as `npm run bench` gives):
//   node --max-old-space-size=12288 bench/rescore-scale.ts --accounts 1000000 [--segment Customer]
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { startLocalOrg, type LocalOrg } from '@applink-actions/local-org'
import { actionPath } from '../src/actions/define.ts'
import { SEGMENTS } from '../src/schemas/jobs.ts'
import { BENCH_JOB_ENCRYPTION_KEYS, LOCAL_ORG_DOMAINS, benchDatabase, loadMirror, type BenchDatabase } from './env.ts'
import { startServerProcess, startWorkerProcess, type ServerProcess } from './processes.ts'
import { progress } from './measure.ts'

export interface RescoreRun {
  segment: string
  /** Accounts the job wrote: the segment's. */
  accounts: number
  seconds: number
  /** Accounts written per second, from the start request to the job's end. */
  rate: number
  /** The highest resident set of the worker and of the web process, sampled every 100 ms. */
  maxRssMb: number
  webMaxRssMb: number
  /** Distinct `done` values getJobStatus showed while the job ran. */
  progressSteps: number
}

export interface RescoreScale extends RescoreRun {
  /** Accounts of the org (and its mirror). */
  orgAccounts: number
}

const root = (path: string) => fileURLToPath(new URL(path, import.meta.url))
const ADMIN = 'admin@acme.local'
const SAMPLE_MS = 100

/** Resident set of a process now, in MB (Linux /proc); 0 once it is gone. */
function rssMb (pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return Number(kb ?? 0) / 1024
  } catch {
    return 0
  }
}

/**
 * startAccountRescore of a segment as the org's admin, by a web process and a worker process of their
 * own on `db`, whose mirror (schema salesforce) holds `org`; from the start request to the job's end.
 */
export async function measureRescore (
  org: LocalOrg, db: BenchDatabase, segment: typeof SEGMENTS[number] = 'Customer'
): Promise<RescoreRun> {
  const env = {
    NODE_ENV: 'production',
    DATABASE_URL: db.url,
    LOG_LEVEL: 'warn',
    WORKER_IN_WEB: 'false',
    JOB_ENCRYPTION_KEYS: BENCH_JOB_ENCRYPTION_KEYS,
    ORG_DOMAINS: LOCAL_ORG_DOMAINS
  }
  const web = await startServerProcess(root('../src/server.ts'), { ...env, HOST: '127.0.0.1' }, 'APP_PORT')
  try {
    const worker = await startWorkerProcess({ ...process.env, ...env, LOG_LEVEL: 'info' })
    try {
      return await run(org, segment, web, worker.pid ?? 0)
    } finally {
      const exited = new Promise((resolve) => worker.once('exit', resolve))
      worker.kill('SIGTERM')
      await exited
    }
  } finally {
    await web.stop()
  }
}

async function run (
  org: LocalOrg, segment: typeof SEGMENTS[number], web: ServerProcess, workerPid: number
): Promise<RescoreRun> {
  const headers = {
    'content-type': 'application/json',
    'x-client-context': Buffer.from(JSON.stringify(org.contextFor(ADMIN))).toString('base64')
  }
  const call = async <T>(operationId: string, body: object): Promise<T> => {
    const res = await fetch(`${web.url}${actionPath(operationId)}`, { method: 'POST', headers, body: JSON.stringify(body) })
    if (!res.ok) throw new Error(`${operationId} ${res.status}: ${await res.text()}`)
    return await res.json() as T
  }
  let maxRss = rssMb(workerPid)
  let webMaxRss = rssMb(web.pid)
  const sampler = setInterval(() => {
    maxRss = Math.max(maxRss, rssMb(workerPid))
    webMaxRss = Math.max(webMaxRss, rssMb(web.pid))
  }, SAMPLE_MS)
  try {
    progress(`rescore at scale: startAccountRescore of the ${segment} segment`)
    const t0 = performance.now()
    const { jobId } = await call<{ jobId: string }>('startAccountRescore', { segment })
    const steps = new Set<number>()
    for (;;) {
      const status = await call<{ state: string, progress: { done: number }, result?: { written: number } }>(
        'getJobStatus', { jobId })
      steps.add(status.progress.done)
      if (status.state === 'completed') {
        const seconds = (performance.now() - t0) / 1000
        const accounts = status.result?.written ?? 0
        return {
          segment,
          accounts,
          seconds,
          rate: accounts / seconds,
          maxRssMb: Math.round(maxRss),
          webMaxRssMb: Math.round(webMaxRss),
          progressSteps: steps.size
        }
      }
      if (status.state === 'failed' || status.state === 'cancelled') {
        throw new Error(`rescore job ${status.state}: ${JSON.stringify(status)}`)
      }
      await sleep(500)
    }
  } finally {
    clearInterval(sampler)
  }
}

/** A local org of `orgAccounts` accounts (its large data set), its mirror loaded, then measureRescore. */
export async function measureRescoreScale (
  orgAccounts: number, segment: typeof SEGMENTS[number] = 'Customer'
): Promise<RescoreScale> {
  progress(`rescore at scale: a local org of ${orgAccounts.toLocaleString('en-US')} accounts`)
  const org = await startLocalOrg({
    port: 0, dataset: 'large', accounts: orgAccounts, seed: 7, faults: { dailyApiLimit: 1_000_000_000 }
  })
  const db = await benchDatabase()
  try {
    progress('rescore at scale: loading the mirror')
    await loadMirror(org, db)
    await db.pool.query('ANALYZE')
    return { orgAccounts, ...await measureRescore(org, db, segment) }
  } finally {
    await org.close()
    await db.drop()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { accounts: { type: 'string', default: '50000' }, segment: { type: 'string', default: 'Customer' } }
  })
  const segment = SEGMENTS.find((s) => s === values.segment)
  if (segment === undefined) throw new Error(`--segment is one of ${SEGMENTS.join(', ')}`)
  console.log(JSON.stringify(await measureRescoreScale(Number(values.accounts), segment), null, 2))
}
