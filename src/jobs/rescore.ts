import type pg from 'pg'
import { createMirror } from '../postgres/mirror.ts'
import { soql } from '../salesforce/soql.ts'
import { isValidId } from '../salesforce/ids.ts'
import { inTransaction } from '../postgres/transaction.ts'
import { OrgClient, type SaveResult } from '../salesforce/org-client.ts'
import { SalesforceApiError } from '../salesforce/errors.ts'
import { Unavailable } from '../errors.ts'
import type { RescoreResultType, RescoreSummaryType } from '../schemas/jobs.ts'
import { scoreAccounts, type AccountFilter, type AccountScore } from './account-health.ts'
import type { JobContext, JobKind } from './queue.ts'
import { throwIfInterrupted } from './queue.ts'
import { usesBulk, writeInBulk } from './bulk-writer.ts'

export interface RescorePayload { filter: AccountFilter, callbackUrl: string }

/** sObject Collections take at most 200 records per call. */
export const BATCH_SIZE = 200
const MAX_LISTED_FAILURES = 1000

interface Batch { batchNo: number, records: AccountScore[], state: 'pending' | 'sending' | 'done', written: number, failures: Failure[] }
interface Failure { id: string, errorCode: string, message: string }

/** Refusals that mean the caller may not edit (or see) the record: reported as a count only. */
const isAccessRefusal = (failure: Failure): boolean => failure.errorCode.startsWith('INSUFFICIENT_ACCESS')

/**
 * The summary goes out with the caller's session, so it may only go to the caller's own org: any
 * other host would receive a live Salesforce token.
 */
export function callbackAllowed (callbackUrl: string, orgDomainUrl: string): boolean {
  try {
    return new URL(callbackUrl).origin === new URL(orgDomainUrl).origin
  } catch {
    return false
  }
}

/**
 * Scores the accounts once (from the mirror) and stores the plan; every later attempt works from
 * the plan, so a resumed job writes the same values and skips what is done.
 */
