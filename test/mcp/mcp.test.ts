// The actions as MCP tools, reached by the official SDK's own client (Client +
// StreamableHTTPClientTransport + its client-credentials provider) against the listening service, on
// the local stack: acme and globex with an AppLink authorization each, one MCP client per org.
import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { SignJWT } from 'jose'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { startStack, type StackOrg } from '../stack.ts'
import { actions } from '../../src/actions/index.ts'
import { isMcpTool, RUN_AS_NOTE } from '../../src/mcp/tools.ts'

type Rec = Record<string, unknown>

const KEY = randomBytes(32)
const secret = (name: string): string => `${name}-${randomBytes(12).toString('hex')}`
const ACME_SECRET = secret('acme')
const GLOBEX_SECRET = secret('globex')
const sha = (text: string): string => createHash('sha256').update(text).digest('hex')

const s = await startStack(t, {
  orgs: ['acme', 'globex'],
  env: (_org, orgs) => ({
    MCP_CLIENTS: [
      `acme-agent:${sha(ACME_SECRET)}:${(orgs.acme as StackOrg).org.orgId}:*`,
      `globex-agent:${sha(GLOBEX_SECRET)}:${(orgs.globex as StackOrg).org.orgId}:checkAvailability|accountInsights`
    ].join(','),
    MCP_TOKEN_SIGNING_KEY: KEY.toString('base64'),
    MCP_TOKEN_TTL_SECONDS: '60'
  })
})
const acme = s.orgs.acme as StackOrg
const globex = s.orgs.globex as StackOrg
await s.app.listen({ port: 0, host: '127.0.0.1' })
const base = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`
const mcpUrl = new URL(`${base}/mcp`)

/** A connected SDK client that finds the authorization server and gets its token by itself. */
async function connect (clientId: string, clientSecret: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(mcpUrl, {
    authProvider: new ClientCredentialsProvider({ clientId, clientSecret, expectedIssuer: base })
  })
  const client = new Client({ name: 'applink-actions-test', version: '1.0.0' })
  await client.connect(transport)
  t.teardown(() => client.close())
  return client
}

const structured = (result: CallToolResult): Rec => result.structuredContent as Rec
const errorBody = (result: CallToolResult): Rec => {
  const first = result.content[0]
  return JSON.parse(first?.type === 'text' ? first.text : '{}') as Rec
}

t.test('discovery: 401 names the resource metadata, which names this authorization server', async (t) => {
  const res = await fetch(mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' })
  })
  t.equal(res.status, 401)
  t.equal(res.headers.get('www-authenticate'), `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`)
  const prm = await (await fetch(`${base}/.well-known/oauth-protected-resource/mcp`)).json() as Rec
  t.same(prm.resource, `${base}/mcp`)
  t.same(prm.authorization_servers, [base])
  t.same(await (await fetch(`${base}/.well-known/oauth-protected-resource`)).json(), prm, 'the root path serves it too')
  const as = await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json() as Rec
  t.equal(as.issuer, base)
  t.equal(as.token_endpoint, `${base}/oauth/token`)
  t.same(as.grant_types_supported, ['client_credentials'])
  t.same(as.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post'])
})

t.test('token endpoint: client_secret_basic and client_secret_post; refusals as RFC 6749 has them', async (t) => {
  const form = (fields: Rec): string => new URLSearchParams(fields as Record<string, string>).toString()
  const post = async (body: string, headers: Record<string, string> = {}): Promise<Response> =>
    await fetch(`${base}/oauth/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body
    })
  const basic = `Basic ${Buffer.from(`acme-agent:${ACME_SECRET}`).toString('base64')}`
  const viaBasic = await post(form({ grant_type: 'client_credentials', resource: `${base}/mcp` }), { authorization: basic })
  t.equal(viaBasic.status, 200)
  t.equal(viaBasic.headers.get('cache-control'), 'no-store')
  const token = await viaBasic.json() as Rec
  t.equal(token.token_type, 'Bearer')
  t.equal(token.expires_in, 60)
  const viaPost = await post(form({ grant_type: 'client_credentials', client_id: 'acme-agent', client_secret: ACME_SECRET }))
  t.equal(viaPost.status, 200)
  const wrong = await post(form({ grant_type: 'client_credentials' }), {
    authorization: `Basic ${Buffer.from('acme-agent:nope').toString('base64')}`
  })
  t.equal(wrong.status, 401)
  t.match(wrong.headers.get('www-authenticate'), /^Basic /)
  t.equal((await wrong.json() as Rec).error, 'invalid_client')
  const both = await post(form({ grant_type: 'client_credentials', client_id: 'acme-agent', client_secret: ACME_SECRET }),
    { authorization: basic })
  t.equal((await both.json() as Rec).error, 'invalid_request', 'one authentication method only')
  const grant = await post(form({ grant_type: 'password' }), { authorization: basic })
  t.equal((await grant.json() as Rec).error, 'unsupported_grant_type')
  const target = await post(form({ grant_type: 'client_credentials', resource: 'https://elsewhere.example/mcp' }),
    { authorization: basic })
  t.equal((await target.json() as Rec).error, 'invalid_target')
})

