// A table of SOQL queries with expected results (computed from the org's records directly) and
// the errors Salesforce gives for bad queries.
import t from 'tap'
import type { LocalOrg } from '../src/index.ts'
import { fmtDate } from '../src/dates.ts'
import { ADMIN, REP1, call, orgFor, soql } from './helper.ts'

type R = Record<string, any>
interface Row {
  q: string | ((o: LocalOrg) => string)
  user?: string
  /** Expected Ids (order matters when `ordered`). */
  ids?: (o: LocalOrg) => string[]
  ordered?: boolean
  /** Expected totalSize. */
  total?: (o: LocalOrg) => number
  /** Any other check on the response body. */
  check?: (body: any, o: LocalOrg) => [unknown, unknown]
  error?: string
  message?: RegExp
}

const DAY = 86_400_000
const recs = (o: LocalOrg, type: string): R[] => o.records(type)
const idsOf = (rs: R[]): string[] => rs.map(r => String(r.Id))
const ci = (a: unknown, b: string): boolean => String(a ?? '').toLowerCase() === b.toLowerCase()
const byName = (a: R, b: R): number =>
  String(a.Name).toLowerCase() < String(b.Name).toLowerCase()
    ? -1
    : String(a.Name).toLowerCase() > String(b.Name).toLowerCase() ? 1 : 0
const today = fmtDate(Date.now())
const daysAgo = (n: number): string => fmtDate(Date.now() - n * DAY)
const acc = (o: LocalOrg): R => recs(o, 'Account')[5] as R
const opp = (o: LocalOrg): R => recs(o, 'Opportunity').find(x => x.HasOpportunityLineItem) as R
const user = (o: LocalOrg, u: string): string => o.user(u).id

