// The org client's transport as a caller sees it: what a lost answer looks like (reset, cut
// mid-body, stalled until the timeout), what a refused connection looks like, and what comes
// through from a whole answer (errors, Retry-After, the API usage header).
import t, { type Test } from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib'
import { OrgClient, OrgUnreachable, answerLost } from '../../src/salesforce/org-client.ts'
import { SalesforceApiError } from '../../src/salesforce/errors.ts'
import { Unavailable } from '../../src/errors.ts'

type Handler = (req: IncomingMessage, res: ServerResponse, nth: number) => void

/** An org stand-in whose every answer `handler` makes; `nth` counts the requests from 1. */
async function orgAnswering (t: Test, handler: Handler): Promise<{ url: string, requests: () => number }> {
  let n = 0
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => handler(req, res, ++n))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => n }
}

const client = (instanceUrl: string, timeoutMs = 2000) =>
  new OrgClient({ instanceUrl, apiVersion: '62.0', accessToken: 'token', timeoutMs })

const BODY = JSON.stringify({ id: '0Q0000000000001AAA', success: true, errors: [] })
const whole = (res: ServerResponse) => { res.writeHead(200, { 'content-type': 'application/json' }).end(BODY) }
const halfBody = (res: ServerResponse, then: () => void) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(BODY.length) })
  res.write(BODY.slice(0, 10), then)
}

async function rejection (promise: Promise<unknown>): Promise<unknown> {
  return await promise.then(() => { throw new Error('expected a failure') }, (err: unknown) => err)
}

t.test('a reset before the answer: a read is sent again, a write\'s outcome is unknown', async (t) => {
  const org = await orgAnswering(t, (req, res, nth) => {
    if (nth === 1 || req.method === 'POST') res.socket?.resetAndDestroy()
    else whole(res)
  })
  const api = client(org.url)
  t.same(await api.request('GET', '/sobjects/Quote/x'), JSON.parse(BODY), 'the read succeeds on its retry')
  t.equal(org.requests(), 2)
  const err = await rejection(api.create('Quote', { Name: 'q' }))
  t.ok(err instanceof OrgUnreachable && err.connectionReset, 'the write is not retried blindly')
  t.ok(answerLost(err), 'and may have been done')
  t.equal(org.requests(), 3)
})

t.test('an answer cut mid-body: the write may have been done', async (t) => {
  const org = await orgAnswering(t, (_req, res) => { halfBody(res, () => res.socket?.destroy()) })
  const err = await rejection(client(org.url).create('Quote', { Name: 'q' }))
  t.ok(err instanceof OrgUnreachable && err.connectionReset)
  t.ok(answerLost(err))
})

t.test('an answer stalled mid-body or before its headers ends at the call\'s timeout', async (t) => {
  for (const [what, stall] of [
    ['mid-body', (res: ServerResponse) => { halfBody(res, () => {}) }],
    ['before the headers', () => {}]
  ] as const) {
    const org = await orgAnswering(t, (_req, res) => { stall(res) })
    const started = performance.now()
    const err = await rejection(client(org.url, 300).create('Quote', { Name: 'q' }))
    const waited = performance.now() - started
    t.ok(err instanceof Unavailable && err.errorCode === 'ORG_TIMEOUT', `${what}: ORG_TIMEOUT`)
    t.ok(answerLost(err), `${what}: the outcome is unknown`)
    t.ok(waited >= 290 && waited < 2000, `${what}: after the timeout (${Math.round(waited)} ms)`)
  }
})

t.test('no call starts past the deadline', async (t) => {
  const org = await orgAnswering(t, (_req, res) => { whole(res) })
  const api = new OrgClient({ instanceUrl: org.url, apiVersion: '62.0', accessToken: 't', timeoutMs: 1000, deadline: Date.now() - 1 })
  const err = await rejection(api.request('GET', '/limits'))
  t.ok(err instanceof Unavailable && err.errorCode === 'ORG_TIMEOUT')
  t.equal(org.requests(), 0)
})

