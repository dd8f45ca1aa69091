// Faults and counters: latency, 503s, UNABLE_TO_LOCK_ROW, token expiry, daily API limit, failing
// paths, API-call statistics.
import t from 'tap'
import { ADMIN, REP1, call, orgFor, soql } from './helper.ts'
import { formatFaults } from '../src/faults.ts'

t.test('faults and counters', async t => {
  const org = await orgFor(t, { seed: 3 })

  await t.test('every REST request is one API call; Sforce-Limit-Info follows', async t => {
    org.resetStats()
    await soql(org, REP1, 'SELECT Id FROM Account LIMIT 1')
    await call(org, ADMIN, 'GET', '/sobjects/Account/describe')
    const r = await call(org, ADMIN, 'POST', '/composite/sobjects', { records: [{ attributes: { type: 'Account' }, Name: 'A' }, { attributes: { type: 'Account' }, Name: 'B' }] })
    t.equal(r.headers.get('sforce-limit-info'), 'api-usage=3/100000')
    await call(org, null, 'GET', '/services/data/')
    await call(org, null, 'GET', '/query?q=SELECT+Id+FROM+Account')
    t.equal(org.stats.apiCalls, 3, 'unauthenticated calls and the versions list are not counted')
    t.same(org.stats.byUser, { [REP1]: 1, [ADMIN]: 2 })
    t.equal(org.stats.byPath['GET /query'], 1)
    t.equal(org.stats.byPath['GET /sobjects/Account/describe'], 1)
    t.equal(org.stats.byPath['POST /composite/sobjects'], 1)
  })

  await t.test('daily API limit', async t => {
    org.resetStats()
    org.setFaults({ dailyApiLimit: 2 })
    t.equal((await soql(org, REP1, 'SELECT Id FROM Account LIMIT 1')).status, 200)
    t.equal((await soql(org, REP1, 'SELECT Id FROM Account LIMIT 1')).status, 200)
    const r = await soql(org, REP1, 'SELECT Id FROM Account LIMIT 1')
    t.equal(r.status, 403)
    t.same(r.body, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }])
    t.equal(r.headers.get('sforce-limit-info'), 'api-usage=2/2')
    org.setFaults({ dailyApiLimit: undefined })
    org.resetStats()
  })

  await t.test('latency', async t => {
    org.setFaults({ latencyMs: 80 })
    const t0 = Date.now()
    await soql(org, REP1, 'SELECT Id FROM Account LIMIT 1')
    t.ok(Date.now() - t0 >= 75, 'added latency')
    org.setFaults({ latencyMs: [10, 20] })
    const t1 = Date.now()
    await soql(org, REP1, 'SELECT Id FROM Account LIMIT 1')
    t.ok(Date.now() - t1 >= 9)
    org.setFaults({ latencyMs: undefined })
  })

  await t.test('503 and UNABLE_TO_LOCK_ROW rates', async t => {
    org.setFaults({ rate503: 1 })
    const r = await soql(org, REP1, 'SELECT Id FROM Account LIMIT 1')
    t.equal(r.status, 503)
    t.equal(r.body[0].errorCode, 'SERVER_UNAVAILABLE')
    org.setFaults({ rate503: 0.5 })
    let n503 = 0
    for (let i = 0; i < 60; i++) if ((await soql(org, REP1, 'SELECT Id FROM Account LIMIT 1')).status === 503) n503++
    t.ok(n503 > 10 && n503 < 50, `about half failed (${n503}/60)`)
    org.setFaults({ rate503: 0, rateUnableToLockRow: 1 })
    t.equal((await soql(org, REP1, 'SELECT Id FROM Account LIMIT 1')).status, 200, 'reads are not locked')
    const w = await call(org, REP1, 'POST', '/sobjects/Account', { Name: 'Locked' })
    t.equal(w.status, 400)
    t.equal(w.body[0].errorCode, 'UNABLE_TO_LOCK_ROW')
    org.setFaults({ rateUnableToLockRow: 0 })
  })

  await t.test('failPaths', async t => {
    org.setFaults({ failPaths: /^\/composite\/graph/ })
    t.equal((await call(org, REP1, 'POST', '/composite/graph', { graphs: [] })).status, 503)
    t.equal((await soql(org, REP1, 'SELECT Id FROM Account LIMIT 1')).status, 200)
    org.setFaults({ failPaths: undefined })
  })

  await t.test('lost answers: the write stands, the answer breaks (reset, cut, stall)', async t => {
    const count = (): number => org.records('Account').filter(a => a.Name === 'Lost answer').length
    org.setFaults({ rateLostAnswer: 1, lostAnswerMode: 'reset' })
    await t.rejects(call(org, REP1, 'POST', '/sobjects/Account', { Name: 'Lost answer' }), 'reset: no answer at all')
    t.equal(count(), 1, 'the record was created')
    org.setFaults({ lostAnswerMode: 'cut' })
    await t.rejects(call(org, REP1, 'POST', '/sobjects/Account', { Name: 'Lost answer' }), 'cut: the body breaks off')
    t.equal(count(), 2)
    org.setFaults({ lostAnswerMode: 'stall' })
    const res = await fetch(`${org.url}/services/data/v${org.apiVersion}/sobjects/Account`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${org.user(REP1).accessToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ Name: 'Lost answer' }),
      signal: AbortSignal.timeout(300)
    })
    t.equal(res.status, 201, 'stall: the headers arrive')
    await t.rejects(res.text(), { name: 'TimeoutError' }, 'the body never ends')
    t.equal(count(), 3)
    t.equal((await soql(org, REP1, 'SELECT Id FROM Account LIMIT 1')).status, 200, 'reads keep their answers')
    org.setFaults({ lostAnswerMode: undefined, lostAnswerPaths: /^\/composite\/graph/ })
    const kept = await call(org, REP1, 'POST', '/sobjects/Account', { Name: 'Kept answer' })
    t.equal(kept.status, 201, 'only matching paths lose answers')
    org.setFaults({ rateLostAnswer: undefined, lostAnswerPaths: undefined })
  })

  await t.test('the admin endpoint switches faults by spec; a real org has no such path', async t => {
    const admin = async (method: string, body?: unknown) =>
      await call(org, null, method, `${org.url}/__admin/faults`, body)
    t.same((await admin('GET')).body, { spec: 'none' })
    const set = await admin('POST', { spec: '503=1,latency=5-10,lost=0.5,lost-mode=cut' })
    t.equal(set.status, 200)
    t.same(set.body, { spec: '503=1,latency=5-10,lost=0.5,lost-mode=cut' })
    t.equal((await soql(org, REP1, 'SELECT Id FROM Account LIMIT 1')).status, 503, 'what the API answers changes')
    const replaced = await admin('POST', { spec: 'lock=0.2' })
    t.same(replaced.body, { spec: 'lock=0.2' }, 'a spec replaces the switches before it')
    t.equal((await soql(org, REP1, 'SELECT Id FROM Account LIMIT 1')).status, 200)
    const bad = await admin('POST', { spec: '503=2' })
    t.equal(bad.status, 400)
    t.match(bad.body[0].message, /between 0 and 1/)
    t.equal((await admin('POST', { spec: 'bogus=1' })).status, 400)
    t.equal((await admin('POST', { spec: '' })).status, 200, 'an empty spec switches everything off')
    t.same(formatFaults(org.faults), 'none')
  })

  await t.test('tokens: missing, unknown, expired, ttl', async t => {
    const none = await call(org, null, 'GET', '/query?q=SELECT+Id+FROM+Account')
    t.equal(none.status, 401)
    t.same(none.body, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }])
    const bad = await call(org, null, 'GET', '/query?q=SELECT+Id+FROM+Account', undefined, { Authorization: 'Bearer nope' })
    t.equal(bad.status, 401)
    const old = org.user(REP1).accessToken
    org.expireToken(REP1)
    const exp = await call(org, null, 'GET', '/limits', undefined, { Authorization: `Bearer ${old}` })
    t.equal(exp.status, 401)
    const ctx = JSON.parse(Buffer.from(org.mintContext(REP1), 'base64').toString())
    t.not(ctx.accessToken, old, 'minting after expiry issues a new token')
    t.equal((await call(org, null, 'GET', '/limits', undefined, { Authorization: `Bearer ${String(ctx.accessToken)}` })).status, 200)
    org.setFaults({ tokenTtlSeconds: 0.2 })
    await new Promise(resolve => setTimeout(resolve, 300))
    t.equal((await call(org, REP1, 'GET', '/limits')).status, 401, 'ttl passed')
    org.setFaults({ tokenTtlSeconds: undefined })
    t.equal((await call(org, REP1, 'GET', '/limits')).status, 200)
  })

  await t.test('mintContext shape', async t => {
    const a = JSON.parse(Buffer.from(org.mintContext(REP1), 'base64').toString())
    const b = JSON.parse(Buffer.from(org.mintContext(REP1), 'base64').toString())
    t.same(Object.keys(a).sort(), ['accessToken', 'apiVersion', 'namespace', 'orgDomainUrl', 'orgId', 'requestId', 'userContext'])
    t.equal(a.apiVersion, '62.0')
    t.equal(a.namespace, '')
    t.equal(a.orgDomainUrl, org.url)
    t.equal(a.orgId, org.orgId)
    t.same(a.userContext, { userId: org.user(REP1).id, username: REP1 })
    t.not(a.requestId, b.requestId, 'fresh requestId')
    const c = JSON.parse(Buffer.from(org.mintContext(REP1, { requestId: 'fixed', namespace: null }), 'base64').toString())
    t.equal(c.requestId, 'fixed')
    t.equal(c.namespace, null)
  })
})
