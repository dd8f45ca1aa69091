import { setTimeout as sleep } from 'node:timers/promises'
import type pg from 'pg'
import { AppError } from '../errors.ts'

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
  try {
    const result = await work()
    await pool.query(
      `UPDATE idempotency_records SET response = $4, completed_at = now()
         WHERE org_id = $1 AND operation_id = $2 AND idempotency_key = $3`, [...params, JSON.stringify(result)])
    return { result, replayed: false }
  } catch (err) {
    await pool.query('DELETE FROM idempotency_records WHERE org_id = $1 AND operation_id = $2 AND idempotency_key = $3', params).catch(() => {})
    throw err
  }
}
