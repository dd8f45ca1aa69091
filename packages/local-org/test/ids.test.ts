// Every generated id: 18 characters, the object's key prefix, a valid checksum.
import t from 'tap'
import { idChecksum, isValidId, normalizeId, to18 } from '../src/index.ts'
import { orgFor } from './helper.ts'

t.test('checksum algorithm against real ids', async t => {
  for (const id of ['001B000001LntWlIAJ', '0017Q00000EZlbyQAD', '003R000000DDMlTIAX', '006R0000003FPYxIAO', 'a00B000000FSjVUIA1', '068R0000002Hu1FIAS']) {
    t.equal(idChecksum(id.slice(0, 15)), id.slice(15), id)
    t.ok(isValidId(id))
    t.equal(to18(id.slice(0, 15)), id)
  }
  t.notOk(isValidId('a00B000000FSjVUIB1'), 'wrong suffix')
  t.notOk(isValidId('001B000001LntW'), 'too short')
  t.notOk(isValidId('001B000001LntWl-AJ'), 'bad character')
  t.equal(normalizeId('001b000001lntwliaj'), undefined, 'case matters in the first 15 characters')
  t.equal(normalizeId('001B000001LntWliaj'), '001B000001LntWlIAJ', 'suffix is case-insensitive')
})

t.test('every generated id is valid', async t => {
  const org = await orgFor(t)
  let n = 0
  let bad = 0
  const seen = new Set<string>()
  for (const o of org.core.schema.all()) {
    for (const r of org.core.store.all(o.name)) {
      const id = r.f.Id as string
      n++
      if (id.length !== 18 || !isValidId(id) || !id.startsWith(o.keyPrefix) || seen.has(id)) bad++
      seen.add(id)
      for (const f of o.fields) {
        const v = r.f[f.name]
        if (f.type === 'reference' && v !== null && !(typeof v === 'string' && isValidId(v) && v.length === 18)) bad++
      }
    }
  }
  t.ok(n > 2500, `${n} records checked`)
  t.equal(bad, 0, 'no invalid, duplicate or wrongly prefixed id')
  t.ok(isValidId(org.orgId) && org.orgId.startsWith('00D'), 'org id')
  for (const u of org.users) t.ok(isValidId(u.id) && u.id.startsWith('005'), u.username)
  const created = org.insertRecord('Account', { Name: 'New' })
  t.ok(isValidId(created.Id) && String(created.Id).startsWith('001'))
})

t.test('the seed is deterministic', async t => {
  const a = await orgFor(t, { seed: 7 })
  const b = await orgFor(t, { seed: 7 })
  const c = await orgFor(t, { seed: 8 })
  const names = (o: typeof a): string => o.records('Opportunity').map(r => `${String(r.Id)}|${String(r.Name)}|${String(r.Amount)}|${String(r.StageName)}`).join('\n')
  t.equal(names(a), names(b), 'same seed, same data')
  t.not(names(a), names(c), 'another seed, other data')
  t.same(a.counts(), b.counts())
})
