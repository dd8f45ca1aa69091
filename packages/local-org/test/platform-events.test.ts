// Platform events: published by inserting the event's sObject, answered as Salesforce answers a
// high-volume event publish, never stored or queried, and readable by tests afterwards.
import t from 'tap'
import { PUBLISHED_EVENTS_PATH, isValidId } from '../src/index.ts'
import { ADMIN, READONLY, REP1, call, orgFor, soql } from './helper.ts'

const EVENT = 'Account_Rescore__e'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

t.test('platform events', async t => {
  const org = await orgFor(t)

  await t.test('a publish answers 201 with the publish result, OPERATION_ENQUEUED and the event UUID', async t => {
    const r = await call(org, REP1, 'POST', `/sobjects/${EVENT}`,
      { Job_Id__c: 'job-1', State__c: 'completed', Accounts_Written__c: 3 })
    t.equal(r.status, 201)
    t.same(Object.keys(r.body), ['id', 'success', 'errors'])
    t.equal(r.body.success, true)
    t.ok(isValidId(r.body.id), `${String(r.body.id)} is a record-shaped id`)
    t.match(r.body.id, /^e00/, 'with the event\'s key prefix')
    t.equal(r.body.errors.length, 1)
    t.match(r.body.errors[0], { statusCode: 'OPERATION_ENQUEUED', message: UUID, fields: [] })
    t.equal(r.headers.get('location'), null, 'no record to locate')

    const [published] = org.publishedEvents(EVENT).slice(-1)
    t.equal(published?.id, r.body.id)
    t.match(published?.fields, {
      Job_Id__c: 'job-1',
      State__c: 'completed',
      Accounts_Written__c: 3,
      Accounts_Rejected__c: null,
      EventUuid: r.body.errors[0].message,
      CreatedById: org.user(REP1).id,
      ReplayId: /^\d+$/
    })
  })

  await t.test('unknown field, wrong type, missing required field: Salesforce\'s errors, no event', async t => {
    const before = org.publishedEvents().length
    const publish = (username: string, fields: Record<string, unknown>) =>
      call(org, username, 'POST', `/sobjects/${EVENT}`, fields)
    const bogus = await publish(ADMIN, { Job_Id__c: 'x', State__c: 'completed', Bogus__c: 1 })
    t.equal(bogus.status, 400)
    const unknownField = `No such column 'Bogus__c' on sobject of type ${EVENT}`
    t.same(bogus.body, [{ message: unknownField, errorCode: 'INVALID_FIELD' }])
    const typed = await publish(ADMIN, { Job_Id__c: 'x', State__c: 'completed', Accounts_Written__c: 'many' })
    t.equal(typed.body[0].errorCode, 'JSON_PARSER_ERROR')
    const missing = await publish(ADMIN, { State__c: 'completed' })
    t.match(missing.body[0], { errorCode: 'REQUIRED_FIELD_MISSING', fields: ['Job_Id__c'] })
    const system = await publish(ADMIN, { Job_Id__c: 'x', State__c: 'completed', ReplayId: '7' })
    t.match(system.body[0], { errorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE', fields: ['ReplayId'] })
    const readonly = await publish(READONLY, { Job_Id__c: 'x', State__c: 'completed' })
    t.equal(readonly.body[0].errorCode, 'INSUFFICIENT_ACCESS_OR_READONLY')
    t.equal(org.publishedEvents().length, before, 'none of them published')
  })

  await t.test('describe shows an event: createable and triggerable, not queryable or updateable', async t => {
    const global = await call(org, ADMIN, 'GET', '/sobjects')
    const entry = global.body.sobjects.find((o: { name: string }) => o.name === EVENT)
    t.match(entry, {
      name: EVENT,
      custom: true,
      keyPrefix: 'e00',
      createable: true,
      triggerable: true,
      queryable: false,
      retrieveable: false,
      updateable: false,
      deletable: false,
      searchable: false,
      layoutable: false
    })
    const describe = await call(org, ADMIN, 'GET', `/sobjects/${EVENT}/describe`)
    const names = describe.body.fields.map((f: { name: string }) => f.name)
    t.same(names.slice(0, 4), ['ReplayId', 'CreatedDate', 'CreatedById', 'EventUuid'], 'the event system fields')
    t.notOk(names.includes('Id') || names.includes('Name') || names.includes('OwnerId'), 'no record fields')
    t.ok(names.includes('Accounts_Not_Editable__c'))
  })

  await t.test('events are not records: SOQL does not know them', async t => {
    const q = await soql(org, ADMIN, `SELECT Job_Id__c FROM ${EVENT}`)
    t.equal(q.status, 400)
    t.equal(q.body[0].errorCode, 'INVALID_TYPE')
    t.equal(org.counts()[EVENT], undefined)
  })

  await t.test('the local read-out lists what was published, filtered by type', async t => {
    const r = await fetch(`${org.url}${PUBLISHED_EVENTS_PATH}?type=${EVENT}`)
    t.equal(r.status, 200)
    const { events } = await r.json() as { events: Array<{ type: string, id: string }> }
    t.same(events.map(e => e.id), org.publishedEvents(EVENT).map(e => e.id))
    t.ok(events.length > 0)
    const none = await (await fetch(`${org.url}${PUBLISHED_EVENTS_PATH}?type=Other__e`)).json() as { events: unknown[] }
    t.same(none.events, [])
  })
})
