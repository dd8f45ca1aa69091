// Bulk API 2.0 ingest in the local org, checked against the Bulk API 2.0 Developer Guide (quoted) and
// the job info recorded from a real org (shared/fixtures/salesforce-recorded/get-info-*.json).
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { LocalOrg } from '../src/index.ts'
import { ADMIN, REP1, applink, call, orgFor, soql } from './helper.ts'

interface Answer { status: number, body: unknown }
interface CsvAnswer { type: string | null, text: string }

const FIXTURES = process.env.SALESFORCE_FIXTURES ??
  join(import.meta.dirname, '../../../../shared/fixtures/salesforce-recorded')

async function upload (org: LocalOrg, user: string, jobId: string, csv: string): Promise<Answer> {
  const r = await fetch(`${org.url}/services/data/v${org.apiVersion}/jobs/ingest/${jobId}/batches`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${org.user(user).accessToken}`, 'Content-Type': 'text/csv' },
    body: csv
  })
  const text = await r.text()
  return { status: r.status, body: text === '' ? undefined : JSON.parse(text) }
}

async function csvOf (org: LocalOrg, user: string, jobId: string, resource: string): Promise<CsvAnswer> {
  const r = await fetch(`${org.url}/services/data/v${org.apiVersion}/jobs/ingest/${jobId}/${resource}`, {
    headers: { Authorization: `Bearer ${org.user(user).accessToken}`, Accept: 'text/csv' }
  })
  return { type: r.headers.get('content-type'), text: await r.text() }
}

async function finished (org: LocalOrg, user: string, jobId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i++) {
    const { body } = await call(org, user, 'GET', `/jobs/ingest/${jobId}`)
    if (['JobComplete', 'Failed', 'Aborted'].includes(String(body.state))) return body
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`job ${jobId} did not finish`)
}

/** create → upload → UploadComplete → wait; returns the final job info. */
type Info = Record<string, unknown>

async function runJob (org: LocalOrg, user: string, job: Info, csv: string): Promise<Info> {
  const created = await call(org, user, 'POST', '/jobs/ingest', job)
  if (created.status !== 200) throw new Error(JSON.stringify(created.body))
  const id = String(created.body.id)
  await upload(org, user, id, csv)
  await call(org, user, 'PATCH', `/jobs/ingest/${id}`, { state: 'UploadComplete' })
  return await finished(org, user, id)
}

t.test('an update job goes Open → UploadComplete → InProgress → JobComplete, with the documented info', async (t) => {
  const org = await orgFor(t)
  org.setFaults({ bulkProcessingMs: 300 })
  const accounts = org.records('Account').slice(0, 3)
  org.resetStats()

  // "Create a Job": POST /services/data/vXX.X/jobs/ingest; "Use only a single object type per job."
  const created = await call(org, ADMIN, 'POST', '/jobs/ingest',
    { object: 'Account', operation: 'update', lineEnding: 'LF' })
  t.equal(created.status, 200)
  t.match(created.headers.get('sforce-limit-info'), /^api-usage=\d+\/\d+$/, 'Sforce-Limit-Info like every REST answer')
  const id = String(created.body.id)
  t.match(created.body, {
    id: /^750/,
    operation: 'update',
    object: 'Account',
    state: 'Open',
    concurrencyMode: 'Parallel',
    contentType: 'CSV',
    apiVersion: 62,
    lineEnding: 'LF',
    columnDelimiter: 'COMMA',
    createdById: org.user(ADMIN).id
  })
  // "The resource URL is provided in the contentUrl field in the response from Create a Job"
  t.equal(created.body.contentUrl, `services/data/v62.0/jobs/ingest/${id}/batches`)

  const csv = 'Id,Health_Score__c\n' + accounts.map((a, i) => `${String(a.Id)},${10 + i}`).join('\n') + '\n'
  // "Returns a status code of 201 (Created), which indicates that the job data was successfully received"
  t.equal((await upload(org, ADMIN, id, csv)).status, 201)
  t.equal((await call(org, ADMIN, 'GET', `/jobs/ingest/${id}`)).body.state, 'Open', 'still Open until UploadComplete')
  // "Upload Complete … If you don't make this request, processing of your data does not start."
  const closed = await call(org, ADMIN, 'PATCH', `/jobs/ingest/${id}`, { state: 'UploadComplete' })
  t.equal(closed.status, 200)
  t.equal(closed.body.state, 'UploadComplete', '"All job data has been uploaded and the job is ready to be processed."')
  await new Promise((resolve) => setTimeout(resolve, 100))
  const processing = await call(org, ADMIN, 'GET', `/jobs/ingest/${id}`)
  t.equal(processing.body.state, 'InProgress', '"The job is being processed by Salesforce."')
  const done = await finished(org, ADMIN, id)
  t.equal(done.state, 'JobComplete', '"The job was processed."')
  t.equal(done.numberRecordsProcessed, 3)
  t.equal(done.numberRecordsFailed, 0)
  t.same(accounts.map((a) => org.getRecord(String(a.Id))?.Health_Score__c), [10, 11, 12], 'the records are updated')

  const path = join(FIXTURES, 'get-info-7508z00000lSXvxQAG.json')
  if (existsSync(path)) {
    const mapping = JSON.parse(readFileSync(path, 'utf8')) as { response: { jsonBody: Info } }
    const recorded = mapping.response.jsonBody
    for (const [key, value] of Object.entries(recorded)) {
      t.equal(typeof done[key], typeof value, `job info "${key}" is a ${typeof value}, as recorded from a real org`)
    }
    t.match(done.createdDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/, 'dates in the recorded form')
  }

  // "Get Job Successful Record Results": sf__Created, sf__Id and "Fields from the original CSV request data"
  const ok = await csvOf(org, ADMIN, id, 'successfulResults')
  t.equal(ok.type, 'text/csv')
  const [header, ...rows] = ok.text.trimEnd().split('\n')
  t.equal(header, 'sf__Id,sf__Created,Id,Health_Score__c')
  t.same(rows.map((r) => r.split(',')[1]), ['false', 'false', 'false'], 'updates are not created')
  t.equal((await csvOf(org, ADMIN, id, 'failedResults')).text, 'sf__Id,sf__Error,Id,Health_Score__c\n')
  t.equal((await csvOf(org, ADMIN, id, 'unprocessedrecords')).text, 'Id,Health_Score__c\n')

  const calls = org.stats.byPath
  t.equal(calls['POST /jobs/ingest'], 1, 'every request counts as an API call, by path template')
  t.equal(calls['PUT /jobs/ingest/{id}/batches'], 1)
  t.equal(calls['GET /jobs/ingest/{id}/successfulResults'], 1)

  // "Delete a Job … Returns a status code of 204 (No Content)"; afterwards the job is gone.
  t.equal((await call(org, ADMIN, 'DELETE', `/jobs/ingest/${id}`)).status, 204)
  t.equal((await call(org, ADMIN, 'GET', `/jobs/ingest/${id}`)).status, 404)
})

t.test('CSV: commas, quotes, newlines in quoted values round-trip; #N/A clears; empty is ignored', async (t) => {
  const org = await orgFor(t)
  const [a, b] = org.records('Account')
  org.updateRecord(String(a?.Id), { Phone: '555-0100', Website: 'keep.example' })
  const tricky = 'Director of Operations, Western Region\nsays "This is the ""gold"" standard"'
  for (const lineEnding of ['LF', 'CRLF'] as const) {
    const eol = lineEnding === 'LF' ? '\n' : '\r\n'
    const value = `${tricky} (${lineEnding})`
    // "If a field value contains a double quote, the double quote must be escaped by preceding it with
    // another double quote"
    const quoted = `"${value.replaceAll('"', '""')}"`
    const csv = `Id,Description,Phone,Website${eol}${String(a?.Id)},${quoted},#N/A,${eol}${String(b?.Id)},plain,,${eol}`
    const done = await runJob(org, ADMIN, { object: 'Account', operation: 'update', lineEnding }, csv)
    t.equal(done.state, 'JobComplete', lineEnding)
    t.equal(done.numberRecordsProcessed, 2)
    const read = await soql(org, ADMIN, `SELECT Description, Phone, Website FROM Account WHERE Id = '${String(a?.Id)}'`)
    t.equal(read.body.records[0].Description, value, `the value reads back unchanged (${lineEnding})`)
    t.equal(read.body.records[0].Phone, null, '"To set a field value to null, use a field value of #N/A."')
    t.equal(read.body.records[0].Website, 'keep.example', '"Empty field values are ignored when you update records."')
  }

  // A different delimiter: "Bulk API 2.0 supports several field delimiter characters".
  const piped = await runJob(org, ADMIN, { object: 'Account', operation: 'update', columnDelimiter: 'PIPE' },
    `Id|Description\n${String(b?.Id)}|"a|b, c"\n`)
  t.equal(piped.state, 'JobComplete')
  t.equal(org.getRecord(String(b?.Id))?.Description, 'a|b, c')

  // An insert reports sf__Created true.
  const inserted = await call(org, ADMIN, 'POST', '/jobs/ingest', { object: 'Account', operation: 'insert' })
  await upload(org, ADMIN, String(inserted.body.id), 'Name,Description\n"Bulk, Inc.","line 1\nline 2"\n')
  await call(org, ADMIN, 'PATCH', `/jobs/ingest/${String(inserted.body.id)}`, { state: 'UploadComplete' })
  await finished(org, ADMIN, String(inserted.body.id))
  const results = await csvOf(org, ADMIN, String(inserted.body.id), 'successfulResults')
  t.match(results.text, /^sf__Id,sf__Created,Name,Description\n001\w{15},true,"Bulk, Inc.","line 1\nline 2"\n$/,
    'quoted again in the results')
})

