import t from 'tap'
import { Value } from 'typebox/value'
import { RescoreSummary } from '../../src/schemas/jobs.ts'
import { BATCH_SIZE } from '../../src/jobs/rescore-plan.ts'
import { assertError } from '../helper.ts'
import { to18 } from '@applink-actions/local-org'
import {
  assertNoTokensKept, databaseText, financeAccounts, jobStatus, jobsApp, mirroredDatabase, orgUnderTest, settled,
  startRescore, until, type OrgUnderTest
} from './fixtures.ts'

const ADMIN = 'admin@acme.local'
const REP = 'rep1@acme.local'

const tokensOf = (ut: OrgUnderTest) => [...ut.tokens]

/** The summary a rescore job posts to its callback. */
interface Summary {
  written: number
  failed: number
  notPermitted: number
  failures: Array<{ id: string, errorCode: string }>
}

t.test('a job for 5,000 accounts: 202 at once, ⌈N/200⌉ collection calls, one callback that matches the declared schema, no token at rest or in logs', async (t) => {
  const ut = await orgUnderTest(t, 5000)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  // The collections path (test/jobs/rescore-bulk.test.ts covers the Bulk API 2.0 path of large runs).
  const { app, logs } = await jobsApp(t, databaseUrl, { RESCORE_BULK_THRESHOLD: '10000' })
  const expected = ut.org.records('Account').filter((a) => a.Type === 'Customer' && a.Industry === 'Technology' && a.IsDeleted !== true).map((a) => String(a.Id))
  t.ok(expected.length >= 5000, `${expected.length} accounts match`)
  ut.org.resetStats()

  const started = Date.now()
  const accepted = await startRescore(app, ut, ADMIN, { segment: 'Customer', industry: 'Technology' })
  t.equal(accepted.statusCode, 202, 'accepted')
  t.equal(accepted.body.state, 'queued')
  t.ok(Date.now() - started < 2000, 'answered at once')

  const status = await settled(app, ut, ADMIN, accepted.body.jobId, 120_000)
  t.equal(status.state, 'completed', 'completed')
  t.equal(status.attempts, 1, 'in one attempt')
  t.same(status.progress, { done: expected.length, total: expected.length }, 'progress reached the total')
  t.match(status.result, { total: expected.length, written: expected.length, failed: 0, callbackStatus: 200 })

  const calls = Math.ceil(expected.length / BATCH_SIZE)
  t.equal(ut.patchCalls, calls, `${calls} collection calls`)
  t.equal(ut.org.stats.byPath['PATCH /composite/sobjects'] ?? ut.patchCalls, calls, 'the org counted the same')
  const pages = Math.ceil(expected.length / 2000)
  t.equal(ut.org.stats.apiCalls, calls + pages + 1,
    `${pages} pages of the accounts the caller may see (the plan), and one more: the platform event`)
  t.match(ut.org.publishedEvents('Account_Rescore__e'),
    [{ fields: { Job_Id__c: accepted.body.jobId, State__c: 'completed' } }],
    'a job with a callback announces its end in the org too')
  t.equal(ut.callbacks.length, 1, 'one callback')
  t.same([...ut.written].sort(), [...expected].sort(), 'every account written once')

  const callback = ut.callbacks[0]
  t.ok(Value.Check(RescoreSummary, callback?.body), 'the callback body matches the declared callback schema')
  t.equal(callback?.authorization, `Bearer ${ut.org.user(ADMIN).accessToken}`, 'sent with the caller\'s session')
  const account = ut.org.getRecord(expected[0] ?? '')
  t.type(account?.Health_Score__c, 'number', 'score written')
  t.equal(new Date(String(account?.Health_Scored_At__c)).toISOString(), (callback?.body as { scoredAt: string }).scoredAt, 'stamp written')

  await assertNoTokensKept(t, databaseUrl, accepted.body.jobId, logs, tokensOf(ut))
})

