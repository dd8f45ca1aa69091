import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type pg from 'pg'
import type { FastifyBaseLogger } from 'fastify'
import { inTransaction } from '@applink-actions/platform/postgres'
import { normalizeId } from '@applink-actions/platform/ids'
import { PgBoss, type JobResult, type JobWithMetadata } from 'pg-boss'
import { authorizationFor, type Config } from '../config.ts'
import type { Mirror } from '../postgres/mirror.ts'
import { OrgNotMirrored, type OrgMirrors } from '../postgres/org-mirrors.ts'
import { orgScope, UNASSIGNED_ORG, type OrgScope } from '../postgres/org-scope.ts'
import { AppError } from '../errors.ts'
import { SalesforceApiError } from '../salesforce/errors.ts'
import { ApiLimits } from '../salesforce/api-limits.ts'
import { AuthorizationError } from '../salesforce/authorization.ts'
import { inSpanContinuing, traceHeaders } from '../telemetry/tracing.ts'
import { CredentialsError, keyringFrom, openCredentials, sealCredentials, type JobCredentials, type Keyring } from './credentials.ts'
import { JobMustWait, JobSession, sameId, type JobAccessMode, type JobOwner } from './session.ts'

export type { JobOwner } from './session.ts'

/** What a job's code gets besides its payload. */
export interface JobContext<P> {
  id: string
  payload: P
  /** How this run reaches the org (the caller's session, or an AppLink authorization). */
  session: JobSession
  /** The session's current credentials, for this run only: never log or store them. */
  readonly credentials: JobCredentials
  /** 1 on the first run; a resumed or retried job runs again with the next number. */
  attempt: number
  /** Aborted when the process shuts down: stop at the next safe point (`throwIfInterrupted`). */
  signal: AbortSignal
  log: FastifyBaseLogger
  /** For the mirror's tables; the job's own tables go through `appData`. */
  pool: pg.Pool
  /** The app tables as the job's org (its caller's, or a scheduled run's authorization's). */
  appData: OrgScope
  config: Config
  progress: (done: number, total: number) => Promise<void>
  /** The mirror of the job's org (its caller's, or a scheduled run's authorization's); OrgNotMirrored without one. */
  mirror: () => Promise<Mirror>
}

/** One kind of job: its queue and the code that runs it. The result is stored as the job's output. */
export interface JobKind<P extends object = object, R extends object = object> {
  /** pg-boss queue name; its dead-letter queue is `<name>-dead`. */
  name: string
  run: (ctx: JobContext<P>) => Promise<R>
  /**
   * What makes two starts the same work: while a job of this kind with the same key is queued or
   * running for the same user, starting it again answers that job instead of queuing another.
   */
  sameWork?: (payload: P) => string
  /**
   * Called once the job is given up for good (dead-lettered), before the queue records it; its
   * errors are logged, never thrown. May run again for the same job if the process dies here.
   */
  onDeadLetter?: (ctx: JobContext<P>, failure: { errorCode: string, message: string }) => Promise<void>
}

export type JobState = 'queued' | 'running' | 'retrying' | 'completed' | 'failed' | 'cancelled'

