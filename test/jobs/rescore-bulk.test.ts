// rescoreAccounts above RESCORE_BULK_THRESHOLD: one Bulk API 2.0 ingest job instead of collection calls.
import t, { type Test } from 'tap'
import { createMirror } from '../../src/postgres/mirror.ts'
import { scoredPages } from '../../src/jobs/account-health.ts'
import { BATCH_SIZE } from '../../src/jobs/rescore-plan.ts'
import { awaitChunk, sendChunk, type Chunk } from '../../src/jobs/bulk-writer.ts'
import { toCsv } from '../../src/salesforce/bulk.ts'
import type { RescoreSummaryType } from '../../src/schemas/jobs.ts'
import {
  financeAccounts, jobStatus, jobsApp, logged, mirroredDatabase, orgUnderTest, settled, startRescore, startWorker,
  until, type OrgUnderTest
} from './fixtures.ts'
import { bulkClientFor } from '../salesforce/bulk-client.ts'
import { orgScope } from '../../src/postgres/org-scope.ts'

const ADMIN = 'admin@acme.local'
const REP = 'rep1@acme.local'
const FILTER = { segment: 'Customer', industry: 'Technology' } as const
const BULK = { RESCORE_BULK_THRESHOLD: '0' }
/** Long enough that both job sizes below finish between the same two polls (250, 750, 1750, 3750 ms). */
const PROCESSING_MS = 2500

const matching = (ut: OrgUnderTest) => ut.org.records('Account')
  .filter((a) => a.Type === FILTER.segment && a.Industry === FILTER.industry && a.IsDeleted !== true)

interface Run {
  summary: RescoreSummaryType
  calls: number
  byPath: Record<string, number>
  /** Score written per account id. */
  written: Map<string, unknown>
  /** What the scoring computes from the mirror at the run's stamp. */
  expected: Map<string, number>
}

async function rescore (t: Test, accounts: number, env: Record<string, string>): Promise<Run> {
  const ut = await orgUnderTest(t, accounts)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app } = await jobsApp(t, databaseUrl, env)
  ut.org.setFaults({ bulkProcessingMs: PROCESSING_MS })
  ut.org.resetStats()
  const accepted = await startRescore(app, ut, ADMIN, FILTER)
  const status = await settled(app, ut, ADMIN, accepted.body.jobId, 120_000)
  t.equal(status.state, 'completed', `${accounts} accounts: completed`)
  const summary = ut.callbacks[0]?.body as RescoreSummaryType
  const scores = []
  const stamp = new Date(summary.scoredAt)
  for await (const page of scoredPages(app.pg, createMirror(app.pg, 'salesforce'), FILTER, stamp, { pageSize: 2000 })) {
    scores.push(...page)
  }
  const rows = matching(ut)
  const stamped = rows.every((a) => new Date(String(a.Health_Scored_At__c)).toISOString() === summary.scoredAt)
  t.ok(stamped, 'every account carries the run\'s stamp')
  return {
    summary,
    calls: ut.org.stats.apiCalls,
    byPath: { ...ut.org.stats.byPath },
    written: new Map(rows.map((a) => [String(a.Id), a.Health_Score__c])),
    expected: new Map(scores.map((s) => [s.id, s.score]))
  }
}

