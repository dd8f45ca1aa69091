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
    t.equal(rep1Calls() - before, 1, 'one UserRecordAccess query (fewer than 200 records)')
    t.match(s.org.soqlLog.filter((e) => e.username === 'rep1@acme.local').at(-1)?.soql,
      /FROM UserRecordAccess WHERE UserId = '[^']+' AND RecordId IN \('[^']+'(, '[^']+')*\)$/, 'the account and its records')
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

  // Under the local org's private sharing a rep reads only the opportunities and cases he owns, even on
  // his own accounts: an account owner whose role gives no access to others' opportunities and cases
  // ("Users in this role cannot access opportunities that they do not own that are associated with
  // accounts that they do own", Salesforce Help, knowledge article 000387843).
  const readableBy = (username: string) => (r: Rec) => username === 'admin@acme.local' || r.OwnerId === s.org.user(username).id
  const stamp = (v: unknown) => `${new Date(String(v)).toISOString().slice(0, 19)}Z`

  /** What accountInsights must say, from the org's own records the user can read. */
  function expected (accountId: unknown, username: string) {
    const canRead = readableBy(username)
    const opps = s.org.records('Opportunity').filter((o) => o.AccountId === accountId && canRead(o))
    const cases = s.org.records('Case').filter((c) => c.AccountId === accountId && c.IsClosed === false && canRead(c))
    const yearAgo = new Date(Date.now() - 365 * 86_400_000).toISOString().slice(0, 10)
    const sum = (rs: Rec[], field: string) => rs.reduce((n, r) => n + Number(r[field] ?? 0), 0)
    const won = new Set(opps.filter((o) => o.IsWon === true).map((o) => o.Id))
    const byProduct = new Map<string, number>()
    for (const li of s.org.records('OpportunityLineItem').filter((l) => won.has(l.OpportunityId))) {
      const name = String(s.org.getRecord(String(li.Product2Id))?.Name)
      byProduct.set(name, (byProduct.get(name) ?? 0) + Number(li.TotalPrice))
    }
    const times = [...opps.map((o) => o.LastModifiedDate), ...cases.map((c) => c.SystemModstamp)].map(stamp).sort()
    return {
      openPipeline: Math.round(sum(opps.filter((o) => o.IsClosed === false), 'Amount') * 100) / 100,
      openOpportunities: opps.filter((o) => o.IsClosed === false).length,
      wonRevenueLast12Months: sum(opps.filter((o) => o.IsWon === true && String(o.CloseDate) >= yearAgo), 'Amount'),
      openCases: cases.length,
      highCases: cases.filter((c) => c.Priority === 'High').length,
      lastActivityAt: times.at(-1),
      topProducts: [...byProduct].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, 3).map(([name]) => name)
    }
  }

  function figures (body: Rec) {
    const stages = body.pipelineByStage as Rec[]
    const cases = body.openCasesByPriority as Rec[]
    return {
      openPipeline: body.openPipeline,
      openOpportunities: stages.reduce((n, st) => n + Number(st.count), 0),
      wonRevenueLast12Months: body.wonRevenueLast12Months,
      openCases: cases.reduce((n, c) => n + Number(c.count), 0),
      highCases: Number(cases.find((c) => c.priority === 'High')?.count ?? 0),
      lastActivityAt: body.lastActivityAt,
      topProducts: (body.topProducts as Rec[]).map((p) => p.name)
    }
  }

  t.test('records of the account the caller cannot read stay out of every figure', async (t) => {
    const withWins = new Set(opps.filter((o) => o.IsWon === true && o.OwnerId === rep1.id).map((o) => o.AccountId))
    const mine = s.org.records('Account').find((a) => a.OwnerId === rep1.id && a.Id !== account.Id && withWins.has(a.Id)) as Rec
    const entry = s.org.records('PricebookEntry').find((e) => e.IsActive === true) as Rec
    const inserted = new Date().toISOString()
    // A private $7.8M deal of the admin's, a won deal of rep2's with a line far above any other, and a
    // High-priority case of rep2's, all on rep1's account.
    s.org.insertRecord('Opportunity', {
      Name: 'Private mega deal', AccountId: mine.Id, StageName: 'Negotiation', CloseDate: '2099-01-31', Amount: 7_800_000
    }, 'admin@acme.local')
    const secretWin = s.org.insertRecord('Opportunity', {
      Name: 'Secret win',
      AccountId: mine.Id,
      StageName: 'Closed Won',
      CloseDate: inserted.slice(0, 10),
      Amount: 2_500_000,
      Pricebook2Id: entry.Pricebook2Id
    }, 'rep2@acme.local')
    s.org.insertRecord('OpportunityLineItem', {
      OpportunityId: secretWin.Id, PricebookEntryId: entry.Id, Quantity: 1000, UnitPrice: 2500
    }, 'rep2@acme.local')
    s.org.insertRecord('Case', { AccountId: mine.Id, Subject: 'Escalation', Priority: 'High', Status: 'New' }, 'rep2@acme.local')
    await s.sync.pollOnce()

    const asRep = await s.call('accountInsights', { accountId: mine.Id })
    t.equal(asRep.statusCode, 200)
    const rep = figures(asRep.json())
    t.same(rep, expected(mine.Id, 'rep1@acme.local'), 'rep1 sees only what he can read')
    t.ok(Number(rep.openPipeline) < 7_800_000, 'not the private deal')
    t.ok(String(rep.lastActivityAt) < stamp(inserted), 'last activity is not a record he cannot read')
    t.notMatch(JSON.stringify(asRep.json()), /Secret win|Private mega deal/)

    const asAdmin = await s.call('accountInsights', { accountId: mine.Id }, 'admin@acme.local')
    t.equal(asAdmin.statusCode, 200)
    const admin = figures(asAdmin.json())
    t.same(admin, expected(mine.Id, 'admin@acme.local'), 'the admin sees every record')
    t.ok(Number(admin.openPipeline) >= 7_800_000, 'with the private deal')
    t.ok(Number(admin.highCases) > rep.highCases, 'and rep2\'s case')
    t.equal(admin.topProducts[0], s.org.getRecord(String(entry.Product2Id))?.Name, 'and rep2\'s line on top')
  })

  t.test('access is asked 200 records a query, then remembered for the TTL', async (t) => {
    const big = s.org.insertRecord('Account', { Name: 'Many Deals Inc' }, 'rep1@acme.local')
    for (let i = 0; i < 250; i++) {
      s.org.insertRecord('Opportunity', {
        Name: `Deal ${i}`, AccountId: big.Id, StageName: 'Proposal', CloseDate: '2099-06-30', Amount: 1000 + i
      }, i % 3 === 0 ? 'rep2@acme.local' : 'rep1@acme.local')
    }
    await s.sync.pollOnce()
    const askedIds = () => s.org.soqlLog.filter((e) => e.username === 'rep1@acme.local' && /FROM UserRecordAccess/.test(e.soql))
      .map((e) => (e.soql.match(/'[A-Za-z0-9]{18}'/g) ?? []).length - 1)
    const asked0 = askedIds().length
    const before = rep1Calls()
    const res = await s.call('accountInsights', { accountId: big.Id })
    t.equal(res.statusCode, 200)
    // The account and its 250 opportunities: ⌈251/200⌉ queries.
    t.equal(rep1Calls() - before, 2, 'two UserRecordAccess queries')
    t.ok(askedIds().slice(asked0).every((n) => n <= 200), 'of at most 200 ids each')
    t.same(figures(res.json()), expected(big.Id, 'rep1@acme.local'))
    t.equal(figures(res.json()).openOpportunities, 166, 'his 166 of the 250')

    const again = await s.call('accountInsights', { accountId: big.Id })
    t.equal(again.statusCode, 200)
    t.equal(rep1Calls() - before, 2, 'none while the answers are cached')
    t.same(again.json().openPipeline, res.json().openPipeline)

    s.org.insertRecord('Opportunity', {
      Name: 'One more', AccountId: big.Id, StageName: 'Proposal', CloseDate: '2099-06-30', Amount: 5
    }, 'rep1@acme.local')
    await s.sync.pollOnce()
    const third = await s.call('accountInsights', { accountId: big.Id })
    t.equal(rep1Calls() - before, 3, 'a new record costs one query, for itself only')
    t.equal(askedIds().at(-1), 1)
    t.equal(figures(third.json()).openOpportunities, 167)
  })

  t.test('an account with nothing under it: one query, as before', async (t) => {
    const empty = s.org.insertRecord('Account', { Name: 'Quiet Ltd' }, 'rep1@acme.local')
    await s.sync.pollOnce()
    const before = rep1Calls()
    const res = await s.call('accountInsights', { accountId: empty.Id })
    t.equal(res.statusCode, 200)
    t.equal(rep1Calls() - before, 1)
    t.equal(res.json().openPipeline, 0)
  })

  t.test('an id that does not exist → 404; a malformed one → 400', async (t) => {
    const before = rep1Calls()
    assertError(t, await s.call('accountInsights', { accountId: '001000000000000AAA' }), 404, 'NOT_FOUND')
    t.equal(rep1Calls() - before, 0, 'not in the mirror: no API call')
    assertError(t, await s.call('accountInsights', { accountId: 'nope' }), 400, 'INVALID_REQUEST', ['accountId'])
  })
})
