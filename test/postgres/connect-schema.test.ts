import { MAPPING } from '../../src/postgres/mapping.ts'
import pg from 'pg'
import t from 'tap'
import { createConnectSchema } from '@applink-actions/local-connect'
import { testDatabase } from './fixtures/db.ts'

const SCHEMA = 'salesforce'

t.test('tables, columns, types and indexes are what Connect creates', async (t) => {
  const { pool } = await testDatabase(t)
  await createConnectSchema(pool, SCHEMA, MAPPING)
  await createConnectSchema(pool, SCHEMA, MAPPING) // idempotent

  const { rows: tables } = await pool.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [SCHEMA])
  t.same(tables.map((r) => r.table_name), [
    '_hcmeta', '_sf_event_log', '_trigger_log', '_trigger_log_archive', 'account', 'case', 'contact',
    'opportunity', 'opportunitylineitem', 'pricebook2', 'pricebookentry', 'product2', 'product_feedback__c'
  ])
  const { rows: cols } = await pool.query(
    `SELECT column_name, format_type(atttypid, atttypmod) AS type, column_default
       FROM information_schema.columns c JOIN pg_attribute a ON a.attrelid = ($1 || '.account')::regclass AND a.attname = c.column_name
      WHERE table_schema = $1 AND table_name = 'account'`, [SCHEMA])
  const type = Object.fromEntries(cols.map((c) => [c.column_name, c.type]))
  t.match(type, {
    id: 'integer',
    sfid: 'character varying(18)',
    systemmodstamp: 'timestamp without time zone',
    isdeleted: 'boolean',
    _hc_lastop: 'character varying(32)',
    _hc_err: 'text',
    name: 'character varying(255)',
    ownerid: 'character varying(18)',
    annualrevenue: 'double precision',
    numberofemployees: 'integer',
    health_scored_at__c: 'timestamp without time zone',
    createddate: 'timestamp without time zone'
  })
  t.notOk('id__c' in type)
  t.match(cols.find((c) => c.column_name === 'id')?.column_default, /nextval/, 'id is serial')

  const { rows: idx } = await pool.query('SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = \'product_feedback__c\'', [SCHEMA])
  const byName = Object.fromEntries(idx.map((i) => [i.indexname, i.indexdef]))
  t.match(byName.hcu_idx_product_feedback__c_sfid, /UNIQUE INDEX .* \(sfid\)/)
  t.match(byName.hcu_idx_product_feedback__c_external_id__c, /UNIQUE INDEX .* \(external_id__c\)/)
  t.match(byName.hc_idx_product_feedback__c_systemmodstamp, /INDEX .* \(systemmodstamp\)/)

  const { rows: feedback } = await pool.query(
    'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = \'product_feedback__c\'', [SCHEMA])
  t.ok(feedback.some((c) => c.column_name === 'product__r__external_id__c'), 'relationship external-id column')

  const { rows: triggers } = await pool.query(
    `SELECT event_object_table AS tbl, trigger_name, action_timing AS timing, string_agg(event_manipulation, ',' ORDER BY event_manipulation) AS events
       FROM information_schema.triggers WHERE trigger_schema = $1 GROUP BY 1, 2, 3 ORDER BY 1, 2`, [SCHEMA])
  t.same(triggers, [
    { tbl: '_trigger_log', trigger_name: 'tlog_insert_trigger', timing: 'AFTER', events: 'INSERT' },
    { tbl: 'product_feedback__c', trigger_name: 'hc_product_feedback__c_logtrigger', timing: 'AFTER', events: 'DELETE,INSERT,UPDATE' },
    { tbl: 'product_feedback__c', trigger_name: 'hc_product_feedback__c_status_trigger', timing: 'BEFORE', events: 'INSERT,UPDATE' }
  ], 'triggers on read-write tables only')
  const { rows: ext } = await pool.query('SELECT 1 FROM pg_extension WHERE extname = \'hstore\'')
  t.equal(ext.length, 1, 'hstore installed')
})

