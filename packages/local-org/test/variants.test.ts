// Other orgs beside the default one: a sandbox copy (same record ids, its own org, users, tokens and
// values) and another customer's org (its own ids, users and prices).
import t from 'tap'
import { call, orgFor } from './helper.ts'

const byId = (records: Array<Record<string, unknown>>) => new Map(records.map((r) => [String(r.Id), r]))

t.test('a sandbox copy keeps the record ids and changes the org, the users, the tokens and the values', async (t) => {
  const prod = await orgFor(t, { seed: 7 })
  const sandbox = await orgFor(t, { seed: 7, sandbox: 'uat' })
  t.not(sandbox.orgId, prod.orgId, 'its own org id')
  t.equal(sandbox.orgId.slice(0, 3), '00D')
  t.same(sandbox.users.map((u) => u.username), prod.users.map((u) => `${u.username}.uat`), 'users renamed as Salesforce does')
  t.same(sandbox.users.map((u) => u.id), prod.users.map((u) => u.id), 'user ids copied too')

  const prodAccounts = byId(prod.records('Account'))
  const sandboxAccounts = sandbox.records('Account')
  t.equal(sandboxAccounts.length, prodAccounts.size)
  for (const a of sandboxAccounts) {
    const original = prodAccounts.get(String(a.Id))
    if (original === undefined) { t.fail(`no account ${String(a.Id)} in production`); break }
    if (a.Name !== `${String(original.Name)} (uat)`) { t.fail(`${String(a.Id)}: ${String(a.Name)}`); break }
  }
  const prodPrices = byId(prod.records('PricebookEntry'))
  const changed = sandbox.records('PricebookEntry')
    .filter((e) => e.UnitPrice !== Math.round(Number(prodPrices.get(String(e.Id))?.UnitPrice) * 110) / 100)
  t.same(changed, [], 'every price 10 % up, same ids')

  const rep = sandbox.user('rep1@acme.local.uat')
  t.equal(rep.accessToken.slice(0, 15), sandbox.orgId.slice(0, 15), 'tokens name the sandbox org')
  t.equal((await call(sandbox, null, 'GET', '/limits', undefined,
    { Authorization: `Bearer ${prod.user('rep1@acme.local').accessToken}` })).status, 401, 'production\'s tokens do not work')
  const own = (await call(sandbox, 'rep1@acme.local.uat', 'GET', `/sobjects/Account/${String(sandboxAccounts[20]?.Id)}`))
  t.equal(own.status, sandboxAccounts[20]?.OwnerId === rep.id ? 200 : 404, 'sharing as in production')
  t.throws(() => sandbox.user('rep1@acme.local'), /no user/, 'production\'s usernames are not the sandbox\'s')
  t.equal(sandbox.contextFor('rep1@acme.local.uat').orgId, sandbox.orgId)
})

t.test('another customer: its own org id, record ids, users and prices', async (t) => {
  const acme = await orgFor(t, { seed: 7 })
  const globex = await orgFor(t, { seed: 11, userDomain: 'globex.local', pod: 'Gx' })
  t.not(globex.orgId, acme.orgId)
  t.same(globex.users.map((u) => u.username).sort(),
    ['admin', 'integration', 'readonly', 'rep1', 'rep2', 'rep3'].map((n) => `${n}@globex.local`))
  const acmeIds = new Set(acme.records('Product2').map((p) => p.Id))
  t.same(globex.records('Product2').filter((p) => acmeIds.has(p.Id)), [], 'no product id in common')
  t.ok(globex.records('Account').every((a) => String(a.Id).slice(3, 5) === 'Gx'), 'ids on its own pod')
  const price = (org: typeof acme, code: string) => org.records('PricebookEntry').find((e) => e.ProductCode === code)?.UnitPrice
  t.not(price(globex, 'HW-0001'), price(acme, 'HW-0001'), 'its own prices')
  t.equal(globex.contextFor('rep1@globex.local').orgId, globex.orgId)
})

t.test('an org id may be given; bad sandbox names and pods are refused', async (t) => {
  const org = await orgFor(t, { seed: 7, orgId: '00D000000000001AAA' })
  t.equal(org.orgId, '00D000000000001AAA')
  t.equal(org.contextFor('admin@acme.local').orgId, '00D000000000001AAA')
  await t.rejects(orgFor(t, { sandbox: 'has space' }), /sandbox name/)
  await t.rejects(orgFor(t, { pod: 'x' }), /pod/)
})
