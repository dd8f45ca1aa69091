// The service's Bulk API 2.0 client (org client + the SDK's bulkApi) against the local org over HTTP.
import t from 'tap'
import { startLocalOrg, type LocalOrg } from '@applink-actions/local-org'
import { parseRecordError, toCsv } from '../../src/salesforce/bulk.ts'
import { bulkClientFor } from './bulk-client.ts'
import { SalesforceApiError } from '../../src/salesforce/errors.ts'
import { verdictFor } from '../../src/jobs/queue.ts'

const ADMIN = 'admin@acme.local'

const clientFor = (org: LocalOrg, username = ADMIN) => bulkClientFor(org, username)

const never = new AbortController().signal
const fast = { firstMs: 20, maxMs: 100 }

t.test('CSV: RFC 4180 quoting, #N/A for null, and sf__Error in the recorded form', async (t) => {
  t.equal(toCsv(['Id', 'Description', 'Phone'], [['001A', 'a, "b"\nc', null], ['001B', 'plain', 7]]),
    'Id,Description,Phone\n001A,"a, ""b""\nc",#N/A\n001B,plain,7\n')
  t.same(parseRecordError('REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --'),
    { errorCode: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [Name]' })
  t.same(parseRecordError('INSUFFICIENT_ACCESS_OR_READONLY:insufficient access rights on object id:--'),
    { errorCode: 'INSUFFICIENT_ACCESS_OR_READONLY', message: 'insufficient access rights on object id' })
  t.same(parseRecordError('something else'), { errorCode: 'UNKNOWN_EXCEPTION', message: 'something else' })
})

t.test('a text value with commas, quotes and newlines round-trips through an ingest job and reads back', async (t) => {
  const org = await startLocalOrg({ port: 0, seed: 3 })
  t.teardown(() => org.close())
  const { bulk, rest } = clientFor(org)
  const [a, b] = org.records('Account').map((r) => String(r.Id))
  const tricky = 'Acme, "the gold standard"\nsecond line\r\nthird line, with a comma'
  org.updateRecord(a ?? '', { Phone: '555-0100' })
  const jobId = await bulk.create('Account', 'update')
  await bulk.upload(jobId, toCsv(['Id', 'Description', 'Phone'], [[a ?? '', tricky, null], [b ?? '', 'plain', '']]))
  t.equal((await bulk.info(jobId)).state, 'Open')
  await bulk.uploadComplete(jobId)
  const seen: string[] = []
  const info = await bulk.waitUntilFinal(jobId, never, async (i) => { seen.push(i.state) }, fast)
  t.equal(info.state, 'JobComplete')
  t.equal(info.numberRecordsProcessed, 2)
  t.same(await bulk.results(jobId), { written: [a, b], failed: [], unprocessed: [] })
  const [row] = await rest.queryAllPages<{ Description: string, Phone: string | null }>(
    `SELECT Description, Phone FROM Account WHERE Id = '${a ?? ''}'`)
  t.equal(row?.Description, tricky, 'read back unchanged')
  t.equal(row?.Phone, null, '#N/A cleared the field')
  t.equal(rest.apiCalls, 3 + 1 + seen.length + 3 + 1,
    'create, upload, close, info, polls, three result reads, the query: all counted')
})

t.test('refusals come back with id and code; a job on a missing field fails with Salesforce\'s reason', async (t) => {
  const org = await startLocalOrg({ port: 0, seed: 3 })
  t.teardown(() => org.close())
  const { bulk } = clientFor(org, 'rep1@acme.local')
  const rep = org.user('rep1@acme.local')
  const mine = String(org.records('Account').find((r) => r.OwnerId === rep.id)?.Id)
  const theirs = String(org.records('Account').find((r) => r.OwnerId !== rep.id)?.Id)
  const jobId = await bulk.create('Account', 'update')
  await bulk.upload(jobId, toCsv(['Id', 'Health_Score__c'], [[mine, 50], [theirs, 51], ['001000000000000AAA', 52]]))
  await bulk.uploadComplete(jobId)
  t.equal((await bulk.waitUntilFinal(jobId, never, async () => {}, fast)).state, 'JobComplete')
  const results = await bulk.results(jobId)
  t.same(results.written, [mine])
  t.match(results.failed, [
    { id: theirs, errorCode: 'INSUFFICIENT_ACCESS_OR_READONLY', message: 'insufficient access rights on object id' },
    { errorCode: /^[A-Z_]+$/ }
  ])

  const bad = await bulk.create('Account', 'update')
  await bulk.upload(bad, toCsv(['Id', 'Nope__c'], [[mine, 1]]))
  await bulk.uploadComplete(bad)
  const failed = await bulk.waitUntilFinal(bad, never, async () => {}, fast)
  t.equal(failed.state, 'Failed')
  t.equal(failed.errorMessage, 'InvalidBatch : Field name not found : Nope__c')
  t.same((await bulk.results(bad)).unprocessed, [mine], 'the row is reported unprocessed')

  const refused = await bulk.create('Nope__c', 'update').then(() => undefined, (err: unknown) => err)
  t.ok(refused instanceof SalesforceApiError, 'an unknown object is refused when the job is created')
  t.equal((refused as SalesforceApiError).errorCode, 'INVALIDJOB')
  t.equal(verdictFor(refused).status, 'deadletter', 'and a job would not retry it')
  const unknown = await bulk.info('750000000000000AAA').then(() => undefined, (err: unknown) => err)
  t.equal((unknown as SalesforceApiError).errorCode, 'NOT_FOUND', 'SDK errors arrive as the service\'s own')
})

t.test('an expired session on an SDK read is INVALID_SESSION_ID, as on the org client', async (t) => {
  const org = await startLocalOrg({ port: 0, seed: 3 })
  t.teardown(() => org.close())
  const { bulk } = clientFor(org)
  const jobId = await bulk.create('Account', 'update')
  org.expireToken(ADMIN)
  const err = await bulk.info(jobId).then(() => undefined, (e: unknown) => e)
  t.equal((err as SalesforceApiError).errorCode, 'INVALID_SESSION_ID')
  t.equal(verdictFor(err).output.errorCode, 'INVALID_SESSION_ID')
})

t.test('a session renewed mid-job (an AppLink authorization): the SDK\'s reads go on with the fresh token', async (t) => {
  const org = await startLocalOrg({ port: 0, seed: 3 })
  t.teardown(() => org.close())
  const { bulk, rest } = bulkClientFor(org, ADMIN, { renewed: true })
  const [account] = org.records('Account')
  const jobId = await bulk.create('Account', 'update')
  await bulk.upload(jobId, toCsv(['Id', 'Description'], [[String(account?.Id), 'renewed']]))
  await bulk.uploadComplete(jobId)
  const first = rest.accessToken
  org.expireToken(ADMIN)
  const info = await bulk.waitUntilFinal(jobId, never, async () => {}, fast)
  t.equal(info.state, 'JobComplete', 'polled to the end after the session expired')
  t.not(rest.accessToken, first, 'on a renewed token')
  org.expireToken(ADMIN)
  const results = await bulk.results(jobId)
  t.same(results.written, [String(account?.Id)], 'the results read after a second expiry too')
  t.equal(org.getRecord(String(account?.Id))?.Description, 'renewed')
})