t.test('tools/list: the actions marked as tools, with schemas, annotations and who they run as', async (t) => {
  const client = await connect('acme-agent', ACME_SECRET)
  const { tools } = await client.listTools()
  const expected = actions.filter(isMcpTool).map((a) => a.operationId)
  t.same(tools.map((tool) => tool.name), expected)
  t.ok(expected.includes('getJobStatus') && expected.includes('startAccountRescore'), 'the long-work pair')
  t.notOk(expected.includes('rescoreAccounts'), 'a callback action is no tool')
  t.notOk(expected.includes('generateQuote') || expected.includes('logProductFeedback'), 'writes that did not opt in')
  for (const tool of tools) {
    const action = actions.find((a) => a.operationId === tool.name)
    t.ok(tool.description?.startsWith(action?.description ?? '-'), `${tool.name}: the action's description`)
    t.ok(tool.description?.endsWith(RUN_AS_NOTE), `${tool.name}: says it runs as the authorization`)
    t.equal(tool.inputSchema.type, 'object')
    t.equal(tool.outputSchema?.type, 'object')
    t.notOk(JSON.stringify(tool.inputSchema).includes('x-sfdc'), `${tool.name}: no Salesforce-only keywords`)
    t.equal(tool.annotations?.readOnlyHint, action?.tool?.readOnly)
    t.equal(tool.annotations?.destructiveHint, action?.tool?.destructive)
    t.equal(tool.annotations?.idempotentHint, action?.tool?.idempotent)
  }
})

t.test('the read tools answer structured content that matches their output schema', async (t) => {
  const client = await connect('acme-agent', ACME_SECRET)
  await client.listTools()
  const integration = acme.org.users.find((u) => u.profile === 'integration')
  const who = await client.callTool({ name: 'whoAmI', arguments: {} }) as CallToolResult
  t.notOk(who.isError)
  t.equal(structured(who).orgId, acme.org.orgId, 'the client\'s org')
  t.equal(structured(who).username, integration?.username, 'as the authorization\'s run-as user')
  t.same(JSON.parse((who.content[0] as { text: string }).text), structured(who), 'and the same as text')

  const codes = acme.org.records('Product2').filter((p) => p.IsActive === true).slice(0, 2).map((p) => String(p.ProductCode))
  const availability = await client.callTool({
    name: 'checkAvailability',
    arguments: { items: codes.map((productCode) => ({ productCode, quantity: 1 })) }
  }) as CallToolResult
  t.notOk(availability.isError)
  t.same((structured(availability).items as Rec[]).map((i) => i.productCode), codes)
  // The SDK client checked structuredContent against the tool's outputSchema (it throws otherwise).

  const account = acme.org.records('Account')[0] as Rec
  const insights = await client.callTool({ name: 'accountInsights', arguments: { accountId: account.Id } }) as CallToolResult
  t.notOk(insights.isError, JSON.stringify(insights.content))
  t.type(structured(insights).summary, 'string')

  const started = await client.callTool({ name: 'startAccountRescore', arguments: { segment: 'Customer' } }) as CallToolResult
  t.notOk(started.isError, JSON.stringify(started.content))
  const jobId = structured(started).jobId
  const status = await client.callTool({ name: 'getJobStatus', arguments: { jobId } }) as CallToolResult
  t.notOk(status.isError, JSON.stringify(status.content))
  t.equal(structured(status).jobId, jobId, 'the job is the run-as user\'s, so the same client reads it back')

  const feedback = await client.callTool({ name: 'getSyncStatus', arguments: { feedbackId: '00000000-0000-4000-8000-000000000000' } })
  t.equal(feedback.isError, true, 'getSyncStatus answers (404 for feedback not the run-as user\'s)')
})

