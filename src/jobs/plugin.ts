import fp from 'fastify-plugin'
import { configuredAuthorizations, webWorksJobs } from '../config.ts'
import { purgeExpired } from '../postgres/housekeeping.ts'
import type { JobCredentials } from './credentials.ts'
import { JobQueue, type JobKind, type JobOwner, type JobSchedule, type JobState, type JobStatus } from './queue.ts'
import { rescoreAccountsJob } from './rescore.ts'
import { observeFromDatabase } from '../telemetry/metrics.ts'

/** Every kind of job the service runs; each gets its queue and its dead-letter queue. */
export const jobKinds: JobKind[] = [rescoreAccountsJob] as JobKind[]

/** What handlers use: queue a job for the caller, read one back. */
export interface Jobs {
  enqueue: <P extends object>(
    kind: JobKind<P>,
    payload: P,
    credentials: JobCredentials
  ) => Promise<{ jobId: string, state: JobState }>
  status: <P extends object, R extends object>(
    jobId: string,
    owner: JobOwner,
    kind: JobKind<P, R>
  ) => Promise<JobStatus<R> | null>
}

declare module 'fastify' {
  interface FastifyInstance {
    jobs: Jobs
  }
}

export interface JobsPluginOptions {
  /** Work jobs in this process; default WORKER_IN_WEB (unset: not in production). */
  work?: boolean
}

/**
 * The durable job queue on the app's pool. Starts pg-boss (its schema migrates here, after the
 * app's own migrations), works jobs when asked, and on close lets running jobs stop at a safe
 * point and return to the queue before the pool closes.
 */
const HOUSEKEEPING_INTERVAL_MS = 10 * 60_000

export default fp<JobsPluginOptions>(async (app, opts) => {
  const { config } = app
  const work = opts.work ?? webWorksJobs(config)
  // The nightly rescore of every account, one per org's authorization (each runs in its own org):
  // config.ts refuses a schedule without an authorization.
  const cron = config.RESCORE_SCHEDULE_CRON
  const schedules: JobSchedule[] = cron === undefined
    ? []
    : configuredAuthorizations(config).map((authorization) => ({
      kind: rescoreAccountsJob as JobKind,
      cron,
      tz: config.RESCORE_SCHEDULE_TZ,
      payload: { filter: {} },
      authorization
    }))
  const queue = new JobQueue({
    pool: app.pg,
    mirrors: app.mirrors,
    config,
    log: app.log.child({ component: 'jobs' }),
    kinds: jobKinds,
    schedules,
    runsSchedules: work && schedules.length > 0,
    supervise: work
  })
  await queue.start()
  app.decorate('jobs', {
    enqueue: async (kind, payload, credentials) => await queue.enqueue(kind, payload, credentials),
    status: async (jobId, owner, kind) => await queue.status(jobId, owner, kind)
  } satisfies Jobs)
  // preClose: before the pg plugin's onClose ends the pool the jobs still write to.
  app.addHook('preClose', async () => { await queue.stop() })
  const names = jobKinds.map((k) => k.name)
  const stopObserving = observeFromDatabase({
    'applink.jobs.waiting': { description: 'Jobs queued and not yet started (or waiting for a retry), by kind' },
    'applink.jobs.oldest_waiting_age': { unit: 's', description: 'How long the oldest waiting job of a kind has waited' }
  }, async () => {
    const { rows } = await app.pg.query<{ name: string, waiting: number, oldest: number | null }>(
      `SELECT name, count(*)::int AS waiting, extract(epoch FROM now() - min(created_on))::float8 AS oldest
         FROM pgboss.job WHERE name = ANY($1) AND state IN ('created', 'retry') GROUP BY name`, [names])
    const waiting = new Map(rows.map((row) => [row.name, row]))
    return names.flatMap((name) => [
      { gauge: 'applink.jobs.waiting', value: waiting.get(name)?.waiting ?? 0, attributes: { 'applink.job.kind': name } },
      { gauge: 'applink.jobs.oldest_waiting_age', value: waiting.get(name)?.oldest ?? 0, attributes: { 'applink.job.kind': name } }
    ])
  })
  app.addHook('preClose', async () => { stopObserving() })
  if (work) {
    await queue.work()
    app.log.info({ concurrency: config.JOB_CONCURRENCY, kinds: jobKinds.map((k) => k.name) }, 'working jobs')
    // Processes that work jobs also clear what has expired, every few minutes.
    const housekeeping = setInterval(() => {
      purgeExpired(app.pg, config.IDEMPOTENCY_RETENTION_MS).then(
        (purged) => { app.log.debug({ purged }, 'expired records purged') },
        (err: unknown) => { app.log.warn({ err: { message: (err as Error).message } }, 'purging expired records failed; next try later') })
    }, HOUSEKEEPING_INTERVAL_MS)
    housekeeping.unref()
    app.addHook('preClose', async () => { clearInterval(housekeeping) })
  }
}, { name: 'jobs', dependencies: ['config', 'pg', 'mirror'] })
