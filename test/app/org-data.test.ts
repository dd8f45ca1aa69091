// The app's own tables belong to an org: a caller of another org sees none of their rows, even when
// its mirror holds the same record ids and product codes (a sandbox copy of production).
import t from 'tap'
import type pg from 'pg'
import { startLocalOrg } from '@applink-actions/local-org'
import { startStack } from '../stack.ts'
import { assertError } from '../helper.ts'
import { withOrg } from '../../src/postgres/org-scope.ts'

type Rec = Record<string, unknown>

/** A mirror of `orgId` in `to` holding what `from` holds, as a sandbox copy's Connect schema would. */
async function copyMirror (pool: pg.Pool, from: string, to: string, orgId: string): Promise<void> {
  await pool.query(`CREATE SCHEMA ${to}`)
  await pool.query(`DO $$ DECLARE r record; BEGIN
    FOR r IN SELECT table_name FROM information_schema.tables WHERE table_schema = '${from}' AND table_type = 'BASE TABLE' LOOP
      EXECUTE format('CREATE TABLE ${to}.%I (LIKE ${from}.%I INCLUDING DEFAULTS)', r.table_name, r.table_name);
      EXECUTE format('INSERT INTO ${to}.%I SELECT * FROM ${from}.%I', r.table_name, r.table_name);
    END LOOP; END $$`)
  await pool.query(`UPDATE ${to}._hcmeta SET org_id = $1`, [orgId])
}

t.test('app data of one org is invisible to another org\'s callers, through every action', async (t) => {
  const s = await startStack(t)
  const sandbox = await startLocalOrg({ port: 0, dataset: 'small', seed: 5 })
  t.teardown(() => sandbox.close())
  const callB = async (operationId: string, body: unknown) => await s.app.inject({
    method: 'POST',
    url: `/actions/${operationId}`,
    headers: { 'x-client-context': sandbox.mintContext('rep1@acme.local') },
    payload: body as object
  })
  const repB = sandbox.user('rep1@acme.local')
  const product = s.org.records('Product2').find((p) => p.IsActive === true && p.ProductCode != null) as Rec
  // A's pricing gives every line 10 %: a quote of org B priced with A's rules would show it.
  await withOrg(s.pool, s.org.orgId, async (c) => {
    await c.query("INSERT INTO pricing_volume_tiers (product_family, min_quantity, discount_percent) VALUES ('*', 1, 10)")
  })
  // A's web orders of an account id that org B's mirror also holds.
  const accountB = sandbox.records('Account').find((a) => a.OwnerId === repB.id) as Rec
  await withOrg(s.pool, s.org.orgId, async (c) => {
    await c.query('INSERT INTO web_orders (account_sfid, ordered_at, total) VALUES ($1, now(), 99)', [accountB.Id])
  })
  const feedback = await s.call('logProductFeedback', { productCode: product.ProductCode, rating: 4 })
  t.equal(feedback.statusCode, 200, 'A records feedback')
  const job = await s.call('startAccountRescore', { industry: 'Finance' })
  t.equal(job.statusCode, 202, 'A starts a job')
  // Org B's mirror: a copy of A's (the same product codes, the feedback row's id), plus B's account.
  await copyMirror(s.pool, 'salesforce', 'sandbox', sandbox.orgId)
  await s.pool.query('INSERT INTO sandbox.account (sfid, name, isdeleted) VALUES ($1, $2, false)',
    [accountB.Id, accountB.Name])
  await s.app.mirrors.refresh()

  const items = [{ productCode: product.ProductCode, quantity: 1 }]
  const stockA = (await s.call('checkAvailability', { items })).json()
  t.equal(stockA.items[0].warehouses.length, 3, 'A sees its stock')
  const stockB = await callB('checkAvailability', { items })
  t.equal(stockB.statusCode, 200)
  t.match(stockB.json().items[0], { found: true, warehouses: [], availableNow: 0 },
    'checkAvailability: B sees no stock of A')

  const insightsB = await callB('accountInsights', { accountId: accountB.Id })
  t.equal(insightsB.statusCode, 200)
  t.same(insightsB.json().webOrdersLast12Months, { count: 0, total: 0 }, 'accountInsights: none of A\'s web orders')

  const oppA = s.org.records('Opportunity').find((o) => o.OwnerId === s.org.user('rep1@acme.local').id &&
    o.IsClosed === false && s.org.records('OpportunityLineItem').some((li) => li.OpportunityId === o.Id)) as Rec
  const quoteA = (await s.call('generateQuote', { opportunityId: oppA.Id })).json()
  t.ok(quoteA.lines.every((l: Rec) => Number(l.discountPercent) >= 10), 'A\'s quote: A\'s rules')
  const oppB = sandbox.records('Opportunity').find((o) => o.OwnerId === repB.id && o.IsClosed === false &&
    sandbox.records('OpportunityLineItem').some((li) => li.OpportunityId === o.Id)) as Rec
  const quoteB = await callB('generateQuote', { opportunityId: oppB.Id })
  t.equal(quoteB.statusCode, 200)
  t.ok(quoteB.json().lines.length > 0 && quoteB.json().lines.every((l: Rec) => l.discountPercent === 0),
    'generateQuote: B has no pricing rules, and A\'s do not apply')

  const { feedbackId } = feedback.json()
  t.equal((await s.call('getSyncStatus', { feedbackId })).statusCode, 200, 'A follows its feedback')
  assertError(t, await callB('getSyncStatus', { feedbackId }), 404, 'NOT_FOUND')
  const { jobId } = job.json()
  t.equal((await s.call('getJobStatus', { jobId })).statusCode, 200, 'A follows its job')
  assertError(t, await callB('getJobStatus', { jobId }), 404, 'NOT_FOUND')
})