t.test('errors are tool results with the REST body\'s errorCode and fields, never protocol errors', async (t) => {
  const client = await connect('acme-agent', ACME_SECRET)
  await client.listTools()
  const typo = await client.callTool({ name: 'checkAvailability', arguments: { itmes: [] } }) as CallToolResult
  t.equal(typo.isError, true)
  const rest = await s.call('checkAvailability', { itmes: [] })
  const body = errorBody(typo)
  t.equal(body.errorCode, rest.json().errorCode)
  t.same(body.fields, rest.json().fields)
  t.equal(body.message, rest.json().message)
  t.equal(typo.structuredContent, undefined, 'no structured content to mistake for an answer')

  const missing = await client.callTool({ name: 'accountInsights', arguments: { accountId: '001000000000000AAA' } }) as CallToolResult
  t.equal(missing.isError, true)
  t.equal(errorBody(missing).errorCode, 'NOT_FOUND')
  t.same(errorBody(missing).fields, ['accountId'])

  await t.rejects(client.callTool({ name: 'generateQuote', arguments: {} }), /Unknown tool/, 'a write that did not opt in')
})

t.test('a client of one org never reads another org\'s data, and calls only its own tools', async (t) => {
  const client = await connect('globex-agent', GLOBEX_SECRET)
  const { tools } = await client.listTools()
  t.same(tools.map((tool) => tool.name), ['checkAvailability', 'accountInsights'], 'only the tools it is given')
  const acmeAccount = acme.org.records('Account')[0] as Rec
  const result = await client.callTool({ name: 'accountInsights', arguments: { accountId: acmeAccount.Id } }) as CallToolResult
  t.equal(result.isError, true, 'acme\'s account is not in globex\'s org')
  t.equal(errorBody(result).errorCode, 'NOT_FOUND')
  const code = String(globex.org.records('Product2').find((p) => p.IsActive === true)?.ProductCode)
  const own = await client.callTool({ name: 'checkAvailability', arguments: { items: [{ productCode: code, quantity: 1 }] } })
  const ids = new Set<unknown>(globex.org.records('Product2').map((p) => p.Id))
  t.ok(ids.has(((own.structuredContent as Rec).items as Rec[])[0]?.productId), 'globex\'s own product')
  await t.rejects(client.callTool({ name: 'whoAmI', arguments: {} }), /Unknown tool/)
})

t.test('401 without a token, with a forged, an expired or another audience\'s token', async (t) => {
  const call = async (token: string | undefined): Promise<Response> => await fetch(mcpUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` })
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' })
  })
  const sign = async (key: Uint8Array, claims: { aud?: string, exp?: number }): Promise<string> =>
    await new SignJWT({ client_id: 'acme-agent' })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setIssuer(base).setSubject('acme-agent').setAudience(claims.aud ?? `${base}/mcp`)
      .setIssuedAt().setJti('x').setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 60)
      .sign(key)
  const good = await sign(KEY, {})
  t.equal((await call(good)).status, 200, 'a token signed with the key is accepted')
  for (const [what, token] of [
    ['no token', undefined],
    ['a forged token', await sign(randomBytes(32), {})],
    ['an expired token', await sign(KEY, { exp: Math.floor(Date.now() / 1000) - 5 })],
    ['a token for another resource', await sign(KEY, { aud: 'https://other.example/mcp' })],
    ['not a JWT', 'abc']
  ] as const) {
    const res = await call(token)
    t.equal(res.status, 401, what)
    t.match(res.headers.get('www-authenticate'), /^Bearer resource_metadata="/, `${what}: the challenge`)
    if (token !== undefined) t.match(res.headers.get('www-authenticate'), /error="invalid_token"/)
  }
})

t.test('DNS rebinding: another Host or Origin is refused with 403', async (t) => {
  const request = async (headers: Record<string, string>): Promise<number> => (await s.app.inject({
    method: 'POST', url: '/mcp', headers: { 'content-type': 'application/json', ...headers }, payload: {}
  })).statusCode
  t.equal(await request({ host: 'evil.example:3000' }), 403, 'a rebound host name')
  t.equal(await request({ host: '127.0.0.1:3000', origin: 'http://evil.example:3000' }), 403, 'a foreign page')
  t.equal(await request({ host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000' }), 401, 'the service\'s own origin')
  t.equal(await request({ host: '127.0.0.1:3000', origin: 'http://localhost:8443' }), 401,
    'a page of an allowed host on another port (a proxy in front)')
  t.equal(await request({ host: 'localhost:3000', origin: 'null' }), 403, 'an opaque origin')
  t.equal(await request({ host: 'localhost:3000' }), 401, 'no Origin: a non-browser client')
  const metadata = await s.app.inject({ url: '/.well-known/oauth-authorization-server', headers: { host: 'evil.example' } })
  t.equal(metadata.statusCode, 403, 'the OAuth routes too')
})
