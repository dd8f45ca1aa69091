// The real @heroku/applink SDK (parseRequest → context.org.dataApi) against the local org over HTTP.
import t from 'tap'
import { ADMIN, REP1, REP2, applink, orgFor, rejectsCode } from './helper.ts'

const sdk = applink()

t.test('DataApi against the local org', async t => {
  const org = await orgFor(t)
  const dataApi = (username: string): any => {
    const { context } = sdk.init().salesforce.parseRequest({ 'x-client-context': org.mintContext(username) }, {}, undefined)
    t.equal(context.org.domainUrl, org.url)
    t.equal(context.org.user.username, username)
    return context.org.dataApi
  }

  await t.test('query returns records with lower-cased field access and parent records', async t => {
    const api = dataApi(REP1)
    const res = await api.query('SELECT Id, Name, Account.Name, (SELECT Quantity FROM OpportunityLineItems) FROM Opportunity ORDER BY Name LIMIT 5')
    t.equal(res.done, true)
    t.equal(res.records.length, 5)
    const r = res.records[0]
    t.equal(r.type, 'Opportunity')
    t.match(r.fields.id, /^006[a-zA-Z0-9]{15}$/)
    t.type(r.fields.name, 'string')
    t.equal(r.fields.account.type, 'Account')
    const rep = org.user(REP1)
    for (const rec of res.records) t.equal(org.getRecord(rec.fields.id)?.OwnerId, rep.id, 'only the rep\'s own opportunities')
  })

  await t.test('queryMore walks 3 pages', async t => {
    const before = org.records('Product_Feedback__c').length
    for (let i = 0; i < 4500 - before; i++) org.insertRecord('Product_Feedback__c', { Rating__c: 1 + (i % 5), Comment__c: `bulk ${i}` })
    const api = dataApi(ADMIN)
    const p1 = await api.query('SELECT Id, Name, Rating__c FROM Product_Feedback__c')
    t.equal(p1.totalSize, 4500)
    t.equal(p1.records.length, 2000)
    t.equal(p1.done, false)
    t.match(p1.nextRecordsUrl, /\/services\/data\/v62\.0\/query\/01g[a-zA-Z0-9]{15}-2000$/)
    const p2 = await api.queryMore(p1)
    t.equal(p2.records.length, 2000)
    t.equal(p2.done, false)
    const p3 = await api.queryMore(p2)
    t.equal(p3.records.length, 500)
    t.equal(p3.done, true)
    t.notOk(p3.nextRecordsUrl)
    const ids = new Set([...p1.records, ...p2.records, ...p3.records].map((r: any) => r.fields.id))
    t.equal(ids.size, 4500, 'no record twice')
    const p4 = await api.queryMore(p3)
    t.same(p4.records, [], 'queryMore after the last page is empty')
  })

  await t.test('create, update, delete', async t => {
    const api = dataApi(REP1)
    const { id } = await api.create({ type: 'Account', fields: { Name: 'AppLink Created', Industry: 'Retail' } })
    t.match(id, /^001/)
    t.equal(org.getRecord(id)?.OwnerId, org.user(REP1).id, 'owner defaults to the caller')
    const before = org.getRecord(id)?.SystemModstamp as string
    await new Promise(resolve => setTimeout(resolve, 5))
    await api.update({ type: 'Account', fields: { id, Name: 'AppLink Updated' } })
    const after = org.getRecord(id)
    t.equal(after?.Name, 'AppLink Updated')
    t.ok((after?.SystemModstamp as string) > before, 'SystemModstamp moved')
    await api.delete('Account', id)
    t.equal(org.getRecord(id)?.IsDeleted, true)
    await rejectsCode(t, api.delete('Account', id), 'ENTITY_IS_DELETED')
    await rejectsCode(t, api.create({ type: 'Account', fields: { Nope__c: 1, Name: 'x' } }), 'INVALID_FIELD')
  })

  await t.test('writes as another rep fail with the real error code', async t => {
    const api = dataApi(REP2)
    const other = org.records('Opportunity').find(o => o.OwnerId === org.user(REP1).id)
    t.ok(other)
    await rejectsCode(t, api.update({ type: 'Opportunity', fields: { id: other?.Id, Name: 'stolen' } }), 'INSUFFICIENT_ACCESS_OR_READONLY')
    const res = await api.query(`SELECT Id FROM Opportunity WHERE Id = '${String(other?.Id)}'`)
    t.equal(res.totalSize, 0, 'not visible to another rep')
  })

  await t.test('unit of work: one composite graph, all or nothing', async t => {
    const api = dataApi(REP1)
    org.resetStats()
    const uow = api.newUnitOfWork()
    const acc = uow.registerCreate({ type: 'Account', fields: { Name: 'UoW Account' } })
    const con = uow.registerCreate({ type: 'Contact', fields: { LastName: 'Uow', AccountId: acc } })
    const opp = uow.registerCreate({ type: 'Opportunity', fields: { Name: 'UoW Deal', StageName: 'Prospecting', CloseDate: '2030-01-01', AccountId: acc } })
    const result = await api.commitUnitOfWork(uow)
    t.equal(result.size, 3)
    const accId = result.get(acc).id
    t.equal(org.getRecord(result.get(con).id)?.AccountId, accId)
    t.equal(org.getRecord(result.get(opp).id)?.AccountId, accId)
    t.equal(org.stats.apiCalls, 1, 'one API call')
    t.equal(org.stats.byPath['POST /composite/graph'], 1)

    const accountsBefore = org.records('Account').length
    const bad = api.newUnitOfWork()
    const a2 = bad.registerCreate({ type: 'Account', fields: { Name: 'Rolled Back' } })
    bad.registerCreate({ type: 'Opportunity', fields: { Name: 'Bad', StageName: 'Nope', CloseDate: '2030-01-01', AccountId: a2 } })
    await t.rejects(api.commitUnitOfWork(bad), /INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST|PROCESSING_HALTED/)
    t.equal(org.records('Account').length, accountsBefore, 'the account node was rolled back')
    t.notOk(org.records('Account').some(a => a.Name === 'Rolled Back'))
  })

  await t.test('expired token: 401 INVALID_SESSION_ID', async t => {
    const api = dataApi(REP1)
    org.expireToken(REP1)
    await rejectsCode(t, api.query('SELECT Id FROM Account LIMIT 1'), 'INVALID_SESSION_ID')
    const fresh = dataApi(REP1)
    const res = await fresh.query('SELECT Id FROM Account LIMIT 1')
    t.equal(res.records.length, 1, 'a newly minted context works')
  })
})