t.test('a refused connection: nothing was sent, nothing is unknown', async (t) => {
  const org = await orgAnswering(t, (_req, res) => { whole(res) })
  const closed = org.url.replace(/:\d+$/, ':1')
  const err = await rejection(client(closed).create('Quote', { Name: 'q' }))
  t.ok(err instanceof OrgUnreachable, 'SALESFORCE_UNREACHABLE')
  t.notOk((err as OrgUnreachable).connectionReset)
  t.notOk(answerLost(err))
})

t.test('a whole answer: the error with its code and Retry-After, the usage header, the path and token sent', async (t) => {
  const seen: Array<{ url?: string, authorization?: string, type?: string }> = []
  const org = await orgAnswering(t, (req, res) => {
    seen.push({ url: req.url, authorization: req.headers.authorization, type: req.headers['content-type'] })
    res.writeHead(req.method === 'GET' ? 200 : 503, {
      'content-type': 'application/json',
      'sforce-limit-info': 'api-usage=12/15000',
      'retry-after': '7'
    }).end(req.method === 'GET'
      ? '{"totalSize":0,"done":true,"records":[]}'
      : '[{"message":"busy","errorCode":"SERVER_UNAVAILABLE","fields":[]}]')
  })
  const usage: Array<[number, number]> = []
  const api = new OrgClient({
    instanceUrl: `${org.url}/`,
    apiVersion: '62.0',
    accessToken: 'secret',
    timeoutMs: 1000,
    limits: { check: () => {}, record: (used, max) => { usage.push([used, max]) } }
  })
  t.same(await api.query('SELECT Id FROM Quote'), { totalSize: 0, done: true, records: [] })
  t.same(seen[0], { url: '/services/data/v62.0/query?q=SELECT%20Id%20FROM%20Quote', authorization: 'Bearer secret', type: undefined })
  const err = await rejection(api.create('Quote', { Name: 'q' }))
  t.ok(err instanceof SalesforceApiError)
  t.match(err, { httpStatus: 503, errorCode: 'SERVER_UNAVAILABLE', message: 'busy', retryAfterSeconds: 7 })
  t.equal(seen[1]?.type, 'application/json')
  t.same(usage, [[12, 15000], [12, 15000]])
  t.equal(api.apiCalls, 2, 'a create is sent once')
})

t.test('answers are asked for compressed and read whole, an error\'s too', async (t) => {
  const asked: Array<string | undefined> = []
  const org = await orgAnswering(t, (req, res) => {
    asked.push(req.headers['accept-encoding'])
    const ok = req.method === 'GET'
    const text = ok ? BODY : '[{"message":"gone","errorCode":"ENTITY_IS_DELETED","fields":[]}]'
    const encoding = ok ? 'gzip' : 'deflate'
    res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json', 'content-encoding': encoding })
      .end(ok ? gzipSync(text) : deflateSync(text))
  })
  const api = client(org.url)
  t.same(await api.request('GET', '/sobjects/Quote/x'), JSON.parse(BODY))
  t.match(await rejection(api.update('Quote', 'x', { Name: 'q' })), { httpStatus: 404, errorCode: 'ENTITY_IS_DELETED' })
  t.same(asked, ['gzip, deflate', 'gzip, deflate'])
})

t.test('compressed answers decode as fetch decoded them: an empty 204, raw deflate', async (t) => {
  const org = await orgAnswering(t, (req, res) => {
    if (req.method === 'PATCH') {
      res.writeHead(204, { 'content-encoding': 'gzip' }).end()
      return
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'deflate' }).end(deflateRawSync(BODY))
  })
  const api = client(org.url)
  t.equal(await api.update('Quote', 'x', { Name: 'q' }), undefined, 'an update answered 204 is done, not lost')
  t.same(await api.request('GET', '/sobjects/Quote/x'), JSON.parse(BODY), 'deflate without its zlib header')
})
