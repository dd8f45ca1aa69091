import type { OrgScope } from '../postgres/org-scope.ts'
import type { AccountScore } from './account-health.ts'

// A rescore run's plan, as stored in rescore_runs and rescore_batches: the scores are computed once,
// so a resumed run writes the same values and skips what is done. The plan is written page by page
// as the mirror is read and read back a few batches at a time, so a worker never holds a whole run.

/** sObject Collections take at most 200 records per call. */
export const BATCH_SIZE = 200

export interface Failure { id: string, errorCode: string, message: string }

/** A batch of ≤ 200 records: pending → sending (the call may have reached Salesforce) → done. */
export interface Batch {
  batchNo: number
  records: AccountScore[]
  state: 'pending' | 'sending' | 'done'
  written: number
  failures: Failure[]
}

/** A row of rescore_batches, as stored. */
interface BatchRow { batch_no: number, records: AccountScore[], state: Batch['state'], written: number, failures: Failure[] }

export interface Run { scoredAt: Date, total: number, planned: boolean }

export async function loadRun (db: OrgScope, jobId: string): Promise<Run | undefined> {
  const { rows } = await db.query<{ scored_at: Date, total: number, planned: boolean }>(
    'SELECT scored_at, total, planned FROM rescore_runs WHERE org_id = $2 AND job_id = $1', [jobId, db.orgId])
  const row = rows[0]
  return row === undefined ? undefined : { scoredAt: row.scored_at, total: row.total, planned: row.planned }
}

/** The run as stored: the first attempt's, when two attempts race to create it. */
export async function createRun (db: OrgScope, jobId: string, scoredAt: Date): Promise<Run> {
  await db.query('INSERT INTO rescore_runs (job_id, scored_at, total) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING',
    [jobId, scoredAt])
  const run = await loadRun(db, jobId)
  if (run === undefined) throw new Error('rescore run vanished after it was stored')
  return run
}

/** Where planning stopped: the next batch's number and the last account planned. */
export async function planEnd (db: OrgScope, jobId: string): Promise<{ nextBatch: number, lastId?: string }> {
  const { rows } = await db.query<{ batch_no: number, last_id: string }>(
    `SELECT batch_no, records -> -1 ->> 'id' AS last_id FROM rescore_batches
      WHERE org_id = $2 AND job_id = $1 ORDER BY batch_no DESC LIMIT 1`, [jobId, db.orgId])
  const row = rows[0]
  return row === undefined ? { nextBatch: 0 } : { nextBatch: row.batch_no + 1, lastId: row.last_id }
}

/**
 * Stores one page of the plan as batches of BATCH_SIZE from `nextBatch`, and counts it in the run's
 * total, in one transaction: a page is planned whole or not at all. Returns the next batch's number.
 */
export async function appendPage (
  db: OrgScope, jobId: string, nextBatch: number, scores: AccountScore[]
): Promise<number> {
  if (scores.length === 0) return nextBatch
  const batches: AccountScore[][] = []
  for (let i = 0; i < scores.length; i += BATCH_SIZE) batches.push(scores.slice(i, i + BATCH_SIZE))
  await db.transaction(async (client) => {
    await client.query(`INSERT INTO rescore_batches (job_id, batch_no, records)
      SELECT $1, $2::int + n::int - 1, records FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS b(records, n)`,
    [jobId, nextBatch, JSON.stringify(batches)])
    await client.query('UPDATE rescore_runs SET total = total + $2 WHERE job_id = $1', [jobId, scores.length])
  })
  return nextBatch + batches.length
}

export async function markPlanned (db: OrgScope, jobId: string): Promise<void> {
  await db.query('UPDATE rescore_runs SET planned = true WHERE job_id = $1', [jobId])
}