t.test('accounts the caller cannot see are neither written nor counted; those they may only read are counted', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app } = await jobsApp(t, databaseUrl)
  const { all, own, others } = financeAccounts(ut, REP)
  t.ok(own.length > 0 && others.length > 0, `rep1 owns ${own.length} of ${all.length} Finance accounts`)

  const accepted = await startRescore(app, ut, REP, { industry: 'Finance' })
  const status = await settled(app, ut, REP, accepted.body.jobId)
  t.equal(status.state, 'completed')
  const summary = ut.callbacks[0]?.body as Summary & { total: number }
  t.equal(summary.written, own.length, 'the rep\'s own accounts are written')
  t.equal(summary.total, own.length, 'the total counts only what the rep may see (private sharing)')
  t.equal(summary.notPermitted, 0, 'accounts the rep cannot see are not counted as refused either')
  t.same(status.progress, { done: own.length, total: own.length }, 'nor in the progress')
  t.match(ut.org.publishedEvents('Account_Rescore__e'),
    [{ fields: { Accounts_Total__c: own.length, Accounts_Not_Editable__c: 0 } }], 'nor in the event')
  t.same(summary.failures, [], 'ids the rep cannot see are not listed')
  t.same([...ut.written].sort(), [...own].sort(), 'only the accepted records were written')

  const reader = 'readonly@acme.local'
  const byReader = await startRescore(app, ut, reader, { industry: 'Finance' }, 'reader')
  const readerStatus = await settled(app, ut, reader, byReader.body.jobId)
  const readerSummary = ut.callbacks[1]?.body as Summary & { total: number }
  t.equal(readerStatus.state, 'completed')
  t.match(readerSummary, { total: all.length, written: 0, failed: 0, notPermitted: all.length, failures: [] },
    'a user who may read but not edit: every account counted as not permitted, none sent')
  t.equal(ut.written.length, own.length, 'nothing more was written')
})

t.test('records Salesforce rejects are reported with id and code; the rest are written', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app } = await jobsApp(t, databaseUrl)
  const accounts = ut.org.records('Account').filter((a) => a.Industry === 'Finance' && a.IsDeleted !== true).map((a) => String(a.Id))
  // Deleted in the org after the job planned its run (the plan asks the org what the caller may
  // see): the write finds it gone. The org's latency holds the write while the test deletes it.
  const gone = accounts[0] as string
  ut.org.setFaults({ latencyMs: 400 })
  const accepted = await startRescore(app, ut, ADMIN, { industry: 'Finance' })
  await until('the run to be planned', async () =>
    (await jobStatus(app, ut, ADMIN, accepted.body.jobId)).body.progress.total > 0)
  ut.org.deleteRecord(gone)
  const status = await settled(app, ut, ADMIN, accepted.body.jobId)
  t.equal(status.state, 'completed')
  const summary = ut.callbacks[0]?.body as Summary
  t.equal(summary.written, accounts.length - 1, 'the rest are written')
  t.equal(summary.failed, 1)
  t.equal(summary.failures[0]?.id, gone, 'the rejected account is listed')
  t.match(summary.failures[0]?.errorCode, /^[A-Z_]+$/, 'with Salesforce\'s code')
})

t.test('an org answering 503 for a while: the job retries with backoff and succeeds', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app } = await jobsApp(t, databaseUrl)
  ut.org.setFaults({ failPaths: /^\/composite\/sobjects/ })
  const accepted = await startRescore(app, ut, ADMIN, { segment: 'Customer' })
  // Two failed attempts (each already retried twice by the org client), then the org recovers.
  const retrying = await settledOrRetried(app, ut, accepted.body.jobId, 2)
  t.equal(retrying.state, 'retrying', 'retrying after a failed attempt')
  t.equal(retrying.error?.errorCode, 'SERVER_UNAVAILABLE', 'with the reason')
  ut.org.setFaults({ failPaths: undefined })
  const status = await settled(app, ut, ADMIN, accepted.body.jobId)
  t.equal(status.state, 'completed', 'completed once the org is back')
  t.ok(status.attempts >= 3, `after ${status.attempts} attempts`)
  const expected = ut.org.records('Account').filter((a) => a.Type === 'Customer' && a.IsDeleted !== true).length
  t.equal(ut.written.length, expected, 'every account written once')
  t.equal(ut.callbacks.length, 1, 'one callback')
})

