// A big rescore streams: the mirror is planned a page at a time, the Bulk API 2.0 upload is split at
// RESCORE_BULK_UPLOAD_BYTES into several ingest jobs, and a worker killed between two of them, or while
// planning, is replaced by one that goes on without sending anything Salesforce may have processed.
import t, { type Test } from 'tap'
import type { Faults } from '@applink-actions/local-org'
import { toCsv } from '../../src/salesforce/bulk.ts'
import type { RescoreSummaryType } from '../../src/schemas/jobs.ts'
import type { AccountScore } from '../../src/jobs/account-health.ts'
import {
  jobStatus, jobsApp, logged, mirroredDatabase, orgUnderTest, settled, startRescore, startWorker, until,
  type OrgUnderTest
} from './fixtures.ts'
import { bulkClientFor } from '../salesforce/bulk-client.ts'

const ADMIN = 'admin@acme.local'
const FILTER = { segment: 'Customer', industry: 'Technology' } as const
/** About two batches of 200 a job (47 bytes a line): several ingest jobs for 2,000 accounts. */
const UPLOAD_BYTES = 20_000
/** Pages of the plan of 2,000 accounts: a few pages for a few thousand accounts. */
const PAGES = { RESCORE_PLAN_PAGE_SIZE: '2000' }
const SPLIT = { ...PAGES, RESCORE_BULK_THRESHOLD: '0', RESCORE_BULK_UPLOAD_BYTES: String(UPLOAD_BYTES) }

const matching = (ut: OrgUnderTest): string[] => ut.org.records('Account')
  .filter((a) => a.Type === FILTER.segment && a.Industry === FILTER.industry && a.IsDeleted !== true)
  .map((a) => String(a.Id))

/** How many ingest jobs Salesforce completed with each account among its successful records. */
async function ingested (ut: OrgUnderTest): Promise<{ completed: number, times: Map<string, number> }> {
  const { bulk, rest } = bulkClientFor(ut.org, ADMIN)
  const { records } = await rest.request<{ records: Array<{ id: string, state: string }> }>('GET', '/jobs/ingest')
  const completed = records.filter((j) => j.state === 'JobComplete')
  const times = new Map<string, number>()
  for (const job of completed) {
    for (const id of (await bulk.results(job.id)).written) times.set(id, (times.get(id) ?? 0) + 1)
  }
  return { completed: completed.length, times }
}

const twice = (times: Map<string, number>): string[] => [...times].filter(([, n]) => n > 1).map(([id]) => id)

/** A rescore of `accounts` accounts started with a worker process of its own, which the test may kill. */
async function workerRun (t: Test, accounts: number, faults: Faults, env: Record<string, string>) {
  const ut = await orgUnderTest(t, accounts)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app } = await jobsApp(t, databaseUrl, { WORKER_IN_WEB: 'false' })
  ut.org.setFaults(faults)
  ut.org.clearSoqlLog()
  const first = startWorker(t, databaseUrl, env)
  await until('the worker to start working', () => logged(first.logs, 'working jobs').length > 0)
  const { body } = await startRescore(app, ut, ADMIN, FILTER)
  return { ut, app, databaseUrl, expected: matching(ut), first, jobId: body.jobId }
}

interface ChunkRow { chunk_no: number, first_batch: number, last_batch: number, state: string, ingest_job_id: string }

t.test('a run split at the upload limit: several ingest jobs, each within it, progress advancing', async (t) => {
  const ut = await orgUnderTest(t, 2000)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app } = await jobsApp(t, databaseUrl, SPLIT)
  const expected = matching(ut)
  ut.org.setFaults({ bulkProcessingMs: 200 })
  ut.org.resetStats()
  ut.org.clearSoqlLog()
  const { body } = await startRescore(app, ut, ADMIN, FILTER)
  const seen: Array<{ done: number, total: number }> = []
  for (;;) {
    const { body: status } = await jobStatus(app, ut, ADMIN, body.jobId)
    seen.push(status.progress)
    if (status.state === 'completed' || status.state === 'failed') break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const status = await settled(app, ut, ADMIN, body.jobId)
  t.equal(status.state, 'completed')
  t.match(ut.callbacks[0]?.body as RescoreSummaryType,
    { total: expected.length, written: expected.length, failed: 0, notPermitted: 0 })

  const { rows: chunks } = await app.pg.query<ChunkRow>(
    'SELECT * FROM rescore_bulk_jobs WHERE job_id = $1 ORDER BY chunk_no', [body.jobId])
  t.ok(chunks.length >= 5, `${chunks.length} ingest jobs for ${expected.length} accounts`)
  t.equal(ut.org.stats.byPath['POST /jobs/ingest'], chunks.length, 'one created per chunk')
  t.equal(ut.org.stats.byPath['PUT /jobs/ingest/{id}/batches'], chunks.length, 'each uploaded once')
  const { rows: batches } = await app.pg.query<{ batch_no: number, records: AccountScore[] }>(
    'SELECT batch_no, records FROM rescore_batches WHERE job_id = $1', [body.jobId])
  const scoredAt = (ut.callbacks[0]?.body as RescoreSummaryType).scoredAt
  const sizes = chunks.map((c) => Buffer.byteLength(toCsv(['Id', 'Health_Score__c', 'Health_Scored_At__c'], batches
    .filter((b) => b.batch_no >= c.first_batch && b.batch_no <= c.last_batch)
    .flatMap((b) => b.records.map((r) => [r.id, r.score, scoredAt])))))
  t.ok(sizes.every((size) => size <= UPLOAD_BYTES), `every upload within ${UPLOAD_BYTES} bytes (${sizes.join(', ')})`)
  t.same(chunks.map((c) => c.first_batch), [0, ...chunks.slice(0, -1).map((c) => c.last_batch + 1)],
    'the chunks follow each other, batch after batch')

  const { times } = await ingested(ut)
  t.same([...times.keys()].sort(), [...expected].sort(), 'every account written')
  t.same(twice(times), [], 'none twice')
  // The mirror is read and its visibility asked a page (RESCORE_PLAN_PAGE_SIZE) at a time, bounded by ids.
  const ranged = ut.org.soqlLog.filter((q) => /FROM Account WHERE .*Id >= '\w+' AND Id <= '\w+'/.test(q.soql))
  t.equal(ranged.length, Math.ceil(expected.length / 2000), `${ranged.length} pages of the plan`)

  const running = seen.filter((p) => p.total === expected.length && p.done > 0 && p.done < expected.length)
  t.ok(new Set(running.map((p) => p.done)).size >= 2, `progress advanced: ${[...new Set(seen.map((p) => p.done))].join(', ')}`)
  t.ok(seen.every((p, i) => i === 0 || p.done >= (seen[i - 1]?.done ?? 0)), 'and never went back')
  t.same(status.progress, { done: expected.length, total: expected.length })
})

