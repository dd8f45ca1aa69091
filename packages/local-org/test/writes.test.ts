// sObject writes: validation errors as Salesforce returns them, derived fields, timestamps, upsert,
// and the composite resources (composite, composite/graph, collections).
import t from 'tap'
import { ADMIN, REP1, call, orgFor } from './helper.ts'

t.test('writes', async t => {
  const org = await orgFor(t)
  const err = async (
    method: string,
    path: string,
    body: unknown,
    status: number,
    code: string,
    fields?: string[]
  ): Promise<any> => {
    const r = await call(org, ADMIN, method, path, body)
    t.equal(r.status, status, `${method} ${path} → ${status}`)
    t.equal(r.body?.[0]?.errorCode, code, `${method} ${path} → ${code}`)
    if (fields) t.same(r.body[0].fields, fields, `${code} fields`)
    return r.body[0]
  }

  await t.test('validation errors', async () => {
    await err('POST', '/sobjects/Account', { Name: 'x', Bogus__c: 1 }, 400, 'INVALID_FIELD')
    await err('POST', '/sobjects/Opportunity', { Name: 'x' }, 400, 'REQUIRED_FIELD_MISSING', ['StageName', 'CloseDate'])
    await err('POST', '/sobjects/Opportunity', { Name: 'x', StageName: 'Won?', CloseDate: '2030-01-01' }, 400, 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', ['StageName'])
    await err('POST', '/sobjects/Opportunity', { Name: 'x', StageName: 'Prospecting', CloseDate: '2030-01-01', AccountId: '001notanid' }, 400, 'MALFORMED_ID', ['AccountId'])
    await err('POST', '/sobjects/Account', { Name: 'x'.repeat(256) }, 400, 'STRING_TOO_LONG', ['Name'])
    await err('POST', '/sobjects/Account', { Name: 'x', IsDeleted: true }, 400, 'INVALID_FIELD_FOR_INSERT_UPDATE', ['IsDeleted'])
    await err('POST', '/sobjects/Account', { Name: 'x', Health_Score__c: 1000 }, 400, 'NUMBER_OUTSIDE_VALID_RANGE', ['Health_Score__c'])
    await err('POST', '/sobjects/Account', { Name: 'x', AnnualRevenue: 'lots' }, 400, 'JSON_PARSER_ERROR')
    await err('POST', '/sobjects/Product_Feedback__c', { Rating__c: 9 }, 400, 'FIELD_CUSTOM_VALIDATION_EXCEPTION', ['Rating__c'])
    await err('POST', '/sobjects/Nope__c', { Name: 'x' }, 404, 'NOT_FOUND')
    await err('PATCH', '/sobjects/Account/001B000001LntWlIAX', { Name: 'x' }, 400, 'MALFORMED_ID', ['Id'])
    await err('POST', '/sobjects/Account', '{not json', 400, 'JSON_PARSER_ERROR')
    const dup = org.records('Account')[0]?.External_Id__c
    const d = await err('POST', '/sobjects/Account', { Name: 'x', External_Id__c: dup }, 400, 'DUPLICATE_VALUE')
    t.match(d.message, /duplicate value found: External_Id__c duplicates value on record with id: 001/)
  })

  await t.test('create, get, patch, delete; timestamps and derived fields', async t => {
    const acc = org.records('Account').find(a => a.OwnerId === org.user(REP1).id)
    const c = await call(org, REP1, 'POST', '/sobjects/Opportunity', { Name: 'Derived', StageName: 'Closed Won', CloseDate: '2030-01-31', AccountId: acc?.Id })
    t.equal(c.status, 201)
    t.same(Object.keys(c.body), ['id', 'success', 'errors'])
    t.match(c.headers.get('location'), new RegExp(`/services/data/v62.0/sobjects/Opportunity/${String(c.body.id)}$`))
    const got = await call(org, REP1, 'GET', `/sobjects/Opportunity/${String(c.body.id)}`)
    t.equal(got.body.IsWon, true)
    t.equal(got.body.IsClosed, true)
    t.equal(got.body.Probability, 100)
    t.equal(got.body.CreatedDate, got.body.LastModifiedDate)
    t.match(got.body.CreatedDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/)
    const some = await call(org, REP1, 'GET', `/sobjects/Opportunity/${String(c.body.id)}?fields=Name,StageName`)
    t.same(Object.keys(some.body), ['attributes', 'Name', 'StageName'])

    const pbe = org.records('PricebookEntry').find(p => p.IsActive)
    const li = await call(org, REP1, 'POST', '/sobjects/OpportunityLineItem', { OpportunityId: c.body.id, PricebookEntryId: pbe?.Id, Quantity: 3, UnitPrice: 100 })
    t.equal(li.status, 201)
    const line = org.getRecord(li.body.id)
    t.equal(line?.TotalPrice, 300)
    t.equal(line?.Product2Id, pbe?.Product2Id)
    t.equal(org.getRecord(c.body.id)?.Amount, 300, 'amount rolls up from line items')
    t.equal(org.getRecord(c.body.id)?.Pricebook2Id, pbe?.Pricebook2Id)

    const patched = await call(org, REP1, 'PATCH', `/sobjects/Opportunity/${String(c.body.id)}`, { StageName: 'Negotiation' })
    t.equal(patched.status, 204)
    const after = org.getRecord(c.body.id)
    t.equal(after?.IsClosed, false)
    t.ok(String(after?.SystemModstamp) > String(got.body.SystemModstamp))
    t.equal(String(after?.LastModifiedDate), String(after?.SystemModstamp))

    t.equal((await call(org, REP1, 'DELETE', `/sobjects/Opportunity/${String(c.body.id)}`)).status, 204)
    t.equal(org.getRecord(li.body.id)?.IsDeleted, true, 'line items cascade')
    const again = await call(org, REP1, 'DELETE', `/sobjects/Opportunity/${String(c.body.id)}`)
    t.equal(again.status, 404)
    t.same(again.body, [{ message: 'entity is deleted', errorCode: 'ENTITY_IS_DELETED', fields: [] }])
    const all = await call(org, REP1, 'GET', `/queryAll?q=${encodeURIComponent(`SELECT Id, IsDeleted FROM Opportunity WHERE Id = '${String(c.body.id)}'`)}`)
    t.equal(all.body.records[0].IsDeleted, true, 'queryAll sees deleted rows')
    const q = await call(org, REP1, 'GET', `/query?q=${encodeURIComponent(`SELECT Id FROM Opportunity WHERE Id = '${String(c.body.id)}'`)}`)
    t.equal(q.body.totalSize, 0)
  })

  await t.test('updateRecord/insertRecord test hooks behave like writes', async t => {
    const a = org.insertRecord('Account', { Name: 'Hook' }, REP1)
    t.equal(a.OwnerId, org.user(REP1).id)
    await new Promise(resolve => setTimeout(resolve, 3))
    const b = org.updateRecord(String(a.Id), { Name: 'Hooked' })
    t.ok(String(b.SystemModstamp) > String(a.SystemModstamp))
    t.equal(b.Name, 'Hooked')
  })

  await t.test('upsert by external id', async t => {
    const path = '/sobjects/Account/External_Id__c/EXT-UP-1'
    const c = await call(org, ADMIN, 'PATCH', path, { Name: 'Upserted' })
    t.equal(c.status, 201)
    t.same(c.body, { id: c.body.id, success: true, errors: [], created: true })
    const u = await call(org, ADMIN, 'PATCH', path, { Industry: 'Finance' })
    t.equal(u.status, 200)
    t.equal(u.body.created, false)
    t.equal(u.body.id, c.body.id)
    const g = await call(org, ADMIN, 'GET', path)
    t.equal(g.body.Industry, 'Finance')
    await err('PATCH', '/sobjects/Account/Name/x', { Industry: 'Finance' }, 404, 'NOT_FOUND')
    const byParent = await call(org, ADMIN, 'POST', '/sobjects/Contact', { LastName: 'ByExt', Account: { External_Id__c: 'EXT-UP-1' } })
    t.equal(org.getRecord(byParent.body.id)?.AccountId, c.body.id, 'parent by external id')
  })

  await t.test('composite: references, allOrNone, limit', async t => {
    const r = await call(org, REP1, 'POST', '/composite', {
      allOrNone: true,
      compositeRequest: [
        { method: 'POST', url: '/services/data/v62.0/sobjects/Account', referenceId: 'acc', body: { Name: 'Composite Co' } },
        { method: 'GET', url: '/services/data/v62.0/sobjects/Account/@{acc.id}?fields=Name', referenceId: 'got' },
        { method: 'POST', url: '/services/data/v62.0/sobjects/Contact', referenceId: 'con', body: { LastName: '@{got.Name}', AccountId: '@{acc.id}' } },
        { method: 'GET', url: `/services/data/v62.0/query?q=${encodeURIComponent("SELECT Id FROM Contact WHERE LastName = 'Composite Co'")}`, referenceId: 'q' },
        { method: 'GET', url: '/services/data/v62.0/sobjects/Contact/@{q.records[0].Id}?fields=LastName', referenceId: 'byQuery' }
      ]
    })
    t.equal(r.status, 200)
    t.same(r.body.compositeResponse.map((x: any) => x.httpStatusCode), [201, 200, 201, 200, 200])
    t.equal(r.body.compositeResponse[3].body.totalSize, 1)
    t.match(r.body.compositeResponse[4].body.attributes.url, new RegExp(`/Contact/${r.body.compositeResponse[2].body.id as string}$`), 'a query\'s records can be referenced')
    const before = org.records('Account').length
    const bad = await call(org, REP1, 'POST', '/composite', {
      allOrNone: true,
      compositeRequest: [
        { method: 'POST', url: '/services/data/v62.0/sobjects/Account', referenceId: 'a', body: { Name: 'Rolled' } },
        { method: 'POST', url: '/services/data/v62.0/sobjects/Contact', referenceId: 'b', body: { AccountId: '@{a.id}' } }
      ]
    })
    t.same(bad.body.compositeResponse.map((x: any) => x.body[0].errorCode), ['PROCESSING_HALTED', 'REQUIRED_FIELD_MISSING'])
    t.equal(org.records('Account').length, before)
    const many = await call(org, REP1, 'POST', '/composite', { compositeRequest: Array.from({ length: 26 }, (_, i) => ({ method: 'GET', url: '/services/data/v62.0/limits', referenceId: `r${i}` })) })
    t.equal(many.status, 400)
  })

  await t.test('composite graph: all or nothing, PROCESSING_HALTED on siblings, 500-node limit', async t => {
    const before = org.records('Account').length
    const g = await call(org, REP1, 'POST', '/composite/graph', {
      graphs: [
        {
          graphId: 'ok',
          compositeRequest: [
            { method: 'POST', url: '/services/data/v62.0/sobjects/Account', referenceId: 'a', body: { Name: 'Graph A' } },
            { method: 'POST', url: '/services/data/v62.0/sobjects/Opportunity', referenceId: 'o', body: { Name: 'Graph O', StageName: 'Qualification', CloseDate: '2031-01-01', AccountId: '@{a.id}' } }
          ]
        },
        {
          graphId: 'bad',
          compositeRequest: [
            { method: 'POST', url: '/services/data/v62.0/sobjects/Account', referenceId: 'a', body: { Name: 'Graph B' } },
            { method: 'POST', url: '/services/data/v62.0/sobjects/Account', referenceId: 'b', body: { Name: 'Graph C', Type: 'Alien' } },
            { method: 'POST', url: '/services/data/v62.0/sobjects/Account', referenceId: 'c', body: { Name: 'Graph D' } }
          ]
        }
      ]
    })
    t.equal(g.status, 200)
    t.same(g.body.graphs.map((x: any) => [x.graphId, x.isSuccessful]), [['ok', true], ['bad', false]])
    t.same(
      g.body.graphs[1].graphResponse.compositeResponse
        .map((x: any) => [x.referenceId, x.httpStatusCode, x.body[0].errorCode]),
      [['a', 400, 'PROCESSING_HALTED'], ['b', 400, 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST'], ['c', 400, 'PROCESSING_HALTED']]
    )
    t.equal(org.records('Account').length, before + 1, 'only the good graph was written')
    const nodes = Array.from({ length: 501 }, (_, i) => ({ method: 'POST', url: '/services/data/v62.0/sobjects/Account', referenceId: `n${i}`, body: { Name: `N${i}` } }))
    const big = await call(org, REP1, 'POST', '/composite/graph', { graphs: [{ graphId: 'big', compositeRequest: nodes }] })
    t.equal(big.status, 400)
    const ok500 = await call(org, REP1, 'POST', '/composite/graph', { graphs: [{ graphId: 'g500', compositeRequest: nodes.slice(0, 500) }] })
    t.equal(ok500.body.graphs[0].isSuccessful, true)
  })

  await t.test('collections: retrieve many, upsert many', async t => {
    const ids = org.records('Product2').slice(0, 3).map(p => String(p.Id))
    const r = await call(org, REP1, 'GET', `/composite/sobjects/Product2?ids=${ids.join(',')}&fields=Name,ProductCode`)
    t.same(r.body.map((x: any) => x.Id ?? x.Name !== undefined), [true, true, true])
    const up = await call(org, ADMIN, 'PATCH', '/composite/sobjects/Product2/External_Id__c', {
      allOrNone: false,
      records: [{ attributes: { type: 'Product2' }, External_Id__c: 'HW-0001', Description: 'upd' }, { attributes: { type: 'Product2' }, External_Id__c: 'NEW-1', Name: 'New Product' }]
    })
    t.same(up.body.map((x: any) => [x.success, x.created]), [[true, false], [true, true]])
  })

  await t.test('versions, resources, limits, describe', async t => {
    const v = await call(org, null, 'GET', '/services/data/')
    t.ok(v.body.some((x: any) => x.version === '62.0' && x.url === '/services/data/v62.0'))
    const bad = await call(org, ADMIN, 'POST', '/services/data/viAmABadVersion/sobjects/Account', { Name: 'x' })
    t.equal(bad.status, 404)
    const l = await call(org, ADMIN, 'GET', '/limits')
    t.equal(l.body.DailyApiRequests.Max, 100000)
    const d = await call(org, ADMIN, 'GET', '/sobjects/Quote/describe')
    t.ok(d.body.childRelationships.some((c: any) => c.relationshipName === 'QuoteLineItems'))
  })
})