export interface JobStatus<R extends object = object> {
  jobId: string
  kind: string
  state: JobState
  attempts: number
  progress: { done: number, total: number }
  /** The job's result when completed: what its kind's `run` returned. */
  result?: R
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

/**
 * What the queue stores in pg-boss, never a clear token: the payload, the caller (none for a
 * scheduled run) and either the caller's sealed credentials or the name of the AppLink
 * authorization the job asks for a token when it runs.
 */
interface JobData {
  orgId?: string
  userId?: string
  payload: object
  credentials?: string
  authorization?: string
  /** The kind's sameWork key of the payload. */
  sameWork?: string
  /** The trace of the call that queued it (W3C trace context), which the job's spans join. */
  trace?: Record<string, string>
}

/** The org has JOB_MAX_ACTIVE_PER_ORG jobs queued or running: 429 until one ends. */
export class TooManyJobs extends AppError {
  constructor (limit: number) {
    super(429, 'TOO_MANY_JOBS', `The org already has ${limit} jobs queued or running, the most this service runs ` +
      'for one org at once; start this one when one of them has ended (getJobStatus)', { retryAfterSeconds: 60 })
  }
}

/** Jobs not yet ended, as pg-boss records their state. */
const ACTIVE_STATES = ['created', 'retry', 'active']

/** A job the queue's scheduler starts on a cron expression, as nobody (under an authorization). */
export interface JobSchedule { kind: JobKind, cron: string, tz: string, payload: object, authorization: string }

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

/** Decides whether an attempt's error is worth another try. */
export function verdictFor (err: unknown, mode: JobAccessMode = 'caller-session'): Verdict {
  if (err instanceof JobInterrupted) return { status: 'failed', output: { errorCode: 'INTERRUPTED', message: err.message }, counts: false, retryAfterSeconds: 0 }
  // Waiting for the org's API allowance is not a failure: it does not count against the retries.
  if (err instanceof JobMustWait) {
    const output = { errorCode: err.errorCode, message: err.message }
    return { status: 'failed', output, counts: false, retryAfterSeconds: err.retryAfterSeconds ?? 300 }
  }
  if (err instanceof CredentialsError) return { status: 'deadletter', output: { errorCode: 'CREDENTIALS_UNREADABLE', message: err.message }, counts: true }
  if (err instanceof AuthorizationError) {
    const output = { errorCode: err.errorCode, message: err.message }
    return { status: err.permanent ? 'deadletter' : 'failed', output, counts: true }
  }
  if (err instanceof SalesforceApiError) {
    if (err.errorCode === 'INVALID_SESSION_ID' || err.httpStatus === 401) {
      const message = mode === 'authorization'
        ? 'Salesforce refused the fresh token of the AppLink authorization (INVALID_SESSION_ID); check the ' +
          'authorization with heroku salesforce:authorizations:info'
        : 'The Salesforce session of the user who started the job expired before it finished; start the job again'
      return { status: 'deadletter', output: { errorCode: 'INVALID_SESSION_ID', message }, counts: true }
    }
    if (err.errorCode === 'REQUEST_LIMIT_EXCEEDED') {
      return { status: 'failed', output: { errorCode: err.errorCode, message: err.message }, counts: true, retryAfterSeconds: err.retryAfterSeconds ?? 300 }
    }
    if (!err.transient) return { status: 'deadletter', output: { errorCode: err.errorCode, message: err.message }, counts: true }
    return { status: 'failed', output: { errorCode: err.errorCode, message: err.message }, counts: true }
  }
  // A refusal of the job's own input or org (400, 403, 404, 422) is the same on every try; outages are not.
  if (err instanceof AppError && err.statusCode < 500 && err.statusCode !== 408 && err.statusCode !== 429) {
    return { status: 'deadletter', output: { errorCode: err.errorCode, message: err.message }, counts: true }
  }
  if (err instanceof AppError) return { status: 'failed', output: { errorCode: err.errorCode, message: err.message }, counts: true }
  // Unknown errors (database, network) are retried; their text may carry internals, so it stays in the log.
  return { status: 'failed', output: { errorCode: 'JOB_ERROR', message: 'The job failed unexpectedly; see the service log for its id' }, counts: true }
}

export interface JobQueueOptions {
  pool: pg.Pool
  /** Each org's mirror: a job reads its own org's. */
  mirrors: OrgMirrors
  config: Config
  log: FastifyBaseLogger
  kinds: JobKind[]
  /** Jobs the scheduler starts; a kind without one has its schedule removed at start. */
  schedules?: JobSchedule[]
  /** This process runs pg-boss's scheduler (it works jobs and there is a schedule). */
  runsSchedules?: boolean
  /**
   * Run pg-boss's maintenance timers (supervision of dead workers' jobs, queue monitoring, flow
   * and migration polls) in this process; processes that work jobs do, a web process that only
   * enqueues and reads jobs need not poll the database for them.
   */
  supervise: boolean
}

/** Advisory lock key that serializes pg-boss's start across processes. */
const START_LOCK = 'applink-actions:pg-boss-start'

/**
 * The durable queue: pg-boss in the app's database (schema `pgboss`, migrated at start), over the
 * app's own pool. Jobs are claimed with SKIP LOCKED by one worker at a time, beat a heartbeat so a
 * killed worker's job returns to the queue, retry transient failures with exponential backoff and
 * end in `<queue>-dead` with their reason.
 */
export class JobQueue {
  readonly #opts: JobQueueOptions
  readonly #boss: PgBoss
  /** Unset under an AppLink authorization without keys: then no session is sealed (see loadConfig). */
  readonly #keyring: Keyring | undefined
  /** Each org's API usage as this process last read it (jobs wait under the floor). */
  readonly #apiLimits: ApiLimits
  readonly #kinds: Map<string, JobKind>
  readonly #shutdown = new AbortController()
  /** Retry-time adjustments still to land after pg-boss settled an attempt. */
  readonly #adjusting = new Set<Promise<void>>()
  #working = false
  /** The last start of each org's jobs in this process (see #oneStartPerOrg). */
  readonly #starting = new Map<string, Promise<void>>()

