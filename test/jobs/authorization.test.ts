// Jobs under an AppLink authorization: the real @heroku/applink SDK asks the local add-on stand-in
// for the run-as user's token; the job keeps none and still honours the caller's access.
import t from 'tap'
import pg from 'pg'
import { startLocalOrg } from '@applink-actions/local-org'
import { startLocalAppLink } from '@applink-actions/local-applink'
import { BATCH_SIZE } from '../../src/jobs/rescore-plan.ts'
import {
  AUTHORIZATION, RUN_AS, applinkUnderTest, assertNoTokensKept, financeAccounts, jobStatus, jobsApp, mirroredDatabase,
  orgUnderTest, settled, startRescore, until
} from './fixtures.ts'

const ADMIN = 'admin@acme.local'
const REP = 'rep1@acme.local'

const count = <T>(items: T[]) => items.reduce((m, i) => m.set(i, (m.get(i) ?? 0) + 1), new Map<T, number>())

async function jobData (databaseUrl: string, jobId: string): Promise<Record<string, unknown>> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const { rows } = await client.query<{ data: Record<string, unknown> }>(
      'SELECT data FROM pgboss.job WHERE id = $1', [jobId])
    return rows[0]?.data ?? {}
  } finally {
    await client.end()
  }
}

t.test('sessions expire mid-run: the job gets a fresh token from the authorization and completes; none kept', async (t) => {
  const ut = await orgUnderTest(t, 3000)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { applink, env } = await applinkUnderTest(t, ut)
  const { app, logs } = await jobsApp(t, databaseUrl, env)
  const expected = ut.org.records('Account')
    .filter((a) => a.Type === 'Customer' && a.Industry === 'Technology' && a.IsDeleted !== true)
    .map((a) => String(a.Id))
  ut.org.setFaults({ latencyMs: 100 })
  const runAsTokens = new Set([ut.org.user(RUN_AS).accessToken])

  const accepted = await startRescore(app, ut, ADMIN, { segment: 'Customer', industry: 'Technology' })
  t.equal(accepted.statusCode, 202)
  t.notOk('credentials' in await jobData(databaseUrl, accepted.body.jobId), 'the queued job carries no sealed session')
  t.match(await jobData(databaseUrl, accepted.body.jobId), { authorization: AUTHORIZATION }, 'only the authorization name')

  await until('a few batches written', async () => {
    const { body } = await jobStatus(app, ut, ADMIN, accepted.body.jobId)
    return body.progress.done >= 3 * BATCH_SIZE
  }, 120_000) // over 30 s when other test files share the machine's cores
  // The caller's session and the run-as user's both end in the middle of the run.
  ut.org.expireToken(ADMIN)
  ut.org.expireToken(RUN_AS)
  const status = await settled(app, ut, ADMIN, accepted.body.jobId, 120_000)
  runAsTokens.add(ut.org.user(RUN_AS).accessToken)

  t.equal(status.state, 'completed', 'completed')
  t.equal(status.attempts, 1, 'in its first attempt')
  t.match(status.result, { total: expected.length, written: expected.length, failed: 0, notPermitted: 0 })
  t.same([...count(ut.written).values()].filter((n) => n !== 1), [], 'no record written twice')
  t.same([...ut.written].sort(), [...expected].sort(), 'every record written')
  t.equal(runAsTokens.size, 2, 'the run-as user got a new token')
  t.same(applink.requests.map((r) => [r.developerName, r.status]), [[AUTHORIZATION, 200], [AUTHORIZATION, 200]],
    'the add-on was asked when the job started and once more after INVALID_SESSION_ID')
  t.equal(ut.callbacks.length, 1, 'one callback')
  t.equal(ut.callbacks[0]?.authorization, undefined, 'sent without a token: the run-as user\'s is not the caller\'s to give')

  await assertNoTokensKept(t, databaseUrl, accepted.body.jobId, logs,
    [...ut.tokens, ...runAsTokens, applink.env.HEROKU_APPLINK_TOKEN])
})