/** Up to `limit` batches from batch number `from` on, in order; only those not done with `notDone`. */
export async function readBatches (
  db: OrgScope, jobId: string, from: number, limit: number, notDone = false
): Promise<Batch[]> {
  const { rows } = await db.query<BatchRow>(
    `SELECT batch_no, records, state, written, failures FROM rescore_batches
      WHERE org_id = $2 AND job_id = $1 AND batch_no >= $3 AND ($5 = false OR state <> 'done')
      ORDER BY batch_no LIMIT $4`,
    [jobId, db.orgId, from, limit, notDone])
  return rows.map((r) => ({
    batchNo: r.batch_no, records: r.records, state: r.state, written: r.written, failures: r.failures
  }))
}

/** Every batch from `from` on, not done ones only with `notDone`, read `pageSize` at a time. */
export async function * eachBatch (
  db: OrgScope, jobId: string, options: { from?: number, notDone?: boolean, pageSize: number }
): AsyncGenerator<Batch> {
  for (let from = options.from ?? 0; ;) {
    const page = await readBatches(db, jobId, from, options.pageSize, options.notDone)
    yield * page
    const last = page.at(-1)
    if (last === undefined || page.length < options.pageSize) return
    from = last.batchNo + 1
  }
}

export async function setBatch (db: OrgScope, jobId: string, batch: Batch): Promise<void> {
  await db.query('UPDATE rescore_batches SET state = $3, written = $4, failures = $5, updated_at = now() WHERE job_id = $1 AND batch_no = $2',
    [jobId, batch.batchNo, batch.state, batch.written, JSON.stringify(batch.failures)])
}

/** Whether any batch of the run has left `pending` (a collection call may be on its way). */
export async function anySent (db: OrgScope, jobId: string): Promise<boolean> {
  const { rows } = await db.query(
    'SELECT 1 FROM rescore_batches WHERE org_id = $2 AND job_id = $1 AND state <> \'pending\' LIMIT 1', [jobId, db.orgId])
  return rows.length > 0
}

/** The counts of a run so far (all of it once every batch is done); refusals listed up to `listed`. */
export interface Tally {
  total: number
  /** Records of the batches done. */
  processed: number
  written: number
  /** Refused by Salesforce (access refusals aside). */
  failed: number
  failures: Failure[]
  /** Refused because the caller may not edit them. */
  notPermitted: number
}

/** Refusals that mean the caller may not edit (or see) the record: reported as a count only. */
const ACCESS_REFUSAL = 'left(f ->> \'errorCode\', 19) = \'INSUFFICIENT_ACCESS\''

export async function tally (db: OrgScope, jobId: string, listed: number): Promise<Tally> {
  type Sums = Record<'total' | 'processed' | 'written' | 'refused' | 'access', string>
  const { rows } = await db.query<Sums>(
    `SELECT coalesce(sum(jsonb_array_length(records)), 0) AS total,
            coalesce(sum(jsonb_array_length(records)) FILTER (WHERE state = 'done'), 0) AS processed,
            coalesce(sum(written), 0) AS written,
            coalesce(sum(jsonb_array_length(failures)), 0) AS refused,
            coalesce(sum((SELECT count(*) FROM jsonb_array_elements(failures) f WHERE ${ACCESS_REFUSAL})), 0) AS access
       FROM rescore_batches WHERE org_id = $2 AND job_id = $1`, [jobId, db.orgId])
  const { rows: failures } = await db.query<{ f: Failure }>(
    `SELECT f FROM rescore_batches b CROSS JOIN LATERAL jsonb_array_elements(b.failures) WITH ORDINALITY AS x(f, n)
      WHERE b.org_id = $2 AND b.job_id = $1 AND NOT ${ACCESS_REFUSAL}
      ORDER BY b.batch_no, x.n LIMIT $3`, [jobId, db.orgId, listed])
  const row = rows[0]
  const notPermitted = Number(row?.access ?? 0)
  return {
    total: Number(row?.total ?? 0),
    processed: Number(row?.processed ?? 0),
    written: Number(row?.written ?? 0),
    failed: Number(row?.refused ?? 0) - notPermitted,
    failures: failures.map((r) => r.f),
    notPermitted
  }
}