t.test('Bulk writes the scores collections write, in the same few API calls for 1,000 or 5,000 accounts', async (t) => {
  const collections = await rescore(t, 1000, { RESCORE_BULK_THRESHOLD: '100000' })
  const small = await rescore(t, 1000, BULK)
  const large = await rescore(t, 5000, BULK)

  for (const [name, run] of Object.entries({ collections, small, large })) {
    t.same(run.written, run.expected, `${name}: every account holds the score the mirror gives at the run's stamp`)
    t.match(run.summary, { total: run.expected.size, written: run.expected.size, failed: 0, notPermitted: 0 })
  }
  // Same data (same seed): the scores agree wherever the seconds between the runs' stamps did not move one.
  const comparable = [...collections.expected]
    .filter(([id, score]) => small.expected.get(id) === score).map(([id]) => id)
  const all = collections.expected.size
  t.ok(comparable.length >= all * 0.99, `${comparable.length} of ${all} comparable`)
  t.same(comparable.map((id) => small.written.get(id)), comparable.map((id) => collections.written.get(id)),
    'bulk and collections wrote the same scores')
  const unstamped = (summary: RescoreSummaryType) => ({ ...summary, jobId: '', scoredAt: '' })
  t.same(unstamped(small.summary), unstamped(collections.summary), 'and the same summary')

  // Every run first lists the accounts the caller may see (2,000 a page), and publishes its end as one
  // platform event (Account_Rescore__e).
  const pages = (run: Run) => Math.ceil(run.summary.total / 2000)
  t.equal(collections.calls, Math.ceil(collections.summary.total / BATCH_SIZE) + pages(collections) + 1,
    `collections: ${collections.calls} calls (one per 200, the pages of the plan, and the event)`)
  // How often the job's state is polled depends on how long the org takes, not on the count.
  const polls = (run: Run) => run.byPath['GET /jobs/ingest/{id}'] ?? 0
  const fixed = (run: Run) => run.calls - pages(run) - polls(run)
  t.equal(fixed(large), fixed(small),
    `bulk: ${small.calls} API calls for ${small.summary.total} accounts, ${large.calls} for ${large.summary.total}, ` +
    'the same but for the pages of the plan and the polls of the job\'s state')
  t.ok(large.calls < Math.ceil(large.summary.total / BATCH_SIZE), 'fewer than collections would need')
  for (const run of [small, large]) {
    t.match(run.byPath, {
      'POST /jobs/ingest': 1,
      'PUT /jobs/ingest/{id}/batches': 1,
      'PATCH /jobs/ingest/{id}': 1,
      'GET /jobs/ingest/{id}/successfulResults': 1,
      'GET /jobs/ingest/{id}/failedResults': 1,
      'GET /jobs/ingest/{id}/unprocessedrecords': 1
    }, 'one ingest job: create, upload, close, three result reads')
    t.equal(run.byPath['PATCH /composite/sobjects'], undefined, 'no collection call')
    t.equal(run.byPath['POST /sobjects/Account_Rescore__e'], 1, 'one platform event')
    t.equal(run.calls - 7 - pages(run), run.byPath['GET /jobs/ingest/{id}'], 'the rest are polls')
  }
})

t.test('as a rep: what the rep cannot see is not counted; refusals listed with id and code', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app, logs } = await jobsApp(t, databaseUrl, BULK)
  const { all, own, others } = financeAccounts(ut, REP)
  t.ok(own.length > 1 && others.length > 0, `rep1 owns ${own.length} of ${all.length} Finance accounts`)
  // Deleted in the org after the job planned its run: the ingest job refuses it. The org's latency
  // holds the upload while the test deletes it.
  const gone = own[0] ?? ''
  ut.org.setFaults({ latencyMs: 400 })
  const accepted = await startRescore(app, ut, REP, { industry: 'Finance' })
  await until('the run to be planned', async () =>
    (await jobStatus(app, ut, REP, accepted.body.jobId)).body.progress.total > 0)
  ut.org.deleteRecord(gone)
  const status = await settled(app, ut, REP, accepted.body.jobId)
  t.equal(status.state, 'completed')
  t.equal(ut.org.stats.byPath['POST /jobs/ingest'], 1, 'through Bulk API 2.0')
  const summary = ut.callbacks[0]?.body as RescoreSummaryType
  t.equal(summary.written, own.length - 1, 'the rep\'s own accounts are written')
  t.equal(summary.notPermitted, 0, 'the others, which the rep cannot see, are not counted')
  t.equal(summary.total, own.length, 'nor in the total')
  t.equal(summary.failed, 1)
  t.match(summary.failures, [{ id: gone, errorCode: 'ENTITY_IS_DELETED' }], 'the deleted one is listed, with its code')
  t.same(status.progress, { done: own.length, total: own.length }, 'progress reached the total')
  for (const token of ut.tokens) t.notOk(logs.join('').includes(token), 'no token in the log')
  const stamp = summary.scoredAt.replace('Z', '+0000')
  t.notOk(others.some((id) => ut.org.getRecord(id)?.Health_Scored_At__c === stamp), 'the others are untouched')
})

t.test('an ingest job that fails (no score field in the org) fails the rescore with the reason', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app } = await jobsApp(t, databaseUrl, BULK)
  // As if the custom field's metadata were not deployed to this org.
  ut.org.core.schema.get('Account')?.fieldMap.delete('health_score__c')
  const accepted = await startRescore(app, ut, ADMIN, { segment: 'Partner' })
  const status = await settled(app, ut, ADMIN, accepted.body.jobId)
  t.equal(status.state, 'failed', 'failed')
  t.equal(status.attempts, 1, 'without retrying what would fail the same way')
  t.equal(status.error?.errorCode, 'BULK_JOB_FAILED')
  t.match(status.error?.message,
    /Bulk API 2\.0 job 750\w+ ended Failed: InvalidBatch : Field name not found : Health_Score__c/)
  t.equal(ut.callbacks.length, 0, 'no summary')
})

