import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type pg from 'pg'
import type { FastifyBaseLogger } from 'fastify'
import { PgBoss, type JobResult, type JobWithMetadata } from 'pg-boss'
import type { Config } from '../config.ts'
import { AppError } from '../errors.ts'
import { SalesforceApiError } from '../salesforce/errors.ts'
import { CredentialsError, keyringFrom, openCredentials, sealCredentials, type JobCredentials, type Keyring } from './credentials.ts'

/** What a job's code gets besides its payload. */
export interface JobContext<P> {
  id: string
  payload: P
  /** Decrypted for this run only: never log or store them. */
  credentials: JobCredentials
  /** 1 on the first run; a resumed or retried job runs again with the next number. */
  attempt: number
  /** Aborted when the process shuts down: stop at the next safe point (`throwIfInterrupted`). */
  signal: AbortSignal
  log: FastifyBaseLogger
  pool: pg.Pool
  config: Config
  progress: (done: number, total: number) => Promise<void>
}

/** One kind of job: its queue and the code that runs it. The result is stored as the job's output. */
export interface JobKind<P extends object = object, R extends object = object> {
  /** pg-boss queue name; its dead-letter queue is `<name>-dead`. */
  name: string
  run: (ctx: JobContext<P>) => Promise<R>
}

/** The caller a job belongs to: only the same org and user may see it. */
export interface JobOwner { orgId: string, userId: string }

export type JobState = 'queued' | 'running' | 'retrying' | 'completed' | 'failed' | 'cancelled'

export interface JobStatus {
  jobId: string
  kind: string
  state: JobState
  attempts: number
  progress: { done: number, total: number }
  /** The job's result when completed. */
  result?: object
  /** Why it failed (or why its last attempt failed, while retrying). */
  error?: { errorCode: string, message: string }
  createdAt: string
  completedAt?: string
}

/** Thrown by a job that stops at a safe point because its process is shutting down. */
export class JobInterrupted extends Error {
  override name = 'JobInterrupted'
  constructor () { super('the worker is shutting down; the job goes back to the queue') }
}

export function throwIfInterrupted (signal: AbortSignal): void {
  if (signal.aborted) throw new JobInterrupted()
}

/** What the queue stores in pg-boss: the payload and the sealed credentials, never a clear token. */
interface JobData { orgId: string, userId: string, payload: object, credentials: string }

/** What the queue stores as a failed attempt's output. */
interface FailureOutput { errorCode: string, message: string }

/** How an attempt's failure is settled. */
interface Verdict {
  status: 'failed' | 'deadletter'
  output: FailureOutput
  /** Counts against JOB_RETRY_LIMIT (shutdowns and dead workers do not). */
  counts: boolean
  /** Seconds before the retry instead of pg-boss's backoff (REQUEST_LIMIT_EXCEEDED, shutdown). */
  retryAfterSeconds?: number
}

const STATES: Record<JobWithMetadata['state'], JobState> = {
  created: 'queued', retry: 'retrying', active: 'running', completed: 'completed', failed: 'failed', cancelled: 'cancelled'
}
/**
 * pg-boss's own retry budget also absorbs restarts (a shutdown, a killed worker): JOB_RETRY_LIMIT
 * is enforced here, on failures only, so a deploy cannot push a job into the dead-letter queue.
 */
const RESTART_ALLOWANCE = 20
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const sameId = (a: string, b: string) => a.slice(0, 15) === b.slice(0, 15)

/** Decides whether an attempt's error is worth another try. */
export function verdictFor (err: unknown): Verdict {
  if (err instanceof JobInterrupted) return { status: 'failed', output: { errorCode: 'INTERRUPTED', message: err.message }, counts: false, retryAfterSeconds: 0 }
  if (err instanceof CredentialsError) return { status: 'deadletter', output: { errorCode: 'CREDENTIALS_UNREADABLE', message: err.message }, counts: true }
  if (err instanceof SalesforceApiError) {
    if (err.errorCode === 'INVALID_SESSION_ID' || err.httpStatus === 401) {
      return { status: 'deadletter', output: { errorCode: 'INVALID_SESSION_ID', message: 'The Salesforce session of the user who started the job expired before it finished; start the job again' }, counts: true }
    }
    if (err.errorCode === 'REQUEST_LIMIT_EXCEEDED') {
      return { status: 'failed', output: { errorCode: err.errorCode, message: err.message }, counts: true, retryAfterSeconds: err.retryAfterSeconds ?? 300 }
    }
    if (!err.transient) return { status: 'deadletter', output: { errorCode: err.errorCode, message: err.message }, counts: true }
    return { status: 'failed', output: { errorCode: err.errorCode, message: err.message }, counts: true }
  }
  if (err instanceof AppError) return { status: 'failed', output: { errorCode: err.errorCode, message: err.message }, counts: true }
  // Unknown errors (database, network) are retried; their text may carry internals, so it stays in the log.
  return { status: 'failed', output: { errorCode: 'JOB_ERROR', message: 'The job failed unexpectedly; see the service log for its id' }, counts: true }
}