t.test('a worker killed between two ingest jobs: the next goes on, no account processed twice', async (t) => {
  const { ut, app, databaseUrl, expected, first, jobId } = await workerRun(t, 2000, { bulkProcessingMs: 1000 }, SPLIT)
  const chunks = async () => (await app.pg.query<ChunkRow>(
    'SELECT * FROM rescore_bulk_jobs WHERE job_id = $1 ORDER BY chunk_no', [jobId])).rows
  await until('an ingest job done and the next one sent', async () => {
    const now = await chunks()
    return now.some((c) => c.state === 'done') && now.some((c) => c.state !== 'done')
  }, 30_000)
  first.child.kill('SIGKILL')
  await first.exited
  const before = await chunks()
  t.ok(before.some((c) => c.state !== 'done'), `killed with chunks ${before.map((c) => c.state).join(', ')}`)

  startWorker(t, databaseUrl, SPLIT)
  const status = await settled(app, ut, ADMIN, jobId, 90_000)
  t.equal(status.state, 'completed', 'the second worker completed it')
  t.equal(status.attempts, 2, 'in a second attempt')
  const after = await chunks()
  t.same(after.slice(0, before.length).map((c) => [c.first_batch, c.last_batch]),
    before.map((c) => [c.first_batch, c.last_batch]), 'the chunks of the first attempt kept their batches')
  const kept = before.filter((c) => c.state === 'closed' || c.state === 'done')
  t.same(kept.map((c) => after[c.chunk_no]?.ingest_job_id), kept.map((c) => c.ingest_job_id),
    'and their ingest jobs, which Salesforce had')
  // A job created but never given data (killed while `creating`) stays Open: Salesforce never processes it.
  const { completed, times } = await ingested(ut)
  t.equal(completed, after.length, 'one processed ingest job per chunk')
  t.same([...times.keys()].sort(), [...expected].sort(), 'every account written')
  t.same(twice(times), [], 'none by two ingest jobs')
  t.match(ut.callbacks[0]?.body, { total: expected.length, written: expected.length, failed: 0 })
  t.equal(ut.callbacks.length, 1, 'one callback')
})

t.test('a worker killed while planning: the next plans on from the last account stored', async (t) => {
  // Every org call waits: each page's visibility query is slow enough to be caught between two.
  const { ut, app, databaseUrl, expected, first, jobId } = await workerRun(t, 5000, { latencyMs: 1000 }, PAGES)
  const planned = async () => (await app.pg.query<{ planned: boolean, total: number, batches: number }>(
    `SELECT planned, total, (SELECT count(*)::int FROM rescore_batches b WHERE b.job_id = r.job_id) AS batches
       FROM rescore_runs r WHERE job_id = $1`, [jobId])).rows[0]
  const partial = await until('a page planned, not all', async () => {
    const run = await planned()
    return run !== undefined && run.batches > 0 && !run.planned ? run : undefined
  }, 30_000)
  first.child.kill('SIGKILL')
  await first.exited
  t.ok(partial.total > 0 && partial.total < expected.length, `killed with ${partial.total} of ${expected.length} planned`)

  ut.org.setFaults({ latencyMs: 0 })
  startWorker(t, databaseUrl, PAGES)
  const status = await settled(app, ut, ADMIN, jobId, 90_000)
  t.equal(status.state, 'completed', 'the second worker completed it')
  const { rows } = await app.pg.query<{ id: string, n: number }>(
    `SELECT r ->> 'id' AS id, count(*)::int AS n FROM rescore_batches, jsonb_array_elements(records) r
      WHERE job_id = $1 GROUP BY 1`, [jobId])
  t.same(rows.filter((r) => r.n > 1), [], 'no account planned twice')
  t.same(rows.map((r) => r.id).sort(), [...expected].sort(), 'every account planned')
  const pages = Math.ceil(expected.length / 2000)
  const ranged = ut.org.soqlLog.filter((q) => q.soql.includes('Id >= '))
  t.ok(ranged.length <= pages + 1, `${ranged.length} visibility queries for ${pages} pages: only the one cut short again`)
  const { times } = await ingested(ut)
  t.same([...times.keys()].sort(), [...expected].sort(), 'every account written')
  t.same(twice(times), [], 'none twice')
  t.match(ut.callbacks[0]?.body, { total: expected.length, written: expected.length })
})