async function settledOrRetried (
  app: Parameters<typeof jobStatus>[0], ut: OrgUnderTest, jobId: string, attempts: number
) {
  const deadline = Date.now() + 30_000
  for (;;) {
    const { body } = await jobStatus(app, ut, ADMIN, jobId)
    if (body.state === 'retrying' && body.attempts >= attempts) return body
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not retry: ${JSON.stringify(body)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

t.test('the org\'s API limit reached: the job waits out the limit window before its retry', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app } = await jobsApp(t, databaseUrl)
  ut.org.resetStats()
  ut.org.setFaults({ dailyApiLimit: 0 })
  const accepted = await startRescore(app, ut, ADMIN, { segment: 'Partner' })
  const status = await settledOrRetried(app, ut, accepted.body.jobId, 1)
  t.equal(status.error?.errorCode, 'REQUEST_LIMIT_EXCEEDED')
  // pg-boss's own backoff would retry within seconds; the limit's window is minutes.
  const wait = await until('the retry to be deferred', async () => {
    const { rows } = await app.pg.query<{ wait: number }>("SELECT extract(epoch FROM start_after - now())::int AS wait FROM pgboss.job WHERE id = $1 AND state = 'retry'", [accepted.body.jobId])
    return rows[0] !== undefined && rows[0].wait > 60 ? rows[0].wait : undefined
  }, 5000)
  t.ok(wait > 240 && wait <= 300, `retry in ${wait} s`)
})

t.test('a collection call whose answer is lost: the retry finds those records written and does not send them again', async (t) => {
  const ut = await orgUnderTest(t, 600)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app } = await jobsApp(t, databaseUrl)
  const expected = ut.org.records('Account').filter((a) => a.Type === 'Customer' && a.Industry === 'Technology' && a.IsDeleted !== true).map((a) => String(a.Id))
  ut.loseAnswers = 1
  const accepted = await startRescore(app, ut, ADMIN, { segment: 'Customer', industry: 'Technology' })
  const status = await settled(app, ut, ADMIN, accepted.body.jobId)
  t.equal(status.state, 'completed')
  t.equal(status.attempts, 2, 'the lost answer failed the first attempt')
  t.equal(ut.patchCalls, Math.ceil(expected.length / BATCH_SIZE), 'the batch was not sent again')
  t.same([...ut.written].sort(), [...expected].sort(), 'every record written exactly once')
  const checks = ut.org.soqlLog.filter((q) => q.soql.startsWith('SELECT Id, Health_Scored_At__c FROM Account'))
  t.equal(checks.length, 1, 'one query checked what the lost call wrote')
})

t.test('an expired session fails the job at once with a clear reason, no retry', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app, logs } = await jobsApp(t, databaseUrl, { WORKER_IN_WEB: 'false' })
  const accepted = await startRescore(app, ut, REP, { segment: 'Customer' })
  ut.org.expireToken(REP)
  // Work it now, with the session expired.
  const { app: worker } = await jobsApp(t, databaseUrl)
  const status = await settled(worker, ut, REP, accepted.body.jobId)
  t.equal(status.state, 'failed', 'failed')
  t.equal(status.attempts, 1, 'after one attempt')
  t.equal(status.error?.errorCode, 'INVALID_SESSION_ID')
  t.match(status.error?.message, /session .* expired/)
  t.equal(ut.callbacks.length, 0, 'no callback')
  const text = await databaseText(databaseUrl)
  t.match(text, /rescore-accounts-dead/, 'the job is in the dead-letter queue')
  for (const token of tokensOf(ut)) t.notOk(text.includes(token) || logs.join('').includes(token), 'no token at rest or in the log')
})