export interface JobQueueOptions {
  pool: pg.Pool
  config: Config
  log: FastifyBaseLogger
  kinds: JobKind[]
  /**
   * Run pg-boss's maintenance timers (supervision of dead workers' jobs, queue monitoring, flow
   * and migration polls) in this process; processes that work jobs do, a web process that only
   * enqueues and reads jobs need not poll the database for them.
   */
  supervise: boolean
}

/**
 * The durable queue: pg-boss in the app's database (schema `pgboss`, migrated at start), over the
 * app's own pool. Jobs are claimed with SKIP LOCKED by one worker at a time, beat a heartbeat so a
 * killed worker's job returns to the queue, retry transient failures with exponential backoff and
 * end in `<queue>-dead` with their reason.
 */
export class JobQueue {
  readonly #opts: JobQueueOptions
  readonly #boss: PgBoss
  readonly #keyring: Keyring
  readonly #kinds: Map<string, JobKind>
  readonly #shutdown = new AbortController()
  /** Retry-time adjustments still to land after pg-boss settled an attempt. */
  readonly #adjusting = new Set<Promise<void>>()
  #working = false

  constructor (opts: JobQueueOptions) {
    this.#opts = opts
    this.#keyring = keyringFrom(opts.config)
    this.#kinds = new Map(opts.kinds.map((k) => [k.name, k]))
    const { pool, config, log } = opts
    this.#boss = new PgBoss({
      db: { executeSql: async (text, values) => await pool.query(text, values) },
      schedule: false,
      supervise: opts.supervise,
      superviseIntervalSeconds: config.JOB_SUPERVISE_SECONDS,
      monitorIntervalSeconds: config.JOB_SUPERVISE_SECONDS
    })
    this.#boss.on('error', (err) => { log.error({ err }, 'job queue error') })
    this.#boss.on('warning', (warning) => { log.warn({ data: warning.data }, `job queue: ${warning.message}`) })
  }

  /** Installs or migrates pg-boss's schema and creates the queues (idempotent, safe from many processes). */
  async start (): Promise<void> {
    const { config } = this.#opts
    await this.#boss.start()
    for (const name of this.#kinds.keys()) {
      const dead = `${name}-dead`
      await this.#boss.createQueue(dead, { deleteAfterSeconds: 14 * 86_400 })
      const options = {
        retryLimit: config.JOB_RETRY_LIMIT + RESTART_ALLOWANCE,
        retryDelay: config.JOB_RETRY_DELAY_SECONDS,
        retryBackoff: true,
        retryDelayMax: 3600,
        heartbeatSeconds: config.JOB_HEARTBEAT_SECONDS,
        // The heartbeat finds dead workers; this only bounds a live one that hangs.
        expireInSeconds: 6 * 3600,
        deleteAfterSeconds: 7 * 86_400
      }
      await this.#boss.createQueue(name, { ...options, deadLetter: dead })
      // createQueue keeps an existing queue as it was: apply the current config.
      await this.#boss.updateQueue(name, options)
    }
  }

  /** Queues a job for the caller; its credentials are sealed to the job's id before they are stored. */
  async enqueue<P extends object> (kind: JobKind<P>, payload: P, credentials: JobCredentials): Promise<{ jobId: string, state: JobState }> {
    const jobId = randomUUID()
    const data: JobData = { orgId: credentials.orgId, userId: credentials.userId, payload, credentials: sealCredentials(this.#keyring, credentials, jobId) }
    await this.#boss.send(kind.name, data, { id: jobId })
    return { jobId, state: 'queued' }
  }

  /** The job as its owner sees it; null when it does not exist or belongs to someone else. */
  async status (jobId: string, owner: JobOwner): Promise<JobStatus | null> {
    if (!UUID.test(jobId)) return null
    for (const kind of this.#kinds.keys()) {
      const [job] = await this.#boss.findJobs<JobData>(kind, { id: jobId })
      if (job === undefined) continue
      if (!sameId(job.data.orgId, owner.orgId) || !sameId(job.data.userId, owner.userId)) return null
      const { rows } = await this.#opts.pool.query<{ done: number, total: number }>('SELECT done, total FROM job_progress WHERE job_id = $1', [jobId])
      const output = job.output as (FailureOutput & Record<string, unknown>) | null
      const state = STATES[job.state]
      return {
        jobId,
        kind,
        state,
        attempts: job.startedOn === null || job.startedOn === undefined ? 0 : job.retryCount + 1,
        progress: { done: rows[0]?.done ?? 0, total: rows[0]?.total ?? 0 },
        ...(state === 'completed' && output !== null ? { result: output } : {}),
        ...((state === 'failed' || state === 'retrying') && output !== null && typeof output.errorCode === 'string'
          ? { error: { errorCode: output.errorCode, message: String(output.message) } }
          : {}),
        createdAt: new Date(job.createdOn).toISOString(),
        ...(job.completedOn === null ? {} : { completedAt: new Date(job.completedOn).toISOString() })
      }
    }
    return null
  }

  /** Starts working every kind of job in this process. */
  async work (): Promise<void> {
    const { config } = this.#opts
    this.#working = true
    for (const kind of this.#kinds.values()) {
      await this.#boss.work(kind.name, {
        batchSize: 1,
        includeMetadata: true,
        perJobResults: true,
        localConcurrency: config.JOB_CONCURRENCY,
        pollingIntervalSeconds: config.JOB_POLL_SECONDS
      }, async (jobs: Array<JobWithMetadata<JobData>>) => await Promise.all(jobs.map(async (job) => await this.#runOne(kind, job))))
    }
  }

  async #runOne (kind: JobKind, job: JobWithMetadata<JobData>): Promise<JobResult> {
    const { pool, config } = this.#opts
    const log = this.#opts.log.child({ jobId: job.id, job: kind.name })
    const attempt = job.retryCount + 1
    try {
      const credentials = openCredentials(this.#keyring, job.data.credentials, job.id)
      log.info({ attempt }, 'job started')
      const result = await kind.run({
        id: job.id,
        payload: job.data.payload,
        credentials,
        attempt,
        signal: AbortSignal.any([this.#shutdown.signal, job.signal]),
        log,
        pool,
        config,
        progress: async (done, total) => { await reportProgress(pool, job.id, done, total) }
      })
      log.info({ attempt }, 'job completed')
      return { id: job.id, status: 'completed', output: result }
    } catch (err) {
      let verdict = verdictFor(err)
      if (verdict.counts && verdict.status === 'failed') {
        const failures = await countFailure(pool, job.id)
        if (failures > config.JOB_RETRY_LIMIT) {
          verdict = { ...verdict, status: 'deadletter', output: { errorCode: verdict.output.errorCode, message: `Gave up after ${failures} failed attempts: ${verdict.output.message}` } }
        }
      }
      const level = verdict.status === 'deadletter' ? 'error' : verdict.counts ? 'warn' : 'info'
      log[level]({ err, attempt, errorCode: verdict.output.errorCode, outcome: verdict.status === 'deadletter' ? 'dead-lettered' : 'will retry' }, 'job attempt failed')
      if (verdict.status === 'failed' && verdict.retryAfterSeconds !== undefined) {
        this.#afterSettle(kind.name, job.id, verdict.retryAfterSeconds, !verdict.counts)
      }
      return { id: job.id, status: verdict.status, output: verdict.output }
    }
  }

  /**
   * pg-boss settles the attempt right after the handler returns, with its own backoff; then the
   * retry time is set (REQUEST_LIMIT_EXCEEDED's window, or at once after a shutdown) and a restart
   * gets its try back. `update` only touches a job that is not running, so this cannot disturb a
   * worker that took it meanwhile; the backoff (≥ 1 s) leaves ample time to land first.
   */
  #afterSettle (name: string, id: string, retryAfterSeconds: number, refund: boolean): void {
    const task = (async () => {
      for (let i = 0; i < 40; i++) {
        const [job] = await this.#boss.findJobs(name, { id })
        if (job === undefined || job.state === 'failed' || job.state === 'completed' || job.state === 'cancelled') return
        if (job.state === 'retry' || job.state === 'created') {
          await this.#boss.update(name, undefined, {
            id,
            startAfter: new Date(Date.now() + retryAfterSeconds * 1000),
            ...(refund ? { retryLimit: job.retryLimit + 1 } : {})
          })
          return
        }
        await sleep(25)
      }
    })().catch((err: unknown) => { this.#opts.log.warn({ err, jobId: id }, 'could not adjust the job\'s retry time') })
    this.#adjusting.add(task)
    void task.finally(() => this.#adjusting.delete(task))
  }

  /**
   * Graceful stop: running jobs stop at their next safe point and go back to the queue (another
   * worker resumes them), then pg-boss stops. The pool stays the app's to close.
   */
  async stop (): Promise<void> {
    this.#shutdown.abort()
    if (this.#working) {
      for (const name of this.#kinds.keys()) await this.#boss.offWork(name, { wait: true })
    }
    await Promise.allSettled([...this.#adjusting])
    await this.#boss.stop({ graceful: true, close: false, timeout: 5000 })
  }
}

async function reportProgress (pool: pg.Pool, jobId: string, done: number, total: number): Promise<void> {
  await pool.query(`INSERT INTO job_progress (job_id, done, total) VALUES ($1, $2, $3)
    ON CONFLICT (job_id) DO UPDATE SET done = excluded.done, total = excluded.total, updated_at = now()`, [jobId, done, total])
}

/** Failed attempts so far, this one included. */
async function countFailure (pool: pg.Pool, jobId: string): Promise<number> {
  const { rows } = await pool.query<{ failures: number }>(`INSERT INTO job_progress (job_id, failures) VALUES ($1, 1)
    ON CONFLICT (job_id) DO UPDATE SET failures = job_progress.failures + 1, updated_at = now() RETURNING failures`, [jobId])
  return rows[0]?.failures ?? 1
}
