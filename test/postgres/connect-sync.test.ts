import t, { type Test } from 'tap'
import { until as waitFor } from '../helper.ts'
import { startLocalSync, type LocalSync, type LocalSyncOptions } from '@applink-actions/local-connect'
import { startLocalOrg } from '@applink-actions/local-org'
import { MAPPING } from '../../src/postgres/mapping.ts'
import { createMirror, type MirrorTable } from '../../src/postgres/mirror.ts'
import { testDatabase } from './fixtures/db.ts'
import { largeMirror } from './fixtures/large-mirror.ts'

const SCHEMA = 'salesforce'
type Fields = Record<string, unknown>
/** The org's records are `{ type, f: fields }`; tests read the fields. */
const fieldsOf = (rec: unknown): Fields => ((rec as { f?: Fields }).f ?? rec) as Fields

async function setup (t: Test) {
  const { url, pool } = await testDatabase(t)
  const org = await startLocalOrg({ port: 0, dataset: 'small', seed: 1 })
  const integration = org.users.find((u: { username: string }) => u.username === 'integration@acme.local')
  if (integration === undefined) throw new Error('the local org has no integration user')
  const syncs: LocalSync[] = []
  const start = async (options: Partial<LocalSyncOptions> = {}) => {
    const sync = await startLocalSync({
      mapping: MAPPING,
      databaseUrl: url,
      schema: SCHEMA,
      orgUrl: org.url,
      accessToken: integration.accessToken,
      intervalMs: 60_000,
      onError: () => {},
      ...options
    })
    syncs.push(sync)
    return sync
  }
  const stopAll = async () => { for (const s of syncs) await s.stop() }
  t.teardown(async () => { await stopAll(); await org.close() })
  const liveRecords = (type: string) =>
    (org.records(type) as unknown[]).map(fieldsOf).filter((r) => r.IsDeleted !== true)
  const product = liveRecords('Product2').find((p) => typeof p.External_Id__c === 'string')
  if (product === undefined) throw new Error('the small dataset has no product with an external id')
  return { pool, org, start, stopAll, liveRecords, product, mirror: createMirror(pool, SCHEMA) }
}

const until = <R>(what: string, probe: () => Promise<R | undefined | false>, timeoutMs = 5000): Promise<R> =>
  waitFor(what, probe, timeoutMs, 25)

t.test('initial load fills every mapped table with the org\'s rows', async (t) => {
  const { start, mirror, liveRecords, pool } = await setup(t)
  await start()
  for (const [objectName] of Object.entries(MAPPING)) {
    t.equal(await mirror.count(objectName.toLowerCase() as MirrorTable), liveRecords(objectName).length, `${objectName}: mirror rows = org records`)
  }
  const freshness = await mirror.freshness('account')
  t.ok(freshness.lastPolledAt instanceof Date && freshness.newestSystemModstamp instanceof Date, 'freshness is recorded')
  const { rows } = await pool.query(`SELECT (SELECT count(*) FROM ${SCHEMA}._trigger_log)::int + (SELECT count(*) FROM ${SCHEMA}._trigger_log_archive)::int AS n`)
  t.equal(rows[0].n, 0, 'the sync\'s own writes create no trigger-log rows')
  const { rows: status } = await pool.query(`SELECT DISTINCT _hc_lastop FROM ${SCHEMA}.product_feedback__c`)
  t.ok(status.every((r) => r._hc_lastop === 'SYNCED'), 'rows read from Salesforce are SYNCED')
})

t.test('a change in the org appears in the mirror within two sync intervals', async (t) => {
  const { start, mirror, org, liveRecords } = await setup(t)
  const intervalMs = 1000
  await start({ intervalMs })
  const account = liveRecords('Account')[0] as Fields
  const began = Date.now()
  org.updateRecord(account.Id as string, { Name: 'Renamed in the org' })
  const created = org.insertRecord('Account', { Name: 'Brand new account' })
  const createdId = String(fieldsOf(created).Id ?? (created as { id?: string }).id)
  await until('the rename', async () => (await mirror.findOne('account', { sfid: account.Id as string }))?.name === 'Renamed in the org', 2 * intervalMs)
  await until('the new account', () => mirror.findOne('account', { sfid: createdId }), 2 * intervalMs)
  t.ok(Date.now() - began <= 2 * intervalMs, `seen after ${Date.now() - began} ms`)
})

