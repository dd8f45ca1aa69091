import { MAPPING } from '../../src/postgres/mapping.ts'
import t, { type Test } from 'tap'
import { createConnectSchema } from '@applink-actions/local-connect'
import pg from 'pg'
import { createMirror } from '../../src/postgres/mirror.ts'
import { migrate } from '../../src/postgres/migrate.ts'
import { orgScope } from '../../src/postgres/org-scope.ts'
import { productAvailability } from '../../src/postgres/availability.ts'
import { testDatabase } from './fixtures/db.ts'

const SCHEMA = 'sf_mirror'
const ORG = '00DLo0000000001AAA'

async function setup (t: Test) {
  const { pool } = await testDatabase(t)
  await createConnectSchema(pool, SCHEMA, MAPPING)
  // Rows as the sync (Connect's session) writes them.
  const client = await pool.connect()
  await client.query('BEGIN; SET LOCAL xmlbinary = hex')
  await client.query(`INSERT INTO ${SCHEMA}.product2 (sfid, name, productcode, family, isactive, external_id__c, systemmodstamp, isdeleted) VALUES
    ('01t000000000001AAA', 'Widget', 'W-1', 'Hardware', true, 'P-1', '2026-01-02 03:04:05', false),
    ('01t000000000002AAA', 'Gadget', 'G-1', 'Hardware', false, 'P-2', '2026-01-03 00:00:00', false),
    ('01t000000000003AAA', 'Gone', 'X-1', 'Software', true, 'P-3', '2026-01-04 00:00:00', true)`)
  await client.query(`INSERT INTO ${SCHEMA}.opportunity (sfid, name, closedate, amount, iswon, systemmodstamp, isdeleted) VALUES
    ('006000000000001AAA', 'Big deal', '2026-03-31', 125000.5, false, '2026-01-01 00:00:00', false)`)
  await client.query('COMMIT')
  client.release()
  return { pool, mirror: createMirror(pool, SCHEMA) }
}

t.test('reads: typed rows, isdeleted filtered by default, parameters only', async (t) => {
  const { mirror } = await setup(t)
  const active = await mirror.find('product2', {}, { orderBy: 'name' })
  t.same(active.map((r) => r.name), ['Gadget', 'Widget'], 'deleted rows are left out')
  t.equal((await mirror.find('product2', {}, { includeDeleted: true })).length, 3)
  t.same((await mirror.find('product2', { productcode: ['W-1', 'X-1'] })).map((r) => r.sfid), ['01t000000000001AAA'])
  t.equal(await mirror.count('product2', { isactive: true }), 1)
  const widget = await mirror.findOne('product2', { sfid: '01t000000000001AAA' })
  t.ok(widget?.systemmodstamp instanceof Date)
  t.equal(widget?.systemmodstamp?.toISOString(), '2026-01-02T03:04:05.000Z', 'timestamps are read as UTC')
  const opp = await mirror.findOne('opportunity', { name: 'Big deal' })
  t.equal(opp?.closedate, '2026-03-31', 'dates stay calendar dates')
  t.equal(opp?.amount, 125000.5)
  t.equal(opp?.iswon, false)
  t.same(await mirror.find('product2', { name: "x' OR '1'='1" }), [], 'values are parameters')
  await t.rejects(mirror.find('product2', { 'name; DROP TABLE x': 1 } as never), /no column/)
  await t.rejects(mirror.find('nope' as never), /not a mirrored table/)
  t.equal(mirror.table('case'), '"sf_mirror"."case"')
})

