// The caller's identity is checked with the org before anything is read, written or queued for it:
// a forged context (a garbage token, another user's id, a host that is not Salesforce) is refused.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { startStack } from '../stack.ts'
import { TEST_ORG_ID, TEST_USER_ID, assertError, clientContext } from '../helper.ts'
import { IdentityCheck } from '../../src/salesforce/identity.ts'
import { callerFrom } from '../../src/salesforce/context.ts'
import { to18 } from '@applink-actions/local-org'
import type { ClientContext } from '@applink-actions/platform/client-context'

type Rec = Record<string, unknown>

t.test('a forged caller context is refused before any write', async (t) => {
  const s = await startStack(t)
  const product = s.org.records('Product2').find((p) => p.IsActive === true) as Rec
  const real = s.org.contextFor('rep1@acme.local')
  const admin = s.org.user('admin@acme.local')
  const forged = (overrides: Partial<ClientContext>): string => Buffer.from(JSON.stringify({
    ...real, requestId: `${real.orgId}-${randomUUID()}`, ...overrides
  })).toString('base64')
  const feedback = async (context: string) => await s.app.inject({
    method: 'POST',
    url: '/actions/logProductFeedback',
    headers: { 'x-client-context': context },
    payload: { productCode: product.ProductCode, rating: 1, comment: 'forged' }
  })
  const feedbackRows = async (): Promise<number> =>
    Number((await s.pool.query('SELECT count(*) FROM salesforce.product_feedback__c')).rows[0].count)
  const rowsBefore = await feedbackRows()
  const quotesBefore = s.org.records('Quote').length

  t.test('a garbage token on a host that is not Salesforce: 401, not a write', async (t) => {
    assertError(t, await feedback(forged({ accessToken: 'not-a-token', orgDomainUrl: 'nowhere.invalid' })), 401, 'INVALID_CONTEXT')
  })

  t.test('an orgDomainUrl that is not an org\'s My Domain, or not a URL at all: 401, never 500', async (t) => {
    for (const orgDomainUrl of [
      'http://[::1', 'https://', '%%%', 'javascript:alert(1)', 'https://acme.my.salesforce.com.evil.example',
      'https://evil.example/.my.salesforce.com', 'https://my.salesforce.com', 'http://acme.my.salesforce.com',
      'https://user:pw@acme.my.salesforce.com', 'https://acme.my.salesforce.com:8443', 'http://127.0.0.2:1',
      `${real.orgDomainUrl}?x=1`, `${real.orgDomainUrl}#x`, `${real.orgDomainUrl} `, `${real.orgDomainUrl}/ `,
      real.orgDomainUrl.toUpperCase(), 'https://ACME.my.salesforce.com'
    ]) {
      const res = await feedback(forged({ orgDomainUrl }))
      t.equal(res.statusCode, 401, `${orgDomainUrl}: 401`)
      t.equal(res.json().errorCode, 'INVALID_CONTEXT', `${orgDomainUrl}: INVALID_CONTEXT`)
    }
  })

  t.test('a token Salesforce does not accept: 401 INVALID_SESSION_ID', async (t) => {
    assertError(t, await feedback(forged({ accessToken: 'not-a-token' })), 401, 'INVALID_SESSION_ID')
    const read = await s.app.inject({
      method: 'POST',
      url: '/actions/checkAvailability',
      headers: { 'x-client-context': forged({ accessToken: 'not-a-token' }) },
      payload: { items: [{ productCode: product.ProductCode, quantity: 1 }] }
    })
    assertError(t, read, 401, 'INVALID_SESSION_ID')
  })

  t.test('a real token with another user\'s or org\'s id: 401 CONTEXT_MISMATCH', async (t) => {
    const asAdmin = forged({ userContext: { userId: admin.id, username: admin.username } })
    assertError(t, await feedback(asAdmin), 401, 'CONTEXT_MISMATCH')
    assertError(t, await feedback(forged({ orgId: to18('00D000000000001') })), 401, 'CONTEXT_MISMATCH')
    const quote = await s.app.inject({
      method: 'POST',
      url: '/actions/generateQuote',
      headers: { 'x-client-context': asAdmin },
      payload: { opportunityId: s.org.records('Opportunity')[0]?.Id }
    })
    assertError(t, quote, 401, 'CONTEXT_MISMATCH')
  })

  t.test('nothing was written by any of them, and the real caller still writes', async (t) => {
    t.equal(await feedbackRows(), rowsBefore, 'no feedback row from a forged context')
    t.equal(s.org.records('Quote').length, quotesBefore, 'no quote from a forged context')
    const res = await feedback(forged({}))
    t.equal(res.statusCode, 200, 'the context as AppLink sent it writes')
    t.equal(await feedbackRows(), rowsBefore + 1)
  })

  t.test('an 18-character id whose suffix does not match is no id; 15 or 18 characters are one caller', async (t) => {
    const rep = s.org.user('rep1@acme.local')
    const broken = forged({ userContext: { userId: `${rep.id.slice(0, 15)}ZZZ`, username: rep.username } })
    assertError(t, await feedback(broken), 401, 'INVALID_CONTEXT')
    const short = forged({
      userContext: { userId: rep.id.slice(0, 15), username: rep.username }, orgId: real.orgId.slice(0, 15)
    })
    const who = await s.app.inject({ method: 'POST', url: '/actions/whoAmI', headers: { 'x-client-context': short }, payload: {} })
    t.same([who.json().userId, who.json().orgId], [rep.id, real.orgId], 'the caller is known by the 18-character ids')
    const logged = await feedback(short)
    t.equal(logged.statusCode, 200, 'a 15-character context is the same caller')
    const status = await s.call('getSyncStatus', { feedbackId: logged.json().feedbackId })
    t.equal(status.statusCode, 200, 'and the 18-character context of the same user follows its feedback')
  })

  t.test('a token confirmed for the org\'s host is not trusted for another host', async (t) => {
    t.equal((await feedback(forged({}))).statusCode, 200, 'confirmed at the org\'s own host')
    const elsewhere = await feedback(forged({ orgDomainUrl: 'https://elsewhere.my.salesforce.com' }))
    t.not(elsewhere.statusCode, 200, 'the same token naming another org host is asked about again')
    t.equal(elsewhere.json().errorCode, 'ORG_UNAVAILABLE', 'there (unreachable here), not taken from the cache')
  })
})

