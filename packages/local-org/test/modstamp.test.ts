// SystemModstamp lower bounds (each poll of Heroku Connect) are answered from the store's hours of
// SystemModstamp: the same records as a scan, after inserts, updates, deletes and a rolled-back graph.
import t from 'tap'
import { parseDateTime } from '../src/dates.ts'
import { ADMIN, call, orgFor, soql } from './helper.ts'

const since = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')

t.test('SystemModstamp >= answers what a scan would, as records are written', async (t) => {
  const org = await orgFor(t, { seed: 7 })
  const ids = async (where: string): Promise<string[]> => {
    const res = await call(org, ADMIN, 'GET', `/queryAll?q=${encodeURIComponent(`SELECT Id FROM Account WHERE ${where}`)}`)
    t.equal(res.status, 200)
    return (res.body.records as Array<{ Id: string }>).map((r) => r.Id).sort()
  }
  /** A poll, answered from the hours of SystemModstamp. */
  const polled = async (from: number) => await ids(`SystemModstamp >= ${since(from)}`)
  /** The same filter under an OR: no index serves it, every account is tested (deleted ones too, as queryAll). */
  const scanned = async (from: number) => await ids(`(SystemModstamp >= ${since(from)} OR Name = 'no such account')`)
  const stamps = org.records('Account').map((r) => parseDateTime(String(r.SystemModstamp))).sort((a, b) => a - b)
  // Bounds across the seeded stamps, to the second as a SOQL literal has them.
  const bounds = [0, 0.25, 0.5, 0.9, 0.99]
    .map((q) => Math.floor((stamps[Math.floor(q * (stamps.length - 1))] as number) / 1000) * 1000)
  for (const from of bounds) t.same(await polled(from), await scanned(from), `seeded, from ${since(from)}`)

  const before = Math.floor(Date.now() / 1000) * 1000
  const accounts = org.records('Account')
  const updated = String(accounts[3]?.Id)
  const deleted = String(accounts[4]?.Id)
  t.equal((await call(org, ADMIN, 'PATCH', `/sobjects/Account/${updated}`, { Phone: '+1 555 0100' })).status, 204)
  t.equal((await call(org, ADMIN, 'DELETE', `/sobjects/Account/${deleted}`)).status, 204)
  const created = await call(org, ADMIN, 'POST', '/sobjects/Account', { Name: 'Stamped Anew' })
  t.equal(created.status, 201)
  // A graph that fails rolls its account back: it must not be found by a poll.
  const graph = await call(org, ADMIN, 'POST', '/composite', {
    allOrNone: true,
    compositeRequest: [
      { method: 'POST', url: `/services/data/v${org.apiVersion}/sobjects/Account`, referenceId: 'a', body: { Name: 'Rolled Back' } },
      { method: 'POST', url: `/services/data/v${org.apiVersion}/sobjects/Contact`, referenceId: 'c', body: { AccountId: '@{a.id}' } }
    ]
  })
  t.equal(graph.status, 200)
  const recent = await polled(before)
  t.same(recent, [updated, deleted, String(created.body.id)].sort(), 'the poll finds what was written since, nothing else')
  t.same(recent, await scanned(before))
  for (const from of bounds) t.same(await polled(from), await scanned(from), `after the writes, from ${since(from)}`)
  const rolledBack = await soql(org, ADMIN, "SELECT Id FROM Account WHERE Name = 'Rolled Back'")
  t.equal(rolledBack.body.totalSize, 0)
})
