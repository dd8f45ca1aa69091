import t from 'tap'
import { startStack, type Stack } from '../stack.ts'
import { assertError } from '../helper.ts'

type Rec = Record<string, unknown>

/** The expected quote, computed here from the org's records and the rule tables, not by the service's code. */
async function expectedQuote (s: Stack, opportunityId: string, overridePercent?: number) {
  const { rows: tiers } = await s.pool.query<{ product_family: string, min_quantity: string, discount_percent: string }>('SELECT * FROM pricing_volume_tiers')
  const { rows: regions } = await s.pool.query<{ billing_country: string, discount_percent: string }>('SELECT * FROM pricing_region_discounts')
  const { rows: [settings] } = await s.pool.query<{ max_total_discount_percent: string }>('SELECT * FROM pricing_settings')
  const ceiling = Number(settings?.max_total_discount_percent)
  const opp = s.org.getRecord(opportunityId) as Rec
  const account = s.org.getRecord(String(opp.AccountId)) as Rec
  const country = String(account.BillingCountry ?? '').toLowerCase()
  const region = Number(regions.find((r) => r.billing_country === country)?.discount_percent ?? 0)
  const lines = s.org.records('OpportunityLineItem').filter((l) => l.OpportunityId === opportunityId)
  let subtotal = 0
  let grandTotal = 0
  const percents: number[] = []
  for (const line of lines) {
    const family = (s.org.getRecord(String(line.Product2Id)) as Rec).Family
    const qty = Number(line.Quantity)
    let volume = 0
    for (const tier of tiers) {
      if ((tier.product_family === family || tier.product_family === '*') && qty >= Number(tier.min_quantity)) volume = Math.max(volume, Number(tier.discount_percent))
    }
    const percent = Math.min(overridePercent ?? volume + region, ceiling)
    const list = Math.round(qty * Number(line.UnitPrice) * 100) / 100
    subtotal += list
    grandTotal += Math.round(list * (1 - percent / 100) * 100) / 100
    percents.push(percent)
  }
  const round = (n: number) => Math.round(n * 100) / 100
  return {
    lineCount: lines.length,
    subtotal: round(subtotal),
    grandTotal: round(grandTotal),
    discount: round(round(subtotal) - round(grandTotal)),
    percents
  }
}

const apiCalls = (s: Stack, username: string) => s.org.stats.byUser[username] ?? 0

