import t from 'tap'
import { assertError, buildApp, clientContext, encodeContext, TEST_ORG_ID, TEST_USER_ID } from '../helper.ts'
import { decodeClientContext } from '../../src/salesforce/context.ts'

const whoAmI = (headers: Record<string, string>) => ({ method: 'POST' as const, url: '/actions/whoAmI', headers, payload: {} })

t.test('caller context', async (t) => {
  const { app, logs } = await buildApp(t, { database: false })

  t.test('a valid header reaches the handler as a typed caller', async (t) => {
    const context = clientContext()
    const res = await app.inject(whoAmI({ 'x-client-context': encodeContext(context) }))
    t.equal(res.statusCode, 200)
    t.same(res.json(), { orgId: TEST_ORG_ID, userId: TEST_USER_ID, username: 'rep@acme.example', apiVersion: '62.0', orgDomainUrl: 'https://acme.my.salesforce.com' })
  })

  // Canonical base64 takes a shorter path than other spellings (issue 16): every spelling of the
  // same context must reach the handler as the same caller.
  t.test('URL-safe, unpadded and line-wrapped spellings read as the same caller', async (t) => {
    // A username whose UTF-8 bytes make "+" or "/" in standard base64, so the URL-safe spelling
    // differs, lengthened until the encoding needs padding.
    let username = 'ré~~?>@acme.example'
    while (!encodeContext(clientContext({ userContext: { userId: TEST_USER_ID, username } })).endsWith('=')) username = `x${username}`
    const canonical = encodeContext(clientContext({ userContext: { userId: TEST_USER_ID, username } }))
    t.match(canonical, /[+/]/)
    const expected = (await app.inject(whoAmI({ 'x-client-context': canonical }))).json()
    t.equal(expected.username, username)
    const spellings = {
      'URL-safe': canonical.replaceAll('+', '-').replaceAll('/', '_'),
      unpadded: canonical.replace(/=+$/, ''),
      'line-wrapped': canonical.replace(/.{76}/g, '$&\r\n ')
    }
    for (const [name, spelling] of Object.entries(spellings)) {
      const res = await app.inject(whoAmI({ 'x-client-context': spelling }))
      t.equal(res.statusCode, 200, name)
      t.same(res.json(), expected, name)
    }
  })

  t.test('canonical base64 with a stray character or bad padding → 401 not base64', async (t) => {
    const canonical = encodeContext(clientContext())
    for (const spelling of [`${canonical.slice(0, 40)}*${canonical.slice(40)}`, `${canonical}=`, `${canonical.slice(0, 8)}=${canonical.slice(8)}`]) {
      const body = assertError(t, await app.inject(whoAmI({ 'x-client-context': spelling })), 401, 'INVALID_CONTEXT')
      t.match(body.message, /not base64/, spelling.slice(0, 12))
    }
  })

  t.test('missing header → 401 MISSING_CONTEXT', async (t) => {
    assertError(t, await app.inject(whoAmI({})), 401, 'MISSING_CONTEXT')
  })

  t.test('not base64 → 401 saying so', async (t) => {
    const body = assertError(t, await app.inject(whoAmI({ 'x-client-context': '{not base64!}' })), 401, 'INVALID_CONTEXT')
    t.match(body.message, /not base64/)
  })

  t.test('a repeated header whose first value is only whitespace is not base64', async (t) => {
    for (const header of [['\t\r\n ', encodeContext(clientContext())], ['', encodeContext(clientContext())]]) {
      t.throws(() => decodeClientContext(header), { errorCode: 'INVALID_CONTEXT', message: /not base64$/ })
    }
  })

  t.test('base64 of something that is not JSON → 401 saying so', async (t) => {
    const body = assertError(t, await app.inject(whoAmI({ 'x-client-context': Buffer.from('hello there').toString('base64') })), 401, 'INVALID_CONTEXT')
    t.match(body.message, /not base64-encoded JSON/)
  })

  for (const missing of ['userContext', 'orgDomainUrl', 'accessToken'] as const) {
    t.test(`JSON without ${missing} → 401 naming it`, async (t) => {
      const body = assertError(t, await app.inject(whoAmI({ 'x-client-context': encodeContext(clientContext({ [missing]: undefined })) })), 401, 'INVALID_CONTEXT')
      t.match(body.message, new RegExp(`no ${missing}`))
    })
  }

  t.test('userContext without a userId → 401 naming the field', async (t) => {
    const body = assertError(t, await app.inject(whoAmI({ 'x-client-context': encodeContext(clientContext({ userContext: { username: 'x@y.z' } })) })), 401, 'INVALID_CONTEXT')
    t.match(body.message, /userContext/)
  })

  for (const [given, expected] of [['62.0', '62.0'], ['v62.0', '62.0'], ['v59.0', '59.0']]) {
    t.test(`apiVersion ${given} → ${expected}`, async (t) => {
      const res = await app.inject(whoAmI({ 'x-client-context': encodeContext(clientContext({ apiVersion: given })) }))
      t.equal(res.json().apiVersion, expected)
    })
  }

  for (const namespace of [null, 'null', '']) {
    t.test(`namespace ${JSON.stringify(namespace)} is accepted as no namespace`, async (t) => {
      const res = await app.inject(whoAmI({ 'x-client-context': encodeContext(clientContext({ namespace })) }))
      t.equal(res.statusCode, 200)
    })
  }

  t.test('an orgDomainUrl without scheme is taken as https', async (t) => {
    const res = await app.inject(whoAmI({ 'x-client-context': encodeContext(clientContext({ orgDomainUrl: 'acme.my.salesforce.com' })) }))
    t.equal(res.json().orgDomainUrl, 'https://acme.my.salesforce.com')
  })

  t.test('every log line carries the AppLink request id, and never the token', async (t) => {
    const context = clientContext()
    logs.length = 0
    await app.inject(whoAmI({ 'x-client-context': encodeContext(context) }))
    await app.inject(whoAmI({ 'x-client-context': encodeContext({ ...context, userContext: undefined }) }))
    t.ok(logs.length >= 2, 'both requests were logged')
    for (const line of logs) t.equal(JSON.parse(line).requestId, context.requestId, 'line has the request id')
    const all = logs.join('\n')
    t.notOk(all.includes(String(context.accessToken)), 'token absent from logs')
    t.notOk(all.includes(encodeContext(context)), 'encoded header absent from logs')
  })

  t.test('/healthcheck needs no context', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/healthcheck' })
    t.equal(res.statusCode, 200)
  })
})