t.test('the org is asked once per token, and a token is remembered only by its hash', async (t) => {
  let asked = 0
  const server = createServer((req, res) => {
    asked++
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ user_id: TEST_USER_ID, organization_id: TEST_ORG_ID }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const orgDomainUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const check = new IdentityCheck({ ttlMs: 60_000, timeoutMs: 2000 })
  const context = clientContext({ orgDomainUrl }) as unknown as ClientContext
  const caller = callerFrom(context, 'r1')
  await Promise.all([1, 2, 3, 4, 5].map(async () => { await check.verify(caller, context.accessToken) }))
  await check.verify(caller, context.accessToken)
  t.equal(asked, 1, 'five calls at once and one later: one question to the org')
  await check.verify(caller, `${context.accessToken}x`)
  t.equal(asked, 2, 'another token is asked about')
  const expiring = new IdentityCheck({ ttlMs: 0, timeoutMs: 2000 })
  await expiring.verify(caller, context.accessToken)
  await expiring.verify(caller, context.accessToken)
  t.equal(asked, 4, 'past IDENTITY_CACHE_TTL_MS the org is asked again')
  const other = callerFrom({ ...context, userContext: { userId: '005000000000001AAA', username: 'x' } }, 'r2')
  const refused = await check.verify(other, context.accessToken).then(() => undefined, (err: unknown) => err)
  t.match(refused, { errorCode: 'CONTEXT_MISMATCH' }, 'a remembered token does not vouch for another user')
})