t.test('writes: read-write tables only, PENDING until the sync reports', async (t) => {
  const { pool, mirror } = await setup(t)
  const written = await mirror.insert('product_feedback__c', {
    rating__c: 4, comment__c: 'Solid', external_id__c: 'fb-1', product__r__external_id__c: 'P-1'
  })
  t.match(written, { id: Number, _hc_lastop: 'PENDING' })
  t.same(await mirror.syncStatus('product_feedback__c', written.id), { state: 'PENDING', sfid: null, lastop: 'PENDING' })
  t.match(await mirror.update('product_feedback__c', written.id, { rating__c: 5 }), { id: written.id, _hc_lastop: 'PENDING' })
  t.equal(await mirror.update('product_feedback__c', 999999, { rating__c: 5 }), undefined)
  await t.rejects(mirror.insert('product2' as never, { name: 'x' } as never), /read-only/)
  await t.rejects(mirror.insert('product_feedback__c', { name: 'PF-1' } as never), /cannot be written/, 'autonumber name is computed')
  await t.rejects(mirror.insert('product_feedback__c', { sfid: 'a01000000000001AAA' } as never), /cannot be written/)

  const { rows } = await pool.query(`SELECT action, hstore_to_json("values"::hstore) AS v FROM ${SCHEMA}._trigger_log ORDER BY id`)
  t.match(rows, [{ action: 'INSERT', v: { rating__c: '4', product__r__external_id__c: 'P-1' } }, { action: 'UPDATE', v: { rating__c: '5' } }])

  // What the sync records on success and on failure (Connect's session).
  const client = await pool.connect()
  await client.query('BEGIN; SET LOCAL xmlbinary = hex')
  await client.query(`UPDATE ${SCHEMA}.product_feedback__c SET sfid = 'a01000000000001AAA', _hc_lastop = 'INSERTED' WHERE id = $1`, [written.id])
  await client.query('COMMIT')
  t.same(await mirror.syncStatus('product_feedback__c', written.id), { state: 'SYNCED', sfid: 'a01000000000001AAA', lastop: 'INSERTED' })

  const failed = await mirror.insert('product_feedback__c', { rating__c: 9, external_id__c: 'fb-2' })
  await client.query('BEGIN; SET LOCAL xmlbinary = hex')
  await client.query(`UPDATE ${SCHEMA}.product_feedback__c SET _hc_lastop = 'FAILED', _hc_err = $2 WHERE id = $1`, [failed.id,
    JSON.stringify({ op: 'INSERT', src: 'SFDC', errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: 'Rating must be 1 to 5', fields: ['Rating__c'] })])
  await client.query('COMMIT')
  client.release()
  t.same(await mirror.syncStatus('product_feedback__c', failed.id), {
    state: 'FAILED',
    sfid: null,
    lastop: 'FAILED',
    error: { errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: 'Rating must be 1 to 5', fields: ['Rating__c'] }
  })
  t.equal(await mirror.syncStatus('product_feedback__c', 424242), undefined)

  t.equal(await mirror.remove('product_feedback__c', failed.id), true)
  t.equal(await mirror.remove('product_feedback__c', failed.id), false)
})

t.test('freshness: newest SystemModstamp and the last recorded poll', async (t) => {
  const { pool, mirror } = await setup(t)
  t.same(await mirror.freshness('product2'), { newestSystemModstamp: new Date('2026-01-04T00:00:00Z'), lastPolledAt: null })
  await pool.query(`UPDATE ${SCHEMA}._hcmeta SET details = '{"polled_at":{"product2":"2026-02-01T10:00:00.000Z"}}'`)
  t.same(await mirror.freshness('product2'), { newestSystemModstamp: new Date('2026-01-04T00:00:00Z'), lastPolledAt: new Date('2026-02-01T10:00:00.000Z') })
  t.same(await mirror.freshness('case'), { newestSystemModstamp: null, lastPolledAt: null })
})

t.test('statements named per schema run on their generic plan from the first call (issue 24)', async (t) => {
  const { pool } = await setup(t)
  await migrate(pool)
  // One connection, so its prepared statements are the ones the calls made.
  const one = new pg.Pool({ ...pool.options, max: 1 })
  // The database's teardown (registered first) may terminate its idle connection before it ends.
  one.on('error', () => {})
  t.teardown(async () => { await one.end() })
  const mirror = createMirror(one, SCHEMA)
  await mirror.freshness('product2')
  const rows = await productAvailability(orgScope(one, ORG), mirror, ['W-1', 'NOPE'])
  t.same(rows.map((r) => r.productId), ['01t000000000001AAA', null])
  const { rows: plans } = await one.query<{ name: string, generic_plans: string, custom_plans: string }>(
    'SELECT name, generic_plans, custom_plans FROM pg_prepared_statements ORDER BY name')
  t.same(plans.map((p) => [p.name, p.generic_plans, p.custom_plans]), [
    [`freshness-${SCHEMA}-product2`, '1', '0'],
    [`product-availability-${SCHEMA}`, '1', '0']
  ], 'no trial custom plans: a connection prepares them once per org\'s schema')
  const scoped = await one.query<{ mode: string }>('SELECT current_setting(\'plan_cache_mode\') AS mode')
  t.equal(scoped.rows[0]?.mode, 'auto', 'the setting ended with its transaction')
})