t.test('records the user may not edit fail per record; the rest are written', async (t) => {
  const org = await orgFor(t)
  const rep = org.user(REP1)
  const mine = org.records('Account').find((a) => a.OwnerId === rep.id)
  const theirs = org.records('Account').find((a) => a.OwnerId !== rep.id)
  const csv = `Id,Health_Score__c\n${String(mine?.Id)},77\n${String(theirs?.Id)},78\n`
  const created = await call(org, REP1, 'POST', '/jobs/ingest', { object: 'Account', operation: 'update' })
  const id = String(created.body.id)
  await upload(org, REP1, id, csv)
  await call(org, REP1, 'PATCH', `/jobs/ingest/${id}`, { state: 'UploadComplete' })
  const done = await finished(org, REP1, id)
  t.equal(done.state, 'JobComplete', 'record failures do not fail the job')
  t.equal(done.numberRecordsProcessed, 2)
  t.equal(done.numberRecordsFailed, 1)
  t.equal(org.getRecord(String(mine?.Id))?.Health_Score__c, 77)
  t.not(org.getRecord(String(theirs?.Id))?.Health_Score__c, 78, 'the other rep\'s account is untouched')
  // "sf__Error: Error code and message"; the form "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"
  // is recorded from a real org (fixtures: bulk-api-injest-fail-*).
  const failed = await csvOf(org, REP1, id, 'failedResults')
  const refusal = 'INSUFFICIENT_ACCESS_OR_READONLY:insufficient access rights on object id:--'
  const other = String(theirs?.Id)
  t.equal(failed.text, `sf__Id,sf__Error,Id,Health_Score__c\n${other},${refusal},${other},78\n`)
  const seen = await call(org, 'rep2@acme.local', 'GET', `/jobs/ingest/${id}`)
  t.equal(seen.status, 404, 'another rep does not see the job')

  const missing = await runJob(org, ADMIN, { object: 'Account', operation: 'insert' }, 'Description\nno name\n')
  t.equal(missing.numberRecordsFailed, 1)
  const { text } = await csvOf(org, ADMIN, String(missing.id), 'failedResults')
  t.match(text,
    /^sf__Id,sf__Error,Description\n,REQUIRED_FIELD_MISSING:Required fields are missing: \[Name\]:Name --,no name\n$/,
    'the recorded real form')
})

