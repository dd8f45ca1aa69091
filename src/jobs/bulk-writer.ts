import type pg from 'pg'
import type { FastifyBaseLogger } from 'fastify'
import { BulkIngest, toCsv, type IngestInfo } from '../salesforce/bulk.ts'
import { SalesforceApiError } from '../salesforce/errors.ts'
import type { AccountScore } from './account-health.ts'
import { JobInterrupted } from './queue.ts'

type BulkState = 'creating' | 'created' | 'uploaded' | 'closed' | 'done'

export interface BulkWriteContext {
  pool: pg.Pool
  /** The rescore job's id. */
  jobId: string
  bulk: BulkIngest
  signal: AbortSignal
  log: FastifyBaseLogger
  /** Records Salesforce processed so far, from the job info of each poll. */
  progress: (processed: number) => Promise<void>
}

/** Per record (15-character id): written, or refused with Salesforce's error. */
export interface BulkOutcome {
  written: Set<string>
  failures: Map<string, { errorCode: string, message: string }>
}

const key = (id: string): string => id.slice(0, 15)

async function loadState (pool: pg.Pool, jobId: string): Promise<{ state: BulkState, ingestJobId: string | null } | undefined> {
  const { rows } = await pool.query<{ state: BulkState, ingest_job_id: string | null }>(
    'SELECT state, ingest_job_id FROM rescore_bulk_jobs WHERE job_id = $1', [jobId])
  const row = rows[0]
  return row === undefined ? undefined : { state: row.state, ingestJobId: row.ingest_job_id }
}

async function saveState (pool: pg.Pool, jobId: string, state: BulkState, ingestJobId: string | null): Promise<void> {
  await pool.query(`INSERT INTO rescore_bulk_jobs (job_id, state, ingest_job_id) VALUES ($1, $2, $3)
    ON CONFLICT (job_id) DO UPDATE SET state = excluded.state, ingest_job_id = excluded.ingest_job_id, updated_at = now()`,
  [jobId, state, ingestJobId])
}

/** Whether this run already writes through Bulk API 2.0 (a resumed run keeps its path). */
export async function writesInBulk (pool: pg.Pool, jobId: string): Promise<boolean> {
  return (await loadState(pool, jobId)) !== undefined
}

/** The outcome is recorded in the run's batches: the ingest job needs no more calls. */
export async function markBulkDone (pool: pg.Pool, jobId: string): Promise<void> {
  await pool.query('UPDATE rescore_bulk_jobs SET state = \'done\', updated_at = now() WHERE job_id = $1', [jobId])
}

/**
 * Writes the scores through one Bulk API 2.0 ingest job (update by Id): create, upload the CSV,
 * UploadComplete, poll with backoff, read the results. The job's id is stored before the upload, and
 * each step after it, so a worker that dies anywhere is replaced by one that goes on with the same
 * job: an Open job whose upload may have arrived is aborted (Salesforce never processes an Open
 * job's data) and replaced; a closed one is polled. The same records are never sent to two jobs that
 * both get processed. API calls: 3 to write, the polls, 3 to read the results — whatever the count.
 */
export async function writeScoresInBulk (ctx: BulkWriteContext, records: AccountScore[], scoredAt: Date): Promise<BulkOutcome> {
  const { pool, jobId, bulk, log } = ctx
  let saved = await loadState(pool, jobId)
  let ingestJobId = saved?.ingestJobId ?? null
  if (saved?.state === 'created' && ingestJobId !== null) {
    const info = await bulk.info(ingestJobId)
    if (info.state === 'Open') await bulk.abort(ingestJobId)
    log.info({ ingestJobId, state: info.state }, 'resumed before the upload was confirmed: that ingest job is aborted, a new one is made')
    saved = undefined
  }
  const fresh = saved === undefined || saved.state === 'creating'
  if (fresh) {
    await saveState(pool, jobId, 'creating', null)
    ingestJobId = await bulk.create('Account', 'update')
    await saveState(pool, jobId, 'created', ingestJobId)
    const at = scoredAt.toISOString()
    await bulk.upload(ingestJobId, toCsv(['Id', 'Health_Score__c', 'Health_Scored_At__c'], records.map((r) => [r.id, r.score, at])))
    await saveState(pool, jobId, 'uploaded', ingestJobId)
    saved = { state: 'uploaded', ingestJobId }
  }
  if (saved === undefined || ingestJobId === null) throw new Error('a bulk rescore run lost its ingest job id')
  if (saved.state === 'uploaded') {
    // After a restart the close may already have reached Salesforce: only an Open job is closed.
    if (fresh || (await bulk.info(ingestJobId)).state === 'Open') await bulk.uploadComplete(ingestJobId)
    await saveState(pool, jobId, 'closed', ingestJobId)
  }
  log.info({ ingestJobId, records: records.length }, 'bulk ingest job processing')
  let info: IngestInfo
  try {
    info = await bulk.waitUntilFinal(ingestJobId, ctx.signal, async (i) => { await ctx.progress(i.numberRecordsProcessed ?? 0) })
  } catch (err) {
    if (ctx.signal.aborted) throw new JobInterrupted()
    throw err
  }
  if (info.state !== 'JobComplete') {
    // Not worth retrying: the same data would fail the same way. The reason is Salesforce's own.
    throw new SalesforceApiError(400, [{
      errorCode: 'BULK_JOB_FAILED',
      message: `Bulk API 2.0 job ${ingestJobId} ended ${info.state}` +
        `${info.errorMessage === undefined ? '' : `: ${info.errorMessage}`} (${info.numberRecordsProcessed ?? 0} records processed)`,
      fields: []
    }])
  }
  const results = await bulk.results(ingestJobId)
  const outcome: BulkOutcome = { written: new Set(results.written.map(key)), failures: new Map() }
  for (const f of results.failed) outcome.failures.set(key(f.id), { errorCode: f.errorCode, message: f.message })
  for (const id of results.unprocessed) {
    outcome.failures.set(key(id), { errorCode: 'NOT_PROCESSED', message: 'Salesforce did not process the record' })
  }
  log.info({ ingestJobId, written: outcome.written.size, failed: outcome.failures.size }, 'bulk ingest job read')
  return outcome
}