t.test('the run-as user writes only what the caller may edit; what the caller cannot see is not counted', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { env } = await applinkUnderTest(t, ut)
  const { app } = await jobsApp(t, databaseUrl, env)
  const { all, own, others } = financeAccounts(ut, REP)
  t.ok(own.length > 0 && others.length > 0, `rep1 owns ${own.length} of ${all.length} Finance accounts`)
  ut.org.clearSoqlLog()

  const accepted = await startRescore(app, ut, REP, { industry: 'Finance' })
  const status = await settled(app, ut, REP, accepted.body.jobId)
  t.equal(status.state, 'completed')
  const summary = ut.callbacks[0]?.body as { written: number, failed: number, notPermitted: number, failures: [] }
  t.equal(summary.written, own.length, 'the rep\'s own accounts are written')
  t.equal(summary.notPermitted, 0, 'the others, which the rep cannot see, are not counted')
  t.equal((summary as { total?: number }).total, own.length, 'nor in the total')
  t.equal(summary.failed, 0)
  t.same(summary.failures, [], 'and not listed')
  t.same([...ut.written].sort(), [...own].sort(), 'the run-as user (who may edit all) wrote only the rep\'s accounts')
  const accessQueries = ut.org.soqlLog.filter((q) => q.soql.includes('FROM UserRecordAccess'))
  const askedForTheRep = accessQueries.every((q) => q.username === RUN_AS && q.soql.includes(`UserId = '${ut.org.user(REP).id}'`))
  t.ok(accessQueries.length > 0 && askedForTheRep, 'the caller\'s access was asked through the run-as connection')
})

t.test('the add-on\'s refusals reach the job as clear failure reasons', async (t) => {
  const cases: Array<{ name: string, env: Record<string, string>, message: RegExp }> = [
    {
      name: 'an unknown authorization',
      env: { APPLINK_AUTHORIZATION: 'NoSuchAuthorization' },
      message: /NoSuchAuthorization.*Not Found - Authorization NoSuchAuthorization not found/
    },
    {
      name: 'a token the add-on refuses',
      env: { HEROKU_APPLINK_TOKEN: 'not-the-add-on-token' },
      message: /RescoreRunAs.*Unauthorized - Invalid credentials provided/
    }
  ]
  for (const c of cases) {
    await t.test(c.name, async (t) => {
      const ut = await orgUnderTest(t)
      const databaseUrl = await mirroredDatabase(t, ut.org)
      const { applink, env } = await applinkUnderTest(t, ut)
      Object.assign(process.env, c.env)
      const { app, logs } = await jobsApp(t, databaseUrl, { ...env, ...c.env })
      ut.org.resetStats()
      const accepted = await startRescore(app, ut, REP, { industry: 'Finance' })
      const status = await settled(app, ut, REP, accepted.body.jobId)
      t.equal(status.state, 'failed', 'failed for good')
      t.equal(status.attempts, 1, 'at once: asking again cannot help')
      t.equal(status.error?.errorCode, 'AUTHORIZATION_FAILED')
      t.match(status.error?.message, c.message, `the add-on's answer: ${status.error?.message ?? ''}`)
      t.equal(applink.requests.length, 1, 'the add-on was asked once')
      t.equal(ut.org.stats.apiCalls, 0, 'the org was not called')
      t.equal(ut.callbacks.length, 0, 'no callback')
      t.notOk(logs.join('').includes(applink.env.HEROKU_APPLINK_TOKEN), 'the add-on token is not logged')
    })
  }
})

t.test('an authorization of another org fails the job without naming that org', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const foreign = await startLocalOrg({ port: 0, dataset: 'small', seed: 5 })
  t.teardown(() => foreign.close())
  const applink = await startLocalAppLink({
    org: foreign, authorizations: { [AUTHORIZATION]: RUN_AS }, instanceUrl: foreign.url
  })
  t.teardown(applink.close)
  Object.assign(process.env, applink.env)
  const { app } = await jobsApp(t, databaseUrl, { ...applink.env, APPLINK_AUTHORIZATION: AUTHORIZATION })
  const accepted = await startRescore(app, ut, REP, { industry: 'Finance' })
  const status = await settled(app, ut, REP, accepted.body.jobId)
  t.equal(status.error?.errorCode, 'AUTHORIZATION_FAILED', 'refused for good')
  t.match(status.error?.message, /another org/, 'says why')
  t.notOk(status.error?.message.includes(foreign.orgId.slice(0, 15)), 'without the other org\'s id')
  t.equal(ut.written.length, 0, 'nothing written')
})
