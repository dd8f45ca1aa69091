// The local sync's own tests, on a mapping of their own: what Connect creates for a read-write
// table, and how its triggers tell app writes (logged, PENDING) from Connect's own (not logged).
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import t, { type Test } from 'tap'
import type { MappingDecl } from '@applink-actions/platform/connect-mapping'
import { createConnectSchema } from '../src/index.ts'

const MAPPING: MappingDecl = {
  Widget__c: {
    access: 'read_write',
    fields: {
      Id: { type: 'id' },
      SystemModstamp: { type: 'datetime' },
      IsDeleted: { type: 'boolean' },
      Name: { type: 'string', length: 80 },
      Weight__c: { type: 'double' },
      External_Id__c: { type: 'string', length: 64 }
    },
    indexes: { External_Id__c: { unique: true } },
    upsertField: 'External_Id__c'
  },
  Account: {
    access: 'read_only',
    fields: { Id: { type: 'id' }, SystemModstamp: { type: 'datetime' }, IsDeleted: { type: 'boolean' } }
  }
}

/** A database of its own on the server of DATABASE_URL, dropped when the test ends. */
async function freshDatabase (t: Test): Promise<pg.Pool> {
  const server = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres')
  const name = `local_connect_${randomBytes(6).toString('hex')}`
  server.pathname = '/postgres'
  const admin = new pg.Client({ connectionString: server.href })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  server.pathname = `/${name}`
  const pool = new pg.Pool({ connectionString: server.href, max: 2 })
  // The forced drop ends idle clients: that must not crash the test process.
  pool.on('error', () => {})
  t.teardown(async () => {
    await pool.end()
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  })
  return pool
}

t.test('Connect\'s tables, and triggers on read-write tables only', async (t) => {
  const pool = await freshDatabase(t)
  await createConnectSchema(pool, 'salesforce', MAPPING)
  await createConnectSchema(pool, 'salesforce', MAPPING) // idempotent
  const { rows: tables } = await pool.query(
    'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', ['salesforce'])
  t.same(tables.map((r) => r.table_name),
    ['_hcmeta', '_sf_event_log', '_trigger_log', '_trigger_log_archive', 'account', 'widget__c'])
  const { rows: triggers } = await pool.query(
    'SELECT DISTINCT event_object_table AS tbl FROM information_schema.triggers WHERE trigger_schema = $1 ORDER BY 1',
    ['salesforce'])
  t.same(triggers.map((r) => r.tbl), ['_trigger_log', 'widget__c'])
})

t.test('an app write is PENDING and logged; a write in Connect\'s session is neither', async (t) => {
  const pool = await freshDatabase(t)
  await createConnectSchema(pool, 'salesforce', MAPPING)
  const { rows: [row] } = await pool.query(
    'INSERT INTO salesforce.widget__c (name, weight__c, external_id__c) VALUES ($1, $2, $3) RETURNING _hc_lastop',
    ['Bolt', 1.5, 'w-1'])
  t.equal(row._hc_lastop, 'PENDING')
  const { rows: log } = await pool.query('SELECT state, action, table_name, "values" FROM salesforce._trigger_log')
  t.equal(log.length, 1)
  t.match(log[0], { state: 'NEW', action: 'INSERT', table_name: 'widget__c', values: /"name"=>"Bolt"/ })

  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query('SET LOCAL xmlbinary = hex') // what Connect's own session sets
    await client.query('UPDATE salesforce.widget__c SET sfid = $1', ['a005g00000AbCdEAAZ'])
    await client.query('COMMIT')
  } finally {
    client.release()
  }
  const { rows: after } = await pool.query('SELECT count(*)::int AS n FROM salesforce._trigger_log')
  t.equal(after[0].n, 1, 'Connect\'s write is not sent back to Salesforce')
})
