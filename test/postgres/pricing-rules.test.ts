import t from 'tap'
import { loadPricingRules } from '../../src/postgres/pricing-rules.ts'
import { migrate } from '../../src/postgres/migrate.ts'
import { orgScope } from '../../src/postgres/org-scope.ts'
import { testDatabase } from '../helper.ts'

t.test('pricing rules are reused for their max age, then read again', async (t) => {
  // A database of its own: the rules are changed here, and other test files price quotes.
  const { pool } = await testDatabase(t, 'pricing')
  await migrate(pool)
  const org = orgScope(pool, '00D000000000001AAA')
  await pool.query('INSERT INTO pricing_settings (org_id, max_total_discount_percent) VALUES ($1, 20)', [org.orgId])
  t.equal((await loadPricingRules(org, 60_000)).maxTotalDiscountPercent, 20, 'the stored ceiling')
  await pool.query('UPDATE pricing_settings SET max_total_discount_percent = 25')
  t.equal((await loadPricingRules(org, 60_000)).maxTotalDiscountPercent, 20, 'within the max age: the rules read before')
  t.equal((await loadPricingRules(org, 0)).maxTotalDiscountPercent, 25, 'past it: the change')
  t.equal((await loadPricingRules(org, 60_000)).maxTotalDiscountPercent, 25, 'and the change is what is reused')
})