  constructor (opts: JobQueueOptions) {
    this.#opts = opts
    this.#keyring = opts.config.JOB_ENCRYPTION_KEYS === undefined ? undefined : keyringFrom(opts.config)
    this.#kinds = new Map(opts.kinds.map((k) => [k.name, k]))
    const { pool, config, log } = opts
    this.#apiLimits = new ApiLimits(config.API_LIMIT_FLOOR_PERCENT, config.JOB_LIMIT_WAIT_SECONDS * 1000)
    this.#boss = new PgBoss({
      db: { executeSql: async (text, values) => await pool.query(text, values) },
      // pg-boss's scheduler: every instance that runs it claims the cron pass in turn and files each
      // occurrence under a singleton key, so several workers send one job per occurrence.
      schedule: opts.runsSchedules === true,
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
    await this.#oneStartAtATime(async () => { await this.#boss.start() })
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
      // One schedule per authorization (each org's own), keyed by its name; those no longer configured
      // (and an unkeyed one from before) go. Upserts: every process may do this at start.
      const schedules = this.#opts.schedules?.filter((s) => s.kind.name === name) ?? []
      const keep = new Set(schedules.map((s) => s.authorization))
      for (const old of await this.#boss.getSchedules(name)) {
        if (!keep.has(old.key)) await this.#boss.unschedule(name, old.key)
      }
      for (const schedule of schedules) {
        const data: JobData = { payload: schedule.payload, authorization: schedule.authorization }
        await this.#boss.schedule(name, schedule.cron, data, { tz: schedule.tz, key: schedule.authorization })
      }
    }
  }

