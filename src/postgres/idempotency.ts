import { setTimeout as sleep } from 'node:timers/promises'
import type pg from 'pg'
import { AppError } from '../errors.ts'
import { isDatabaseDown } from './pool.ts'

export interface IdempotencyScope { orgId: string, operationId: string, key: string }

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
  const params = [scope.orgId, scope.operationId, scope.key]
  const deadline = Date.now() + opts.waitMs
  for (;;) {
    await pool.query(
      `DELETE FROM idempotency_records WHERE org_id = $1 AND operation_id = $2 AND idempotency_key = $3
         AND coalesce(completed_at, created_at) < now() - make_interval(secs => $4::double precision / 1000)`, [...params, opts.retentionMs])
    const claimed = await pool.query(
      `INSERT INTO idempotency_records (org_id, operation_id, idempotency_key) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING RETURNING 1`, params)
    if (claimed.rowCount === 1) break
    const { rows } = await pool.query<{ response: T, completed_at: Date | null }>(
      'SELECT response, completed_at FROM idempotency_records WHERE org_id = $1 AND operation_id = $2 AND idempotency_key = $3', params)
    const existing = rows[0]
    if (existing?.completed_at != null) return { result: existing.response, replayed: true }
    if (Date.now() > deadline) {
      throw new AppError(409, 'DUPLICATE_REQUEST_IN_PROGRESS', 'The same request is still being processed; retry shortly', { retryAfterSeconds: 2 })
    }
    await sleep(existing === undefined ? 0 : 100)
  }
  let result: T
  try {
    result = await work()
  } catch (err) {
    await settle(() => pool.query('DELETE FROM idempotency_records WHERE org_id = $1 AND operation_id = $2 AND idempotency_key = $3', params)).catch(() => {})
    throw err
  }
  // The work is done (a quote may exist in the org): its answer must be recorded, or the key
  // stays claimed and every retry gets 409 until the retention ends.
  await settle(() => pool.query(
    `UPDATE idempotency_records SET response = $4, completed_at = now()
       WHERE org_id = $1 AND operation_id = $2 AND idempotency_key = $3`, [...params, JSON.stringify(result)]))
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
