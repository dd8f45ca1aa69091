// Sharing: private Account/Opportunity/Case, parent-controlled Contact and line items, public
// catalogue, the read-only and integration users, and UserRecordAccess.
import t from 'tap'
import { ADMIN, INTEGRATION, READONLY, REP1, REP2, call, orgFor, soql } from './helper.ts'

t.test('sharing', async t => {
  const org = await orgFor(t)
  const rep1 = org.user(REP1)
  const rep2 = org.user(REP2)
  const rep1Opp = org.records('Opportunity').find(o => o.OwnerId === rep1.id) as Record<string, unknown>
  const rep1Acc = org.records('Account').find(a => a.OwnerId === rep1.id) as Record<string, unknown>

  await t.test('a rep sees only their own private records', async t => {
    for (const type of ['Account', 'Opportunity', 'Case']) {
      const res = await soql(org, REP1, `SELECT Id, OwnerId FROM ${type}`)
      t.equal(res.status, 200)
      const own = org.records(type).filter(r => r.OwnerId === rep1.id).length
      t.equal(res.body.totalSize, own, `${type}: ${own} own records`)
      t.ok(res.body.records.every((r: any) => r.OwnerId === rep1.id))
    }
    const admin = await soql(org, ADMIN, 'SELECT COUNT() FROM Opportunity')
    t.equal(admin.body.totalSize, org.records('Opportunity').length, 'admin sees all')
    const ro = await soql(org, READONLY, 'SELECT COUNT() FROM Opportunity')
    t.equal(ro.body.totalSize, org.records('Opportunity').length, 'read-only sees all')
  })

  await t.test("a rep cannot read or update another rep's Opportunity", async t => {
    const get = await call(org, REP2, 'GET', `/sobjects/Opportunity/${String(rep1Opp.Id)}`)
    t.equal(get.status, 404)
    t.equal(get.body[0].errorCode, 'NOT_FOUND')
    const q = await soql(org, REP2, `SELECT Id FROM Opportunity WHERE Id = '${String(rep1Opp.Id)}'`)
    t.equal(q.body.totalSize, 0)
    const patch = await call(org, REP2, 'PATCH', `/sobjects/Opportunity/${String(rep1Opp.Id)}`, { Name: 'mine now' })
    t.equal(patch.status, 400)
    t.same(patch.body, [{ message: 'insufficient access rights on object id', errorCode: 'INSUFFICIENT_ACCESS_OR_READONLY', fields: [] }])
    const del = await call(org, REP2, 'DELETE', `/sobjects/Opportunity/${String(rep1Opp.Id)}`)
    t.equal(del.body[0].errorCode, 'INSUFFICIENT_ACCESS_OR_READONLY')
    t.equal(org.getRecord(String(rep1Opp.Id))?.Name, rep1Opp.Name, 'unchanged')
    const own = await call(org, REP1, 'PATCH', `/sobjects/Opportunity/${String(rep1Opp.Id)}`, { Description: 'mine' })
    t.equal(own.status, 204)
  })

  await t.test('children follow their parent', async t => {
    const lines = await soql(org, REP2, `SELECT Id FROM OpportunityLineItem WHERE OpportunityId = '${String(rep1Opp.Id)}'`)
    t.equal(lines.body.totalSize, 0)
    const contacts = await soql(org, REP2, `SELECT Id FROM Contact WHERE AccountId = '${String(rep1Acc.Id)}'`)
    t.equal(contacts.body.totalSize, 0)
    const mine = await soql(org, REP1, `SELECT Id FROM Contact WHERE AccountId = '${String(rep1Acc.Id)}'`)
    t.equal(mine.body.totalSize, org.records('Contact').filter(c => c.AccountId === rep1Acc.Id).length)
    const cross = await call(org, REP2, 'POST', '/sobjects/Contact', { LastName: 'Sneaky', AccountId: rep1Acc.Id })
    t.equal(cross.status, 400)
    t.equal(cross.body[0].errorCode, 'INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY')
  })

  await t.test('catalogue is public read; feedback public read/write', async t => {
    const p = await soql(org, REP2, 'SELECT COUNT() FROM Product2')
    t.equal(p.body.totalSize, 30)
    const pbe = await soql(org, REP2, 'SELECT COUNT() FROM PricebookEntry')
    t.equal(pbe.body.totalSize, 30)
    const edit = await call(org, REP2, 'PATCH', `/sobjects/Product2/${String(org.records('Product2')[0]?.Id)}`, { Name: 'x' })
    t.equal(edit.body[0].errorCode, 'INSUFFICIENT_ACCESS_OR_READONLY')
    const fb = await call(org, REP2, 'POST', '/sobjects/Product_Feedback__c', { Rating__c: 3 })
    t.equal(fb.status, 201)
  })

  await t.test('read-only user cannot create or edit; integration user can', async t => {
    const c = await call(org, READONLY, 'POST', '/sobjects/Account', { Name: 'nope' })
    t.equal(c.status, 400)
    t.equal(c.body[0].errorCode, 'INSUFFICIENT_ACCESS_OR_READONLY')
    const u = await call(org, READONLY, 'PATCH', `/sobjects/Account/${String(rep1Acc.Id)}`, { Name: 'nope' })
    t.equal(u.body[0].errorCode, 'INSUFFICIENT_ACCESS_OR_READONLY')
    const i = await call(org, INTEGRATION, 'PATCH', `/sobjects/Account/${String(rep1Acc.Id)}`, { Health_Score__c: 77 })
    t.equal(i.status, 204)
    t.equal(org.getRecord(String(rep1Acc.Id))?.Health_Score__c, 77)
  })

  await t.test('UserRecordAccess answers match', async t => {
    const rep2Opp = org.records('Opportunity').find(o => o.OwnerId === rep2.id) as Record<string, unknown>
    const product = org.records('Product2')[0] as Record<string, unknown>
    const ids = [rep1Opp.Id, rep2Opp.Id, product.Id, rep1Acc.Id].map(String)
    const q = `SELECT RecordId, HasReadAccess, HasEditAccess, MaxAccessLevel FROM UserRecordAccess WHERE UserId = '${rep1.id}' AND RecordId IN ('${ids.join("','")}')`
    const res = await soql(org, REP1, q)
    t.equal(res.status, 200)
    const by = Object.fromEntries(res.body.records.map((r: any) => [r.RecordId, r]))
    t.same([by[ids[0]!].HasReadAccess, by[ids[0]!].HasEditAccess], [true, true], 'own opportunity')
    t.same([by[ids[1]!].HasReadAccess, by[ids[1]!].HasEditAccess, by[ids[1]!].MaxAccessLevel], [false, false, 'None'], "another rep's opportunity")
    t.same([by[ids[2]!].HasReadAccess, by[ids[2]!].HasEditAccess, by[ids[2]!].MaxAccessLevel], [true, false, 'Read'], 'product')
    t.equal(res.body.records[0].attributes.type, 'UserRecordAccess')
    // The answers agree with what the rep can actually do.
    for (const id of ids) {
      const rec = org.getRecord(id) as Record<string, unknown>
      const get = await call(org, REP1, 'GET', `/sobjects/${String(rec.Id).startsWith('006') ? 'Opportunity' : String(rec.Id).startsWith('001') ? 'Account' : 'Product2'}/${id}`)
      t.equal(get.status === 200, by[id].HasReadAccess, `read of ${id} agrees`)
    }
    const single = await soql(org, ADMIN, `SELECT RecordId, HasEditAccess FROM UserRecordAccess WHERE UserId = '${rep2.id}' AND RecordId = '${String(rep2Opp.Id)}'`)
    t.equal(single.body.records[0].HasEditAccess, true)
    const bad = await soql(org, REP1, `SELECT RecordId FROM UserRecordAccess WHERE RecordId = '${String(rep1Opp.Id)}'`)
    t.equal(bad.status, 400)
    t.equal(bad.body[0].errorCode, 'MALFORMED_QUERY')
  })
})
