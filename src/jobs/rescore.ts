import { soql } from '../salesforce/soql.ts'
import { isValidId, normalizeId } from '@applink-actions/platform/ids'
import type { OrgClient, SaveResult } from '../salesforce/org-client.ts'
import { accessOf, visibleAccountIds } from '../salesforce/queries.ts'
import { SalesforceApiError } from '../salesforce/errors.ts'
import { Unavailable } from '../errors.ts'
import { allowedCallbackOrigins, callbackTarget } from '../salesforce/callback-url.ts'
import { CallbackRefused, postCallback } from './callback.ts'
import type { RescoreResultType, RescoreSummaryType } from '../schemas/jobs.ts'
import { CALLER_MAY_NOT_EDIT, scoredPages, type AccountFilter, type AccountScore } from './account-health.ts'
import type { JobContext, JobKind } from './queue.ts'
import { throwIfInterrupted } from './queue.ts'
import { announceOnce, type AnnounceState } from './announce.ts'
import { usesBulk, writeInBulk } from './bulk-writer.ts'
import {
  appendPage, createRun, eachBatch, loadRun, markPlanned, planEnd, setBatch, tally, type Batch, type Run, type Tally
} from './rescore-plan.ts'

/**
 * `callbackUrl` only for Apex callers (rescoreAccounts); a scheduled run has none. Every job
 * announces its end as a platform event.
 */
export interface RescorePayload { filter: AccountFilter, callbackUrl?: string }

/**
 * The platform event (salesforce/…/objects/Account_Rescore__e) a rescore job publishes when it
 * ends, completed or failed for good: how Flow learns of it, since External Services' asynchronous
 * callback operations "are supported in Apex but not in Flow" (Salesforce Help, "Asynchronous
 * Callback Operations Using Apex").
 */
export const RESCORE_EVENT = 'Account_Rescore__e'
/** Text(255) on the event. */
const EVENT_MESSAGE_LENGTH = 255

const MAX_LISTED_FAILURES = 1000
/** Batches read from the plan at a time by the collections path. */
const BATCH_PAGE = 50

/**
 * Scores the accounts once (from the mirror) and stores the plan; every later attempt works from
 * the plan, so a resumed job writes the same values and skips what is done. The mirror is read a
 * page at a time (a server-side cursor) and each page is stored as it is planned, so neither the
 * mirror's rows nor the plan are ever in memory whole; an attempt that stops while planning goes on
 * after the last account stored. The mirror knows nothing of sharing: the plan holds only the
 * accounts the caller may see, asked of the org page by page, so neither the summary, the progress
 * nor the event counts what the caller cannot see. With the caller's session the org lists those of
 * the page's id range (one query per page of RESCORE_PLAN_PAGE_SIZE accounts, answered 2,000 ids a
 * call); under an AppLink authorization the run-as user asks UserRecordAccess for the caller (200 ids
 * a query) and marks those the caller may only read, which are never sent. A scheduled run has no
 * caller and plans every account.
 */
async function planOf (ctx: JobContext<RescorePayload>, org: OrgClient): Promise<Run> {
  const { appData, id } = ctx
  // Salesforce keeps datetimes to the second: the stamp must read back equal (see reconcile).
  const run = await loadRun(appData, id) ?? await createRun(appData, id, new Date(Math.floor(Date.now() / 1000) * 1000))
  if (run.planned) return run
  const end = await planEnd(appData, id)
  let nextBatch = end.nextBatch
  const pages = scoredPages(ctx.pool, await ctx.mirror(), ctx.payload.filter, run.scoredAt,
    { pageSize: ctx.config.RESCORE_PLAN_PAGE_SIZE, after: end.lastId })
  for await (const scored of pages) {
    throwIfInterrupted(ctx.signal)
    const scores = await visibleTo(ctx, org, scored)
    nextBatch = await appendPage(appData, id, nextBatch, scores)
    run.total += scores.length
    await ctx.progress(0, run.total)
  }
  await markPlanned(appData, id)
  run.planned = true
  return run
}

