// The scheduled rescore with several orgs: one schedule per org's authorization, each run in its own
// org, and schedules no longer configured removed.
import t from 'tap'
import { startStack, type StackOrg } from '../stack.ts'
import { buildApp, testDatabase, until } from '../helper.ts'

// One minute is the finest period pg-boss's scheduler sends.
t.setTimeout(300_000)

const ADDON = { HEROKU_APP_ID: 'b1f0', HEROKU_APPLINK_API_URL: 'http://127.0.0.1:1/addons/1', HEROKU_APPLINK_TOKEN: 'x' }

t.test('one schedule per authorization, keyed by it; one dropped from the config goes', async (t) => {
  const { url, pool } = await testDatabase(t, 'schedules')
  const schedules = async () => (await pool.query<{ key: string, data: { authorization: string } }>(
    'SELECT key, data FROM pgboss.schedule WHERE name = \'rescore-accounts\' ORDER BY key')).rows
  const env = {
    ...ADDON,
    DATABASE_URL: url,
    RESCORE_SCHEDULE_CRON: '0 2 * * *',
    APPLINK_AUTHORIZATION: 'AcmeRunAs',
    APPLINK_AUTHORIZATIONS: '00D000000000001AAA:AcmeRunAs,00D000000000002AAA:GlobexRunAs'
  }
  const first = await buildApp(t, { env })
  t.same((await schedules()).map((s) => [s.key, s.data.authorization]),
    [['AcmeRunAs', 'AcmeRunAs'], ['GlobexRunAs', 'GlobexRunAs']], 'one each, the default counted once')
  await first.app.close()
  await buildApp(t, { env: { ...env, APPLINK_AUTHORIZATIONS: '00D000000000001AAA:AcmeRunAs' } })
  t.same((await schedules()).map((s) => s.key), ['AcmeRunAs'], 'globex\'s went with its mapping')
})

t.test('each org\'s scheduled rescore runs under its own authorization, in its own org', async (t) => {
  const s = await startStack(t, {
    orgs: ['acme', 'globex'],
    env: { RESCORE_SCHEDULE_CRON: '* * * * *', JOB_POLL_SECONDS: '0.5', JOB_SUPERVISE_SECONDS: '1' }
  })
  const acme = s.orgs.acme as StackOrg
  const globex = s.orgs.globex as StackOrg
  const jobs = await until('a scheduled rescore of each org to complete', async () => {
    const { rows } = await s.pool.query<{ data: { authorization: string }, output: { total: number } }>(
      'SELECT data, output FROM pgboss.job WHERE name = \'rescore-accounts\' AND state = \'completed\'')
    const done = new Map(rows.map((r) => [r.data.authorization, r.output]))
    return done.has(acme.authorization) && done.has(globex.authorization) ? done : undefined
  }, 200_000, 1000)
  const accounts = (o: StackOrg) => o.org.records('Account').filter((a) => a.IsDeleted !== true).length
  t.match(jobs.get(globex.authorization), { total: accounts(globex) }, 'globex\'s run rescored globex\'s accounts')
  t.match(jobs.get(acme.authorization), { total: accounts(acme) }, 'acme\'s run rescored acme\'s accounts')
  t.equal(acme.org.stats.byUser['integration@globex.local'], undefined, 'no globex user called acme')
})
