// The API floor is each org's own: one org near its daily limit holds back only its own calls.
import t from 'tap'
import { ApiLimits } from '../../src/salesforce/api-limits.ts'

t.test('one org under the floor, another not; either id form is the same org', async (t) => {
  const limits = new ApiLimits(10)
  const ACME = '00D000000000001AAA'
  const GLOBEX = '00D000000000002AAA'
  limits.record(ACME, 95, 100)
  limits.record(GLOBEX, 10, 100)
  t.match(limits.underFloor(ACME), { used: 95, max: 100 }, 'acme is under its floor')
  t.match(limits.underFloor(ACME.slice(0, 15)), { used: 95 }, 'by its 15-character id too')
  t.equal(limits.underFloor(GLOBEX), undefined, 'globex is not held back by acme\'s usage')
  t.throws(() => { limits.check(ACME) }, /daily API calls/)
  t.doesNotThrow(() => { limits.check(GLOBEX) })
  limits.record(ACME.slice(0, 15), 20, 100)
  t.equal(limits.underFloor(ACME), undefined, 'a new reading in the other form replaces the old one')
})
