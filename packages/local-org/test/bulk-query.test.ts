// Bulk API 2.0 query jobs in the local org: create, poll, results a set at a time by Sforce-Locator
// and maxRecords, as CSV with null as an empty field; the guide's unsupported queries refused.
import t from 'tap'
import { ADMIN, REP1, call, orgFor } from './helper.ts'

t.test('a query job gives every record, a set at a time', async t => {
  const org = await orgFor(t)
  const created = await call(org, ADMIN, 'POST', '/jobs/query', {
    operation: 'query', query: 'SELECT Id, Name, Health_Score__c, Owner.Username FROM Account'
  })
  t.equal(created.status, 200)
  t.match(created.body, { operation: 'query', object: 'Account', jobType: 'V2Query', contentType: 'CSV' })
  const info = await call(org, ADMIN, 'GET', `/jobs/query/${String(created.body.id)}`)
  t.equal(info.body.state, 'JobComplete')

  const rows: string[] = []
  let locator: string | null = null
  let sets = 0
  do {
    const r: Response = await fetch(`${org.url}/services/data/v${org.apiVersion}/jobs/query/${String(created.body.id)}` +
      `/results?maxRecords=120${locator === null ? '' : `&locator=${locator}`}`, {
      headers: { Authorization: `Bearer ${org.user(ADMIN).accessToken}` }
    })
    t.equal(r.headers.get('content-type'), 'text/csv')
    const lines = (await r.text()).split('\n').filter(Boolean)
    t.equal(lines[0], 'Id,Name,Health_Score__c,Owner.Username', 'each set starts with the header')
    t.equal(Number(r.headers.get('sforce-numberofrecords')), lines.length - 1)
    rows.push(...lines.slice(1))
    const next = r.headers.get('sforce-locator')
    locator = next === 'null' ? null : next
    sets++
  } while (locator !== null)
  const accounts = org.records('Account')
  t.equal(rows.length, accounts.length, 'every account once')
  t.equal(sets, Math.ceil(accounts.length / 120))
  const unscored = accounts.find((a) => a.Health_Score__c === null)
  t.ok(rows.some((row) => row.startsWith(`${String(unscored?.Id)},`) && row.includes(',,')), 'null is an empty field')

  t.equal((await call(org, ADMIN, 'DELETE', `/jobs/query/${String(created.body.id)}`)).status, 204)
  t.equal((await call(org, ADMIN, 'GET', `/jobs/query/${String(created.body.id)}`)).status, 404)
})

t.test('queries Bulk API 2.0 does not take are refused, and jobs are their owners\'', async t => {
  const org = await orgFor(t)
  for (const query of ['SELECT COUNT() FROM Account', 'SELECT Id, (SELECT Id FROM Contacts) FROM Account',
    'SELECT Id FROM Account LIMIT 5 OFFSET 2']) {
    const r = await call(org, ADMIN, 'POST', '/jobs/query', { operation: 'query', query })
    t.equal(r.status, 400, query)
  }
  t.equal((await call(org, ADMIN, 'POST', '/jobs/query', { operation: 'insert', query: 'SELECT Id FROM Account' })).status, 400)
  const mine = await call(org, REP1, 'POST', '/jobs/query', { operation: 'query', query: 'SELECT Id FROM Account' })
  t.equal(mine.body.numberRecordsProcessed, org.records('Account').filter((a) => a.OwnerId === org.user(REP1).id).length,
    "a rep's job sees the rep's records")
  const other = await call(org, 'rep2@acme.local', 'GET', `/jobs/query/${String(mine.body.id)}`)
  t.equal(other.status, 404)
})