async function planOf (ctx: JobContext<RescorePayload>): Promise<{ scoredAt: Date, batches: Batch[] }> {
  const { pool, id } = ctx
  let plan = await loadPlan(pool, id)
  if (plan !== undefined) return plan
  // Salesforce keeps datetimes to the second: the stamp must read back equal (see reconcile).
  const scoredAt = new Date(Math.floor(Date.now() / 1000) * 1000)
  const scores = await scoreAccounts(pool, createMirror(pool, ctx.config.CONNECT_SCHEMA), ctx.payload.filter, scoredAt)
  await inTransaction(pool, async (client) => {
    const inserted = await client.query('INSERT INTO rescore_runs (job_id, scored_at, total) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [id, scoredAt, scores.length])
    if (inserted.rowCount === 1) {
      for (let i = 0; i * BATCH_SIZE < scores.length; i++) {
        await client.query('INSERT INTO rescore_batches (job_id, batch_no, records) VALUES ($1, $2, $3)', [id, i, JSON.stringify(scores.slice(i * BATCH_SIZE, (i + 1) * BATCH_SIZE))])
      }
    }
  })
  plan = await loadPlan(pool, id)
  if (plan === undefined) throw new Error('rescore plan vanished after it was stored')
  return plan
}

async function loadPlan (pool: pg.Pool, jobId: string): Promise<{ scoredAt: Date, batches: Batch[] } | undefined> {
  const { rows: runs } = await pool.query<{ scored_at: Date }>('SELECT scored_at FROM rescore_runs WHERE job_id = $1', [jobId])
  const run = runs[0]
  if (run === undefined) return undefined
  const { rows } = await pool.query<{ batch_no: number, records: AccountScore[], state: Batch['state'], written: number, failures: Failure[] }>(
    'SELECT batch_no, records, state, written, failures FROM rescore_batches WHERE job_id = $1 ORDER BY batch_no', [jobId])
  return { scoredAt: run.scored_at, batches: rows.map((r) => ({ batchNo: r.batch_no, records: r.records, state: r.state, written: r.written, failures: r.failures })) }
}

async function setBatch (pool: pg.Pool, jobId: string, batch: Batch): Promise<void> {
  await pool.query('UPDATE rescore_batches SET state = $3, written = $4, failures = $5, updated_at = now() WHERE job_id = $1 AND batch_no = $2',
    [jobId, batch.batchNo, batch.state, batch.written, JSON.stringify(batch.failures)])
}

/**
 * A batch left `sending` may have reached Salesforce before its worker died: the records that
 * already carry this run's stamp are written and are not sent again.
 */
async function alreadyWritten (org: OrgClient, records: AccountScore[], scoredAt: Date): Promise<Set<string>> {
  const ids = records.map((r) => r.id).filter(isValidId)
  if (ids.length === 0) return new Set()
  const rows = await org.queryAllPages<{ Id: string, Health_Scored_At__c: string | null }>(
    soql`SELECT Id, Health_Scored_At__c FROM Account WHERE Id IN ${ids}`)
  return new Set(rows.filter((r) => r.Health_Scored_At__c !== null && new Date(r.Health_Scored_At__c).getTime() === scoredAt.getTime()).map((r) => r.Id.slice(0, 15)))
}

async function writeBatch (ctx: JobContext<RescorePayload>, org: OrgClient, batch: Batch, scoredAt: Date): Promise<void> {
  const writtenBefore = batch.written
  let records = batch.records
  if (batch.state === 'sending') {
    const done = await alreadyWritten(org, records, scoredAt)
    records = records.filter((r) => !done.has(r.id.slice(0, 15)))
    batch.written += batch.records.length - records.length
    ctx.log.info({ batchNo: batch.batchNo, alreadyWritten: batch.records.length - records.length }, 'resumed a batch that may have been sent')
  }
  batch.state = 'sending'
  await setBatch(ctx.pool, ctx.id, batch)
  let results: SaveResult[] = []
  if (records.length > 0) {
    try {
      results = await org.updateCollection(records.map((r) => ({
        attributes: { type: 'Account' }, Id: r.id, Health_Score__c: r.score, Health_Scored_At__c: scoredAt.toISOString()
      })))
    } catch (err) {
      // Salesforce answered with an error: nothing of the batch was written.
      if (err instanceof SalesforceApiError) {
        // The next attempt sends the whole batch again and counts it again.
        batch.state = 'pending'
        batch.written = writtenBefore
        await setBatch(ctx.pool, ctx.id, batch)
      }
      throw err
    }
  }
  records.forEach((record, i) => {
    const result = results[i]
    if (result?.success === true) batch.written++
    else batch.failures.push({ id: record.id, errorCode: result?.errors[0]?.statusCode ?? 'UNKNOWN_EXCEPTION', message: result?.errors[0]?.message ?? 'Salesforce returned no result for the record' })
  })
  batch.state = 'done'
  await setBatch(ctx.pool, ctx.id, batch)
}

/** POSTs the summary once per job; a summary the callback refused is recorded, not retried. */
async function sendCallback (ctx: JobContext<RescorePayload>, summary: RescoreSummaryType): Promise<number | undefined> {
  const { rows } = await ctx.pool.query<{ callback_status: number | null, callback_sent_at: Date | null }>('SELECT callback_status, callback_sent_at FROM rescore_runs WHERE job_id = $1', [ctx.id])
  if (rows[0]?.callback_sent_at != null) return rows[0].callback_status ?? undefined
  if (!callbackAllowed(ctx.payload.callbackUrl, ctx.credentials.instanceUrl)) {
    ctx.log.warn('callbackUrl is not on the org\'s domain: summary not sent')
    return undefined
  }
  let status: number
  try {
    const response = await fetch(ctx.payload.callbackUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${ctx.credentials.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(summary),
      signal: AbortSignal.timeout(ctx.config.ORG_TIMEOUT_MS)
    })
    await response.arrayBuffer()
    status = response.status
  } catch (err) {
    throw new Unavailable('CALLBACK_UNREACHABLE', 'The callback URL did not answer', 30, err)
  }
  if (status >= 500 || status === 429) throw new Unavailable('CALLBACK_UNAVAILABLE', `The callback URL answered HTTP ${status}`, 30)
  if (status >= 400) ctx.log.warn({ status }, 'the callback URL refused the summary')
  await ctx.pool.query('UPDATE rescore_runs SET callback_status = $2, callback_sent_at = now() WHERE job_id = $1', [ctx.id, status])
  return status
}

/**
 * Writes a health score to every account the filter selects, in sObject Collections of 200 (above
 * RESCORE_BULK_THRESHOLD accounts: one Bulk API 2.0 job) as the user who asked, and reports the
 * outcome to the callback. Records Salesforce refuses are listed; the others are written.
 */
export const rescoreAccountsJob: JobKind<RescorePayload, RescoreResultType> = {
  name: 'rescore-accounts',
  async run (ctx) {
    const { credentials } = ctx
    const org = new OrgClient({
      instanceUrl: credentials.instanceUrl,
      apiVersion: credentials.apiVersion,
      accessToken: credentials.accessToken,
      timeoutMs: ctx.config.ORG_TIMEOUT_MS,
      // A lost answer is settled by the next attempt's reconcile, never by sending the batch again.
      retries: 0
    })
    const { scoredAt, batches } = await planOf(ctx)
    const total = batches.reduce((n, b) => n + b.records.length, 0)
    const processed = () => batches.reduce((n, b) => n + (b.state === 'done' ? b.records.length : 0), 0)
    await ctx.progress(processed(), total)
    if (await usesBulk(ctx, batches)) {
      await writeInBulk(ctx, org, batches, scoredAt, async (batch) => { await setBatch(ctx.pool, ctx.id, batch) })
    }
    for (const batch of batches) {
      if (batch.state === 'done') continue
      throwIfInterrupted(ctx.signal)
      await writeBatch(ctx, org, batch, scoredAt)
      await ctx.progress(processed(), total)
    }
    const refusals = batches.flatMap((b) => b.failures)
    const failures = refusals.filter((f) => !isAccessRefusal(f))
    const summary: RescoreSummaryType = {
      jobId: ctx.id,
      state: 'completed',
      total,
      written: batches.reduce((n, b) => n + b.written, 0),
      failed: failures.length,
      notPermitted: refusals.length - failures.length,
      failures: failures.slice(0, MAX_LISTED_FAILURES),
      failuresTruncated: failures.length > MAX_LISTED_FAILURES,
      scoredAt: scoredAt.toISOString()
    }
    ctx.log.info({ total, written: summary.written, failed: summary.failed, apiCalls: org.apiCalls }, 'accounts rescored')
    const callbackStatus = await sendCallback(ctx, summary)
    return { ...summary, ...(callbackStatus === undefined ? {} : { callbackStatus }) }
  }
}