t.test('write path: insert, failure, update of changed fields, delete', async (t) => {
  const { start, mirror, org, pool, product } = await setup(t)
  const sync = await start()

  const written = await mirror.insert('product_feedback__c', {
    rating__c: 4, comment__c: 'Solid', external_id__c: 'fb-insert', product__r__external_id__c: product.External_Id__c as string
  })
  await sync.syncOnce()
  const status = await mirror.syncStatus('product_feedback__c', written.id)
  t.match(status, { state: 'SYNCED', sfid: /^a01/, lastop: 'SYNCED' }, 'the row got its sfid and turned SYNCED after the next read')
  const sfid = status?.sfid as string
  t.match(fieldsOf(org.getRecord(sfid)), { Rating__c: 4, Comment__c: 'Solid', External_Id__c: 'fb-insert', Product__c: product.Id }, 'parent linked through its external id')
  t.match(await mirror.findOne('product_feedback__c', { id: written.id }), { product__c: product.Id, name: /^PF-/ }, 'lookups and computed fields arrive with the read')

  const bad = await mirror.insert('product_feedback__c', { rating__c: 9, external_id__c: 'fb-bad' })
  await sync.writeOnce()
  const failed = await mirror.syncStatus('product_feedback__c', bad.id)
  t.match(failed, { state: 'FAILED', sfid: null, error: { errorCode: /\w+/, message: /\w+/ } }, 'the Salesforce error is decoded')
  t.comment(`failure: ${JSON.stringify(failed?.error)}`)
  const { rows: failedLog } = await pool.query(`SELECT state, sf_message FROM ${SCHEMA}._trigger_log_archive WHERE record_id = $1`, [bad.id])
  t.match(failedLog, [{ state: 'FAILED', sf_message: /\w+/ }], 'the log row is FAILED with the message, archived, not retried')

  // Only the changed column goes out: a field changed in the org meanwhile is not overwritten.
  org.updateRecord(sfid, { Comment__c: 'edited in Salesforce' })
  await mirror.update('product_feedback__c', written.id, { rating__c: 2 })
  await sync.writeOnce()
  t.match(fieldsOf(org.getRecord(sfid)), { Rating__c: 2, Comment__c: 'edited in Salesforce' })
  const { rows: updateLog } = await pool.query(
    `SELECT state, hstore_to_json("values"::hstore) AS v FROM ${SCHEMA}._trigger_log_archive WHERE record_id = $1 AND action = 'UPDATE'`, [written.id])
  t.same(updateLog, [{ state: 'SUCCESS', v: { rating__c: '2' } }])
  t.equal((await mirror.syncStatus('product_feedback__c', written.id))?.lastop, 'UPDATED')
  await sync.syncOnce()
  t.match(await mirror.findOne('product_feedback__c', { id: written.id }), { _hc_lastop: 'SYNCED', comment__c: 'edited in Salesforce', rating__c: 2 })

  t.equal(await mirror.remove('product_feedback__c', written.id), true)
  await sync.writeOnce()
  const gone = (() => { try { return fieldsOf(org.getRecord(sfid)).IsDeleted === true } catch { return true } })()
  t.ok(gone, 'the record is deleted in the org')
  const { rows: pending } = await pool.query(`SELECT count(*)::int AS n FROM ${SCHEMA}._trigger_log`)
  t.equal(pending[0].n, 0, 'processed rows moved to the archive')
})

