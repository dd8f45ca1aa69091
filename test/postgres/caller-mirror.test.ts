import t, { type Test } from 'tap'
import { createConnectSchema } from '@applink-actions/local-connect'
import { MAPPING } from '../../src/postgres/mapping.ts'
import { createMirror } from '../../src/postgres/mirror.ts'
import { callerMirror } from '../../src/postgres/caller-mirror.ts'
import { testDatabase } from './fixtures/db.ts'

const SCHEMA = 'sf_caller_mirror'
const MINE = '006000000000001AAA'
const PRIVATE = '006000000000002AAA'

/** A mirror with an opportunity the caller can read, a private one, their line items and products. */
async function setup (t: Test) {
  const { pool } = await testDatabase(t)
  await createConnectSchema(pool, SCHEMA, MAPPING)
  await pool.query(`INSERT INTO ${SCHEMA}.opportunity (sfid, name, amount, isdeleted) VALUES
    ('${MINE}', 'Mine', 100, false), ('${PRIVATE}', 'Private', 7800000, false)`)
  await pool.query(`INSERT INTO ${SCHEMA}.opportunitylineitem (sfid, opportunityid, quantity, isdeleted) VALUES
    ('00k000000000001AAA', '${MINE}', 1, false), ('00k000000000002AAA', '${PRIVATE}', 9, false),
    ('00k000000000003AAA', null, 3, false)`)
  await pool.query(`INSERT INTO ${SCHEMA}.product2 (sfid, name, productcode, isactive, isdeleted) VALUES
    ('01t000000000001AAA', 'Widget', 'W-1', true, false)`)
  const asked: string[][] = []
  const readable = async (ids: readonly string[]) => {
    asked.push([...ids])
    return new Set(ids.filter((id) => id === MINE))
  }
  return { mirror: callerMirror(createMirror(pool, SCHEMA), readable), asked }
}

t.test('find, findOne and count keep only the records the caller may read', async (t) => {
  const { mirror, asked } = await setup(t)
  t.same((await mirror.find('opportunity')).map((o) => o.name), ['Mine'])
  t.equal(await mirror.findOne('opportunity', { sfid: PRIVATE }), undefined, 'a private record is not found')
  t.equal(await mirror.count('opportunity'), 1, 'the private record is not counted')
  t.same((await mirror.find('opportunitylineitem')).map((l) => l.sfid), ['00k000000000001AAA'],
    'a line item follows its opportunity; one without an opportunity is nobody\'s')
  t.same(asked.at(-1), [MINE, PRIVATE], 'line items ask about their opportunities, not themselves')
})

t.test('tables without record-level sharing are read without asking', async (t) => {
  const { mirror, asked } = await setup(t)
  t.equal((await mirror.find('product2')).length, 1)
  t.equal(await mirror.count('product2'), 1)
  t.same(asked, [])
})

t.test('insertOnce writes one row per key and answers the same row on a retry', async (t) => {
  const { mirror } = await setup(t)
  const values = { product__r__external_id__c: 'P-1', rating__c: 5, comment__c: null, external_id__c: 'key-1' }
  const first = await mirror.insertOnce('product_feedback__c', 'external_id__c', values)
  const again = await mirror.insertOnce('product_feedback__c', 'external_id__c', values)
  t.equal(again.id, first.id)
  await t.rejects(mirror.insertOnce('product_feedback__c', 'external_id__c', { ...values, rating__c: 'x' as never }),
    'an error other than the key\'s is thrown')
})