t.test('only the user who started a job sees it', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app } = await jobsApp(t, databaseUrl, { WORKER_IN_WEB: 'false' })
  const accepted = await startRescore(app, ut, REP, { ownerId: ut.org.user(REP).id })
  const mine = await jobStatus(app, ut, REP, accepted.body.jobId)
  t.equal(mine.statusCode, 200)
  t.match(mine.body, { state: 'queued', attempts: 0, progress: { done: 0, total: 0 } })
  const other = await app.inject({ method: 'POST', url: '/actions/getJobStatus', headers: { 'x-client-context': ut.context('rep2@acme.local') }, payload: { jobId: accepted.body.jobId } })
  assertError(t, other, 404, 'NOT_FOUND')
  const otherOrg = await app.inject({
    method: 'POST',
    url: '/actions/getJobStatus',
    headers: { 'x-client-context': Buffer.from(JSON.stringify({ ...ut.org.contextFor(REP, { orgDomainUrl: ut.url }), orgId: to18('00D000000000001') })).toString('base64') },
    payload: { jobId: accepted.body.jobId }
  })
  // The org says the token is not of that org: refused before any job is looked up.
  assertError(t, otherOrg, 401, 'CONTEXT_MISMATCH')
  const unknown = await jobStatus(app, ut, REP, '00000000-0000-4000-8000-000000000000')
  t.equal(unknown.statusCode, 404)
})

t.test('input is checked: fixed filter lists, callback on the org\'s own domain', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app } = await jobsApp(t, databaseUrl, { WORKER_IN_WEB: 'false' })
  const call = (payload: Record<string, unknown>) => app.inject({ method: 'POST', url: '/actions/rescoreAccounts', headers: { 'x-client-context': ut.context(REP) }, payload })
  assertError(t, await call({ segment: 'Enterprise', callbackUrl: `${ut.url}/callback/x` }), 400, 'INVALID_REQUEST', ['segment'])
  assertError(t, await call({ industry: "Finance' OR 1=1", callbackUrl: `${ut.url}/callback/x` }), 400, 'INVALID_REQUEST', ['industry'])
  assertError(t, await call({ ownerId: 'not-an-id', callbackUrl: `${ut.url}/callback/x` }), 400, 'INVALID_REQUEST', ['ownerId'])
  assertError(t, await call({ soql: 'SELECT Id FROM Account', callbackUrl: `${ut.url}/callback/x` }), 400, 'INVALID_REQUEST', ['soql'])
  assertError(t, await call({ callbackUrl: 'https://attacker.example/steal' }), 400, 'INVALID_REQUEST', ['callbackUrl'])
  assertError(t, await call({ callbackUrl: 'ftp://x' }), 400, 'INVALID_REQUEST', ['callbackUrl'])
  const badId = await app.inject({ method: 'POST', url: '/actions/getJobStatus', headers: { 'x-client-context': ut.context(REP) }, payload: { jobId: "1' OR 1=1" } })
  assertError(t, badId, 400, 'INVALID_REQUEST', ['jobId'])
})

t.test('a callbackUrl on an origin in CALLBACK_ALLOWED_ORIGINS gets the summary, without the caller\'s session', async (t) => {
  const ut = await orgUnderTest(t, 3)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  // Same receiver, other origin: `localhost` instead of the org's `127.0.0.1`.
  const allowedOrigin = ut.url.replace('127.0.0.1', 'localhost')
  const { app } = await jobsApp(t, databaseUrl, { CALLBACK_ALLOWED_ORIGINS: allowedOrigin })
  const accepted = await app.inject({
    method: 'POST',
    url: '/actions/rescoreAccounts',
    headers: { 'x-client-context': ut.context(ADMIN) },
    payload: { segment: 'Customer', industry: 'Technology', callbackUrl: `${allowedOrigin}/callback/allowed` }
  })
  t.equal(accepted.statusCode, 202)
  const status = await settled(app, ut, ADMIN, accepted.json().jobId)
  t.match(status.result, { callbackStatus: 200 })
  t.equal(ut.callbacks.length, 1)
  t.equal(ut.callbacks[0]?.path, '/callback/allowed')
  t.equal(ut.callbacks[0]?.authorization, undefined, 'no session leaves the org')
  const refused = await app.inject({
    method: 'POST',
    url: '/actions/rescoreAccounts',
    headers: { 'x-client-context': ut.context(ADMIN) },
    payload: { callbackUrl: ut.url.replace('127.0.0.1', '127.0.0.2') + '/callback/x' }
  })
  assertError(t, refused, 400, 'INVALID_REQUEST', ['callbackUrl'])
})
