import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { startStack, type Stack } from '../stack.ts'
import { assertError } from '../helper.ts'

type Rec = Record<string, unknown>

async function waitForState (s: Stack, feedbackId: number, state: string): Promise<Rec> {
  for (let i = 0; i < 50; i++) {
    await s.sync.writeOnce()
    const body = (await s.call('getSyncStatus', { feedbackId })).json()
    if (body.state === state) return body
    await sleep(100)
  }
  throw new Error(`feedback ${feedbackId} never reached ${state}`)
}

t.test('logProductFeedback and getSyncStatus', async (t) => {
  const s = await startStack(t)
  const product = s.org.records('Product2').find((p) => p.IsActive === true) as Rec

  t.test('a round trip to SYNCED, without an API call from the service', async (t) => {
    const before = s.org.stats.byUser['rep1@acme.local'] ?? 0
    const res = await s.call('logProductFeedback', { productCode: product.ProductCode, rating: 5, comment: 'Works "great" \\ fast' })
    t.equal(res.statusCode, 200)
    const body = res.json()
    t.equal(body.syncStatus, 'PENDING')
    t.equal((s.org.stats.byUser['rep1@acme.local'] ?? 0) - before, 0, 'the caller spends no API call')
    const status = await waitForState(s, body.feedbackId, 'SYNCED')
    assertError(t, await s.call('getSyncStatus', { feedbackId: body.feedbackId }, 'rep2@acme.local'), 404, 'NOT_FOUND', ['feedbackId'])
    t.pass('another user cannot follow it')
    const record = s.org.getRecord(String(status.salesforceId)) as Rec
    t.equal(record.Product__c, product.Id, 'linked to the product through its external id')
    t.equal(record.Rating__c, 5)
    t.equal(record.Comment__c, 'Works "great" \\ fast')
    t.equal(record.External_Id__c, body.externalId)
  })

  t.test('a record Salesforce refuses ends FAILED with its error', async (t) => {
    // The mirror knows a product the org no longer has (deleted since the last poll).
    await s.pool.query(`INSERT INTO salesforce.product2 (sfid, name, productcode, external_id__c, isactive, isdeleted, systemmodstamp)
      VALUES ('01t000000000999AAA', 'Ghost', 'GHOST-1', 'GHOST-1', true, false, now())`)
    const res = await s.call('logProductFeedback', { productCode: 'GHOST-1', rating: 2 })
    t.equal(res.statusCode, 200)
    const status = await waitForState(s, res.json().feedbackId, 'FAILED')
    t.type(status.errorCode, 'string')
    t.match(status.errorMessage, /GHOST-1|External_Id__c|not found/i)
    t.notOk(status.salesforceId)
  })

  t.test('errors and repeats', async (t) => {
    assertError(t, await s.call('logProductFeedback', { productCode: 'NO-SUCH', rating: 3 }), 404, 'NOT_FOUND', ['productCode'])
    assertError(t, await s.call('logProductFeedback', { productCode: product.ProductCode, rating: 6 }), 400, 'INVALID_REQUEST', ['rating'])
    assertError(t, await s.call('getSyncStatus', { feedbackId: 99_999_999 }), 404, 'NOT_FOUND', ['feedbackId'])
    const key = `agent-turn-${Date.now()}`
    const first = (await s.call('logProductFeedback', { productCode: product.ProductCode, rating: 4, idempotencyKey: key })).json()
    const again = (await s.call('logProductFeedback', { productCode: product.ProductCode, rating: 4, idempotencyKey: key })).json()
    t.equal(again.feedbackId, first.feedbackId)
    t.equal(again.replayed, true)
    const { rows } = await s.pool.query('SELECT count(*)::int AS n FROM salesforce.product_feedback__c WHERE external_id__c = $1', [first.externalId])
    t.equal(rows[0].n, 1, 'one row written')
  })
})
