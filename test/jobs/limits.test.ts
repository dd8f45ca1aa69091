// Starting jobs is bounded: a repeat of the same work answers the job already under way, and an org
// has at most JOB_MAX_ACTIVE_PER_ORG jobs queued or running, however fast they are asked for.
import t from 'tap'
import pg from 'pg'
import { assertError } from '../helper.ts'
import { jobsApp, mirroredDatabase, orgUnderTest, startFlowRescore, startRescore } from './fixtures.ts'
import { INDUSTRIES } from '../../src/schemas/jobs.ts'

const REP = 'rep1@acme.local'
const REP2 = 'rep2@acme.local'

async function queuedJobs (databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM pgboss.job WHERE name = 'rescore-accounts'")
    return Number(rows[0]?.n)
  } finally {
    await client.end()
  }
}

t.test('100 starts in a burst: one job per filter and user, at most the org\'s cap, the rest 429', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  // No worker: every job stays queued, as when the queue is busy.
  const { app } = await jobsApp(t, databaseUrl, { WORKER_IN_WEB: 'false', JOB_MAX_ACTIVE_PER_ORG: '3' })

  const same = await Promise.all(Array.from({ length: 50 }, async () =>
    await startFlowRescore(app, ut, REP, { segment: 'Customer', industry: 'Technology' })))
  t.same([...new Set(same.map((r) => r.statusCode))], [202], 'every repeat is accepted')
  t.equal(new Set(same.map((r) => r.body.jobId)).size, 1, 'and answers the one job under way')
  t.equal(await queuedJobs(databaseUrl), 1, 'one job queued for 50 identical starts')

  const others = await Promise.all(INDUSTRIES.slice(0, 10).map(async (industry) =>
    await startFlowRescore(app, ut, REP, { industry })))
  t.equal(others.filter((r) => r.statusCode === 202).length, 2, 'two more filters fill the org\'s cap of 3')
  const refused = await app.inject({
    method: 'POST', url: '/actions/startAccountRescore', headers: { 'x-client-context': ut.context(REP2) }, payload: {}
  })
  const body = assertError(t, refused, 429, 'TOO_MANY_JOBS')
  t.match(body.message, /3 jobs queued or running/, 'the message says why')
  t.ok(Number(refused.headers['retry-after']) > 0, 'with Retry-After')
  t.equal(await queuedJobs(databaseUrl), 3, 'never more than the cap')

  const again = await startFlowRescore(app, ut, REP, { segment: 'Customer', industry: 'Technology' })
  t.equal(again.statusCode, 202, 'a repeat of a job under way is still answered at the cap')
  t.equal(again.body.jobId, same[0]?.body.jobId)
  const byAnother = await startFlowRescore(app, ut, REP2, { segment: 'Customer', industry: 'Technology' })
  t.equal(byAnother.statusCode, 429, 'another user\'s same filter is another job, and the org is at its cap')
})

t.test('the same work is the same filter, an owner in either id form, and the same callback', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app } = await jobsApp(t, databaseUrl, { WORKER_IN_WEB: 'false', JOB_MAX_ACTIVE_PER_ORG: '10' })
  const owner = ut.org.user(REP).id
  const byId = await startFlowRescore(app, ut, REP, { ownerId: owner })
  const byShortId = await startFlowRescore(app, ut, REP, { ownerId: owner.slice(0, 15) })
  t.equal(byShortId.body.jobId, byId.body.jobId, 'an owner in 15 or 18 characters is one filter')

  const withCallback = await startRescore(app, ut, REP, { ownerId: owner }, 'a')
  t.not(withCallback.body.jobId, byId.body.jobId, 'an Apex start with a callback is not answered with a job that has none')
  const sameCallback = await startRescore(app, ut, REP, { ownerId: owner }, 'a')
  t.equal(sameCallback.body.jobId, withCallback.body.jobId, 'the same callback is the same work')
  const otherCallback = await startRescore(app, ut, REP, { ownerId: owner }, 'b')
  t.not(otherCallback.body.jobId, withCallback.body.jobId, 'another callback is another job, or its caller never hears')
})