  /**
   * Queues a job for the caller. Under its org's AppLink authorization (authorizationFor) the job
   * will ask the add-on for a token and nothing of the caller's session is kept; without one the
   * caller's credentials are sealed to the job's id before they are stored. A start of the same
   * work (the kind's sameWork) by the same user while a job of it is queued or running answers
   * that job; past JOB_MAX_ACTIVE_PER_ORG unended jobs of the org, TooManyJobs. Both are decided
   * under a lock per org, so starts that race each other (on any process) count each other.
   */
  async enqueue<P extends object> (
    kind: JobKind<P>,
    payload: P,
    credentials: JobCredentials
  ): Promise<{ jobId: string, state: JobState }> {
    const { pool, config } = this.#opts
    const sameWork = kind.sameWork?.(payload)
    const org = credentials.orgId.slice(0, 15)
    return await this.#oneStartPerOrg(org, async () => await inTransaction(pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`applink-actions:jobs:${org}`])
      const { rows: active } = await client.query<{ id: string, name: string, state: JobWithMetadata['state'], data: JobData }>(
        `SELECT id, name, state, data FROM pgboss.job
          WHERE name = ANY($1) AND state::text = ANY($2) AND left(data->>'orgId', 15) = $3`,
        [[...this.#kinds.keys()], ACTIVE_STATES, org])
      const running = sameWork === undefined
        ? undefined
        : active.find((job) => job.name === kind.name && job.data.sameWork === sameWork &&
          job.data.userId !== undefined && sameId(job.data.userId, credentials.userId))
      if (running !== undefined) return { jobId: running.id, state: STATES[running.state] }
      if (active.length >= config.JOB_MAX_ACTIVE_PER_ORG) throw new TooManyJobs(config.JOB_MAX_ACTIVE_PER_ORG)
      const jobId = randomUUID()
      // The job's own org's authorization: one org's job never runs under another's.
      const authorization = authorizationFor(config, credentials.orgId)
      const data: JobData = {
        orgId: credentials.orgId,
        userId: credentials.userId,
        payload,
        ...(sameWork === undefined ? {} : { sameWork }),
        trace: traceHeaders(),
        ...(authorization === undefined
          ? { credentials: sealCredentials(this.#keys(), credentials, jobId) }
          : { authorization })
      }
      const db = { executeSql: async (text: string, values?: unknown[]) => await client.query(text, values) }
      await this.#boss.send(kind.name, data, { id: jobId, db })
      return { jobId, state: 'queued' as const }
    }))
  }

  /**
   * Starts of one org's jobs, one at a time in this process: a burst would otherwise hold every
   * pool connection waiting for the org's lock, leaving none for pg-boss's own queries (the lock
   * then orders the processes).
   */
  async #oneStartPerOrg<R> (org: string, start: () => Promise<R>): Promise<R> {
    const before = this.#starting.get(org) ?? Promise.resolve()
    const mine = before.then(start, start)
    const settled = mine.then(() => {}, () => {})
    this.#starting.set(org, settled)
    void settled.then(() => { if (this.#starting.get(org) === settled) this.#starting.delete(org) })
    return await mine
  }

  /** The job of `kind` as its owner sees it; null when it does not exist or belongs to someone else. */
  async status<P extends object, R extends object> (
    jobId: string, owner: JobOwner, kind: JobKind<P, R>
  ): Promise<JobStatus<R> | null> {
    if (!UUID.test(jobId) || !this.#kinds.has(kind.name)) return null
    const [job] = await this.#boss.findJobs<JobData>(kind.name, { id: jobId })
    if (job === undefined) return null
    const { orgId, userId } = job.data
    const owned = orgId !== undefined && userId !== undefined &&
      sameId(orgId, owner.orgId) && sameId(userId, owner.userId)
    if (!owned) return null
    const db = orgScope(this.#opts.pool, jobOrg(job.data) ?? UNASSIGNED_ORG)
    const { rows } = await db.query<{ done: number, total: number }>(
      'SELECT done, total FROM job_progress WHERE org_id = $2 AND job_id = $1', [jobId, db.orgId])
    const state = STATES[job.state]
    // pg-boss stores what the kind's run returned as a completed job's output, and a failure's
    // errorCode and message otherwise (#runOne): the store's one untyped edge.
    const output = job.output as (FailureOutput & Record<string, unknown>) | null
    const result = job.output as R | null
    return {
      jobId,
      kind: kind.name,
      state,
      attempts: job.startedOn === null || job.startedOn === undefined ? 0 : job.retryCount + 1,
      progress: { done: rows[0]?.done ?? 0, total: rows[0]?.total ?? 0 },
      ...(state === 'completed' && result !== null ? { result } : {}),
      ...((state === 'failed' || state === 'retrying') && output !== null && typeof output.errorCode === 'string'
        ? { error: { errorCode: output.errorCode, message: String(output.message) } }
        : {}),
      createdAt: new Date(job.createdOn).toISOString(),
      ...(job.completedOn === null ? {} : { completedAt: new Date(job.completedOn).toISOString() })
    }
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
      }, async (jobs: Array<JobWithMetadata<JobData>>) =>
        await Promise.all(jobs.map(async (job) => await this.#runOne(kind, job))))
    }
  }

  /** One attempt of a job, in a span that joins the trace of the call that queued it. */
  async #runOne (kind: JobKind, job: JobWithMetadata<JobData>): Promise<JobResult> {
    const attempt = job.retryCount + 1
    const attributes = {
      'applink.job.id': job.id,
      'applink.job.kind': kind.name,
      'applink.job.attempt': attempt,
      ...(job.data.orgId === undefined ? {} : { 'salesforce.org_id': job.data.orgId })
    }
    return await inSpanContinuing(job.data.trace, `job ${kind.name}`, attributes, async (span) => {
      const result = await this.#attempt(kind, job, attempt)
      span.setAttribute('applink.job.outcome', result.status)
      return result
    })
  }

  async #attempt (kind: JobKind, job: JobWithMetadata<JobData>, attempt: number): Promise<JobResult> {
    const { pool, config } = this.#opts
    const log = this.#opts.log.child({ jobId: job.id, job: kind.name })
    let mode: JobAccessMode = job.data.authorization === undefined ? 'caller-session' : 'authorization'
    let ctx: JobContext<object> | undefined
    try {
      log.info({ attempt, access: mode }, 'job started')
      const session = await this.#sessionFor(job, log)
      mode = session.mode
      const appData = orgScope(pool, jobOrg(job.data) ?? normalizeId(session.credentials.orgId) ?? UNASSIGNED_ORG)
      ctx = {
        id: job.id,
        payload: job.data.payload,
        session,
        get credentials () { return session.credentials },
        attempt,
        signal: AbortSignal.any([this.#shutdown.signal, job.signal]),
        log,
        pool,
        appData,
        config,
        progress: async (done, total) => { await reportProgress(appData, job.id, done, total) },
        mirror: async () => {
          const orgId = session.caller?.orgId ?? session.credentials.orgId
          const mirror = await this.#opts.mirrors.mirrorFor(orgId)
          if (mirror === undefined) throw new OrgNotMirrored(orgId)
          return mirror
        }
      }
      const result = await kind.run(ctx)
      log.info({ attempt }, 'job completed')
      return { id: job.id, status: 'completed', output: result }
    } catch (err) {
      let verdict = verdictFor(err, mode)
      if (verdict.counts && verdict.status === 'failed') {
        // Before a session, a job started without a caller (a scheduled run) has no known org yet.
        const appData = ctx?.appData ?? orgScope(pool, jobOrg(job.data) ?? UNASSIGNED_ORG)
        const failures = await countFailure(appData, job.id)
        if (failures > config.JOB_RETRY_LIMIT) {
          verdict = { ...verdict, status: 'deadletter', output: { errorCode: verdict.output.errorCode, message: `Gave up after ${failures} failed attempts: ${verdict.output.message}` } }
        }
      }
      const level = verdict.status === 'deadletter' ? 'error' : verdict.counts ? 'warn' : 'info'
      log[level]({ err, attempt, errorCode: verdict.output.errorCode, outcome: verdict.status === 'deadletter' ? 'dead-lettered' : 'will retry' }, 'job attempt failed')
      // Without readable credentials (ctx undefined) the job cannot reach the org to say so.
      if (verdict.status === 'deadletter' && ctx !== undefined && kind.onDeadLetter !== undefined) {
        await kind.onDeadLetter(ctx, verdict.output).catch((hookErr: unknown) => {
          log.error({ err: hookErr }, 'handling the dead-lettered job failed')
        })
      }
      if (verdict.status === 'failed' && verdict.retryAfterSeconds !== undefined) {
        this.#afterSettle(kind.name, job.id, verdict.retryAfterSeconds, !verdict.counts)
      }
      return { id: job.id, status: verdict.status, output: verdict.output }
    }
  }

  /**
   * Runs pg-boss's install or migration while holding a session advisory lock, so processes starting
   * together (web and worker dynos) take turns. Two workers starting at once on a fresh database
   * collided creating the schema (duplicate key on pg_namespace), although pg-boss locks its own DDL:
   * observed in test/jobs/schedule.test.ts, the cause inferred as its install check running outside
   * that lock. The lock goes with its connection if the process dies.
   */
  async #oneStartAtATime (install: () => Promise<void>): Promise<void> {
    const client = await this.#opts.pool.connect()
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [START_LOCK])
      try {
        await install()
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [START_LOCK])
      }
    } finally {
      client.release()
    }
  }

  /** The job's way into the org: its authorization (asked for a token now), or the caller's sealed session. */
  async #sessionFor (job: JobWithMetadata<JobData>, log: FastifyBaseLogger): Promise<JobSession> {
    const { config } = this.#opts
    const { orgId, userId, authorization, credentials } = job.data
    const opts = { config, apiLimits: this.#apiLimits, log }
    const caller = orgId === undefined || userId === undefined ? undefined : { orgId, userId }
    if (authorization !== undefined) return await JobSession.authorized(authorization, caller, opts)
    if (credentials === undefined) {
      throw new CredentialsError('the job carries neither sealed credentials nor an AppLink authorization')
    }
    return JobSession.callerSession(openCredentials(this.#keys(), credentials, job.id), opts)
  }

  /** The keyring; a job sealed before APPLINK_AUTHORIZATION was set cannot be opened without one. */
  #keys (): Keyring {
    if (this.#keyring === undefined) {
      throw new CredentialsError('the job carries a sealed session but JOB_ENCRYPTION_KEYS is not configured')
    }
    return this.#keyring
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

/** The org of a job started by a caller, as the app tables store it (18 characters). */
function jobOrg (data: JobData): string | undefined {
  return data.orgId === undefined ? undefined : normalizeId(data.orgId)
}

async function reportProgress (db: OrgScope, jobId: string, done: number, total: number): Promise<void> {
  await db.query(`INSERT INTO job_progress (job_id, done, total) VALUES ($1, $2, $3)
    ON CONFLICT (job_id) DO UPDATE SET done = excluded.done, total = excluded.total, updated_at = now()`, [jobId, done, total])
}

/** Failed attempts so far, this one included. */
async function countFailure (db: OrgScope, jobId: string): Promise<number> {
  const { rows } = await db.query<{ failures: number }>(`INSERT INTO job_progress (job_id, failures) VALUES ($1, 1)
    ON CONFLICT (job_id) DO UPDATE SET failures = job_progress.failures + 1, updated_at = now() RETURNING failures`, [jobId])
  return rows[0]?.failures ?? 1
}
