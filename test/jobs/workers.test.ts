import t, { type Test } from 'tap'
import { BATCH_SIZE } from '../../src/jobs/rescore-plan.ts'
import { jobStatus, jobsApp, logged, mirroredDatabase, orgUnderTest, settled, startRescore, startWorker, until, type WorkerProcess } from './fixtures.ts'

const ADMIN = 'admin@acme.local'
const SEGMENTS = ['Customer', 'Prospect', 'Partner']
const INDUSTRIES = ['Technology', 'Manufacturing', 'Healthcare', 'Retail', 'Finance']

const ready = (worker: WorkerProcess) => until('the worker to start working', () => logged(worker.logs, 'working jobs').length > 0)
const count = <T>(items: T[]) => items.reduce((m, i) => m.set(i, (m.get(i) ?? 0) + 1), new Map<T, number>())

t.test('two workers share one queue: 20 jobs, each done exactly once', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  // 20 jobs of one org queued at once: the org's cap is raised to let them all in.
  const { app } = await jobsApp(t, databaseUrl, { WORKER_IN_WEB: 'false', JOB_MAX_ACTIVE_PER_ORG: '20' })
  const workers = [startWorker(t, databaseUrl), startWorker(t, databaseUrl)]
  await Promise.all(workers.map(ready))

  const jobIds: string[] = []
  for (let i = 0; i < 20; i++) {
    const filter = { industry: INDUSTRIES[i % 5] ?? 'Retail', ...(i < 15 ? { segment: SEGMENTS[i % 3] ?? 'Customer' } : {}) }
    const { statusCode, body } = await startRescore(app, ut, ADMIN, filter, `job-${i}`)
    t.equal(statusCode, 202)
    jobIds.push(body.jobId)
  }
  const results = await Promise.all(jobIds.map(async (id) => await settled(app, ut, ADMIN, id, 90_000)))
  t.ok(results.every((r) => r.state === 'completed' && r.attempts === 1), 'every job completed in one attempt')

  const started = workers.map((w) => logged(w.logs, 'job started').map((e) => String(e.jobId)))
  const all = started.flat()
  t.same([...all].sort(), [...jobIds].sort(), 'each job was started exactly once, by one worker')
  t.ok(started.every((list) => list.length > 0), `both workers worked (${started.map((l) => l.length).join(' + ')})`)
  t.same([...count(ut.callbacks.map((c) => c.path)).values()].filter((n) => n !== 1), [], 'one callback per job')
  t.equal(ut.callbacks.length, 20)
  const totals = results.map((r) => Number(r.result?.total))
  t.equal(ut.patchCalls, totals.reduce((n, total) => n + Math.ceil(total / BATCH_SIZE), 0), 'one collection call per batch, none repeated')
  t.equal(ut.written.length, totals.reduce((n, total) => n + total, 0), 'every record of every job written once')
})

/** Workers that write ~3,000 accounts through collection calls (not one Bulk API 2.0 job). */
const COLLECTIONS = { RESCORE_BULK_THRESHOLD: '10000' }

/** A job slow enough to be caught in the middle: ~3,000 accounts, every org call delayed. */
async function slowJob (t: Test) {
  const ut = await orgUnderTest(t, 3000)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app } = await jobsApp(t, databaseUrl, { WORKER_IN_WEB: 'false' })
  const expected = ut.org.records('Account').filter((a) => a.Type === 'Customer' && a.Industry === 'Technology' && a.IsDeleted !== true).map((a) => String(a.Id))
  ut.org.setFaults({ latencyMs: 250 })
  const first = startWorker(t, databaseUrl, COLLECTIONS)
  await ready(first)
  const { body } = await startRescore(app, ut, ADMIN, { segment: 'Customer', industry: 'Technology' })
  // Mid-job: some batches written, most not.
  await until('a few batches written', async () => {
    const { body: status } = await jobStatus(app, ut, ADMIN, body.jobId)
    return status.progress.done >= 3 * BATCH_SIZE
  })
  return { ut, app, databaseUrl, expected, first, jobId: body.jobId }
}

t.test('a worker killed mid-job (SIGKILL): another resumes it and every record is written once', async (t) => {
  const { ut, app, databaseUrl, expected, first, jobId } = await slowJob(t)
  first.child.kill('SIGKILL')
  await first.exited
  const writtenBefore = ut.written.length
  t.ok(writtenBefore > 0 && writtenBefore < expected.length, `killed after ${writtenBefore} of ${expected.length} records`)

  startWorker(t, databaseUrl, COLLECTIONS)
  const status = await settled(app, ut, ADMIN, jobId, 90_000)
  t.equal(status.state, 'completed', 'the second worker completed it')
  t.equal(status.attempts, 2, 'in a second attempt')
  t.same([...count(ut.written).values()].filter((n) => n !== 1), [], 'no record written twice')
  t.same([...ut.written].sort(), [...expected].sort(), 'every record written')
  t.equal(ut.callbacks.length, 1, 'one callback')
  t.match(ut.callbacks[0]?.body, { total: expected.length, written: expected.length, failed: 0 })
})

t.test('SIGTERM: the worker stops after its current batch and hands the job back at once', async (t) => {
  const { ut, app, databaseUrl, expected, first, jobId } = await slowJob(t)
  const signalled = Date.now()
  first.child.kill('SIGTERM')
  const code = await first.exited
  const stopSeconds = (Date.now() - signalled) / 1000
  t.equal(code, 0, 'exited cleanly')
  t.ok(stopSeconds < 10, `within ${stopSeconds.toFixed(1)} s`)
  t.equal(logged(first.logs, 'job attempt failed')[0]?.errorCode, 'INTERRUPTED', 'released the job')
  const released = await jobStatus(app, ut, ADMIN, jobId)
  t.match(released.body, { state: /queued|retrying/ }, `the job is back in the queue (${released.body.state})`)

  const resumed = Date.now()
  startWorker(t, databaseUrl, COLLECTIONS)
  const status = await settled(app, ut, ADMIN, jobId, 60_000)
  t.equal(status.state, 'completed')
  t.ok(Date.now() - resumed < 20_000, 'resumed without waiting for a heartbeat timeout')
  t.same([...count(ut.written).values()].filter((n) => n !== 1), [], 'no record written twice')
  t.same([...ut.written].sort(), [...expected].sort(), 'every record written')
  t.equal(ut.callbacks.length, 1, 'one callback')
})
