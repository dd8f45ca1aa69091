import type { Test } from 'tap'
import t from 'tap'
import { createServer } from 'node:http'
import { readFileSync } from 'node:fs'
import { Type } from 'typebox'
import { defineAction } from '../../src/actions/define.ts'
import { assertError, buildApp, clientContext, encodeContext } from '../helper.ts'

/** One Salesforce response: status, body and extra headers. */
interface OrgResponse { status: number, body: string, headers?: Record<string, string> }

/** A stand-in org that answers every call with one recorded Salesforce response. */
async function replayingOrg (t: Test, response: OrgResponse): Promise<string> {
  const server = createServer((_req, res) => {
    res.writeHead(response.status, {
      'content-type': 'application/json;charset=UTF-8',
      'sforce-limit-info': 'api-usage=10/15000',
      ...response.headers
    })
    res.end(response.body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const address = server.address()
  return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
}

const recorded = (name: string): { status: number, body: string } =>
  (JSON.parse(readFileSync(new URL(`../../../shared/fixtures/salesforce-recorded/${name}`, import.meta.url), 'utf8')) as { response: { status: number, body: string } }).response

// These actions test how errors are answered, not who the caller is: the org they talk to (a fake
// answering recorded bodies) has no userinfo endpoint, so they take the context as given.
const testActions = [
  defineAction({
    operationId: 'echoInput',
    summary: 'echo',
    description: 'Echoes its validated input',
    request: Type.Object({
      name: Type.String({ maxLength: 10 }),
      count: Type.Integer({ minimum: 1 }),
      options: Type.Optional(Type.Object({ flag: Type.Boolean() }, { additionalProperties: false }))
    }, { additionalProperties: false }),
    response: Type.Object({ name: Type.String(), count: Type.Integer() }),
    identity: 'from-context',
    handler: async (input) => ({ name: input.name, count: input.count })
  }),
  defineAction({
    operationId: 'queryOrg',
    summary: 'query',
    description: 'Runs one query as the caller',
    request: Type.Object({}),
    response: Type.Object({ totalSize: Type.Integer() }),
    identity: 'from-context',
    handler: async (_input, { org }) => ({ totalSize: (await org.query('SELECT Id FROM Account')).totalSize })
  }),
  defineAction({
    operationId: 'crash',
    summary: 'crash',
    description: 'Fails unexpectedly',
    request: Type.Object({}),
    response: Type.Object({}),
    identity: 'from-context',
    handler: async () => { throw new Error('connect ECONNREFUSED 10.1.2.3:5432 at /app/src/secret.ts:42') }
  })
]

t.test('validation errors → 400 naming the field', async (t) => {
  const { app } = await buildApp(t, { database: false, actions: testActions })
  const call = (payload: unknown) => app.inject({ method: 'POST', url: '/actions/echoInput', headers: { 'x-client-context': encodeContext(clientContext()) }, payload: payload as object })

  t.same((await call({ name: 'ok', count: 2 })).json(), { name: 'ok', count: 2 }, 'valid input passes')
  assertError(t, await call({ name: 'ok', count: 'two' }), 400, 'INVALID_REQUEST', ['count'])
  const missing = assertError(t, await call({ name: 'ok' }), 400, 'INVALID_REQUEST', ['count'])
  t.match(missing.message, /count is required/)
  const extra = assertError(t, await call({ name: 'ok', count: 1, hacker: true }), 400, 'INVALID_REQUEST', ['hacker'])
  t.equal(extra.message, 'Unknown field hacker; the fields are name (required), count (required), options')
  // A typo'd key: the body lacks the key it meant and has one nobody knows; both are named.
  const typo = assertError(t, await call({ name: 'ok', cuont: 1 }), 400, 'INVALID_REQUEST', ['count', 'cuont'])
  t.equal(typo.message, 'Unknown field cuont (and count is required); the fields are name (required), count (required), options')
  const nested = assertError(t, await call({ name: 'ok', count: 1, options: { falg: true } }), 400, 'INVALID_REQUEST')
  t.match(nested.message, /^Unknown field options\.falg .*the fields are flag \(required\)$/)
  const manyLongKeys = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`${'k'.repeat(10_000)}${i}`, 1]))
  const oversized = assertError(t, await call({ name: 'ok', count: 1, ...manyLongKeys }), 400, 'INVALID_REQUEST')
  t.ok(JSON.stringify(oversized).length < 2000, 'oversized unknown keys are named briefly, not echoed whole')
  assertError(t, await call({ name: 'ok', count: 1, options: { flag: 'yes' } }), 400, 'INVALID_REQUEST', ['options.flag'])
  assertError(t, await call({ name: 'far too long a name', count: 1 }), 400, 'INVALID_REQUEST', ['name'])

  const invalidJson = await app.inject({ method: 'POST', url: '/actions/echoInput', headers: { 'x-client-context': encodeContext(clientContext()), 'content-type': 'application/json' }, payload: '{"name": ' })
  assertError(t, invalidJson, 400, 'INVALID_REQUEST')

  const huge = await app.inject({ method: 'POST', url: '/actions/echoInput', headers: { 'x-client-context': encodeContext(clientContext()), 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'x'.repeat(2_000_000), count: 1 }) })
  assertError(t, huge, 413, 'REQUEST_TOO_LARGE')

  for (const type of ['text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded']) {
    const notJson = await app.inject({
      method: 'POST', url: '/actions/echoInput', headers: { 'x-client-context': encodeContext(clientContext()), 'content-type': type }, payload: '{"name":"ok","count":1}'
    })
    assertError(t, notJson, 415, 'UNSUPPORTED_MEDIA_TYPE')
  }

  const notFound = assertError(t, await app.inject({ method: 'POST', url: '/actions/nope', payload: {} }), 404, 'NOT_FOUND')
  t.equal(notFound.message, 'No action nope; the actions are echoInput, queryOrg, crash', 'an unknown action lists the actions')
  const wrongMethod = assertError(t, await app.inject({ method: 'GET', url: '/actions/echoInput' }), 404, 'NOT_FOUND')
  t.match(wrongMethod.message, /actions are called with POST/)
})