t.test('triggers: app writes are PENDING and logged, Connect session writes are SYNCED and not', async (t) => {
  const { url, pool } = await testDatabase(t)
  await createConnectSchema(pool, SCHEMA, MAPPING)
  const table = `${SCHEMA}.product_feedback__c`

  const listener = new pg.Client({ connectionString: url })
  listener.on('error', () => {})
  await listener.connect()
  t.teardown(() => listener.end())
  const pings: string[] = []
  listener.on('notification', (n) => pings.push(`${n.channel}:${n.payload}`))
  await listener.query(`LISTEN "${SCHEMA}.hc_trigger_log"`)

  const { rows: [inserted] } = await pool.query(
    `INSERT INTO ${table} (rating__c, comment__c, external_id__c, product__r__external_id__c) VALUES (4, 'ok', 'fb-1', 'P-1') RETURNING id, _hc_lastop`)
  t.equal(inserted._hc_lastop, 'PENDING')
  await pool.query(`UPDATE ${table} SET rating__c = 5 WHERE id = $1`, [inserted.id])
  await pool.query(`UPDATE ${table} SET rating__c = 5 WHERE id = $1`, [inserted.id])

  const log = async () => (await pool.query(
    `SELECT state, action, record_id, sfid, hstore_to_json(old::hstore) AS old, hstore_to_json("values"::hstore) AS values FROM ${SCHEMA}._trigger_log ORDER BY id`)).rows
  let rows = await log()
  t.equal(rows.length, 3)
  t.match(rows[0], { state: 'NEW', action: 'INSERT', record_id: inserted.id, values: { rating__c: '4', external_id__c: 'fb-1', product__r__external_id__c: 'P-1', sfid: null } })
  t.notOk('_hc_lastop' in rows[0].values, '_hc_ columns are not captured')
  t.same(rows[1].values, { rating__c: '5' }, 'an update captures only the changed column')
  t.equal(rows[2].state, 'IGNORE', 'an update that changes nothing is ignored')

  // Connect's own session (xmlbinary = hex): the row turns SYNCED, nothing is logged.
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query('SET LOCAL xmlbinary = hex')
    await client.query(`UPDATE ${table} SET sfid = 'a01000000000001AAA', _hc_lastop = 'INSERTED' WHERE id = $1`, [inserted.id])
    t.equal((await client.query(`SELECT _hc_lastop FROM ${table} WHERE id = $1`, [inserted.id])).rows[0]._hc_lastop, 'INSERTED', 'a status Connect sets is kept')
    await client.query(`UPDATE ${table} SET comment__c = 'from salesforce' WHERE id = $1`, [inserted.id])
    t.equal((await client.query(`SELECT _hc_lastop FROM ${table} WHERE id = $1`, [inserted.id])).rows[0]._hc_lastop, 'SYNCED')
    await client.query(`INSERT INTO ${table} (sfid, rating__c) VALUES ('a01000000000002AAA', 3)`)
    await client.query('COMMIT')
  } finally {
    client.release()
  }
  rows = await log()
  t.equal(rows.length, 3, 'Connect session writes add no trigger-log rows')

  await pool.query(`DELETE FROM ${table} WHERE id = $1`, [inserted.id])
  const { rows: [noSfid] } = await pool.query(`INSERT INTO ${table} (rating__c) VALUES (1) RETURNING id`)
  await pool.query(`DELETE FROM ${table} WHERE id = $1`, [noSfid.id])
  rows = await log()
  t.match(rows[3], { state: 'NEW', action: 'DELETE', sfid: 'a01000000000001AAA', values: null })
  t.match(rows[5], { state: 'IGNORE', action: 'DELETE', sfid: null }, 'deleting a row that never reached Salesforce is ignored')

  await new Promise((resolve) => setTimeout(resolve, 100))
  t.ok(pings.length >= 6 && pings.every((p) => p === `${SCHEMA}.hc_trigger_log:ping`), 'every log row pings the channel')
})

t.test('schema name is a parameter', async (t) => {
  const { pool } = await testDatabase(t)
  await createConnectSchema(pool, 'connect_alt', MAPPING)
  const { rows } = await pool.query('SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = \'connect_alt\'')
  t.equal(rows[0].n, 13)
  await t.rejects(createConnectSchema(pool, 'bad"name', MAPPING), /invalid schema name/)
})
