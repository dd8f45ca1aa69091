// Exactly one quote per request, whatever happens to the answers and the processes: the org's
// answer lost after it wrote (reset, cut mid-body, stalled until the timeout), our record of the
// key lost, a process killed before or after it sent the graph, and two processes given one key.
import { MAPPING } from '../../src/postgres/mapping.ts'
import t from 'tap'
import { startStack } from '../stack.ts'
import { assertError, LOCAL_ORG_DOMAINS, testDatabase, TEST_JOB_ENCRYPTION_KEYS, until } from '../helper.ts'
import { startLocalOrg, type LocalOrg } from '@applink-actions/local-org'
import { startLocalSync } from '@applink-actions/local-connect'
import { seedAppData } from '../../scripts/app-data.ts'
import { startService, stopService, type Service } from '../../load/service.ts'
import { actionPath } from '../../src/actions/define.ts'
import { migrate } from '../../src/postgres/migrate.ts'

type Rec = Record<string, unknown>

/** An opportunity of rep1 with at least two lines. */
function quotableOpportunity (org: LocalOrg, index: number): Rec {
  const rep1 = org.user('rep1@acme.local')
  const lines = org.records('OpportunityLineItem')
  const opps = org.records('Opportunity')
    .filter((o) => o.OwnerId === rep1.id && lines.filter((l) => l.OpportunityId === o.Id).length >= 2)
  return opps[index % opps.length] as Rec
}

const quotesOf = (org: LocalOrg, opportunityId: unknown): Rec[] =>
  org.records('Quote').filter((q) => q.OpportunityId === opportunityId)
const linesOf = (org: LocalOrg, quoteId: unknown): Rec[] =>
  org.records('QuoteLineItem').filter((l) => l.QuoteId === quoteId)

t.test('the org\'s answer to the graph is lost after it wrote: the retry answers the one quote', async (t) => {
  const s = await startStack(t, { env: { ORG_TIMEOUT_MS: '1500' } })
  const modes = [['cut', 'cut mid-body'], ['stall', 'stalled mid-body until the timeout'], ['reset', 'reset']] as const
  for (const [i, [mode, what]] of modes.entries()) {
    await t.test(`answer ${what}`, async (t) => {
      const opp = quotableOpportunity(s.org, i)
      const before = quotesOf(s.org, opp.Id).length
      const idempotencyKey = `lost-${mode}-${Date.now()}`
      s.org.setFaults({ rateLostAnswer: 1, lostAnswerMode: mode, lostAnswerPaths: /^\/composite\/graph/ })
      const lost = await s.call('generateQuote', { opportunityId: opp.Id, idempotencyKey })
      s.org.setFaults({ rateLostAnswer: undefined, lostAnswerMode: undefined, lostAnswerPaths: undefined })
      assertError(t, lost, 502, 'OUTCOME_UNKNOWN')
      const written = quotesOf(s.org, opp.Id)
      t.equal(written.length, before + 1, 'the org did write the quote')

      const calls = s.org.stats.byUser['rep1@acme.local'] ?? 0
      const retry = await s.call('generateQuote', { opportunityId: opp.Id, idempotencyKey })
      t.equal(retry.statusCode, 200, 'the retry succeeds at once')
      const body = retry.json()
      const quote = written.at(-1) as Rec
      t.equal(body.quoteId, quote.Id, 'with the quote the lost answer was about')
      const lineIds = linesOf(s.org, quote.Id).map((l) => l.Id).sort()
      t.same(body.lines.map((l: Rec) => l.quoteLineItemId).sort(), lineIds, 'and its lines')
      const spent = (s.org.stats.byUser['rep1@acme.local'] ?? 0) - calls
      t.equal(spent, 1, 'found by one query on its key, not written again')
      t.equal(quotesOf(s.org, opp.Id).length, before + 1, 'still one quote')
      const again = (await s.call('generateQuote', { opportunityId: opp.Id, idempotencyKey })).json()
      t.same({ ...again, replayed: false }, body, 'a further repeat replays the same answer')
      t.equal(again.replayed, true)
    })
  }

  await t.test('our record of the key is gone: the org refuses a second quote, the answer is read back', async (t) => {
    const opp = quotableOpportunity(s.org, 3)
    const idempotencyKey = `forgotten-${Date.now()}`
    const first = await s.call('generateQuote', { opportunityId: opp.Id, idempotencyKey })
    t.equal(first.statusCode, 200)
    const before = quotesOf(s.org, opp.Id).length
    await s.pool.query('DELETE FROM idempotency_records WHERE idempotency_key = $1', [idempotencyKey])
    const second = await s.call('generateQuote', { opportunityId: opp.Id, idempotencyKey })
    t.equal(second.statusCode, 200)
    t.same({ ...second.json(), replayed: false }, first.json(), 'the same quote, lines and totals')
    t.equal(quotesOf(s.org, opp.Id).length, before, 'no second quote')
    t.equal(linesOf(s.org, first.json().quoteId).length, first.json().lines.length, 'no second line')
  })

  await t.test('the key the org sees is the request\'s, scoped to the caller', async (t) => {
    const opp = quotableOpportunity(s.org, 4)
    const body = (await s.call('generateQuote', { opportunityId: opp.Id, idempotencyKey: `k-${Date.now()}` })).json()
    const quote = s.org.getRecord(body.quoteId) as Rec
    t.match(quote.Idempotency_Key__c, /^[0-9a-f]{64}$/, 'a SHA-256, not the caller\'s text')
    for (const [i, line] of body.lines.entries()) {
      const stored = s.org.getRecord(line.quoteLineItemId) as Rec
      t.equal(stored.Idempotency_Key__c, `${String(quote.Idempotency_Key__c)}:${i}`)
    }
  })
})