t.test('failed jobs and refused requests answer as Salesforce does', async (t) => {
  const org = await orgFor(t)
  const account = String(org.records('Account')[0]?.Id)

  // A header naming no such field fails the whole job: "InvalidBatch : Field name not found : …"
  // (from a real org, amp-labs/connectors#118).
  const badField = await runJob(org, ADMIN, { object: 'Account', operation: 'update' }, `Id,Nope__c\n${account},1\n`)
  t.equal(badField.state, 'Failed', '"The job couldn’t be processed successfully."')
  t.equal(badField.errorMessage, 'InvalidBatch : Field name not found : Nope__c')
  t.equal(badField.numberRecordsProcessed, 0)
  t.equal((await csvOf(org, ADMIN, String(badField.id), 'unprocessedrecords')).text, `Id,Nope__c\n${account},1\n`,
    'every row is left unprocessed')

  const crlfInLf = await runJob(org, ADMIN, { object: 'Account', operation: 'update' },
    `Id,Description\r\n${account},x\r\n`)
  t.equal(crlfInLf.state, 'Failed')
  t.equal(crlfInLf.errorMessage,
    'ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is LF')

  const badObject = await call(org, ADMIN, 'POST', '/jobs/ingest', { object: 'Nope__c', operation: 'update' })
  t.equal(badObject.status, 400)
  t.equal(badObject.body[0].errorCode, 'INVALIDJOB')
  const badOperation = await call(org, ADMIN, 'POST', '/jobs/ingest', { object: 'Account', operation: 'merge' })
  t.equal(badOperation.body[0].errorCode, 'INVALIDJOB')
  // "externalIdFieldName … Required for upsert operations"
  const noExternalId = await call(org, ADMIN, 'POST', '/jobs/ingest', { object: 'Account', operation: 'upsert' })
  t.equal(noExternalId.body[0].errorCode, 'INVALIDJOB')

  // Recorded from a real org: aborting a completed job.
  const aborted = await call(org, ADMIN, 'PATCH', `/jobs/ingest/${String(badField.id)}`, { state: 'Aborted' })
  t.equal(aborted.status, 400)
  t.same(aborted.body, [{ errorCode: 'INVALIDJOBSTATE', message: 'Aborting already Failed Job not allowed' }])
  const open = await call(org, ADMIN, 'POST', '/jobs/ingest', { object: 'Account', operation: 'update' })
  const openId = String(open.body.id)
  // "To be deleted, a job must have a state of UploadComplete, JobComplete, Aborted, or Failed."
  t.equal((await call(org, ADMIN, 'DELETE', `/jobs/ingest/${openId}`)).status, 400)
  t.equal((await upload(org, ADMIN, openId, `Id\n${account}\n`)).status, 201)
  t.equal((await upload(org, ADMIN, openId, `Id\n${account}\n`)).status, 400, 'one upload per job')
  t.equal((await call(org, ADMIN, 'PATCH', `/jobs/ingest/${openId}`, { state: 'Aborted' })).body.state, 'Aborted')
  t.equal((await upload(org, ADMIN, openId, `Id\n${account}\n`)).status, 400, 'no upload to an aborted job')
  t.same((await call(org, ADMIN, 'GET', '/jobs/ingest/clientError')).body,
    [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }], 'a malformed id, as recorded')
  t.equal((await call(org, null, 'GET', '/jobs/ingest')).status, 401, 'a token is required')
})

