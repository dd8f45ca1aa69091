import t from 'tap'
import { existsSync, readdirSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import bundledChromium from '@sparticuz/chromium'
import { assertError, buildApp, clientContext, encodeContext, TEST_ORG_ID, TEST_USER_ID } from '../helper.ts'
import { startStack } from '../stack.ts'
import { to18 } from '@applink-actions/local-org'
import { actions } from '../../src/actions/index.ts'

const SYSTEM_CHROMIUM = '/usr/bin/chromium'
const PRODUCTION_KEY = `k1:${randomBytes(32).toString('base64')}`
// The README's picture is refreshed on request only, so a test run leaves the tree clean.
const SWAGGER_UI_STATIC = fileURLToPath(new URL('../../node_modules/@fastify/swagger-ui/static', import.meta.url))
const README_SCREENSHOT = new URL('../../docs/api-reference.png', import.meta.url).pathname

t.test('/docs is off in production unless DOCS_ENABLED', async (t) => {
  const { app } = await buildApp(t, { database: false, env: { NODE_ENV: 'production', JOB_ENCRYPTION_KEYS: PRODUCTION_KEY } })
  t.equal((await app.inject({ url: '/docs' })).statusCode, 404)
  const { app: enabled } = await buildApp(t, { database: false, env: { NODE_ENV: 'production', JOB_ENCRYPTION_KEYS: PRODUCTION_KEY, DOCS_ENABLED: 'true' } })
  t.equal((await enabled.inject({ url: '/docs' })).statusCode, 200)
})

t.test('the docs page reads a spec whose calls go to /docs/try; the published spec has no scheme', async (t) => {
  const { app } = await buildApp(t, { database: false })
  const page = await app.inject({ url: '/docs' })
  t.equal(page.statusCode, 200, 'no x-client-context needed')
  t.match(page.headers['content-type'], /text\/html/)
  const served = (await app.inject({ url: '/docs/json' })).json()
  t.same(served.servers, [{ url: '/docs/try', description: String(served.servers[0]?.description) }])
  const scheme = served.components.securitySchemes.clientContext
  t.same(scheme, { type: 'apiKey', in: 'header', name: 'x-client-context', description: String(scheme.description) },
    'a scheme to paste a context into, with nothing preset')
  t.same(served.security, [{}, { clientContext: [] }], 'and optional')
  const published = app.swagger() as {
    components?: Record<string, unknown>
    security?: unknown
    paths: Record<string, unknown>
  }
  t.notOk(published.components?.securitySchemes, 'the published spec stays without security schemes')
  t.notOk(published.security)
  t.notOk(Object.keys(published.paths).some((path) => path.startsWith('/docs')), 'no /docs route in the spec')
})

/** The base64 context, its JSON and its token: none of them may be readable from the page. */
function secretsOf (context: string): string[] {
  const { accessToken } = JSON.parse(Buffer.from(context, 'base64').toString()) as { accessToken: string }
  return [context, Buffer.from(context, 'base64').toString(), accessToken]
}

t.test('no page, spec or asset of /docs carries DOCS_CLIENT_CONTEXT or its token', async (t) => {
  const context = encodeContext(clientContext())
  const { app } = await buildApp(t, { database: false, env: { DOCS_CLIENT_CONTEXT: context } })
  const html = (await app.inject({ url: '/docs/' })).body
  // Every asset the page names, and every file the package serves under /docs/static.
  const named = [...html.matchAll(/(?:src|href)="\.\/([^"]+)"/g)].map((m) => `/docs/${String(m[1])}`)
  const packaged = readdirSync(SWAGGER_UI_STATIC).map((file) => `/docs/static/${file}`)
  const urls = [...new Set(['/docs', '/docs/', '/docs/json', '/docs/yaml', ...named, ...packaged])]
  t.ok(named.includes('/docs/static/swagger-initializer.js'), 'the page script is among them')
  for (const url of urls) {
    const res = await app.inject({ url })
    t.ok(res.statusCode < 400, `${url} answers (${res.statusCode})`)
    const leaked = secretsOf(context).filter((secret) => res.body.includes(secret))
    t.same(leaked, [], `${url} shows no context or token`)
  }
})

t.test('"try it" goes through /docs/try: the action runs as the preset user, each call a new request', async (t) => {
  const preset = clientContext()
  const { app, logs } = await buildApp(t, { database: false, env: { DOCS_CLIENT_CONTEXT: encodeContext(preset) } })
  const tryIt = async (operationId: string, payload: string, headers: Record<string, string> = {}) => await app.inject({
    method: 'POST',
    url: `/docs/try/actions/${operationId}`,
    headers: { 'content-type': 'application/json', ...headers },
    payload
  })
  const first = await tryIt('whoAmI', '{}')
  t.equal(first.statusCode, 200)
  t.match(first.headers['content-type'], /application\/json/)
  t.match(first.json(), { orgId: TEST_ORG_ID, userId: TEST_USER_ID, username: 'rep@acme.example' },
    'as the preset user')
  t.equal((await tryIt('whoAmI', '{}')).statusCode, 200)
  const requestIds = logs.map((l) => JSON.parse(l) as { msg?: string, requestId?: string })
    .filter((l) => l.msg === 'action').map((l) => l.requestId)
  t.equal(requestIds.length, 2, 'both calls reached the action')
  t.not(requestIds[0], requestIds[1], 'a fresh AppLink request id per call, so write actions do not replay')
  t.notOk(requestIds.includes(String(preset.requestId)), 'not the preset one')
  t.ok(requestIds.every((id) => String(id).startsWith(`${TEST_ORG_ID}-`)), 'in AppLink\'s form: org id, then a UUID')

  assertError(t, await tryIt('whoAmI', '{"surprise":1}'), 400, 'INVALID_REQUEST')
  assertError(t, await tryIt('whoAmI', '<a/>', { 'content-type': 'application/xml' }), 415, 'UNSUPPORTED_MEDIA_TYPE')
  t.equal((await tryIt('noSuchAction', '{}')).statusCode, 404, 'only action routes are reached')
  t.equal((await tryIt('..%2Fhealthcheck', '{}')).statusCode, 400, 'and nothing outside /actions')

  const ownId = to18('0055g00000Zzzzz')
  const own = clientContext({ userContext: { userId: ownId, username: 'me@acme.example' } })
  const pasted = await tryIt('whoAmI', '{}', { 'x-client-context': encodeContext(own) })
  t.match(pasted.json(), { userId: ownId }, 'a context pasted into the page is used instead')
})

t.test('without DOCS_CLIENT_CONTEXT "try it" answers what the action answers a caller with no context', async (t) => {
  const { app } = await buildApp(t, { database: false })
  const res = await app.inject({ method: 'POST', url: '/docs/try/actions/whoAmI', payload: {} })
  assertError(t, res, 401, 'MISSING_CONTEXT')
})

t.test('in Chromium, the page lists every action and "try it" calls checkAvailability', async (t) => {
  // The system's Chromium when there is one; otherwise the headless shell that @sparticuz/chromium ships
  // inside its npm package (unpacked to the temp folder on first use), so `npm ci && npm test` needs no
  // browser download. Never a skip: a browser that cannot start fails the test.
  const executablePath = existsSync(SYSTEM_CHROMIUM) ? SYSTEM_CHROMIUM : await bundledChromium.executablePath()
  const s = await startStack(t, { env: (org) => ({ DOCS_CLIENT_CONTEXT: org.mintContext('rep1@acme.local') }) })
  const product = s.org.records('Product2').find((p) => p.IsActive === true && typeof p.ProductCode === 'string')
  if (product === undefined) throw new Error('the local org has no active product')
  const address = await s.app.listen({ port: 0, host: '127.0.0.1' })

  const profile = await mkdtemp(join(tmpdir(), 'docs-chromium-'))
  t.teardown(() => rm(profile, { recursive: true, force: true }))
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 }
  })
  t.teardown(() => browser.close())
  // The page must work offline: anything not from the service is refused and reported.
  const outside: string[] = []
  await browser.route('**/*', async (route) => {
    if (route.request().url().startsWith(address)) return await route.continue()
    outside.push(route.request().url())
    return await route.abort()
  })
  const page = browser.pages()[0] ?? await browser.newPage()
  const errors: string[] = []
  page.on('pageerror', (err) => { errors.push(err.message) })
  const calls: Array<{ url: string, context: string | undefined }> = []
  page.on('request', (request) => {
    if (request.method() === 'POST') calls.push({ url: request.url(), context: request.headers()['x-client-context'] })
  })

  await page.goto(`${address}/docs`)
  await page.locator('.opblock').first().waitFor()
  for (const action of actions) {
    await t.resolves(page.locator(`#operations-default-${action.operationId}`).waitFor({ timeout: 5000 }), `${action.operationId} is listed`)
    t.ok(await page.getByText(action.summary, { exact: true }).isVisible(), `${action.operationId} shows its summary`)
  }

  const operation = page.locator('#operations-default-checkAvailability')
  await operation.locator('.opblock-summary').click()
  await t.resolves(operation.getByText(actions.find((a) => a.operationId === 'checkAvailability')!.description).waitFor({ timeout: 5000 }), 'description shown')
  await operation.getByRole('button', { name: 'Try it out' }).click()
  await operation.locator('textarea.body-param__text').fill(JSON.stringify({ items: [{ productCode: product.ProductCode, quantity: 2 }] }))
  await operation.getByRole('button', { name: 'Execute' }).click()
  const status = operation.locator('.live-responses-table .response .response-col_status').first()
  await status.waitFor({ timeout: 15_000 })
  t.equal((await status.innerText()).trim(), '200', 'the page shows a 200 response')
  const body = await operation.locator('.live-responses-table .response-col_description pre').first().innerText()
  t.match(body, String(product.ProductCode), 'the answer names the product')
  t.match(body, '"found": true')
  const minted = JSON.parse(Buffer.from(String(s.app.config.DOCS_CLIENT_CONTEXT), 'base64').toString()) as { requestId: string }
  const served = s.logs.map((l) => JSON.parse(l) as { msg?: string, operationId?: string, requestId?: string }).filter((l) => l.msg === 'action' && l.operationId === 'checkAvailability')
  t.equal(served.length, 1, 'the call reached the service')
  t.not(served[0]?.requestId, minted.requestId, 'with a fresh AppLink request id, as each real invocation has')
  t.same(calls, [{ url: `${address}/docs/try/actions/checkAvailability`, context: undefined }],
    'the page calls the docs route and holds no context: the service adds it')
  t.same(outside, [], 'no request leaves the service')
  t.same(errors, [], 'no page errors')

  // The picture shows the actions and the answer, not the curl line and URL of the call.
  await page.addStyleTag({ content: '.curl-command, .request-url, table.responses-table:not(.live-responses-table), .responses-inner h4 { display: none !important }' })
  const screenshot = process.env.UPDATE_DOCS_SCREENSHOT === '1' ? README_SCREENSHOT : join(profile, 'api-reference.png')
  await page.screenshot({ path: screenshot, type: 'png', fullPage: true })
  t.ok(existsSync(screenshot), `screenshot saved to ${screenshot}`)
})