const rows: Row[] = [
  // plain filters
  { q: 'SELECT Id FROM Account', ids: o => idsOf(recs(o, 'Account')) },
  { q: 'select id from account', ids: o => idsOf(recs(o, 'Account')) },
  { q: o => `SELECT Id FROM Account WHERE Id = '${String(acc(o).Id)}'`, ids: o => [String(acc(o).Id)] },
  { q: o => `SELECT Id FROM Account WHERE Id = '${String(acc(o).Id).slice(0, 15)}'`, ids: o => [String(acc(o).Id)] },
  { q: o => `SELECT Id FROM Account WHERE Name = '${String(acc(o).Name).toUpperCase()}'`, ids: o => idsOf(recs(o, 'Account').filter(a => ci(a.Name, String(acc(o).Name)))) },
  { q: "SELECT Id FROM Account WHERE Industry = 'Retail'", ids: o => idsOf(recs(o, 'Account').filter(a => a.Industry === 'Retail')) },
  { q: "SELECT Id FROM Account WHERE Industry != 'Retail'", ids: o => idsOf(recs(o, 'Account').filter(a => a.Industry !== 'Retail')) },
  { q: "SELECT Id FROM Account WHERE Industry <> 'Retail'", ids: o => idsOf(recs(o, 'Account').filter(a => a.Industry !== 'Retail')) },
  { q: 'SELECT Id FROM Account WHERE AnnualRevenue > 25000000', ids: o => idsOf(recs(o, 'Account').filter(a => a.AnnualRevenue > 25000000)) },
  { q: 'SELECT Id FROM Account WHERE AnnualRevenue >= 25000000', ids: o => idsOf(recs(o, 'Account').filter(a => a.AnnualRevenue >= 25000000)) },
  { q: 'SELECT Id FROM Account WHERE NumberOfEmployees < 1000', ids: o => idsOf(recs(o, 'Account').filter(a => a.NumberOfEmployees < 1000)) },
  { q: 'SELECT Id FROM Account WHERE NumberOfEmployees <= 1000', ids: o => idsOf(recs(o, 'Account').filter(a => a.NumberOfEmployees <= 1000)) },
  { q: "SELECT Id FROM Account WHERE Name LIKE 'acme%'", ids: o => idsOf(recs(o, 'Account').filter(a => String(a.Name).toLowerCase().startsWith('acme'))) },
  { q: "SELECT Id FROM Account WHERE Name LIKE '%Robotics%'", ids: o => idsOf(recs(o, 'Account').filter(a => String(a.Name).includes('Robotics'))) },
  { q: "SELECT Id FROM Account WHERE Name LIKE '_cme%'", ids: o => idsOf(recs(o, 'Account').filter(a => /^.cme/i.test(String(a.Name)))) },
  { q: "SELECT Id FROM Account WHERE Industry IN ('Retail', 'Finance')", ids: o => idsOf(recs(o, 'Account').filter(a => ['Retail', 'Finance'].includes(a.Industry))) },
  { q: "SELECT Id FROM Account WHERE Industry NOT IN ('Retail', 'Finance')", ids: o => idsOf(recs(o, 'Account').filter(a => !['Retail', 'Finance'].includes(a.Industry))) },
  { q: 'SELECT Id FROM Account WHERE Health_Score__c = null', ids: o => idsOf(recs(o, 'Account').filter(a => a.Health_Score__c === null)) },
  { q: 'SELECT Id FROM Account WHERE Health_Score__c != null', ids: o => idsOf(recs(o, 'Account').filter(a => a.Health_Score__c !== null)) },
  { q: "SELECT Id FROM Account WHERE Regions__c INCLUDES ('EMEA')", ids: o => idsOf(recs(o, 'Account').filter(a => String(a.Regions__c ?? '').split(';').includes('EMEA'))) },
  { q: "SELECT Id FROM Account WHERE Regions__c INCLUDES ('EMEA;APAC', 'LATAM')", ids: o => idsOf(recs(o, 'Account').filter(a => { const s = String(a.Regions__c ?? '').split(';'); return (s.includes('EMEA') && s.includes('APAC')) || s.includes('LATAM') })) },
  { q: "SELECT Id FROM Account WHERE Regions__c EXCLUDES ('AMER')", ids: o => idsOf(recs(o, 'Account').filter(a => !String(a.Regions__c ?? '').split(';').includes('AMER'))) },
  { q: 'SELECT Id FROM Opportunity WHERE IsWon = true', ids: o => idsOf(recs(o, 'Opportunity').filter(x => x.IsWon === true)) },
  { q: 'SELECT Id FROM Opportunity WHERE IsClosed = false AND Amount > 50000', ids: o => idsOf(recs(o, 'Opportunity').filter(x => !x.IsClosed && x.Amount > 50000)) },
  { q: "SELECT Id FROM Opportunity WHERE StageName = 'Closed Won' OR StageName = 'Closed Lost'", ids: o => idsOf(recs(o, 'Opportunity').filter(x => x.IsClosed)) },
  { q: "SELECT Id FROM Opportunity WHERE (StageName = 'Proposal' OR StageName = 'Negotiation') AND Amount > 10000", ids: o => idsOf(recs(o, 'Opportunity').filter(x => ['Proposal', 'Negotiation'].includes(x.StageName) && x.Amount > 10000)) },
  { q: "SELECT Id FROM Opportunity WHERE StageName = 'Proposal' OR (StageName = 'Negotiation' AND Amount > 10000)", ids: o => idsOf(recs(o, 'Opportunity').filter(x => x.StageName === 'Proposal' || (x.StageName === 'Negotiation' && x.Amount > 10000))) },
  { q: "SELECT Id FROM Opportunity WHERE NOT StageName = 'Prospecting'", ids: o => idsOf(recs(o, 'Opportunity').filter(x => x.StageName !== 'Prospecting')) },
  { q: "SELECT Id FROM Opportunity WHERE NOT (StageName = 'Prospecting' OR IsClosed = true)", ids: o => idsOf(recs(o, 'Opportunity').filter(x => !(x.StageName === 'Prospecting' || x.IsClosed))) },
  // dates and date literals
  { q: `SELECT Id FROM Opportunity WHERE CloseDate > ${today}`, ids: o => idsOf(recs(o, 'Opportunity').filter(x => x.CloseDate > today)) },
  { q: `SELECT Id FROM Opportunity WHERE CloseDate <= ${daysAgo(30)}`, ids: o => idsOf(recs(o, 'Opportunity').filter(x => x.CloseDate <= daysAgo(30))) },
  { q: 'SELECT Id FROM Opportunity WHERE CloseDate = LAST_N_DAYS:30', ids: o => idsOf(recs(o, 'Opportunity').filter(x => x.CloseDate >= daysAgo(30) && x.CloseDate <= today)) },
  { q: 'SELECT Id FROM Opportunity WHERE CloseDate = NEXT_N_DAYS:60', ids: o => idsOf(recs(o, 'Opportunity').filter(x => x.CloseDate > today && x.CloseDate <= fmtDate(Date.now() + 60 * DAY))) },
  { q: 'SELECT Id FROM Opportunity WHERE CloseDate < TODAY', ids: o => idsOf(recs(o, 'Opportunity').filter(x => x.CloseDate < today)) },
  { q: 'SELECT Id FROM Opportunity WHERE CloseDate > TODAY', ids: o => idsOf(recs(o, 'Opportunity').filter(x => x.CloseDate > today)) },
  { q: 'SELECT Id FROM Opportunity WHERE CloseDate = THIS_MONTH', ids: o => idsOf(recs(o, 'Opportunity').filter(x => String(x.CloseDate).slice(0, 7) === today.slice(0, 7))) },
  { q: 'SELECT Id FROM Opportunity WHERE CloseDate = THIS_YEAR', ids: o => idsOf(recs(o, 'Opportunity').filter(x => String(x.CloseDate).slice(0, 4) === today.slice(0, 4))) },
  { q: 'SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS:90', ids: o => idsOf(recs(o, 'Account').filter(a => String(a.CreatedDate).slice(0, 10) >= daysAgo(90))) },
  { q: `SELECT Id FROM Account WHERE CreatedDate < ${daysAgo(365)}T00:00:00Z`, ids: o => idsOf(recs(o, 'Account').filter(a => String(a.CreatedDate).slice(0, 10) < daysAgo(365))) },
  { q: `SELECT Id FROM Account WHERE CreatedDate >= ${daysAgo(365)}T00:00:00.000+0000`, ids: o => idsOf(recs(o, 'Account').filter(a => String(a.CreatedDate).slice(0, 10) >= daysAgo(365))) },
  // relationships
  { q: o => `SELECT Id FROM Opportunity WHERE AccountId = '${String(acc(o).Id)}'`, ids: o => idsOf(recs(o, 'Opportunity').filter(x => x.AccountId === acc(o).Id)) },
  { q: "SELECT Id FROM Opportunity WHERE Account.Industry = 'Healthcare'", ids: o => idsOf(recs(o, 'Opportunity').filter(x => o.getRecord(String(x.AccountId))?.Industry === 'Healthcare')) },
  { q: "SELECT Id FROM Opportunity WHERE Owner.Username = 'rep2@acme.local'", ids: o => idsOf(recs(o, 'Opportunity').filter(x => x.OwnerId === user(o, 'rep2@acme.local'))) },
  { q: "SELECT Id FROM OpportunityLineItem WHERE Opportunity.Account.Owner.Name = 'Taylor Tran'", ids: o => idsOf(recs(o, 'OpportunityLineItem').filter(l => o.getRecord(String(o.getRecord(String(l.OpportunityId))?.AccountId))?.OwnerId === user(o, 'rep3@acme.local'))) },
  { q: o => `SELECT Id, Name, Account.Name, Account.Owner.Name FROM Opportunity WHERE Id = '${String(opp(o).Id)}'`, check: (b, o) => [[b.records[0].Account.Name, b.records[0].Account.Owner.Name, b.records[0].Account.attributes.type, b.records[0].Account.Owner.attributes.type], [o.getRecord(String(opp(o).AccountId))?.Name, o.users.find(u => u.id === o.getRecord(String(opp(o).AccountId))?.OwnerId)?.name, 'Account', 'User']] },
  { q: o => `SELECT Id, Account.Name FROM Contact WHERE Id = '${String(recs(o, 'Contact')[0]?.Id)}'`, check: (b) => [Object.keys(b.records[0]), ['attributes', 'Id', 'Account']] },
  { q: o => `SELECT Name, (SELECT Quantity, Product2.Name FROM OpportunityLineItems ORDER BY Quantity DESC) FROM Opportunity WHERE Id = '${String(opp(o).Id)}'`, check: (b, o) => [b.records[0].OpportunityLineItems.records.map((l: R) => l.Quantity), recs(o, 'OpportunityLineItem').filter(l => l.OpportunityId === opp(o).Id).map(l => l.Quantity).sort((x, y) => y - x)] },
  { q: o => `SELECT Name, (SELECT Id FROM Opportunities WHERE IsClosed = true LIMIT 1), (SELECT Id FROM Cases) FROM Account WHERE Id = '${String(acc(o).Id)}'`, check: (b, o) => [[b.records[0].Opportunities?.records.length ?? 0, b.records[0].Cases?.totalSize ?? 0], [Math.min(1, recs(o, 'Opportunity').filter(x => x.AccountId === acc(o).Id && x.IsClosed).length), recs(o, 'Case').filter(c => c.AccountId === acc(o).Id).length]] },
  { q: "SELECT Id, (SELECT Id FROM Opportunities) FROM Account WHERE Name = 'Nobody Here'", total: () => 0 },
  { q: o => `SELECT Id, (SELECT Id FROM OpportunityLineItems) FROM Opportunity WHERE Id = '${String(recs(o, 'Opportunity').find(x => !x.HasOpportunityLineItem)?.Id)}'`, check: (b) => [b.records[0].OpportunityLineItems, null] },
  { q: 'SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Opportunity WHERE IsWon = true)', ids: o => idsOf(recs(o, 'Account').filter(a => recs(o, 'Opportunity').some(x => x.AccountId === a.Id && x.IsWon))) },
  { q: 'SELECT Id FROM Account WHERE Id NOT IN (SELECT AccountId FROM Opportunity)', ids: o => idsOf(recs(o, 'Account').filter(a => !recs(o, 'Opportunity').some(x => x.AccountId === a.Id))) },
  { q: "SELECT Id FROM Opportunity WHERE Id IN (SELECT OpportunityId FROM OpportunityLineItem WHERE Product2.Family = 'Services')", ids: o => idsOf(recs(o, 'Opportunity').filter(x => recs(o, 'OpportunityLineItem').some(l => l.OpportunityId === x.Id && o.getRecord(String(l.Product2Id))?.Family === 'Services'))) },
  { q: 'SELECT Id, Product2.Name, Product2.Family FROM PricebookEntry WHERE Pricebook2.IsStandard = true AND IsActive = true', total: o => recs(o, 'PricebookEntry').filter(p => p.IsActive).length },
  { q: "SELECT Id FROM Product2 WHERE External_Id__c = 'hw-0001'", check: (b, o) => [[b.totalSize, b.records.map((r: R) => r.Id)], [1, idsOf(recs(o, 'Product2').filter(p => p.ProductCode === 'HW-0001'))]] },
  // ordering, limit, offset
  { q: 'SELECT Id, Name FROM Account ORDER BY Name LIMIT 20', ordered: true, ids: o => idsOf([...recs(o, 'Account')].sort(byName).slice(0, 20)) },
  { q: 'SELECT Id, Name FROM Account ORDER BY Name DESC LIMIT 20 OFFSET 10', ordered: true, ids: o => idsOf([...recs(o, 'Account')].sort((a, b) => byName(b, a)).slice(10, 30)) },
  { q: 'SELECT Id FROM Account ORDER BY Health_Score__c ASC NULLS LAST, Name LIMIT 300', ordered: true, ids: o => idsOf([...recs(o, 'Account')].sort((a, b) => (a.Health_Score__c === null ? 1 : 0) - (b.Health_Score__c === null ? 1 : 0) || (a.Health_Score__c ?? 0) - (b.Health_Score__c ?? 0) || byName(a, b))) },
  { q: 'SELECT Id FROM Account ORDER BY Health_Score__c DESC NULLS FIRST, Name LIMIT 50', ordered: true, ids: o => idsOf([...recs(o, 'Account')].sort((a, b) => (a.Health_Score__c === null ? 0 : 1) - (b.Health_Score__c === null ? 0 : 1) || (b.Health_Score__c ?? 0) - (a.Health_Score__c ?? 0) || byName(a, b)).slice(0, 50)) },
  { q: 'SELECT Id FROM Opportunity ORDER BY Account.Name, Amount DESC NULLS LAST, Id LIMIT 40', ordered: true, ids: o => idsOf([...recs(o, 'Opportunity')].sort((a, b) => byName(o.getRecord(String(a.AccountId)) as R, o.getRecord(String(b.AccountId)) as R) || (a.Amount === null ? 1 : 0) - (b.Amount === null ? 1 : 0) || (b.Amount ?? 0) - (a.Amount ?? 0) || (a.Id < b.Id ? -1 : 1)).slice(0, 40)) },
  // The record's own Id: lists already in Id order skip the sort (issue 16); a parent's Id does not.
  { q: 'SELECT Id FROM Opportunity ORDER BY Id LIMIT 30 OFFSET 5', ordered: true, ids: o => idsOf([...recs(o, 'Opportunity')].sort((a, b) => (a.Id < b.Id ? -1 : 1)).slice(5, 35)) },
  { q: 'SELECT Id FROM Opportunity ORDER BY Id DESC LIMIT 30', ordered: true, ids: o => idsOf([...recs(o, 'Opportunity')].sort((a, b) => (a.Id < b.Id ? 1 : -1)).slice(0, 30)) },
  { q: 'SELECT Id FROM Opportunity ORDER BY AccountId, Id LIMIT 30', ordered: true, ids: o => idsOf([...recs(o, 'Opportunity')].sort((a, b) => (a.AccountId < b.AccountId ? -1 : a.AccountId > b.AccountId ? 1 : a.Id < b.Id ? -1 : 1)).slice(0, 30)) },
  { q: 'SELECT Id FROM Opportunity ORDER BY Account.Id LIMIT 30', ordered: true, check: (b, o) => [b.records.map((r: R) => o.getRecord(String(r.Id))?.AccountId), [...recs(o, 'Opportunity')].map(x => x.AccountId).sort().slice(0, 30)] },
  { q: o => `SELECT Id, (SELECT Id FROM OpportunityLineItems ORDER BY Id DESC) FROM Opportunity WHERE Id = '${String(opp(o).Id)}'`, check: (b, o) => [b.records[0].OpportunityLineItems.records.map((l: R) => l.Id), idsOf(recs(o, 'OpportunityLineItem').filter(l => l.OpportunityId === opp(o).Id)).sort().reverse()] },
  { q: 'SELECT Id FROM Opportunity ORDER BY CloseDate DESC, Id LIMIT 15', ordered: true, ids: o => idsOf([...recs(o, 'Opportunity')].sort((a, b) => (a.CloseDate < b.CloseDate ? 1 : a.CloseDate > b.CloseDate ? -1 : a.Id < b.Id ? -1 : 1)).slice(0, 15)) },
  { q: 'SELECT Id FROM Account LIMIT 0', total: () => 0 },
  { q: 'SELECT Id FROM Account OFFSET 2000', total: () => 0 },
  // aggregates
  { q: 'SELECT COUNT() FROM Account', total: o => recs(o, 'Account').length },
  { q: "SELECT COUNT() FROM Case WHERE IsClosed = false AND Priority = 'High'", total: o => recs(o, 'Case').filter(c => !c.IsClosed && c.Priority === 'High').length },
  { q: 'SELECT COUNT(Id) FROM Opportunity', check: (b, o) => [b.records[0].expr0, recs(o, 'Opportunity').length] },
  { q: 'SELECT COUNT(Amount) n FROM Opportunity', check: (b, o) => [b.records[0].n, recs(o, 'Opportunity').filter(x => x.Amount !== null).length] },
  { q: 'SELECT SUM(Amount), AVG(Amount), MIN(Amount), MAX(Amount) FROM Opportunity WHERE IsWon = true', check: (b, o) => { const a = recs(o, 'Opportunity').filter(x => x.IsWon && x.Amount !== null).map(x => x.Amount as number); const r = b.records[0]; return [[Math.round(r.expr0), Math.round(r.expr1), r.expr2, r.expr3], [Math.round(a.reduce((s, x) => s + x, 0)), Math.round(a.reduce((s, x) => s + x, 0) / a.length), Math.min(...a), Math.max(...a)]] } },
  { q: 'SELECT StageName, COUNT(Id) c FROM Opportunity GROUP BY StageName ORDER BY StageName', check: (b, o) => { const m = new Map<string, number>(); for (const x of recs(o, 'Opportunity')) m.set(x.StageName, (m.get(x.StageName) ?? 0) + 1); return [b.records.map((r: R) => [r.StageName, r.c]), [...m.entries()].sort((x, y) => (x[0].toLowerCase() < y[0].toLowerCase() ? -1 : 1))] } },
  { q: 'SELECT Industry, SUM(AnnualRevenue) total FROM Account GROUP BY Industry HAVING COUNT(Id) > 60', check: (b, o) => { const m = new Map<string, number>(); for (const a of recs(o, 'Account')) m.set(a.Industry, (m.get(a.Industry) ?? 0) + 1); return [b.records.map((r: R) => r.Industry).sort(), [...m.entries()].filter(([, n]) => n > 60).map(([k]) => k).sort()] } },
  { q: 'SELECT Account.Industry, COUNT(Id) FROM Opportunity GROUP BY Account.Industry ORDER BY COUNT(Id) DESC LIMIT 1', check: (b, o) => { const m = new Map<string, number>(); for (const x of recs(o, 'Opportunity')) { const ind = String(o.getRecord(String(x.AccountId))?.Industry); m.set(ind, (m.get(ind) ?? 0) + 1) } return [b.records[0].expr0, Math.max(...m.values())] } },
  { q: 'SELECT COUNT_DISTINCT(AccountId) FROM Opportunity', check: (b, o) => [b.records[0].expr0, new Set(recs(o, 'Opportunity').map(x => x.AccountId)).size] },
  { q: 'SELECT OwnerId, COUNT(Id) FROM Account GROUP BY OwnerId', check: (b, o) => [b.totalSize, new Set(recs(o, 'Account').map(a => a.OwnerId)).size] },
  { q: "SELECT MAX(CloseDate) FROM Opportunity WHERE StageName = 'Closed Won'", check: (b, o) => [b.records[0].expr0, recs(o, 'Opportunity').filter(x => x.StageName === 'Closed Won').map(x => String(x.CloseDate)).sort().pop()] },
  // sharing and scope
  { q: 'SELECT COUNT() FROM Opportunity', user: REP1, total: o => recs(o, 'Opportunity').filter(x => x.OwnerId === user(o, REP1)).length },
  { q: 'SELECT Id FROM Account USING SCOPE mine', user: REP1, ids: o => idsOf(recs(o, 'Account').filter(a => a.OwnerId === user(o, REP1))) },
  { q: 'SELECT Id FROM Account USING SCOPE mine', ids: o => idsOf(recs(o, 'Account').filter(a => a.OwnerId === user(o, ADMIN))) },
  { q: 'SELECT Id, FIELDS(STANDARD) FROM Product2 LIMIT 1', check: (b) => [['Name', 'ProductCode', 'Family'].every(k => k in b.records[0]), true] },
  // errors
  { q: 'SELEKT Name FROM Account', error: 'MALFORMED_QUERY', message: /^unexpected token: SELEKT$/ },
  { q: 'SELECT Name FROM Account WHERE', error: 'MALFORMED_QUERY' },
  { q: 'SELECT Name FROM', error: 'MALFORMED_QUERY' },
  { q: 'SELECT Bacon__c FROM Account LIMIT 2', error: 'INVALID_FIELD', message: /^\nSELECT Bacon__c FROM Account LIMIT 2\n {7}\^\nERROR at Row:1:Column:8\nNo such column 'Bacon__c' on entity 'Account'\./ },
  { q: "SELECT Id FROM Account WHERE Nope = 'x'", error: 'INVALID_FIELD', message: /No such column 'Nope' on entity 'Account'/ },
  { q: 'SELECT Id FROM Account ORDER BY Nope', error: 'INVALID_FIELD' },
  { q: 'SELECT Account.Nope FROM Opportunity', error: 'INVALID_FIELD', message: /No such column 'Nope' on entity 'Account'/ },
  { q: 'SELECT Acount.Name FROM Opportunity', error: 'INVALID_FIELD', message: /Didn't understand relationship 'Acount' in field path/ },
  { q: 'SELECT Id FROM Acount', error: 'INVALID_TYPE', message: /sObject type 'Acount' is not supported/ },
  { q: 'SELECT Id, (SELECT Id FROM Nopes) FROM Account', error: 'INVALID_TYPE', message: /Didn't understand relationship 'Nopes' in FROM part of query call/ },
  { q: 'SELECT Id FROM Account OFFSET 2001', error: 'NUMBER_OUTSIDE_VALID_RANGE' },
  { q: "SELECT Id FROM Account WHERE AnnualRevenue = 'big'", error: 'INVALID_QUERY_FILTER_OPERATOR', message: /must be of type double and should not be enclosed in quotes/ },
  { q: "SELECT Id FROM Account WHERE Id = 'notanid'", error: 'INVALID_QUERY_FILTER_OPERATOR', message: /invalid ID field: notanid/ },
  { q: 'SELECT Name, COUNT(Id) FROM Account', error: 'MALFORMED_QUERY' },
  { q: 'SELECT SUM(Name) FROM Account', error: 'MALFORMED_QUERY' }
]

t.test('SOQL table', async t => {
  const org = await orgFor(t)
  t.ok(rows.length >= 60, `${rows.length} queries`)
  for (const row of rows) {
    const q = typeof row.q === 'function' ? row.q(org) : row.q
    const res = await soql(org, row.user ?? ADMIN, q)
    if (row.error) {
      t.equal(res.status, 400, `${q} → 400`)
      t.equal(res.body?.[0]?.errorCode, row.error, `${q} → ${row.error}`)
      if (row.message) t.match(res.body?.[0]?.message, row.message, `${q} message`)
      continue
    }
    if (res.status !== 200) { t.fail(`${q}: ${res.status} ${JSON.stringify(res.body)}`); continue }
    if (row.ids) {
      const got = res.body.records.map((r: R) => r.Id)
      const want = row.ids(org)
      if (row.ordered) t.same(got, want, q)
      else t.same([...got].sort(), [...want].sort(), `${q} (${want.length})`)
      t.equal(res.body.totalSize, want.length, `${q} totalSize`)
    }
    if (row.total) t.equal(res.body.totalSize, row.total(org), `${q} totalSize`)
    if (row.check) { const [a, b] = row.check(res.body, org); t.same(a, b, q) }
  }
})

t.test('the SOQL log records every query with its user', async t => {
  const org = await orgFor(t)
  org.clearSoqlLog()
  await soql(org, REP1, 'SELECT Id FROM Account LIMIT 1')
  await soql(org, ADMIN, 'SELEKT nope')
  t.same(org.soqlLog.map(e => [e.soql, e.username]), [['SELECT Id FROM Account LIMIT 1', REP1], ['SELEKT nope', ADMIN]])
})

t.test('a query answer is the JSON a serializer writes, whatever the field values hold', async t => {
  const org = await orgFor(t)
  const tricky = 'Say "hi" \\ back\tslash\nnew line \u0001 é 😀 \ud800 end'
  const account = org.insertRecord('Account', { Name: tricky, AnnualRevenue: 1234.5, NumberOfEmployees: 0, Description: null })
  org.insertRecord('Contact', { LastName: tricky, AccountId: account.Id })
  const q = 'SELECT Id, Name, AnnualRevenue, NumberOfEmployees, Description, ' +
    '(SELECT Id, LastName, Account.Name FROM Contacts) ' +
    `FROM Account WHERE Id = '${String(account.Id)}'`
  const res = await fetch(`${org.url}/services/data/v${org.apiVersion}/query?q=${encodeURIComponent(q)}`, {
    headers: { Authorization: `Bearer ${org.user(ADMIN).accessToken}` }
  })
  const text = await res.text()
  const body = JSON.parse(text)
  t.equal(text, JSON.stringify(body), 'the text is canonical JSON, escapes as JSON.stringify writes them')
  const record = body.records[0]
  t.equal(record.Name, tricky, 'quotes, backslashes, controls, emoji and a lone surrogate read back as stored')
  t.same([record.AnnualRevenue, record.NumberOfEmployees, record.Description], [1235, 0, null], 'numbers and null')
  const contact = record.Contacts.records[0]
  t.same([contact.LastName, contact.Account.Name], [tricky, tricky], 'child and its parent too')
  t.equal(res.headers.get('content-length'), String(Buffer.byteLength(text)), 'Content-Length counts bytes')
})

t.test('record urls carry the API version the query was sent to, at every level', async t => {
  const org = await orgFor(t)
  const q = 'SELECT Id, Account.Name, (SELECT Id FROM OpportunityLineItems) FROM Opportunity ' +
    'WHERE HasOpportunityLineItem = true LIMIT 1'
  const res = await call(org, ADMIN, 'GET', `/services/data/v55.0/query?q=${encodeURIComponent(q)}`)
  const record = res.body.records[0]
  const urls = [record, record.Account, record.OpportunityLineItems.records[0]].map((r: R) => r.attributes.url)
  t.equal(urls.length, 3)
  for (const url of urls) t.match(url, /^\/services\/data\/v55\.0\/sobjects\/(Opportunity|Account|OpportunityLineItem)\/\w{18}$/)
})

t.test('a relationship asked for twice appears once in a record, as the last subquery answers it', async t => {
  const org = await orgFor(t)
  const account = org.records('Account').find(a => org.records('Contact').some(c => c.AccountId === a.Id)) as R
  const q = 'SELECT Id, (SELECT Id FROM Contacts), (SELECT LastName FROM contacts) ' +
    `FROM Account WHERE Id = '${String(account.Id)}'`
  const res = await fetch(`${org.url}/services/data/v${org.apiVersion}/query?q=${encodeURIComponent(q)}`, {
    headers: { Authorization: `Bearer ${org.user(ADMIN).accessToken}` }
  })
  const text = await res.text()
  t.equal(text.split('"Contacts":').length - 1, 1, 'one Contacts key')
  const contacts = JSON.parse(text).records[0].Contacts.records as R[]
  t.ok(contacts.length > 0)
  for (const c of contacts) t.same(Object.keys(c), ['attributes', 'LastName'])
})
