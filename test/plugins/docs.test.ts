import t from 'tap'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import bundledChromium from '@sparticuz/chromium'
import { buildApp } from '../helper.ts'
import { startStack } from '../stack.ts'
import { actions } from '../../src/actions/index.ts'

const SYSTEM_CHROMIUM = '/usr/bin/chromium'
const PRODUCTION_KEY = `k1:${Buffer.alloc(32, 7).toString('base64')}`
// The README's picture is refreshed on request only, so a test run leaves the tree clean.
const README_SCREENSHOT = new URL('../../docs/api-reference.png', import.meta.url).pathname

t.test('/docs is off in production unless DOCS_ENABLED', async (t) => {
  const { app } = await buildApp(t, { database: false, env: { NODE_ENV: 'production', JOB_ENCRYPTION_KEYS: PRODUCTION_KEY } })
  t.equal((await app.inject({ url: '/docs' })).statusCode, 404)
  const { app: enabled } = await buildApp(t, { database: false, env: { NODE_ENV: 'production', JOB_ENCRYPTION_KEYS: PRODUCTION_KEY, DOCS_ENABLED: 'true' } })
  t.equal((await enabled.inject({ url: '/docs' })).statusCode, 200)
})

t.test('the docs page reads the spec with a docs-only scheme; the published spec has none', async (t) => {
  const { app } = await buildApp(t, { database: false })
  const page = await app.inject({ url: '/docs' })
  t.equal(page.statusCode, 200, 'no x-client-context needed')
  t.match(page.headers['content-type'], /text\/html/)
  const served = (await app.inject({ url: '/docs/json' })).json()
  t.same(served.components.securitySchemes.clientContext, { type: 'apiKey', in: 'header', name: 'x-client-context', description: String(served.components.securitySchemes.clientContext.description) })
  t.same(served.security, [{ clientContext: [] }])
  const published = app.swagger() as {
    components?: Record<string, unknown>
    security?: unknown
    paths: Record<string, unknown>
  }
  t.notOk(published.components?.securitySchemes, 'the published spec stays without security schemes')
  t.notOk(published.security)
  t.notOk(Object.keys(published.paths).some((path) => path.startsWith('/docs')), 'no /docs route in the spec')
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
  t.same(outside, [], 'no request leaves the service')
  t.same(errors, [], 'no page errors')

  // The picture shows the actions and the answer, not the (local, throw-away) context in the curl line.
  await page.addStyleTag({ content: '.curl-command, .request-url, table.responses-table:not(.live-responses-table), .responses-inner h4 { display: none !important }' })
  const screenshot = process.env.UPDATE_DOCS_SCREENSHOT === '1' ? README_SCREENSHOT : join(profile, 'api-reference.png')
  await page.screenshot({ path: screenshot, type: 'png', fullPage: true })
  t.ok(existsSync(screenshot), `screenshot saved to ${screenshot}`)
})
