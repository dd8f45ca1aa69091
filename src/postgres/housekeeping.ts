import type pg from 'pg'
import { asHousekeeping } from './org-scope.ts'

/** pg-boss keeps dead-lettered jobs 14 days; their progress and batches go with them. */
const JOB_DATA_RETENTION_DAYS = 14

/**
 * Deletes what no caller can ask for any more: idempotency records past their retention (most
 * keys are request ids, used once) and the progress and batches of old jobs, of every org (the
 * job tables' housekeeping policies let this transaction see and delete them).
 */
export async function purgeExpired (
  pool: pg.Pool, idempotencyRetentionMs: number
): Promise<{ idempotencyRecords: number, jobRuns: number, jobProgress: number, jobEvents: number }> {
  const idempotency = await pool.query(
    // An unfinished claim is forgotten only once its owner has stopped beating for the retention.
    'DELETE FROM idempotency_records WHERE coalesce(completed_at, heartbeat_at) < now() - make_interval(secs => $1::double precision / 1000)', [idempotencyRetentionMs])
  const { runs, progress, events } = await asHousekeeping(pool, async (client) => ({
    runs: await client.query('DELETE FROM rescore_runs WHERE created_at < now() - make_interval(days => $1)',
      [JOB_DATA_RETENTION_DAYS]),
    progress: await client.query('DELETE FROM job_progress WHERE updated_at < now() - make_interval(days => $1)',
      [JOB_DATA_RETENTION_DAYS]),
    events: await client.query('DELETE FROM job_events WHERE created_at < now() - make_interval(days => $1)',
      [JOB_DATA_RETENTION_DAYS])
  }))
  return {
    idempotencyRecords: idempotency.rowCount ?? 0,
    jobRuns: runs.rowCount ?? 0,
    jobProgress: progress.rowCount ?? 0,
    jobEvents: events.rowCount ?? 0
  }
}