t.test('a restart between sending and recording resumes without duplicates or lost writes', async (t) => {
  const { start, mirror, pool, liveRecords } = await setup(t)
  let crash = true
  const first = await start({ afterSend: () => { if (crash) throw new Error('killed after send') } })
  const a = await mirror.insert('product_feedback__c', { rating__c: 3, external_id__c: 'fb-crash' })
  await t.rejects(first.writeOnce(), /killed after send/)
  await first.stop()
  crash = false
  const { rows: inFlight } = await pool.query(`SELECT state FROM ${SCHEMA}._trigger_log WHERE record_id = $1`, [a.id])
  t.same(inFlight, [{ state: 'PENDING' }], 'the log row was read and sent, not marked done')
  t.equal(liveRecords('Product_Feedback__c').filter((r) => r.External_Id__c === 'fb-crash').length, 1, 'Salesforce has the record')

  const b = await mirror.insert('product_feedback__c', { rating__c: 5, external_id__c: 'fb-while-down' })
  await start()
  for (const ext of ['fb-crash', 'fb-while-down']) {
    t.equal(liveRecords('Product_Feedback__c').filter((r) => r.External_Id__c === ext).length, 1, `${ext}: exactly one record in the org`)
  }
  for (const id of [a.id, b.id]) t.match(await mirror.syncStatus('product_feedback__c', id), { state: 'SYNCED', sfid: /^a01/ })
  t.equal(await mirror.count('product_feedback__c', { external_id__c: ['fb-crash', 'fb-while-down'] }), 2, 'no duplicate rows in the mirror')
})

t.test('a large table\'s first load goes through a Bulk API query job and COPY', async (t) => {
  const lines: string[] = []
  // A lower threshold than Connect's 10,000, so the read-write table (1,200 rows) loads in bulk too.
  const { pool, org, sync } = await largeMirror(t, 12_000, {
    bulkThreshold: 1_000, progress: (line) => { lines.push(line) }
  })
  const mirror = createMirror(pool, SCHEMA)
  const live = (type: string) => org.records(type).filter((r) => r.IsDeleted !== true)
  for (const objectName of Object.keys(MAPPING)) {
    t.equal(await mirror.count(objectName.toLowerCase() as MirrorTable), live(objectName).length, `${objectName}: mirror rows = org records`)
  }
  const jobs = org.stats.byPath['POST /jobs/query'] ?? 0
  const bulkTables = Object.keys(MAPPING).filter((o) => live(o).length > 1_000)
  t.equal(jobs, bulkTables.length, `one query job per table over the threshold (${bulkTables.join(', ')})`)
  t.ok(bulkTables.includes('Product_Feedback__c'))
  const { rows: status } = await pool.query(`SELECT DISTINCT _hc_lastop FROM ${SCHEMA}.product_feedback__c`)
  t.same(status, [{ _hc_lastop: 'SYNCED' }], 'a read-write table loaded in bulk is SYNCED')
  const { rows: [logged] } = await pool.query(`SELECT count(*)::int AS n FROM ${SCHEMA}._trigger_log`)
  t.equal(logged?.n, 0, 'and logged nothing')
  const written = await mirror.insert('product_feedback__c', { rating__c: 5, comment__c: 'after the load', external_id__c: 'fb-after-bulk' })
  t.equal(written._hc_lastop, 'PENDING', 'its triggers run again after the load')
  t.ok(lines.some((l) => /^opportunitylineitem: [\d,]+ of [\d,]+ rows/.test(l)), 'per-table progress is told')

  // Values as the REST path writes them: datetimes in UTC, null as NULL, numbers and booleans typed.
  const account = live('Account').find((a) => a.Health_Score__c === null) as Record<string, unknown>
  const { rows: [row] } = await pool.query(
    `SELECT name, health_score__c, systemmodstamp, isdeleted FROM ${SCHEMA}.account WHERE sfid = $1`, [account.Id])
  t.same(row, {
    name: account.Name,
    health_score__c: null,
    systemmodstamp: new Date(String(account.SystemModstamp).replace('+0000', 'Z')),
    isdeleted: false
  })
  // After the first load, changes are read by SystemModstamp window as before, not by a new job.
  org.updateRecord(String(account.Id), { Name: 'Renamed after the bulk load' })
  await sync.pollOnce()
  t.equal((await mirror.findOne('account', { sfid: String(account.Id) }))?.name, 'Renamed after the bulk load')
  t.equal(org.stats.byPath['POST /jobs/query'] ?? 0, jobs, 'no further query job')
})