t.test('service processes on one database: crashes and concurrent duplicates', async (t) => {
  const org = await startLocalOrg({ port: 0, dataset: 'small', seed: 11 })
  t.teardown(() => org.close())
  const { url, pool } = await testDatabase(t, 'once')
  const accessToken = org.user('integration@acme.local').accessToken
  const sync = await startLocalSync({ mapping: MAPPING, pool, schema: 'salesforce', orgUrl: org.url, accessToken, intervalMs: 1000 })
  t.teardown(() => sync.stop())
  await migrate(pool)
  await seedAppData(pool, 'salesforce')
  const env = {
    DATABASE_URL: url,
    APP_PORT: '0',
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    WORKER_IN_WEB: 'false',
    IDEMPOTENCY_LEASE_MS: '1000',
    JOB_ENCRYPTION_KEYS: TEST_JOB_ENCRYPTION_KEYS,
    ORG_DOMAINS: LOCAL_ORG_DOMAINS
  }
  const start = async (): Promise<Service> => {
    const service = await startService(env, [], (line) => { t.comment(line) })
    t.teardown(async () => { await stopService(service, 5000) })
    return service
  }
  const [a, b] = [await start(), await start()]
  type Answer = { status: number, body: Rec }
  const generate = async (service: Service, opportunityId: unknown, idempotencyKey: string): Promise<Answer> => {
    const res = await fetch(`${service.url}${actionPath('generateQuote')}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-client-context': org.mintContext('rep1@acme.local') },
      body: JSON.stringify({ opportunityId, idempotencyKey })
    })
    return { status: res.status, body: await res.json() as Rec }
  }
  const claimOf = async (key: string) => (await pool.query<{ sent: boolean, done: boolean }>(
    'SELECT sent_at IS NOT NULL AS sent, completed_at IS NOT NULL AS done FROM idempotency_records WHERE idempotency_key = $1',
    [key])).rows[0]

  await t.test('the same key sent to both at once: one quote, the same answer from both', async (t) => {
    const opp = quotableOpportunity(org, 0)
    const before = quotesOf(org, opp.Id).length
    const key = `both-${Date.now()}`
    const [fromA, fromB] = await Promise.all([generate(a, opp.Id, key), generate(b, opp.Id, key)])
    t.equal(fromA.status, 200)
    t.equal(fromB.status, 200)
    t.equal(fromA.body.quoteId, fromB.body.quoteId)
    t.equal(quotesOf(org, opp.Id).length, before + 1, 'exactly one quote')
  })

  await t.test('a process killed between claim and send: the next retry succeeds once the lease is over', async (t) => {
    const victim = await start()
    const opp = quotableOpportunity(org, 1)
    const before = quotesOf(org, opp.Id).length
    const key = `crash-before-${Date.now()}`
    org.setFaults({ latencyMs: 5000 })
    const doomed = generate(victim, opp.Id, key).catch(() => undefined)
    await until('the claim', async () => (await claimOf(key))?.sent === false)
    process.kill(victim.pid, 'SIGKILL')
    await victim.exited
    await doomed
    org.setFaults({ latencyMs: undefined })
    const started = Date.now()
    const retry = await generate(b, opp.Id, key)
    t.equal(retry.status, 200, 'the retry succeeds')
    const ms = Date.now() - started
    t.ok(ms < 5000, `within the lease and one quote's work (${ms} ms), not after IDEMPOTENCY_WAIT_MS`)
    t.equal(quotesOf(org, opp.Id).length, before + 1, 'one quote')
  })

  await t.test('a process killed after it sent the graph: the retry finds the quote in the org', async (t) => {
    const victim = await start()
    const opp = quotableOpportunity(org, 2)
    const before = quotesOf(org, opp.Id).length
    const key = `crash-after-${Date.now()}`
    // The org writes, then holds the answer back: the process dies waiting for it.
    org.setFaults({ rateLostAnswer: 1, lostAnswerMode: 'stall', lostAnswerPaths: /^\/composite\/graph/ })
    const doomed = generate(victim, opp.Id, key).catch(() => undefined)
    await until('the quote in the org', () => quotesOf(org, opp.Id).length > before)
    t.same(await claimOf(key), { sent: false, done: false }, 'the claim is live and unanswered (no sending mark within the lease)')
    process.kill(victim.pid, 'SIGKILL')
    await victim.exited
    await doomed
    org.setFaults({ rateLostAnswer: undefined, lostAnswerMode: undefined, lostAnswerPaths: undefined })
    const retry = await generate(a, opp.Id, key)
    t.equal(retry.status, 200, 'the retry succeeds')
    const quotes = quotesOf(org, opp.Id)
    t.equal(quotes.length, before + 1, 'one quote')
    t.equal(retry.body.quoteId, quotes.at(-1)?.Id, 'the one the dead process created')
    t.equal((retry.body.lines as Rec[]).length, linesOf(org, retry.body.quoteId).length)
    await until('the answer written', async () => (await claimOf(key))?.done === true)
    t.equal((await claimOf(key))?.sent, true, 'the takeover marked the claim as maybe sent')
  })
})