t.test('a worker killed while Salesforce processes the job: the next polls it, nothing is sent twice', async (t) => {
  const ut = await orgUnderTest(t, 2000)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app } = await jobsApp(t, databaseUrl, { WORKER_IN_WEB: 'false' })
  const expected = matching(ut).map((a) => String(a.Id))
  ut.org.setFaults({ bulkProcessingMs: 8000 })
  const first = startWorker(t, databaseUrl, BULK)
  await until('the worker to start working', () => logged(first.logs, 'working jobs').length > 0)
  const { body } = await startRescore(app, ut, ADMIN, FILTER)
  const ingestJobId = await until('the ingest job to be closed', async () => {
    const { rows } = await app.pg.query<{ ingest_job_id: string }>(
      'SELECT ingest_job_id FROM rescore_bulk_jobs WHERE job_id = $1 AND state = \'closed\'', [body.jobId])
    return rows[0]?.ingest_job_id
  }, 30_000)
  first.child.kill('SIGKILL')
  await first.exited

  const second = startWorker(t, databaseUrl, BULK)
  const status = await settled(app, ut, ADMIN, body.jobId, 90_000)
  t.equal(status.state, 'completed', 'the second worker completed it')
  t.equal(status.attempts, 2, 'in a second attempt')
  t.equal(ut.org.stats.byPath['POST /jobs/ingest'], 1, 'one ingest job created')
  t.equal(ut.org.stats.byPath['PUT /jobs/ingest/{id}/batches'], 1, 'its data uploaded once')
  t.match(logged(second.logs, 'bulk ingest job processing'), [{ ingestJobId }], 'the second worker kept that job')
  t.match(ut.callbacks[0]?.body, { total: expected.length, written: expected.length, failed: 0 })
  t.equal(ut.callbacks.length, 1, 'one callback')
  const { body: final } = await jobStatus(app, ut, ADMIN, body.jobId)
  t.same(final.progress, { done: expected.length, total: expected.length })
})

t.test('resumed, upload unconfirmed: that Open job is aborted and replaced; confirmed: it is closed', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app } = await jobsApp(t, databaseUrl, { WORKER_IN_WEB: 'false' })
  const { bulk } = bulkClientFor(ut.org, ADMIN)
  const [a, b] = matching(ut).map((r) => String(r.Id))
  const records = [{ id: a ?? '', score: 41 }, { id: b ?? '', score: 42 }]
  const scoredAt = new Date(Math.floor(Date.now() / 1000) * 1000)
  const columns = ['Id', 'Health_Score__c', 'Health_Scored_At__c']
  const data = toCsv(columns, records.map((r) => [r.id, r.score, scoredAt.toISOString()]))
  const signal = new AbortController().signal
  const db = orgScope(app.pg, '00D000000000001AAA')
  const context = (jobId: string) => ({ db, jobId, bulk, signal, log: app.log, progress: async () => {} })
  const run = async (state: 'created' | 'uploaded'): Promise<{ jobId: string, orphan: string }> => {
    const jobId = crypto.randomUUID()
    await db.query('INSERT INTO rescore_runs (job_id, scored_at, total) VALUES ($1, $2, 2)', [jobId, scoredAt])
    // What a worker killed right after the upload (its answer not yet recorded, or recorded) left behind.
    const orphan = await bulk.create('Account', 'update')
    await bulk.upload(orphan, data)
    const chunk: Chunk = { chunkNo: 0, firstBatch: 0, lastBatch: 0, state, ingestJobId: orphan }
    await db.query(`INSERT INTO rescore_bulk_jobs (job_id, chunk_no, first_batch, last_batch, ingest_job_id, state)
      VALUES ($1, 0, 0, 0, $2, $3)`, [jobId, orphan, state])
    ut.org.resetStats()
    await sendChunk(context(jobId), chunk, async () => data.split('\n').slice(1, -1).map((line) => `${line}\n`))
    const outcome = await awaitChunk(context(jobId), chunk)
    t.same([...outcome.written].sort(), records.map((r) => r.id.slice(0, 15)).sort(), `${state}: both written`)
    return { jobId, orphan }
  }

  const created = await run('created')
  t.equal((await bulk.info(created.orphan)).state, 'Aborted', 'the unconfirmed Open job is aborted: never processed')
  t.equal(ut.org.stats.byPath['POST /jobs/ingest'], 1, 'a new job took its place')
  const { rows } = await app.pg.query<{ ingest_job_id: string }>(
    'SELECT ingest_job_id FROM rescore_bulk_jobs WHERE job_id = $1', [created.jobId])
  t.not(rows[0]?.ingest_job_id, created.orphan, 'and is the one recorded')

  const uploaded = await run('uploaded')
  t.equal((await bulk.info(uploaded.orphan)).state, 'JobComplete', 'a confirmed upload: that job is closed, processed')
  t.equal(ut.org.stats.byPath['POST /jobs/ingest'], undefined, 'no second job')
  t.equal(ut.org.records('Account').find((r) => r.Id === a)?.Health_Score__c, 41)
})
