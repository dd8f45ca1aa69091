import type { OrgScope } from '../postgres/org-scope.ts'
import type { FastifyBaseLogger } from 'fastify'
import { BulkIngest, csvRow, sdkBulkApi, type IngestInfo } from '../salesforce/bulk.ts'
import { SalesforceApiError } from '../salesforce/errors.ts'
import type { OrgClient } from '../salesforce/org-client.ts'
import { CALLER_MAY_NOT_EDIT } from './account-health.ts'
import { JobInterrupted, throwIfInterrupted, type JobContext } from './queue.ts'
import { anySent, eachBatch, setBatch, type Batch } from './rescore-plan.ts'

type BulkState = 'creating' | 'created' | 'uploaded' | 'closed' | 'done'

/** One ingest job of a run: the run's batches `firstBatch` to `lastBatch`, as rescore_bulk_jobs stores it. */
export interface Chunk {
  chunkNo: number
  firstBatch: number
  lastBatch: number
  state: BulkState
  ingestJobId: string | null
}

export interface BulkWriteContext {
  /** The job's org's app tables. */
  db: OrgScope
  /** The rescore job's id. */
  jobId: string
  bulk: BulkIngest
  signal: AbortSignal
  log: FastifyBaseLogger
  /** Records Salesforce processed so far of the ingest job polled, from the job info of each poll. */
  progress: (processed: number) => Promise<void>
}

/** Per record (15-character id): written, or refused with Salesforce's error. */
export interface BulkOutcome {
  written: Set<string>
  failures: Map<string, { errorCode: string, message: string }>
}

const key = (id: string): string => id.slice(0, 15)
const NO_RESULT = { errorCode: 'UNKNOWN_EXCEPTION', message: 'Salesforce returned no result for the record' }
const COLUMNS = ['Id', 'Health_Score__c', 'Health_Scored_At__c']
const HEADER = csvRow(COLUMNS)

/**
 * Records per ingest job at most, whatever their size: a worker holds one job's records and the
 * results it reads back (the SDK parses each result CSV whole), so this bounds its memory. Far under
 * the upload limit (about 47 bytes a record), so it is what splits a run before RESCORE_BULK_UPLOAD_BYTES.
 */
export const INGEST_JOB_MAX_RECORDS = 50_000

/** Batches read from the plan at a time. */
const BATCH_PAGE = 50

async function loadChunks (db: OrgScope, jobId: string): Promise<Chunk[]> {
  const { rows } = await db.query<{
    chunk_no: number, first_batch: number, last_batch: number, state: BulkState, ingest_job_id: string | null
  }>(
    `SELECT chunk_no, first_batch, last_batch, state, ingest_job_id FROM rescore_bulk_jobs
      WHERE org_id = $2 AND job_id = $1 ORDER BY chunk_no`, [jobId, db.orgId])
  return rows.map((r) => ({
    chunkNo: r.chunk_no,
    firstBatch: r.first_batch,
    lastBatch: r.last_batch,
    state: r.state,
    ingestJobId: r.ingest_job_id
  }))
}

async function saveChunk (db: OrgScope, jobId: string, chunk: Chunk): Promise<void> {
  await db.query(`INSERT INTO rescore_bulk_jobs (job_id, chunk_no, first_batch, last_batch, state, ingest_job_id)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (job_id, chunk_no) DO UPDATE
    SET state = excluded.state, ingest_job_id = excluded.ingest_job_id, updated_at = now()`,
  [jobId, chunk.chunkNo, chunk.firstBatch, chunk.lastBatch, chunk.state, chunk.ingestJobId])
}

/**
 * Runs of more than RESCORE_BULK_THRESHOLD accounts go through Bulk API 2.0 instead of ⌈N/200⌉
 * collection calls; a run keeps the path it started on (a collection batch may be on its way).
 * What the caller may edit was settled when the run was planned, so either path sends only that.
 * A run under an AppLink authorization for a caller stays on collections, where the renewal of the
 * run-as user's token between calls is tested; the Bulk path has not been tried under one.
 */
