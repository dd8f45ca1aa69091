import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type pg from 'pg'
import { AppError, OutcomeUnknown, Unprocessable } from '../errors.ts'
import { isDatabaseDown } from './pool.ts'

export interface IdempotencyScope {
  orgId: string
  /** Keys are per user: another user's call with the same key is another request. */
  userId: string
  operationId: string
  key: string
  /** What the call asks for (without its key): a repeat must ask for the same. */
  request: unknown
}

/** JSON with object keys sorted, so the same request always hashes the same. */
function canonical (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

export interface IdempotencyOptions {
  /** Stored answers older than this are forgotten. */
  retentionMs: number
  /** How long a duplicate waits for the first call to finish. */
  waitMs: number
}

/**
 * Runs `work` once per scope: a repeat gets the stored answer, a concurrent duplicate waits for
 * the first call instead of writing too, and a failed call frees the key so a retry can run.
 */
export async function runOnce<T> (pool: pg.Pool, scope: IdempotencyScope, opts: IdempotencyOptions, work: () => Promise<T>): Promise<{ result: T, replayed: boolean }> {
  const params = [scope.orgId, scope.userId, scope.operationId, scope.key]
  const where = 'org_id = $1 AND user_id = $2 AND operation_id = $3 AND idempotency_key = $4'
  const requestHash = createHash('sha256').update(canonical(scope.request)).digest('base64url')
  const deadline = Date.now() + opts.waitMs
  for (;;) {
    await pool.query(
      `DELETE FROM idempotency_records WHERE ${where}
         AND coalesce(completed_at, created_at) < now() - make_interval(secs => $5::double precision / 1000)`, [...params, opts.retentionMs])
    const claimed = await pool.query(
      `INSERT INTO idempotency_records (org_id, user_id, operation_id, idempotency_key, request_hash) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING RETURNING 1`, [...params, requestHash])
    if (claimed.rowCount === 1) break
    const { rows } = await pool.query<{ response: T, completed_at: Date | null, request_hash: string }>(
      `SELECT response, completed_at, request_hash FROM idempotency_records WHERE ${where}`, params)
    const existing = rows[0]
    if (existing !== undefined && existing.request_hash !== requestHash) {
      throw new Unprocessable('IDEMPOTENCY_KEY_REUSED', 'This idempotency key was already used for a different request; use a new key for a new request', ['idempotencyKey'])
    }
    if (existing?.completed_at != null) return { result: existing.response, replayed: true }
    if (Date.now() > deadline) {
      throw new AppError(409, 'DUPLICATE_REQUEST_IN_PROGRESS', 'The same request is still being processed, or its outcome is unknown: check in Salesforce before asking again with a new key', { retryAfterSeconds: 2 })
    }
    await sleep(existing === undefined ? 0 : 100)
  }
  let result: T
  try {
    result = await work()
  } catch (err) {
    // Only a call known not to have written frees its key for a retry.
    if (!(err instanceof OutcomeUnknown)) await settle(() => pool.query(`DELETE FROM idempotency_records WHERE ${where}`, params)).catch(() => {})
    throw err
  }
  // The work is done (a quote may exist in the org): its answer must be recorded, or the key
  // stays claimed and every retry gets 409 until the retention ends.
  await settle(() => pool.query(
    `UPDATE idempotency_records SET response = $5, completed_at = now() WHERE ${where}`, [...params, JSON.stringify(result)]))
  return { result, replayed: false }
}

/** How long recording a claim's outcome is retried while the database is away (a restart, a failover). */
const SETTLE_MS = 10_000

/** Runs an idempotent statement again while the database is unreachable, for a bounded time. */
async function settle (statement: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + SETTLE_MS
  for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
    try {
      await statement()
      return
    } catch (err) {
      if (!(err instanceof Error) || !isDatabaseDown(err) || Date.now() + delay > deadline) throw err
      await sleep(delay * (0.5 + Math.random() / 2))
    }
  }
}