/** The scores of a page the caller may see; under an authorization, those they may not edit marked so. */
async function visibleTo (
  ctx: JobContext<RescorePayload>, org: OrgClient, scores: AccountScore[]
): Promise<AccountScore[]> {
  const { caller } = ctx.session
  if (caller === undefined) return scores
  const ids = scores.map((s) => s.id).filter(isValidId)
  const [first, last] = [ids[0], ids.at(-1)]
  if (first === undefined || last === undefined) return []
  if (ctx.session.mode === 'caller-session') {
    const visible = await visibleAccountIds(org, ctx.payload.filter, { first, last })
    return scores.filter((s) => visible.has(s.id.slice(0, 15)))
  }
  const access = await accessOf(org, caller.userId, ids)
  return scores.flatMap((s) => {
    const of = access.get(s.id.slice(0, 15))
    if (of?.read !== true) return []
    return of.edit ? [s] : [{ ...s, editable: false as const }]
  })
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
  const current = rows.filter((r) =>
    r.Health_Scored_At__c !== null && new Date(r.Health_Scored_At__c).getTime() === scoredAt.getTime())
  return new Set(current.map((r) => r.Id.slice(0, 15)))
}

async function writeBatch (
  ctx: JobContext<RescorePayload>,
  org: OrgClient,
  batch: Batch,
  scoredAt: Date
): Promise<void> {
  const writtenBefore = batch.written
  // Only what the caller may edit is sent (under an authorization, the run-as user could write more).
  const refused = batch.records.filter((r) => r.editable === false)
  let records = batch.records.filter((r) => r.editable !== false)
  if (batch.state === 'sending') {
    const done = await alreadyWritten(org, records, scoredAt)
    const resumed = records.length
    records = records.filter((r) => !done.has(r.id.slice(0, 15)))
    batch.written += resumed - records.length
    ctx.log.info({ batchNo: batch.batchNo, alreadyWritten: resumed - records.length }, 'resumed a batch that may have been sent')
  }
  batch.state = 'sending'
  await setBatch(ctx.appData, ctx.id, batch)
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
        await setBatch(ctx.appData, ctx.id, batch)
      }
      throw err
    }
  }
  for (const record of refused) batch.failures.push({ id: record.id, ...CALLER_MAY_NOT_EDIT })
  records.forEach((record, i) => {
    const result = results[i]
    if (result?.success === true) batch.written++
    else batch.failures.push({ id: record.id, errorCode: result?.errors[0]?.statusCode ?? 'UNKNOWN_EXCEPTION', message: result?.errors[0]?.message ?? 'Salesforce returned no result for the record' })
  })
  batch.state = 'done'
  await setBatch(ctx.appData, ctx.id, batch)
}

/**
 * POSTs the summary once per job; a summary the callback refused is recorded, not retried. The
 * caller's session goes with it only to the caller's own org and only when the job holds that
 * session (the sealed-session fallback): under an AppLink authorization the job has no token of the
 * caller's, and the run-as user's token is never sent, since it is not the caller's to give.
 * No Salesforce document says how the callback URL of an asynchronous External Services operation
 * authenticates the external system (Salesforce Help, "Use Apex to Create an Asynchronous Callout to
 * an External Service": "Salesforce creates a callback URL on the asynchronous callout (initial
 * callout) that's read-only"), so the caller's own session is the most the service may send.
 */
async function sendCallback (
  ctx: JobContext<RescorePayload>, callbackUrl: string, summary: RescoreSummaryType
): Promise<number | undefined> {
  const { rows } = await ctx.appData.query<{ callback_status: number | null, callback_sent_at: Date | null }>(
    'SELECT callback_status, callback_sent_at FROM rescore_runs WHERE job_id = $1', [ctx.id])
  if (rows[0]?.callback_sent_at != null) return rows[0].callback_status ?? undefined
  const target = callbackTarget(callbackUrl, ctx.credentials.instanceUrl, allowedCallbackOrigins(ctx.config))
  if (!target.allowed) {
    ctx.log.warn('callbackUrl is neither on the org\'s domains nor an allowed origin: summary not sent')
    return undefined
  }
  const callersOwn = target.withSession && ctx.session.mode === 'caller-session'
  let status: number | null
  try {
    status = await postCallback(callbackUrl, summary, {
      ...(callersOwn ? { bearer: ctx.credentials.accessToken } : {}),
      timeoutMs: ctx.config.ORG_TIMEOUT_MS,
      allowPrivateAddresses: ctx.config.CALLBACK_ALLOW_PRIVATE_ADDRESSES
    })
  } catch (err) {
    if (!(err instanceof CallbackRefused)) throw err
    ctx.log.warn({ reason: err.message }, 'callbackUrl refused: summary not sent')
    status = null
  }
  if (status !== null && status >= 300 && status < 400) {
    ctx.log.warn({ status }, 'the callback URL answered a redirect, which is not followed: summary refused')
  } else if (status !== null && (status >= 500 || status === 429)) {
    throw new Unavailable('CALLBACK_UNAVAILABLE', `The callback URL answered HTTP ${status}`, 30)
  } else if (status !== null && status >= 400) {
    ctx.log.warn({ status }, 'the callback URL refused the summary')
  }
  await ctx.appData.query('UPDATE rescore_runs SET callback_status = $2, callback_sent_at = now() WHERE job_id = $1', [ctx.id, status])
  return status ?? undefined
}