export async function usesBulk (ctx: JobContext<object>, total: number): Promise<boolean> {
  if ((await loadChunks(ctx.appData, ctx.id)).length > 0) return true
  if (ctx.session.mode === 'authorization' && ctx.session.caller !== undefined) return false
  return total > ctx.config.RESCORE_BULK_THRESHOLD && !(await anySent(ctx.appData, ctx.id))
}

/** The CSV lines of the batches' records the caller may edit (the others are never sent). */
const linesOf = (batches: Batch[], at: string): string[] => batches.flatMap((b) =>
  b.records.filter((r) => r.editable !== false).map((r) => csvRow([r.id, r.score, at])))

/** The batches of a chunk, read back from the plan. */
async function batchesOf (db: OrgScope, jobId: string, chunk: Chunk): Promise<Batch[]> {
  const batches: Batch[] = []
  for await (const batch of eachBatch(db, jobId, { from: chunk.firstBatch, pageSize: BATCH_PAGE })) {
    if (batch.batchNo > chunk.lastBatch) break
    batches.push(batch)
  }
  return batches
}

/**
 * The next chunk of batches not done from `from` on, the longest whose upload stays within
 * `maxBytes` and INGEST_JOB_MAX_RECORDS (at least one batch), with the CSV lines of its records.
 */
async function nextChunk (
  db: OrgScope, jobId: string, from: number, chunkNo: number, maxBytes: number, at: string
): Promise<{ chunk: Chunk, lines: string[] } | undefined> {
  let bytes = Buffer.byteLength(HEADER)
  let records = 0
  const lines: string[] = []
  let first: number | undefined
  let last = from
  for await (const batch of eachBatch(db, jobId, { from, notDone: true, pageSize: BATCH_PAGE })) {
    const rows = linesOf([batch], at)
    const size = rows.reduce((n, line) => n + Buffer.byteLength(line), 0)
    if (first !== undefined && (bytes + size > maxBytes || records + rows.length > INGEST_JOB_MAX_RECORDS)) break
    first ??= batch.batchNo
    last = batch.batchNo
    bytes += size
    records += rows.length
    lines.push(...rows)
  }
  if (first === undefined) return undefined
  return { chunk: { chunkNo, firstBatch: first, lastBatch: last, state: 'creating', ingestJobId: null }, lines }
}

/**
 * Writes the batches not done through Bulk API 2.0, one ingest job per chunk of them (split at
 * RESCORE_BULK_UPLOAD_BYTES and INGEST_JOB_MAX_RECORDS), and records each record's outcome in its
 * batch, as the collections path does. The next chunk is uploaded while Salesforce processes the one
 * before, so at most two ingest jobs of a run are open at once. `done` is the count of records of
 * the batches done before.
 */
export async function writeInBulk (
  ctx: JobContext<object>, org: OrgClient, scoredAt: Date, progress: { done: number, total: number }
): Promise<void> {
  const { appData: db, id: jobId } = ctx
  let done = progress.done
  const w: BulkWriteContext = {
    db,
    jobId,
    bulk: new BulkIngest(org, sdkBulkApi(ctx.credentials)),
    signal: ctx.signal,
    log: ctx.log,
    progress: async (processed) => { await ctx.progress(Math.min(progress.total, done + processed), progress.total) }
  }
  const stored = await loadChunks(db, jobId)
  const unfinished = stored.filter((c) => c.state !== 'done')
  let from = stored.reduce((n, c) => Math.max(n, c.lastBatch + 1), 0)
  let chunkNo = stored.length
  const at = scoredAt.toISOString()
  let processing: Chunk | undefined
  for (;;) {
    throwIfInterrupted(ctx.signal)
    ctx.session.checkApiFloor()
    let chunk = unfinished.shift()
    let lines: string[] | undefined
    if (chunk === undefined) {
      const next = await nextChunk(db, jobId, from, chunkNo, ctx.config.RESCORE_BULK_UPLOAD_BYTES, at)
      if (next === undefined) break
      ;({ chunk, lines } = next)
      from = chunk.lastBatch + 1
      chunkNo++
      if (lines.length === 0) {
        // Only records the caller may not edit: nothing to send.
        done += await recordOutcome(w, chunk, { written: new Set(), failures: new Map() })
        continue
      }
    }
    const resumed = chunk
    await sendChunk(w, chunk, async () => lines ?? linesOf(await batchesOf(db, jobId, resumed), at))
    if (processing !== undefined) done += await recordOutcome(w, processing, await awaitChunk(w, processing))
    processing = chunk
  }
  if (processing !== undefined) await recordOutcome(w, processing, await awaitChunk(w, processing))
}

