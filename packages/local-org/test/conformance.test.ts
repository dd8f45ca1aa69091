// Replays the recorded Salesforce responses (WireMock mappings in ../shared/fixtures/salesforce-recorded)
// against the local org and compares status, the Sforce-Limit-Info header's form and the body's shape.
import t from 'tap'
import type { Test } from 'tap'
import { readdirSync, readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import type { LocalOrg } from '../src/index.ts'
import { ADMIN, call, orgFor } from './helper.ts'

const DIR = process.env.SALESFORCE_FIXTURES ?? join(import.meta.dirname, '../../../../shared/fixtures/salesforce-recorded')

/** Fixtures not replayed, and why. */
const SKIPPED: Record<string, string> = {
  'binary-data.json': 'ContentVersion blob download: the local org has no files/ContentVersion',
  'create-binary-field.json': 'ContentVersion blob upload: not served',
  'update-binary-field.json': 'ContentVersion blob update: not served',
  'update-binary-type.json': 'ContentVersion update: not served',
  'query-binary-field.json': 'ContentVersion query: not served',
  'query-create-job.json': 'Bulk API 2.0 query job: not served',
  'query-queryAll-jobs.json': 'Bulk API 2.0 query job: not served',
  'query-with-client-error.json': 'Bulk API 2.0 query job: not served',
  'query-with-server-error.json': 'Bulk API 2.0 query job (stubbed 500): not served',
  'get-info-7508z00000lSXvxQAG.json': 'Bulk API 2.0 job info of a job id the local org never made: its shape is compared in bulk.test.ts',
  'get-info-7508z00000lTqQCQA0.json': 'Bulk API 2.0 job info: not served',
  'get-info-clientError.json': 'Bulk API 2.0 job info (stubbed error): not served',
  'get-info-serverError.json': 'Bulk API 2.0 job info (stubbed 500): not served',
  'query-unexpected-response.json': 'hand-made HTML body from a stub, not a Salesforce answer',
  'query-unparseable-body.json': 'hand-made HTML body from a stub, not a Salesforce answer',
  'query-resource-not-found.json': 'hand-made (200 with an error array); the documented answer for an unknown object is 400 INVALID_TYPE, tested in soql.test.ts',
  'composite-graph-multiple-errors.json': "hand-made: the Contact node fails only because of that org's permissions (nothing in the request); the failing-node rollback shape is tested with a real failure in applink.test.ts and composite.test.ts"
}

/** Fixtures replayed with an adjustment (documented here). */
const ADJUST: Record<string, string> = {
  'create-invalid-field.json': "the recorded URL names 'Akcount' while the recorded body names Account: replayed against /sobjects/Account",
  'data-api-create-invalid-token-session-error.json': 'hand-made body is an object; the documented form (an array) is expected, status and errorCode compared',
  'composite-graph-create-account-contact-opportunity.json': 'hand-made graphId "1" for a request for "graph0": graphId must echo the request',
  'query-with-next-records-url-2.json': 'the locator is the local org\'s own: the second page is fetched through the nextRecordsUrl the first page returned'
}

interface Mapping {
  request: {
    url?: string
    urlPath?: string
    method: string
    queryParameters?: Record<string, { equalTo: string }>
    headers?: { Authorization?: { equalTo: string } }
    bodyPatterns?: Array<{ equalToJson?: unknown }>
  }
  response: { status: number; body?: string; jsonBody?: unknown; headers?: Record<string, unknown> }
}

const files = existsSync(DIR)
  ? readdirSync(DIR).filter(f => f.endsWith('.json') && !f.startsWith('bulk-api-'))
    // the second page's mapping must follow the first page's
    .sort((a, b) => a.replace('-2.json', '.json~').localeCompare(b.replace('-2.json', '.json~')))
  : []

t.test('fixtures are present', async t => {
  t.ok(files.length > 20, `found ${files.length} fixtures in ${DIR}`)
})

/** Recursively compares keys and value types; errorCode values must be equal. */
function sameShape (t: Test, actual: unknown, expected: unknown, path: string, ignore: Set<string>): void {
  if (expected === null || actual === null) {
    if (expected === null && actual !== null && typeof actual === 'object') t.fail(`${path}: expected null, got object`)
    return
  }
  if (Array.isArray(expected)) {
    t.ok(Array.isArray(actual), `${path} is an array`)
    if (!Array.isArray(actual)) return
    if (expected.length > 0 && actual.length > 0) {
      const n = Math.min(expected.length, actual.length)
      for (let i = 0; i < n; i++) sameShape(t, actual[i], expected[i], `${path}[${i}]`, ignore)
    }
    if (expected.length > 0) t.ok(actual.length > 0, `${path} is not empty`)
    return
  }
  if (typeof expected === 'object') {
    t.equal(typeof actual, 'object', `${path} is an object`)
    if (typeof actual !== 'object' || actual === null) return
    const e = Object.keys(expected as object).filter(k => !ignore.has(k)).sort()
    const a = Object.keys(actual as object).filter(k => !ignore.has(k)).sort()
    t.same(a, e, `${path} keys`)
    for (const k of e) {
      const ev: unknown = (expected as Record<string, unknown>)[k]
      const av: unknown = (actual as Record<string, unknown>)[k]
      if (k === 'errorCode' || k === 'statusCode' || k === 'httpStatusCode' || k === 'success' || k === 'isSuccessful' || k === 'done') t.equal(av, ev, `${path}.${k}`)
      else if (k === 'type' && path.endsWith('attributes')) t.equal(String(av).toLowerCase(), String(ev).toLowerCase(), `${path}.type`)
      else sameShape(t, av, ev, `${path}.${k}`, ignore)
    }
    return
  }
  if (actual !== null) t.equal(typeof actual, typeof expected, `${path} type`)
}

const MOVIE = {
  name: 'Movie__c',
  keyPrefix: 'a00',
  fields: [
    { name: 'Rating__c', type: 'picklist' as const, values: ['Excellent', 'Good', 'Okay', 'Poor'] },
    { name: 'ReleaseDate__c', type: 'date' as const },
    { name: 'Franchise__c', type: 'reference' as const, referenceTo: 'Franchise__c', childRelationshipName: 'Movies__r' }
  ]
}

async function setup (org: LocalOrg): Promise<void> {
  for (const id of ['a00B000000FSjVUIA1', 'a01B0000009gSr9IAE', 'a01B0000009gSrFIAU']) {
    org.insertRecord('Movie__c', { Id: id, Name: `Seeded ${id}` })
  }
  for (const id of ['001B000001Lp1G2IAJ', '001B000001Lp1FxIAJ']) org.insertRecord('Account', { Id: id, Name: `Seeded ${id}` })
  org.deleteRecord('001B000001Lp1G2IAJ')
  for (let i = 0; i < 10_000; i++) org.insertRecord('Random__c', { RANDOM_1__c: i % 3 ? `R${i}` : null, RANDOM_2__c: i % 2 ? `S${i}` : null })
}

t.test('replay', async t => {
  const org = await orgFor(t, {
    extraObjects: [
      MOVIE,
      { name: 'Franchise__c', keyPrefix: 'a03', fields: [] },
      { name: 'Spaceship__c', keyPrefix: 'a04', fields: [{ name: 'Website__c', type: 'url', required: true }] },
      { name: 'Random__c', keyPrefix: 'a05', nameField: false, fields: [{ name: 'RANDOM_1__c', type: 'string', length: 20 }, { name: 'RANDOM_2__c', type: 'string', length: 20 }] }
    ]
  })
  await setup(org)
  const adminToken = org.user(ADMIN).accessToken
  let lastNextRecordsUrl: string | undefined

  for (const file of files) {
    if (SKIPPED[file]) { t.comment(`skipped ${file}: ${SKIPPED[file]}`); continue }
    if (ADJUST[file]) t.comment(`adjusted ${file}: ${ADJUST[file]}`)
    const m = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Mapping
    await t.test(file, async t => {
      const rq = m.request
      let url = rq.url ?? rq.urlPath ?? ''
      if (rq.queryParameters?.q) url += `?q=${encodeURIComponent(rq.queryParameters.q.equalTo)}`
      if (file === 'create-invalid-field.json') url = url.replace('Akcount', 'Account')
      if (file === 'query-with-next-records-url-2.json') {
        t.ok(lastNextRecordsUrl, 'first page gave a nextRecordsUrl')
        url = lastNextRecordsUrl ?? url
      }
      const auth = rq.headers?.Authorization?.equalTo
      const headers: Record<string, string> = {}
      if (auth) headers.Authorization = auth === 'Bearer EXAMPLE-TOKEN' ? `Bearer ${adminToken}` : auth
      else if (m.response.status !== 401) headers.Authorization = `Bearer ${adminToken}` // the mapping matched any caller
      const pattern = rq.bodyPatterns?.[0]?.equalToJson
      const body = pattern === undefined ? undefined : typeof pattern === 'string' ? JSON.parse(pattern) : pattern
      const res = await call(org, null, rq.method, url, body, headers)
      t.equal(res.status, m.response.status, 'status')
      const limit = m.response.headers?.['Sforce-Limit-Info']
      if (typeof limit === 'string') t.match(res.headers.get('sforce-limit-info') ?? '', /^api-usage=\d+\/\d+$/, 'Sforce-Limit-Info form')
      const expected = m.response.body ? JSON.parse(m.response.body) : m.response.jsonBody
      if (expected === undefined) {
        t.equal(res.body, undefined, 'no body')
        return
      }
      if (file === 'data-api-create-invalid-token-session-error.json') {
        t.equal(res.body[0].errorCode, expected.errorCode)
        return
      }
      const ignore = new Set<string>()
      if (file === 'composite-graph-create-account-contact-opportunity.json') {
        t.equal(res.body.graphs[0].graphId, 'graph0', 'graphId echoes the request')
        ignore.add('graphId')
      }
      sameShape(t, res.body, expected, 'body', ignore)
      if (file === 'query-unknown-column.json' || file === 'query-malformed-soql.json' || file.startsWith('update-') || file.startsWith('delete-') ||
          file === 'create-invalid-picklist-value.json' || file === 'create-required-field-missing.json' || file === 'create-invalid-token.json') {
        t.same(res.body, expected, 'error body equals the recorded one')
      }
      if (res.body && typeof res.body === 'object' && 'nextRecordsUrl' in res.body) lastNextRecordsUrl = res.body.nextRecordsUrl
    })
  }
})
