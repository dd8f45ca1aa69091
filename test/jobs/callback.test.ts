// The summary's POST to callbackUrl: no token the caller did not give, no redirect followed, no
// internal address reached.
import t, { type Test } from 'tap'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CallbackRefused, isPublicAddress, postCallback } from '../../src/jobs/callback.ts'
import { RUN_AS, applinkUnderTest, jobsApp, mirroredDatabase, orgUnderTest, settled, startRescore } from './fixtures.ts'

const REP = 'rep1@acme.local'
const ADMIN = 'admin@acme.local'

/** A server that records what reaches it; `answer` decides each reply. */
async function receiver (t: Test, answer: (req: IncomingMessage) => [number, Record<string, string>]) {
  const seen: Array<{ url: string, authorization: string | undefined }> = []
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization })
    req.resume()
    const [status, headers] = answer(req)
    res.writeHead(status, headers).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => { resolve() })))
  return { seen, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

t.test('under an AppLink authorization the callback carries no token: not the run-as user\'s', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { env } = await applinkUnderTest(t, ut)
  const { app } = await jobsApp(t, databaseUrl, env)
  const accepted = await startRescore(app, ut, REP, { segment: 'Customer', industry: 'Technology' })
  t.equal(accepted.statusCode, 202)
  const status = await settled(app, ut, REP, accepted.body.jobId)
  t.equal(status.state, 'completed')
  t.equal(ut.callbacks.length, 1, 'the summary was POSTed')
  const sent = ut.callbacks[0]?.authorization
  t.not(sent, `Bearer ${ut.org.user(RUN_AS).accessToken}`, 'not the integration user\'s token')
  t.equal(sent, undefined, 'no token at all: the job holds none of the caller\'s')
})

t.test('without an authorization, the caller\'s own session goes to the caller\'s own org only', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app } = await jobsApp(t, databaseUrl)
  const accepted = await startRescore(app, ut, REP, { segment: 'Customer', industry: 'Technology' })
  await settled(app, ut, REP, accepted.body.jobId)
  t.equal(ut.callbacks[0]?.authorization, `Bearer ${ut.org.user(REP).accessToken}`, 'the caller\'s own token')
})

t.test('a redirect from the callback URL is not followed, and its target is never reached', async (t) => {
  const internal = await receiver(t, () => [200, {}])
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const redirecting = await receiver(t, () => [307, { location: `${internal.url}/admin/secret` }])
  const { app } = await jobsApp(t, databaseUrl, { CALLBACK_ALLOWED_ORIGINS: redirecting.url })
  const accepted = await app.inject({
    method: 'POST',
    url: '/actions/rescoreAccounts',
    headers: { 'x-client-context': ut.context(ADMIN) },
    payload: { segment: 'Customer', industry: 'Technology', callbackUrl: `${redirecting.url}/hook` }
  })
  t.equal(accepted.statusCode, 202)
  const status = await settled(app, ut, ADMIN, accepted.json().jobId)
  t.equal(status.state, 'completed', 'the job completes')
  t.equal(redirecting.seen.length, 1, 'the allowed origin got the summary once')
  t.same(internal.seen, [], 'the redirect target got nothing')
  t.match(status.result, { callbackStatus: 307 }, 'the redirect is recorded as the answer, not retried')
})

t.test('loopback, private and link-local addresses are refused, after DNS resolution too', async (t) => {
  for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1',
    '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:169.254.169.254', '::127.0.0.1',
    '::ffff:0:127.0.0.1', '2002:7f00:1::', '64:ff9b:1::7f00:1', '64:ff9b::7f00:1', '2001::1', 'fec0::1']) {
    t.notOk(isPublicAddress(address), `${address} is not public`)
  }
  for (const address of ['8.8.8.8', '13.107.6.152', '2606:4700::1111']) t.ok(isPublicAddress(address), `${address} is public`)

  const target = await receiver(t, () => [200, {}])
  const port = new URL(target.url).port
  const refused = { timeoutMs: 2000, allowPrivateAddresses: false }
  for (const url of [`http://127.0.0.1:${port}/x`, `http://localhost:${port}/x`, `http://[::1]:${port}/x`]) {
    await t.rejects(postCallback(url, {}, refused), CallbackRefused, `${url} refused`)
  }
  t.same(target.seen, [], 'nothing reached the internal server')
  t.equal(await postCallback(`${target.url}/x`, {}, { timeoutMs: 2000, allowPrivateAddresses: true }), 200,
    'with CALLBACK_ALLOW_PRIVATE_ADDRESSES (the local stack) it is sent')
})

t.test('a rescore whose callback resolves to an internal address completes without sending it', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const allowed = ut.url.replace('127.0.0.1', 'localhost')
  const { app } = await jobsApp(t, databaseUrl, { CALLBACK_ALLOWED_ORIGINS: allowed, CALLBACK_ALLOW_PRIVATE_ADDRESSES: 'false' })
  const accepted = await app.inject({
    method: 'POST',
    url: '/actions/rescoreAccounts',
    headers: { 'x-client-context': ut.context(ADMIN) },
    payload: { segment: 'Customer', industry: 'Technology', callbackUrl: `${allowed}/callback/internal` }
  })
  const status = await settled(app, ut, ADMIN, accepted.json().jobId)
  t.equal(status.state, 'completed')
  t.notOk(status.result !== undefined && 'callbackStatus' in status.result, 'no callback status: nothing was sent')
  t.same(ut.callbacks, [], 'the internal address got nothing')
})