t.test('the real SDK\'s bulkApi reads job info and results from the local org', async (t) => {
  const org = await orgFor(t)
  const accounts = org.records('Account').slice(0, 2)
  const done = await runJob(org, ADMIN, { object: 'Account', operation: 'update' },
    `Id,Health_Score__c\n${String(accounts[0]?.Id)},5\n${String(accounts[1]?.Id)},500000\n`)
  const sdk = applink().init().salesforce.parseRequest({ 'x-client-context': org.mintContext(ADMIN) }, {}, null)
  const bulkApi = sdk.context.org.bulkApi
  const ref = { id: String(done.id), type: 'ingestJob' }
  const info = await bulkApi.getInfo(ref)
  t.match(info, { id: done.id, state: 'JobComplete', numberRecordsProcessed: 2, numberRecordsFailed: 1 })
  const ok = await bulkApi.getSuccessfulResults(ref)
  t.same(ok.columns, ['sf__Id', 'sf__Created', 'Id', 'Health_Score__c'])
  t.equal(ok[0].get('Health_Score__c'), '5')
  const failed = await bulkApi.getFailedResults(ref)
  t.match(failed[0].get('sf__Error'), /^NUMBER_OUTSIDE_VALID_RANGE:/)
  t.equal((await bulkApi.getUnprocessedRecords(ref)).length, 0)
  // The SDK's own one-call ingest (create, upload, UploadComplete) works too.
  const table = bulkApi.createDataTableBuilder(['Id', 'Description'])
    .addRow([String(accounts[0]?.Id), 'via the SDK, "quoted"']).build()
  const [result] = await bulkApi.ingest({ object: 'Account', operation: 'update', dataTable: table })
  t.ok(result.id, 'a job reference')
  t.equal((await finished(org, ADMIN, result.id)).state, 'JobComplete')
  t.equal(org.getRecord(String(accounts[0]?.Id))?.Description, 'via the SDK, "quoted"')
})
