// Before Heroku Connect has made its tables: the actions that read them answer 503 MIRROR_NOT_READY
// naming the table and what creates it (not a 500), and /healthcheck says what is missing while
// staying healthy; once the tables exist, both say so.
import t from 'tap'
import { createConnectSchema } from '@applink-actions/local-connect'
import { MAPPING } from '../../src/postgres/mapping.ts'
import {
  TEST_ORG_ID, assertError, buildApp, clientContext, encodeContext, testConfig, testDatabase, userInfoOrg
} from '../helper.ts'

t.test('a mirror Connect has not filled: 503 MIRROR_NOT_READY, and the healthcheck tells', async (t) => {
  const { url, pool } = await testDatabase(t, 'notready')
  // A schema that names the org but holds one mapped table so far, as while mappings are created.
  await pool.query('CREATE SCHEMA salesforce; CREATE TABLE salesforce.product_feedback__c (id serial, sfid varchar(18), _hc_lastop varchar(32), _hc_err text, systemmodstamp timestamp)')
  const { app } = await buildApp(t, { config: testConfig({ DATABASE_URL: url, MIRROR_SCHEMAS: `${TEST_ORG_ID}:salesforce` }) })
  const headers = { 'x-client-context': encodeContext(clientContext({ orgDomainUrl: await userInfoOrg(t) })) }

  const call = async () => await app.inject({
    method: 'POST', url: '/actions/checkAvailability', headers, payload: { items: [{ productCode: 'HW-0001', quantity: 1 }] }
  })
  const notReady = assertError(t, await call(), 503, 'MIRROR_NOT_READY')
  t.match(notReady.message, /salesforce\.(product2|pricebookentry|pricebook2) does not exist yet: Heroku Connect creates it/)
  t.match(notReady.message, /heroku connect:import/, 'it says what creates the table')

  const health = await app.inject({ method: 'GET', url: '/healthcheck' })
  t.equal(health.statusCode, 200, 'the dyno is healthy all the same')
  const body = health.json()
  t.equal(body.status, 'ok')
  t.equal(body.mirror.ready, false)
  t.match(body.mirror.orgs, [{ orgId: TEST_ORG_ID.slice(0, 15), schema: 'salesforce', ready: false }])
  t.ok(body.mirror.orgs[0].missingTables.includes('product2'), 'the missing tables are named')
  t.notOk(body.mirror.orgs[0].missingTables.includes('product_feedback__c'))

  await pool.query('DROP SCHEMA salesforce CASCADE')
  await createConnectSchema(pool, 'salesforce', MAPPING)
  t.equal((await call()).statusCode, 200, 'answers once the tables exist')
  const ready = (await app.inject({ method: 'GET', url: '/healthcheck' })).json()
  t.match(ready.mirror, { ready: true, orgs: [{ ready: true, missingTables: [] }] })
})

t.test('no Connect schema at all: the healthcheck says how an org gets one', async (t) => {
  const { url } = await testDatabase(t, 'nomirror')
  const { app } = await buildApp(t, { config: testConfig({ DATABASE_URL: url }) })
  const body = (await app.inject({ method: 'GET', url: '/healthcheck' })).json()
  t.equal(body.status, 'ok')
  t.match(body.mirror, { ready: false, orgs: [], message: /_hcmeta/ })
})
