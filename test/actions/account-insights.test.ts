import t from 'tap'
import { startStack } from '../stack.ts'
import { assertError } from '../helper.ts'

type Rec = Record<string, unknown>

t.test('accountInsights', async (t) => {
  const s = await startStack(t, { env: { ACCESS_CACHE_TTL_MS: '60000' } })
  const rep1 = s.org.user('rep1@acme.local')
  const rep2 = s.org.user('rep2@acme.local')
  const opps = s.org.records('Opportunity')
  const rep1Calls = () => s.org.stats.byUser['rep1@acme.local'] ?? 0
  const account = s.org.records('Account').find((a) => a.OwnerId === rep1.id && opps.some((o) => o.AccountId === a.Id && o.IsClosed === false)) as Rec

  t.test('the caller\'s own account: figures from the mirror, one API call, then none while cached', async (t) => {
    const before = rep1Calls()
    const res = await s.call('accountInsights', { accountId: account.Id })
    t.equal(res.statusCode, 200)
    t.equal(rep1Calls() - before, 1, 'one UserRecordAccess query')
    t.match(s.org.soqlLog.filter((e) => e.username === 'rep1@acme.local').at(-1)?.soql, /FROM UserRecordAccess WHERE UserId = '[^']+' AND RecordId = '[^']+'/)
    const body = res.json()
    const open = opps.filter((o) => o.AccountId === account.Id && o.IsClosed === false)
    t.equal(body.accountName, account.Name)
    t.equal(body.openPipeline, Math.round(open.reduce((sum, o) => sum + Number(o.Amount ?? 0), 0) * 100) / 100, 'open pipeline')
    t.equal(body.pipelineByStage.reduce((n: number, st: Rec) => n + Number(st.count), 0), open.length, 'open opportunities by stage')
    const yearAgo = new Date(Date.now() - 365 * 86_400_000).toISOString().slice(0, 10)
    const won = opps.filter((o) => o.AccountId === account.Id && o.IsWon === true && String(o.CloseDate) >= yearAgo)
    t.equal(body.wonRevenueLast12Months, won.reduce((sum, o) => sum + Number(o.Amount ?? 0), 0), 'won revenue')
    const openCases = s.org.records('Case').filter((c) => c.AccountId === account.Id && c.IsClosed === false)
    t.equal(body.openCasesByPriority.reduce((n: number, c: Rec) => n + Number(c.count), 0), openCases.length, 'open cases')
    t.match(body.summary, /^[^]+\.\s(?:There|No) [^]+\.$/, 'two sentences')
    t.equal(body.summary.split(/\.\s+(?=There )/).length, 2, 'exactly two')
    t.match(body.summary, String(account.Name))
    t.match(body.dataAsOf, /^\d{4}-\d{2}-\d{2}T/)
    const again = await s.call('accountInsights', { accountId: account.Id })
    t.equal(again.statusCode, 200)
    t.equal(rep1Calls() - before, 1, 'no API call while the access answer is cached')
  })

  t.test('another rep\'s account → 404 and nothing from the mirror', async (t) => {
    const theirs = s.org.records('Account').find((a) => a.OwnerId === rep2.id) as Rec
    const res = await s.call('accountInsights', { accountId: theirs.Id })
    const body = assertError(t, res, 404, 'NOT_FOUND', ['accountId'])
    t.notMatch(JSON.stringify(body), String(theirs.Name))
    t.equal((await s.call('accountInsights', { accountId: theirs.Id }, 'admin@acme.local')).statusCode, 200, 'the admin sees it')
  })

  t.test('an id that does not exist → 404; a malformed one → 400', async (t) => {
    assertError(t, await s.call('accountInsights', { accountId: '001000000000000AAA' }), 404, 'NOT_FOUND')
    assertError(t, await s.call('accountInsights', { accountId: 'nope' }), 400, 'INVALID_REQUEST', ['accountId'])
  })
})