t.test('Salesforce errors keep their errorCode, message and fields', async (t) => {
  type Case = { name: string, response: OrgResponse, status: number, errorCode: string, retryAfter?: string }
  const cases: Case[] = [
    { name: 'recorded INVALID_SESSION_ID stays 401', response: recorded('create-invalid-token.json'), status: 401, errorCode: 'INVALID_SESSION_ID' },
    { name: 'recorded MALFORMED_QUERY → 400', response: recorded('query-malformed-soql.json'), status: 400, errorCode: 'MALFORMED_QUERY' },
    { name: 'recorded NOT_FOUND → 404', response: recorded('create-invalid-api-version.json'), status: 404, errorCode: 'NOT_FOUND' },
    { name: 'REQUEST_LIMIT_EXCEEDED → 503 with Retry-After', response: { status: 403, body: '[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]' }, status: 503, errorCode: 'REQUEST_LIMIT_EXCEEDED', retryAfter: '300' },
    { name: 'a Salesforce outage → 502', response: { status: 500, body: '[{"message":"An unexpected error occurred.","errorCode":"UNKNOWN_EXCEPTION"}]' }, status: 502, errorCode: 'UNKNOWN_EXCEPTION' }
  ]
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const orgUrl = await replayingOrg(t, c.response)
      const { app } = await buildApp(t, { database: false, actions: testActions })
      const res = await app.inject({ method: 'POST', url: '/actions/queryOrg', headers: { 'x-client-context': encodeContext(clientContext({ orgDomainUrl: orgUrl })) }, payload: {} })
      const body = assertError(t, res, c.status, c.errorCode)
      const sent = JSON.parse(c.response.body) as Array<{ message: string, fields?: string[] }>
      t.equal(body.message, sent[0]?.message, 'Salesforce message passed on')
      t.same(body.fields, sent[0]?.fields ?? [], 'Salesforce fields passed on')
      if (c.retryAfter !== undefined) t.equal(res.headers['retry-after'], c.retryAfter)
    })
  }
})

t.test('anything unexpected → 500 with the request id and no internals', async (t) => {
  const { app, logs } = await buildApp(t, { database: false, actions: testActions })
  const context = clientContext()
  const res = await app.inject({ method: 'POST', url: '/actions/crash', headers: { 'x-client-context': encodeContext(context) }, payload: {} })
  const body = assertError(t, res, 500, 'INTERNAL_ERROR')
  t.equal(body.requestId, context.requestId)
  t.notMatch(res.body, /secret|ECONNREFUSED|10\.1\.2\.3|\.ts/, 'no internals in the answer')
  t.ok(logs.some((l) => l.includes('secret.ts')), 'the cause is in the log for the operator')
})
