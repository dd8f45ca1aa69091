// jsforce's Connection against the local org: query, sObject CRUD, upsert, collections, describe.
import t from 'tap'
import { ADMIN, REP1, jsforceConnection, orgFor, rejectsCode } from './helper.ts'

const Connection = jsforceConnection()

t.test('jsforce', async t => {
  const org = await orgFor(t)
  const conn = (username: string): any => new Connection({
    instanceUrl: org.url,
    accessToken: org.user(username).accessToken,
    version: org.apiVersion
  })

  await t.test('query and autoFetch across pages', async t => {
    const c = conn(ADMIN)
    const res = await c.query('SELECT Id, Name, Account.Name FROM Opportunity WHERE Amount > 0 ORDER BY Amount DESC LIMIT 10')
    t.equal(res.records.length, 10)
    t.ok(res.records[0].Amount === undefined, 'only selected fields')
    t.type(res.records[0].Account.Name, 'string')
    const all = await c.query('SELECT Id FROM OpportunityLineItem').run({ autoFetch: true, maxFetch: 100000 })
    t.equal(all.records.length, org.records('OpportunityLineItem').length)
    t.equal(c.limitInfo.apiUsage.limit, 100000, 'Sforce-Limit-Info is read by jsforce')
  })

  await t.test('sObject CRUD and retrieve with fields', async t => {
    const c = conn(REP1)
    const created = await c.sobject('Account').create({ Name: 'Jsforce Co', Type: 'Prospect' })
    t.equal(created.success, true)
    const rec = await c.sobject('Account').retrieve(created.id)
    t.equal(rec.Name, 'Jsforce Co')
    t.equal(rec.OwnerId, org.user(REP1).id)
    t.equal(rec.attributes.type, 'Account')
    const upd = await c.sobject('Account').update({ Id: created.id, Type: 'Customer' })
    t.equal(upd.success, true)
    t.equal(org.getRecord(created.id)?.Type, 'Customer')
    const del = await c.sobject('Account').destroy(created.id)
    t.equal(del.success, true)
    await rejectsCode(t, c.sobject('Account').retrieve(created.id), 'NOT_FOUND')
    await rejectsCode(t, c.sobject('Account').create({ Name: 'x', Type: 'Alien' }), 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST')
  })

  await t.test('upsert by external id', async t => {
    const c = conn(ADMIN)
    const first = await c.sobject('Product_Feedback__c').upsert({ External_Id__c: 'JSF-1', Rating__c: 4, Comment__c: 'first' }, 'External_Id__c')
    t.equal(first.success, true)
    t.equal(first.created, true)
    const again = await c.sobject('Product_Feedback__c').upsert({ External_Id__c: 'JSF-1', Rating__c: 5 }, 'External_Id__c')
    t.equal(again.created, false)
    t.equal(again.id, first.id)
    t.equal(org.getRecord(first.id)?.Rating__c, 5)
    t.equal(org.getRecord(first.id)?.Comment__c, 'first')
  })

  await t.test('collections: create, update, delete; allOrNone', async t => {
    const c = conn(REP1)
    const recs = Array.from({ length: 5 }, (_, i) => ({ Name: `Coll ${i}` }))
    const created = await c.sobject('Account').create(recs, { allOrNone: true })
    t.equal(created.length, 5)
    t.ok(created.every((r: any) => r.success))
    const updated = await c.sobject('Account').update(created.map((r: any) => ({ Id: r.id, Industry: 'Finance' })))
    t.ok(updated.every((r: any) => r.success))
    t.ok(created.every((r: any) => org.getRecord(r.id)?.Industry === 'Finance'))

    const mixed = await c.sobject('Account').create([{ Name: 'Good' }, { Industry: 'Finance' }], { allOrNone: false })
    t.equal(mixed[0].success, true)
    t.equal(mixed[1].success, false)
    t.equal(mixed[1].errors[0].statusCode, 'REQUIRED_FIELD_MISSING')
    t.same(mixed[1].errors[0].fields, ['Name'])

    const before = org.records('Account').length
    const res = await c.requestPost('/services/data/v62.0/composite/sobjects', {
      allOrNone: true,
      records: [{ attributes: { type: 'Account' }, Name: 'AON 1' }, { attributes: { type: 'Account' }, Name: 'x'.repeat(300) }]
    })
    t.equal(res[0].success, false)
    t.equal(res[0].errors[0].statusCode, 'ALL_OR_NONE_OPERATION_ROLLED_BACK')
    t.equal(res[1].errors[0].statusCode, 'STRING_TOO_LONG')
    t.equal(org.records('Account').length, before, 'nothing written')

    const deleted = await c.sobject('Account').destroy(created.map((r: any) => r.id))
    t.ok(deleted.every((r: any) => r.success))
    const tooMany = Array.from({ length: 201 }, () => ({ attributes: { type: 'Account' }, Name: 'x' }))
    await rejectsCode(t, c.requestPost('/services/data/v62.0/composite/sobjects', { records: tooMany }), 'EXCEEDED_ID_LIMIT')
  })

  await t.test('describe and describeGlobal', async t => {
    const c = conn(ADMIN)
    const d = await c.sobject('Opportunity').describe()
    t.equal(d.name, 'Opportunity')
    t.equal(d.keyPrefix, '006')
    const stage = d.fields.find((f: any) => f.name === 'StageName')
    t.equal(stage.type, 'picklist')
    t.equal(stage.nillable, false)
    t.ok(stage.picklistValues.some((p: any) => p.value === 'Closed Won'))
    const acc = d.fields.find((f: any) => f.name === 'AccountId')
    t.same(acc.referenceTo, ['Account'])
    t.equal(acc.relationshipName, 'Account')
    t.ok(d.childRelationships.some((r: any) => r.relationshipName === 'OpportunityLineItems' && r.childSObject === 'OpportunityLineItem'))
    const ext = (await c.sobject('Account').describe()).fields.find((f: any) => f.name === 'External_Id__c')
    t.equal(ext.externalId, true)
    t.equal(ext.unique, true)
    t.equal(ext.length, 40)
    const g = await c.describeGlobal()
    t.ok(g.sobjects.some((s: any) => s.name === 'Product_Feedback__c' && s.keyPrefix === 'a01' && s.custom === true))
  })
})
