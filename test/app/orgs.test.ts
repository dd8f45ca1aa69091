// One service, several orgs: the caller's org decides the data. A caller of an org this database
// holds no mirror of (another customer, or a sandbox whose record ids are production's) reads none.
import t from 'tap'
import { startLocalOrg } from '@applink-actions/local-org'
import { startStack } from '../stack.ts'
import { assertError } from '../helper.ts'

type Rec = Record<string, unknown>

t.test('a caller of an unmirrored org: 403 ORG_NOT_MIRRORED for mirror reads, the org-only actions work', async (t) => {
  const s = await startStack(t)
  const other = await startLocalOrg({ port: 0, dataset: 'small', seed: 5 })
  t.teardown(() => other.close())
  t.not(other.orgId, s.org.orgId, 'another org')
  const call = async (operationId: string, body: unknown) => await s.app.inject({
    method: 'POST',
    url: `/actions/${operationId}`,
    headers: { 'x-client-context': other.mintContext('rep1@acme.local') },
    payload: body as object
  })
  const product = s.org.records('Product2').find((p) => p.IsActive === true) as Rec
  const account = s.org.records('Account')[0] as Rec
  const feedbackBefore = Number((await s.pool.query('SELECT count(*) FROM salesforce.product_feedback__c')).rows[0].count)

  for (const [operationId, body] of [
    ['checkAvailability', { items: [{ productCode: product.ProductCode, quantity: 1 }] }],
    ['accountInsights', { accountId: account.Id }],
    ['logProductFeedback', { productCode: product.ProductCode, rating: 5 }],
    ['getSyncStatus', { feedbackId: 1 }],
    ['startAccountRescore', { industry: 'Finance' }]
  ] as const) {
    const body403 = assertError(t, await call(operationId, body), 403, 'ORG_NOT_MIRRORED')
    t.match(body403.message, other.orgId, `${operationId}: the message names the org`)
  }
  t.equal(Number((await s.pool.query('SELECT count(*) FROM salesforce.product_feedback__c')).rows[0].count),
    feedbackBefore, 'nothing was written')
  t.equal(Number((await s.pool.query('SELECT count(*) FROM pgboss.job')).rows[0].count), 0, 'nothing was queued')

  const who = await call('whoAmI', {})
  t.equal(who.statusCode, 200, 'whoAmI works for it')
  t.equal(who.json().orgId, other.orgId)
  const opportunity = other.records('Opportunity').find((o) => o.OwnerId === other.user('rep1@acme.local').id) as Rec
  const quote = await call('generateQuote', { opportunityId: opportunity.Id })
  t.equal(quote.statusCode, 200, 'generateQuote, which reads and writes only the org, works for it')

  const own = await s.call('checkAvailability', { items: [{ productCode: product.ProductCode, quantity: 1 }] })
  t.equal(own.statusCode, 200, 'the mirrored org\'s callers still read their mirror')
})
