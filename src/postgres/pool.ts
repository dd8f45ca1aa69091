import pg from 'pg'
import type { FastifyBaseLogger } from 'fastify'
import type { Config } from '../config.ts'

const DATABASE_DOWN_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', '57P01', '57P02', '57P03', '57014', '08000', '08001', '08003', '08006', '53300'])

/** Connection-level PostgreSQL failures (not query errors): the database is down or failing over. */
export function isDatabaseDown (err: Error & { code?: string }): boolean {
  return (err.code !== undefined && DATABASE_DOWN_CODES.has(err.code)) ||
    /timeout exceeded when trying to connect|Connection terminated|connection timeout|Query read timeout/i.test(err.message)
}

/**
 * Logs what a pool's 'error' event reports: one of its idle clients lost its connection. The pool
 * has dropped that client already and opens another when one is next needed, and an idle client
 * has no query to fail, so nothing failed: after a database restart or failover ("terminating
 * connection due to administrator command", 57P01) that is expected, and said at info; anything
 * else is said at warn. Without a listener, the event would crash the process.
 */
export function logIdleClientErrors (pool: pg.Pool, log: Pick<FastifyBaseLogger, 'info' | 'warn'>): void {
  pool.on('error', (err: Error & { code?: string }) => {
    const fields = { err: { message: err.message, code: err.code } }
    if (isDatabaseDown(err)) log.info(fields, 'PostgreSQL closed an idle connection; the pool opens another when needed')
    else log.warn(fields, 'an idle PostgreSQL connection failed; the pool opens another when needed')
  })
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]'])

/**
 * TLS as the URL asks (`sslmode`), or for a remote host in production: Heroku Postgres requires
 * TLS with a certificate Node cannot verify, hence `rejectUnauthorized: false` there.
 */
export function sslFor (url: string, config: Pick<Config, 'DATABASE_SSL' | 'NODE_ENV'>): pg.PoolConfig['ssl'] {
  if (config.DATABASE_SSL === 'off') return false
  const parsed = new URL(url)
  const mode = parsed.searchParams.get('sslmode')
  if (config.DATABASE_SSL === 'on') return { rejectUnauthorized: mode === 'verify-full' || mode === 'verify-ca' }
  if (mode === 'disable') return false
  if (mode !== null) return { rejectUnauthorized: mode === 'verify-full' || mode === 'verify-ca' }
  return config.NODE_ENV === 'production' && !LOCAL_HOSTS.has(parsed.hostname) ? { rejectUnauthorized: false } : false
}

export function createPool (url: string, config: Config): pg.Pool {
  const parsed = new URL(url)
  // pg would read sslmode itself and override `ssl`; one place decides.
  parsed.searchParams.delete('sslmode')
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    ssl: sslFor(url, config),
    max: config.DATABASE_POOL_MAX,
    connectionTimeoutMillis: config.DATABASE_TIMEOUT_MS,
    statement_timeout: config.DATABASE_TIMEOUT_MS * 4,
    query_timeout: config.DATABASE_TIMEOUT_MS * 4,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'applink-actions'
  })
  return pool
}

/**
 * One connection like `pool`'s, whose prepared statements are planned once: for statements that
 * take arrays to `unnest` (the idempotency writer's claims and answers). "Custom plans are made
 * afresh for each execution using its specific set of parameter values, while generic plans do not
 * rely on the parameter values and can be re-used across executions. Thus, use of a generic plan
 * saves planning time" (PostgreSQL, "plan_cache_mode",
 * https://www.postgresql.org/docs/current/runtime-config-query.html#GUC-PLAN-CACHE-MODE).
 * Left to choose, PostgreSQL re-planned them on every call (the arrays' lengths change its
 * estimates), which cost more backend CPU than executing them (measured: about 0.65-0.9 ms of
 * backend CPU per claim with custom plans, 0.4-0.5 ms with the generic one).
 * A generic plan is made once, with the statistics of that moment: it suits only statements whose
 * rows are found the same way whatever the data, here upserts, whose rows are found through the
 * primary key as the conflict arbiter (an UPDATE joined to the arrays got a sequential scan,
 * planned while the table was small). The app's other statements keep the automatic choice. The
 * writer sends one statement at a time, so one connection is all it uses: a process opens
 * DATABASE_POOL_MAX + 1 connections at most.
 */
export function genericPlanPool (pool: pg.Pool): pg.Pool {
  return new pg.Pool({ ...pool.options, max: 1, options: '-c plan_cache_mode=force_generic_plan' })
}
