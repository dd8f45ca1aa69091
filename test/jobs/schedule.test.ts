import t from 'tap'
import pg from 'pg'
import { applinkUnderTest, logged, mirroredDatabase, orgUnderTest, startWorker, until, type WorkerProcess } from './fixtures.ts'

// One minute is the finest period pg-boss's scheduler sends (60-second slots); seeing an occurrence
// leave its due window takes up to two of them.
t.setTimeout(300_000)

const ready = (worker: WorkerProcess) =>
  until('the worker to start working', () => logged(worker.logs, 'working jobs').length > 0, 120_000)

interface QueuedJob {
  id: string
  state: string
  createdOn: Date
  data: Record<string, unknown>
  output: Record<string, unknown> | null
}

async function rescoreJobs (databaseUrl: string): Promise<QueuedJob[]> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const { rows } = await client.query<QueuedJob>(`SELECT id, state, created_on AS "createdOn", data, output FROM pgboss.job
      WHERE name = 'rescore-accounts' ORDER BY created_on`)
    return rows
  } finally {
    await client.end()
  }
}

t.test('a schedule without an authorization stops the start with a clear message', async (t) => {
  const worker = startWorker(t, 'postgres://unused@127.0.0.1:1/none', { RESCORE_SCHEDULE_CRON: '0 2 * * *' })
  t.equal(await worker.exited, 1, 'the worker does not start')
  t.match(worker.logs.join(''), /RESCORE_SCHEDULE_CRON needs APPLINK_AUTHORIZATION/)
})

t.test('two workers: the schedule fires once per period, a rescore of every account as the authorization', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { applink, env } = await applinkUnderTest(t, ut)
  const scheduled = { ...env, RESCORE_SCHEDULE_CRON: '* * * * *' }
  // Both at once, on a database where pg-boss is not installed yet: they take turns installing it.
  const workers: WorkerProcess[] = [startWorker(t, databaseUrl, scheduled), startWorker(t, databaseUrl, scheduled)]
  await Promise.all(workers.map(async (worker) => await ready(worker).catch((err: unknown) => {
    t.comment(worker.logs.join('\n'))
    throw err
  })))

  const first = await until('the first scheduled rescore to complete', async () => {
    const [job] = await rescoreJobs(databaseUrl)
    return job?.state === 'completed' ? job : undefined
  }, 150_000, 1000)
  const slot = Math.floor(first.createdOn.getTime() / 60_000) * 60_000
  // Every worker's scheduler has had its passes over this occurrence once it left the due window.
  await until('the occurrence to leave its due window', () => Date.now() > slot + 75_000, 120_000, 1000)

  const jobs = await rescoreJobs(databaseUrl)
  const inSlot = jobs.filter((j) => Math.floor(j.createdOn.getTime() / 60_000) * 60_000 === slot)
  t.equal(inSlot.length, 1, 'one job for the occurrence, though two schedulers ran')
  const perMinute = new Map<number, number>()
  for (const job of jobs) {
    const minute = Math.floor(job.createdOn.getTime() / 60_000)
    perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1)
  }
  t.same([...perMinute.values()].filter((n) => n > 1), [], `no minute with two jobs (${jobs.length} jobs so far)`)
  t.match(first.data, { authorization: 'RescoreRunAs', payload: { filter: {} } }, 'every account, under the authorization')
  t.notOk('credentials' in first.data || 'orgId' in first.data, 'with no session and no owner')
  const accounts = ut.org.records('Account').filter((a) => a.IsDeleted !== true).length
  t.match(first.output, { total: accounts, written: accounts, failed: 0 }, 'it wrote every account')
  // One worker an attempt: a retry after a transient failure (a busy machine makes some) is another
  // attempt, while two workers claiming the occurrence would both start attempt 1.
  const ofFirst = (msg: string) => workers.flatMap((w) => logged(w.logs, msg)).filter((e) => e.jobId === first.id)
  const attempts = ofFirst('job started').map((e) => Number(e.attempt)).sort((a, b) => a - b)
  t.same(attempts, attempts.map((_, i) => i + 1), `worked once an attempt (attempts ${attempts.join(', ')})`)
  for (const failure of ofFirst('job attempt failed')) t.comment(`attempt ${String(failure.attempt)} failed: ${JSON.stringify(failure.err)}`)
  t.ok(applink.requests.length >= 1 && applink.requests.every((r) => r.status === 200), 'its token came from the add-on')
})