interface RescoreEnd {
  state: 'completed' | 'failed'
  counts: Tally
  errorCode?: string
  message: string
}

/** Announces the end of the job in the org, once (see announceOnce). */
async function announce (ctx: JobContext<RescorePayload>, org: OrgClient, end: RescoreEnd): Promise<AnnounceState> {
  const { counts } = end
  return await announceOnce(ctx.appData, ctx.id, org, RESCORE_EVENT, {
    Job_Id__c: ctx.id,
    State__c: end.state,
    Accounts_Total__c: counts.total,
    Accounts_Written__c: counts.written,
    Accounts_Rejected__c: counts.failed,
    Accounts_Not_Editable__c: counts.notPermitted,
    Error_Code__c: end.errorCode ?? null,
    Message__c: end.message.slice(0, EVENT_MESSAGE_LENGTH),
    // The user who started the job; a scheduled run has none and names its run-as user.
    Started_By__c: ctx.session.caller?.userId ?? ctx.credentials.userId
  }, ctx.log)
}

/**
 * Writes a health score to every account the filter selects, in sObject Collections of 200 (above
 * RESCORE_BULK_THRESHOLD accounts: Bulk API 2.0 ingest jobs) as the user who asked (or, under an AppLink
 * authorization, as its run-as user and only where the user who asked may edit), then announces the
 * outcome in the org (platform event) and, for Apex callers, to the callback. Records Salesforce
 * refuses are listed; the others are written.
 */
export const rescoreAccountsJob: JobKind<RescorePayload, RescoreResultType> = {
  name: 'rescore-accounts',
  // The same filter (an owner in either id form) and the same callback, or none, is the same work:
  // a repeat answers the running job. A start with another callback is another job, or its caller
  // would never hear of the end.
  sameWork: ({ filter, callbackUrl }) => JSON.stringify([
    filter.segment ?? null,
    filter.industry ?? null,
    normalizeId(filter.ownerId) ?? filter.ownerId ?? null,
    callbackUrl ?? null
  ]),
  async run (ctx) {
    // A lost answer is settled by the next attempt's reconcile, never by sending the batch again.
    const org = ctx.session.orgClient({ retries: 0 })
    const { scoredAt, total } = await planOf(ctx, org)
    const progress = { done: (await tally(ctx.appData, ctx.id, 0)).processed, total }
    await ctx.progress(progress.done, total)
    if (await usesBulk(ctx, total)) await writeInBulk(ctx, org, scoredAt, progress)
    for await (const batch of eachBatch(ctx.appData, ctx.id, { notDone: true, pageSize: BATCH_PAGE })) {
      throwIfInterrupted(ctx.signal)
      ctx.session.checkApiFloor()
      await writeBatch(ctx, org, batch, scoredAt)
      progress.done += batch.records.length
      await ctx.progress(progress.done, total)
    }
    const counts = await tally(ctx.appData, ctx.id, MAX_LISTED_FAILURES)
    const summary: RescoreSummaryType = {
      jobId: ctx.id,
      state: 'completed',
      total,
      written: counts.written,
      failed: counts.failed,
      notPermitted: counts.notPermitted,
      failures: counts.failures,
      failuresTruncated: counts.failed > counts.failures.length,
      scoredAt: scoredAt.toISOString()
    }
    ctx.log.info({ total, written: summary.written, failed: summary.failed, apiCalls: org.apiCalls }, 'accounts rescored')
    // The event first: the org learns of the end even when the callback's host is down.
    const eventState = await announce(ctx, org, {
      state: 'completed',
      counts,
      message: `Health scores written to ${counts.written} of ${total} accounts; ` +
        `${counts.failed} refused by Salesforce, ${counts.notPermitted} not editable by the user`
    })
    const { callbackUrl } = ctx.payload
    const callbackStatus = callbackUrl === undefined ? undefined : await sendCallback(ctx, callbackUrl, summary)
    return { ...summary, ...(callbackStatus === undefined ? {} : { callbackStatus }), eventState }
  },
  /** A job that cannot finish announces that too, with what it wrote before it stopped. */
  async onDeadLetter (ctx, failure) {
    await announce(ctx, ctx.session.orgClient({ retries: 0 }), {
      state: 'failed',
      counts: await tally(ctx.appData, ctx.id, MAX_LISTED_FAILURES),
      errorCode: failure.errorCode,
      message: failure.message
    })
  }
}
