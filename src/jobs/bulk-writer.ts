import type { OrgScope } from '../postgres/org-scope.ts'
import type { FastifyBaseLogger } from 'fastify'
import { BulkIngest, sdkBulkApi, toCsv, type IngestInfo } from '../salesforce/bulk.ts'
import { SalesforceApiError } from '../salesforce/errors.ts'
import type { OrgClient } from '../salesforce/org-client.ts'
import { CALLER_MAY_NOT_EDIT, type AccountScore } from './account-health.ts'
import { JobInterrupted, throwIfInterrupted, type JobContext } from './queue.ts'

type BulkState = 'creating' | 'created' | 'uploaded' | 'closed' | 'done'

export interface BulkWriteContext {
  /** The job's org's app tables. */
  db: OrgScope
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
const NO_RESULT = { errorCode: 'UNKNOWN_EXCEPTION', message: 'Salesforce returned no result for the record' }

interface Saved { state: BulkState, ingestJobId: string | null }

async function loadState (db: OrgScope, jobId: string): Promise<Saved | undefined> {
  const { rows } = await db.query<{ state: BulkState, ingest_job_id: string | null }>(
    'SELECT state, ingest_job_id FROM rescore_bulk_jobs WHERE job_id = $1', [jobId])
  const row = rows[0]
  return row === undefined ? undefined : { state: row.state, ingestJobId: row.ingest_job_id }
}

async function saveState (db: OrgScope, jobId: string, state: BulkState, ingestJobId: string | null): Promise<void> {
  await db.query(`INSERT INTO rescore_bulk_jobs (job_id, state, ingest_job_id) VALUES ($1, $2, $3)
    ON CONFLICT (job_id) DO UPDATE
    SET state = excluded.state, ingest_job_id = excluded.ingest_job_id, updated_at = now()`,
  [jobId, state, ingestJobId])
}

/** A rescore run's batch of records, as the run stores it. */
export interface ScoreBatch {
  records: AccountScore[]
  state: 'pending' | 'sending' | 'done'
  written: number
  failures: Array<{ id: string, errorCode: string, message: string }>
}

/**
 * Runs of more than RESCORE_BULK_THRESHOLD accounts go through one Bulk API 2.0 job instead of
 * ⌈N/200⌉ collection calls; a run keeps the path it started on (a collection batch may be on its way).
 * What the caller may edit was settled when the run was planned, so either path sends only that.
 * A run under an AppLink authorization for a caller stays on collections, where the renewal of the
 * run-as user's token between calls is tested; the Bulk path has not been tried under one.
 */
export async function usesBulk (ctx: JobContext<object>, batches: ScoreBatch[]): Promise<boolean> {
  if ((await loadState(ctx.appData, ctx.id)) !== undefined) return true
  if (ctx.session.mode === 'authorization' && ctx.session.caller !== undefined) return false
  const total = batches.reduce((n, b) => n + b.records.length, 0)
  return total > ctx.config.RESCORE_BULK_THRESHOLD && batches.every((b) => b.state === 'pending')
}

/**
 * Writes the batches not done through Bulk API 2.0 and records each record's outcome in its batch
 * (`save`), as the collections path does; then the ingest job needs no more calls.
 */
export async function writeInBulk<B extends ScoreBatch> (
  ctx: JobContext<object>, org: OrgClient, batches: B[], scoredAt: Date, save: (batch: B) => Promise<void>
): Promise<void> {
  const total = batches.reduce((n, b) => n + b.records.length, 0)
  const pending = batches.filter((b) => b.state !== 'done')
  if (pending.length === 0) return
  const before = total - pending.reduce((n, b) => n + b.records.length, 0)
  const outcome = await writeScoresInBulk({
    db: ctx.appData,
    jobId: ctx.id,
    bulk: new BulkIngest(org, sdkBulkApi(ctx.credentials)),
    signal: ctx.signal,
    log: ctx.log,
    progress: async (processed) => { await ctx.progress(Math.min(total, before + processed), total) }
  }, pending.flatMap((b) => b.records.filter((r) => r.editable !== false)), scoredAt)
  for (const batch of pending) {
    for (const record of batch.records) {
      if (record.editable === false) {
        batch.failures.push({ id: record.id, ...CALLER_MAY_NOT_EDIT })
        continue
      }
      const id = key(record.id)
      if (outcome.written.has(id)) {
        batch.written++
        continue
      }
      const failure = outcome.failures.get(id) ?? NO_RESULT
      batch.failures.push({ id: record.id, ...failure })
    }
    batch.state = 'done'
    await save(batch)
  }
  await ctx.appData.query('UPDATE rescore_bulk_jobs SET state = \'done\', updated_at = now() WHERE job_id = $1', [ctx.id])
}

/**
 * Writes the scores through one Bulk API 2.0 ingest job (update by Id): create, upload the CSV,
 * UploadComplete, poll with backoff, read the results. The job's id is stored before the upload, and
 * each step after it, so a worker that dies anywhere is replaced by one that goes on with the same
 * job: an Open job whose upload may have arrived is aborted (Salesforce never processes an Open
 * job's data) and replaced; a closed one is polled. The same records are never sent to two jobs that
 * both get processed. API calls: 3 to write, the polls, 3 to read the results — whatever the count.
 */
export async function writeScoresInBulk (
  ctx: BulkWriteContext, records: AccountScore[], scoredAt: Date
): Promise<BulkOutcome> {
  const { db, jobId, bulk, log } = ctx
  throwIfInterrupted(ctx.signal)
  let saved = await loadState(db, jobId)
  let ingestJobId = saved?.ingestJobId ?? null
  if (saved?.state === 'created' && ingestJobId !== null) {
    const info = await bulk.info(ingestJobId)
    if (info.state === 'Open') await bulk.abort(ingestJobId)
    log.info({ ingestJobId, state: info.state }, 'upload unconfirmed before the restart: a new ingest job replaces it')
    saved = undefined
  }
  const fresh = saved === undefined || saved.state === 'creating'
  if (fresh) {
    await saveState(db, jobId, 'creating', null)
    ingestJobId = await bulk.create('Account', 'update')
    await saveState(db, jobId, 'created', ingestJobId)
    const at = scoredAt.toISOString()
    const rows = records.map((r) => [r.id, r.score, at])
    await bulk.upload(ingestJobId, toCsv(['Id', 'Health_Score__c', 'Health_Scored_At__c'], rows))
    await saveState(db, jobId, 'uploaded', ingestJobId)
    saved = { state: 'uploaded', ingestJobId }
  }
  if (saved === undefined || ingestJobId === null) throw new Error('a bulk rescore run lost its ingest job id')
  if (saved.state === 'uploaded') {
    // After a restart the close may already have reached Salesforce: only an Open job is closed.
    if (fresh || (await bulk.info(ingestJobId)).state === 'Open') await bulk.uploadComplete(ingestJobId)
    await saveState(db, jobId, 'closed', ingestJobId)
  }
  log.info({ ingestJobId, records: records.length }, 'bulk ingest job processing')
  let info: IngestInfo
  try {
    info = await bulk.waitUntilFinal(ingestJobId, ctx.signal, async (polled) => {
      await ctx.progress(polled.numberRecordsProcessed ?? 0)
    })
  } catch (err) {
    if (ctx.signal.aborted) throw new JobInterrupted()
    throw err
  }
  if (info.state !== 'JobComplete') {
    // Not worth retrying: the same data would fail the same way. The reason is Salesforce's own.
    throw new SalesforceApiError(400, [{
      errorCode: 'BULK_JOB_FAILED',
      message: `Bulk API 2.0 job ${ingestJobId} ended ${info.state}` +
        (info.errorMessage === undefined ? '' : `: ${info.errorMessage}`) +
        ` (${info.numberRecordsProcessed ?? 0} records processed)`,
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
