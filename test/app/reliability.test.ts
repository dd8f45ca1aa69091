import t from 'tap'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startEmbeddedPostgres } from '../../src/postgres/embedded.ts'
import { startStack } from '../stack.ts'
import { TEST_ORG_ID, assertError, buildApp, clientContext, encodeContext, testConfig, userInfoOrg } from '../helper.ts'

type Rec = Record<string, unknown>

t.test('one structured log line per action invocation, never the token', async (t) => {
  const s = await startStack(t)
  const rep1 = s.org.user('rep1@acme.local')
  const opp = s.org.records('Opportunity').find((o) => o.OwnerId === rep1.id && s.org.records('OpportunityLineItem').some((l) => l.OpportunityId === o.Id)) as Rec
  const header = s.org.mintContext('rep1@acme.local')
  const context = JSON.parse(Buffer.from(header, 'base64').toString()) as { requestId: string, accessToken: string, orgId: string }
  s.logs.length = 0
  const res = await s.app.inject({ method: 'POST', url: '/actions/generateQuote', headers: { 'x-client-context': header }, payload: { opportunityId: opp.Id } })
  t.equal(res.statusCode, 200)
  const lines = s.logs.map((l) => JSON.parse(l) as Rec).filter((l) => l.msg === 'action')
  t.equal(lines.length, 1, 'exactly one action line')
  t.equal(s.logs.length, 1, 'and no other line for the request (each line is a synchronous write)')
  t.match(lines[0], { operationId: 'generateQuote', status: 200, orgApiCalls: 2, requestId: context.requestId, orgId: context.orgId, userId: rep1.id })
  t.ok(Number(lines[0]?.dbQueries) >= 2, 'database queries counted')
  t.type(lines[0]?.durationMs, 'number')
  t.notOk(s.logs.join('').includes(context.accessToken), 'no token in any line')

  s.logs.length = 0
  await s.call('checkAvailability', { items: [{ productCode: 'x', quantity: 1 }] })
  const mirrorLine = s.logs.map((l) => JSON.parse(l) as Rec).find((l) => l.msg === 'action')
  t.match(mirrorLine, { operationId: 'checkAvailability', status: 200, orgApiCalls: 0 })
})

t.test('near the org\'s daily API limit, org actions answer 503 and mirror actions keep working', async (t) => {
  const s = await startStack(t, { env: { API_LIMIT_FLOOR_PERCENT: '10' } })
  const rep1 = s.org.user('rep1@acme.local')
  const [account, another] = s.org.records('Account').filter((a) => a.OwnerId === rep1.id) as Rec[]
  await s.sync.stop()
  // Other work spends 37 of the org's 40 daily calls; the next answer shows 5 % left, under the 10 % floor.
  s.org.resetStats()
  s.org.setFaults({ dailyApiLimit: 40 })
  const auth = { authorization: `Bearer ${s.org.user('admin@acme.local').accessToken}` }
  for (let i = 0; i < 37; i++) await fetch(`${s.org.url}/services/data/v62.0/limits`, { headers: auth }).then((r) => r.arrayBuffer())
  const first = await s.call('accountInsights', { accountId: account?.Id })
  t.equal(first.statusCode, 200, 'the call that reveals the usage still runs')
  const refused = await s.call('accountInsights', { accountId: another?.Id })
  assertError(t, refused, 503, 'API_LIMIT_NEAR')
  t.ok(Number(refused.headers['retry-after']) > 0, 'with Retry-After')
  const before = s.org.stats.byUser['rep1@acme.local']
  assertError(t, await s.call('generateQuote', { opportunityId: String(s.org.records('Opportunity')[0]?.Id) }), 503, 'API_LIMIT_NEAR')
  t.equal(s.org.stats.byUser['rep1@acme.local'], before, 'no call was spent')
  const mirror = await s.call('checkAvailability', { items: [{ productCode: String(s.org.records('Product2')[0]?.ProductCode), quantity: 1 }] })
  t.equal(mirror.statusCode, 200, 'mirror-only actions keep working')
})

t.test('PostgreSQL down: 503 with Retry-After within a bound, healthcheck says so, recovery by itself', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'applink-outage-'))
  await chmod(dir, 0o755)
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  let db = await startEmbeddedPostgres(path.join(dir, 'pg'))
  const port = Number(new URL(db.url).port)
  t.teardown(() => db.stop())
  // The table below is made by hand, not by Connect: no _hcmeta names its org, so the config does.
  const { app } = await buildApp(t, {
    config: testConfig({ DATABASE_URL: db.url, DATABASE_TIMEOUT_MS: '1000', MIRROR_SCHEMAS: `${TEST_ORG_ID}:salesforce` })
  })
  const context = encodeContext(clientContext({ orgDomainUrl: await userInfoOrg(t) }))
  const call = async () => await app.inject({ method: 'POST', url: '/actions/getSyncStatus', headers: { 'x-client-context': context }, payload: { feedbackId: 1 } })
  await app.pg.query('CREATE SCHEMA IF NOT EXISTS salesforce; CREATE TABLE IF NOT EXISTS salesforce.product_feedback__c (id serial, sfid varchar(18), _hc_lastop varchar(32), _hc_err text)')
  t.equal((await call()).statusCode, 404, 'works while the database is up')

  await db.stop()
  const started = Date.now()
  const down = await call()
  assertError(t, down, 503, 'DATABASE_UNAVAILABLE')
  t.ok(Number(down.headers['retry-after']) > 0, 'Retry-After')
  t.ok(Date.now() - started < 5000, `answered in ${Date.now() - started} ms, not a hang`)
  const health = await app.inject({ method: 'GET', url: '/healthcheck' })
  t.equal(health.statusCode, 503)
  t.equal(health.json().database.ok, false)

  db = await startEmbeddedPostgres(path.join(dir, 'pg'), () => {}, port)
  let recovered = 0
  for (let i = 0; i < 20 && recovered !== 404; i++) recovered = (await call()).statusCode
  t.equal(recovered, 404, 'answers again once the database is back, without a restart')
  t.equal((await app.inject({ method: 'GET', url: '/healthcheck' })).statusCode, 200)
})