/**
 * Records each record's outcome in its batch (counted afresh from the results, so doing it again
 * after a restart counts nothing twice), then the chunk done. Returns the count of its records.
 */
async function recordOutcome (ctx: BulkWriteContext, chunk: Chunk, outcome: BulkOutcome): Promise<number> {
  const batches = await batchesOf(ctx.db, ctx.jobId, chunk)
  for (const batch of batches) {
    batch.written = 0
    batch.failures = []
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
      batch.failures.push({ id: record.id, ...(outcome.failures.get(id) ?? NO_RESULT) })
    }
    batch.state = 'done'
    await setBatch(ctx.db, ctx.jobId, batch)
  }
  chunk.state = 'done'
  await saveChunk(ctx.db, ctx.jobId, chunk)
  return batches.reduce((n, b) => n + b.records.length, 0)
}

/**
 * Hands one chunk to Salesforce as one Bulk API 2.0 ingest job (update by Id): create, upload the
 * CSV lines `rows` gives, UploadComplete. The chunk's batch range is stored before the job is
 * created, its id before the upload, and each step after it, so a worker that dies anywhere is
 * replaced by one that goes on with the same job: an Open job whose upload may have arrived is
 * aborted (Salesforce never processes an Open job's data) and replaced; a closed one is left to be
 * polled. The same records are never sent to two jobs that both get processed.
 */
export async function sendChunk (ctx: BulkWriteContext, chunk: Chunk, rows: () => Promise<string[]>): Promise<void> {
  const { db, jobId, bulk, log } = ctx
  throwIfInterrupted(ctx.signal)
  let fresh = false
  if (chunk.state === 'created' && chunk.ingestJobId !== null) {
    const info = await bulk.info(chunk.ingestJobId)
    if (info.state === 'Open') await bulk.abort(chunk.ingestJobId)
    log.info({ ingestJobId: chunk.ingestJobId, state: info.state }, 'upload unconfirmed before the restart: a new ingest job replaces it')
    chunk.state = 'creating'
  }
  if (chunk.state === 'creating') {
    chunk.ingestJobId = null
    await saveChunk(db, jobId, chunk)
    chunk.ingestJobId = await bulk.create('Account', 'update')
    fresh = true
    chunk.state = 'created'
    await saveChunk(db, jobId, chunk)
    // "A request can provide CSV data that does not in total exceed 150 MB of base64 encoded content.
    // [...] To account for the base64 conversion increase, upload data that does not exceed 100 MB."
    // (Bulk API 2.0 Developer Guide, "Upload Job Data"): the chunk was cut to RESCORE_BULK_UPLOAD_BYTES.
    await bulk.upload(chunk.ingestJobId, HEADER + (await rows()).join(''))
    chunk.state = 'uploaded'
    await saveChunk(db, jobId, chunk)
  }
  if (chunk.ingestJobId === null) throw new Error('a bulk rescore chunk lost its ingest job id')
  if (chunk.state === 'uploaded') {
    // After a restart the close may already have reached Salesforce: only an Open job is closed.
    if (fresh || (await bulk.info(chunk.ingestJobId)).state === 'Open') await bulk.uploadComplete(chunk.ingestJobId)
    chunk.state = 'closed'
    await saveChunk(db, jobId, chunk)
  }
  log.info({ ingestJobId: chunk.ingestJobId, chunkNo: chunk.chunkNo }, 'bulk ingest job processing')
}

/** Polls a chunk's ingest job until it ends and reads its results: 3 calls, and the polls. */
export async function awaitChunk (ctx: BulkWriteContext, chunk: Chunk): Promise<BulkOutcome> {
  const { bulk, log } = ctx
  const ingestJobId = chunk.ingestJobId
  if (ingestJobId === null) throw new Error('a bulk rescore chunk lost its ingest job id')
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