t.test('generateQuote', async (t) => {
  const s = await startStack(t)
  const rep1 = s.org.user('rep1@acme.local')
  const rep2 = s.org.user('rep2@acme.local')
  const lineCount = (oppId: unknown) => s.org.records('OpportunityLineItem').filter((l) => l.OpportunityId === oppId).length
  const rep1Opps = s.org.records('Opportunity').filter((o) => o.OwnerId === rep1.id)
  const withLines = rep1Opps.filter((o) => lineCount(o.Id) >= 2)
  const opp = withLines[0] as Rec
  t.ok(opp, 'the seed gives rep1 an opportunity with several lines')

  t.test('creates the quote with its lines, priced by the rules, in exactly 2 API calls', async (t) => {
    const before = apiCalls(s, 'rep1@acme.local')
    const res = await s.call('generateQuote', { opportunityId: opp.Id })
    t.equal(res.statusCode, 200)
    const body = res.json()
    t.equal(apiCalls(s, 'rep1@acme.local') - before, 2, 'one query and one composite graph')
    const expected = await expectedQuote(s, String(opp.Id))
    t.equal(body.subtotal, expected.subtotal, 'subtotal')
    t.equal(body.grandTotal, expected.grandTotal, 'grand total')
    t.equal(body.discount, expected.discount, 'discount')
    t.same(body.lines.map((l: Rec) => l.discountPercent), expected.percents, 'per-line discount')
    t.equal(body.replayed, false)
    const quote = s.org.getRecord(body.quoteId) as Rec
    t.equal(quote.OpportunityId, opp.Id, 'the Quote exists in the org for the opportunity')
    t.equal(quote.OwnerId ?? rep1.id, rep1.id, 'created as the caller')
    const qlis = s.org.records('QuoteLineItem').filter((q) => q.QuoteId === body.quoteId)
    t.equal(qlis.length, expected.lineCount, 'one QuoteLineItem per opportunity line')
    t.same(qlis.map((q) => q.Id).sort(), body.lines.map((l: Rec) => l.quoteLineItemId).sort())
  })

  t.test('stays at 2 API calls for an opportunity with 120 lines', async (t) => {
    const big = s.org.insertRecord('Opportunity', { Name: 'Big deal', AccountId: opp.AccountId, StageName: 'Proposal', CloseDate: '2027-01-31', Pricebook2Id: opp.Pricebook2Id }, 'rep1@acme.local')
    const entries = s.org.records('PricebookEntry').filter((e) => e.Pricebook2Id === opp.Pricebook2Id && e.IsActive === true)
    for (let i = 0; i < 120; i++) {
      const entry = entries[i % entries.length] as Rec
      s.org.insertRecord('OpportunityLineItem', { OpportunityId: big.Id, PricebookEntryId: entry.Id, Quantity: 1 + (i % 60), UnitPrice: entry.UnitPrice }, 'rep1@acme.local')
    }
    const before = apiCalls(s, 'rep1@acme.local')
    const res = await s.call('generateQuote', { opportunityId: big.Id })
    t.equal(res.statusCode, 200)
    t.equal(res.json().lines.length, 120)
    t.equal(apiCalls(s, 'rep1@acme.local') - before, 2)
    const expected = await expectedQuote(s, String(big.Id))
    t.equal(res.json().grandTotal, expected.grandTotal)
  })

  t.test('another rep\'s opportunity → 404, and nothing of it in the answer', async (t) => {
    const theirs = s.org.records('Opportunity').find((o) => o.OwnerId === rep2.id && lineCount(o.Id) > 0) as Rec
    const quotesBefore = s.org.records('Quote').length
    const res = await s.call('generateQuote', { opportunityId: theirs.Id })
    const body = assertError(t, res, 404, 'NOT_FOUND', ['opportunityId'])
    t.notMatch(JSON.stringify(body), String(theirs.Name))
    t.equal(s.org.records('Quote').length, quotesBefore, 'no quote created')
    t.equal((await s.call('generateQuote', { opportunityId: theirs.Id }, 'rep2@acme.local')).statusCode, 200, 'its owner can quote it')
  })

  t.test('a user who may read but not create → 403 with Salesforce\'s code, nothing created', async (t) => {
    const quotesBefore = s.org.records('Quote').length
    assertError(t, await s.call('generateQuote', { opportunityId: opp.Id }, 'readonly@acme.local'), 403, 'INSUFFICIENT_ACCESS_OR_READONLY')
    t.equal(s.org.records('Quote').length, quotesBefore)
  })

  t.test('an opportunity without line items → 422', async (t) => {
    const empty = s.org.insertRecord('Opportunity', { Name: 'Empty', AccountId: opp.AccountId, StageName: 'Prospecting', CloseDate: '2027-01-31', Pricebook2Id: opp.Pricebook2Id }, 'rep1@acme.local')
    assertError(t, await s.call('generateQuote', { opportunityId: empty.Id }), 422, 'NO_LINE_ITEMS', ['opportunityId'])
  })

  t.test('a failure inside the graph creates nothing', async (t) => {
    const target = withLines[1] as Rec
    const quotesBefore = s.org.records('Quote').length
    const linesBefore = s.org.records('QuoteLineItem').length
    // The last line's price book entry is gone: its QuoteLineItem node fails after the Quote node succeeded.
    const lines = s.org.records('OpportunityLineItem').filter((l) => l.OpportunityId === target.Id)
    const entry = s.org.getRecord(String(lines.at(-1)?.PricebookEntryId)) as Rec
    s.org.updateRecord(String(entry.Id), { IsActive: false })
    t.teardown(() => { s.org.updateRecord(String(entry.Id), { IsActive: true }) })
    const res = await s.call('generateQuote', { opportunityId: target.Id })
    t.ok(res.statusCode >= 400 && res.statusCode < 500, `a client error (${res.statusCode} ${res.json().errorCode})`)
    t.not(res.json().errorCode, 'PROCESSING_HALTED', 'the real cause is reported, not the halted siblings')
    t.equal(s.org.records('Quote').length, quotesBefore, 'no Quote kept')
    t.equal(s.org.records('QuoteLineItem').length, linesBefore, 'no QuoteLineItem kept')
  })

  t.test('a retry with the same idempotency key returns the first quote', async (t) => {
    const target = withLines[2] ?? withLines[0] as Rec
    const key = `flow-run-${Date.now()}`
    const first = (await s.call('generateQuote', { opportunityId: target.Id, idempotencyKey: key })).json()
    const before = apiCalls(s, 'rep1@acme.local')
    const again = (await s.call('generateQuote', { opportunityId: target.Id, idempotencyKey: key })).json()
    t.equal(again.quoteId, first.quoteId)
    t.equal(again.replayed, true)
    t.equal(apiCalls(s, 'rep1@acme.local') - before, 0, 'no API call for the repeat')
    t.equal(s.org.records('Quote').filter((q) => q.Id === first.quoteId).length, 1)
  })

  t.test('a key is the caller\'s own and names one request', async (t) => {
    const key = `shared-key-${Date.now()}`
    const mine = (await s.call('generateQuote', { opportunityId: opp.Id, idempotencyKey: key })).json()
    const theirsOpp = s.org.records('Opportunity').find((o) => o.OwnerId === rep2.id && lineCount(o.Id) > 0) as Rec
    const theirs = await s.call('generateQuote', { opportunityId: theirsOpp.Id, idempotencyKey: key }, 'rep2@acme.local')
    t.equal(theirs.statusCode, 200)
    t.not(theirs.json().quoteId, mine.quoteId, 'another user with the same key gets a quote of their own')
    t.equal(theirs.json().replayed, false)
    const otherRequest = await s.call('generateQuote', { opportunityId: opp.Id, idempotencyKey: key, discountPercent: 10 })
    assertError(t, otherRequest, 422, 'IDEMPOTENCY_KEY_REUSED', ['idempotencyKey'])
  })

  t.test('a retry of the same AppLink request (same request id) returns the first quote', async (t) => {
    const target = withLines[3] ?? withLines[0] as Rec
    const header = s.org.mintContext('rep1@acme.local')
    const call = async () => await s.app.inject({ method: 'POST', url: '/actions/generateQuote', headers: { 'x-client-context': header }, payload: { opportunityId: target.Id } })
    const quotesBefore = s.org.records('Quote').length
    const [a, b] = await Promise.all([call(), call()])
    t.equal(a.json().quoteId, b.json().quoteId, 'concurrent duplicates get one quote')
    t.equal(s.org.records('Quote').length, quotesBefore + 1, 'exactly one quote created')
  })

  t.test('a discount override replaces the rules, within the ceiling', async (t) => {
    const res = await s.call('generateQuote', { opportunityId: opp.Id, discountPercent: 10 })
    const expected = await expectedQuote(s, String(opp.Id), 10)
    t.same(res.json().lines.map((l: Rec) => l.discountPercent), expected.percents)
    t.equal(res.json().grandTotal, expected.grandTotal)
    assertError(t, await s.call('generateQuote', { opportunityId: opp.Id, discountPercent: 35 }), 422, 'DISCOUNT_ABOVE_CEILING', ['discountPercent'])
  })

  t.test('bad input names the field', async (t) => {
    assertError(t, await s.call('generateQuote', { opportunityId: "006' OR Name != '" }), 400, 'INVALID_REQUEST', ['opportunityId'])
    assertError(t, await s.call('generateQuote', {}), 400, 'INVALID_REQUEST', ['opportunityId'])
    assertError(t, await s.call('generateQuote', { opportunityId: opp.Id, discountPercent: '5' }), 400, 'INVALID_REQUEST', ['discountPercent'])
  })

  t.test('an expired Salesforce session stays a 401', async (t) => {
    const header = s.org.mintContext('rep3@acme.local')
    s.org.expireToken('rep3@acme.local')
    const res = await s.app.inject({ method: 'POST', url: '/actions/generateQuote', headers: { 'x-client-context': header }, payload: { opportunityId: opp.Id } })
    assertError(t, res, 401, 'INVALID_SESSION_ID')
  })
})
