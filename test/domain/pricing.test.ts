import t from 'tap'
import { priceLine, regionDiscount, totals, volumeDiscount } from '../../src/domain/pricing.ts'

/** The rules migration 002 ships: what a new install prices with. */
const rules: Parameters<typeof priceLine>[0] = {
  volumeTiers: [
    { family: 'Hardware', minQuantity: 10, discountPercent: 5 },
    { family: 'Hardware', minQuantity: 50, discountPercent: 10 },
    { family: 'Hardware', minQuantity: 100, discountPercent: 15 },
    { family: 'Software', minQuantity: 25, discountPercent: 8 },
    { family: 'Software', minQuantity: 100, discountPercent: 12 },
    { family: 'Services', minQuantity: 40, discountPercent: 5 }
  ],
  regionDiscounts: { germany: 3, france: 3, india: 7, brazil: 6, japan: 2 },
  maxTotalDiscountPercent: 20
}

t.test('a volume tier starts at its minimum quantity, and the best tier reached wins', async (t) => {
  const hardware = [[1, 0], [9, 0], [10, 5], [49, 5], [50, 10], [99, 10], [100, 15], [5000, 15]]
  for (const [quantity, percent] of hardware) {
    t.equal(volumeDiscount(rules, 'Hardware', quantity!), percent, `Hardware × ${quantity}`)
  }
  t.equal(volumeDiscount(rules, 'Software', 24), 0)
  t.equal(volumeDiscount(rules, 'Software', 25), 8)
  t.equal(volumeDiscount(rules, 'Software', 100), 12)
})

t.test('tiers are per family; a product without one gets none; "*" applies to every family', async (t) => {
  t.equal(volumeDiscount(rules, 'Services', 60), 5, 'Services has its own, smaller tier')
  t.equal(volumeDiscount(rules, 'Training', 500), 0, 'no tier for the family')
  t.equal(volumeDiscount(rules, null, 500), 0, 'a product without a family')
  const anyFamily = { family: '*', minQuantity: 200, discountPercent: 6 }
  const withDefault = { ...rules, volumeTiers: [...rules.volumeTiers, anyFamily] }
  t.equal(volumeDiscount(withDefault, null, 200), 6)
  t.equal(volumeDiscount(withDefault, 'Training', 200), 6)
  t.equal(volumeDiscount(withDefault, 'Hardware', 200), 15, 'the family tier is better than the default one')
})

t.test('the region discount follows the billing country, whatever its case and spacing', async (t) => {
  t.equal(regionDiscount(rules, 'India'), 7)
  t.equal(regionDiscount(rules, '  GERMANY '), 3)
  t.equal(regionDiscount(rules, 'United States'), 0, 'a country without a discount')
  t.equal(regionDiscount(rules, null), 0, 'an account without a billing country')
  t.equal(regionDiscount(rules, ''), 0)
  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
    t.equal(regionDiscount(rules, name), 0, `"${name}" is free text from the org, not a rule`)
  }
})

t.test('volume and region discounts add up, to the ceiling and no further', async (t) => {
  const line = (quantity: number) => ({ family: 'Hardware', quantity, unitPrice: 100 })
  t.same(priceLine(rules, line(50), 'France'), { discountPercent: 13, listTotal: 5000, lineTotal: 4350 })
  const capped = { discountPercent: 20, listTotal: 10000, lineTotal: 8000 }
  t.same(priceLine(rules, line(100), 'Brazil'), capped, '15 + 6 capped')
  t.same(priceLine(rules, line(100), 'India'), capped, '15 + 7 capped')
  t.same(priceLine(rules, line(5), null), { discountPercent: 0, listTotal: 500, lineTotal: 500 }, 'no discount at all')
})

t.test('an override replaces the rules instead of adding to them, and still meets the ceiling', async (t) => {
  const line = { family: 'Hardware', quantity: 100, unitPrice: 10 }
  t.equal(priceLine(rules, line, 'India', 2).discountPercent, 2, 'not 2 + 15 + 7')
  t.equal(priceLine(rules, line, 'India', 0).discountPercent, 0, 'an override of 0 means no discount')
  t.equal(priceLine(rules, line, null, 35).discountPercent, 20)
  t.equal(priceLine(rules, line, null, 35).lineTotal, 800)
})

t.test('amounts are rounded to the cent', async (t) => {
  t.same(priceLine(rules, { family: null, quantity: 3, unitPrice: 0.1 }, null),
    { discountPercent: 0, listTotal: 0.3, lineTotal: 0.3 }, 'not 0.30000000000000004')
  t.same(priceLine(rules, { family: 'Hardware', quantity: 10, unitPrice: 33.333 }, 'Japan'),
    { discountPercent: 7, listTotal: 333.33, lineTotal: 310 }, '333.33 less 7 % is 309.9969')
  t.same(priceLine(rules, { family: 'Software', quantity: 25, unitPrice: 19.99 }, null),
    { discountPercent: 8, listTotal: 499.75, lineTotal: 459.77 })
})

t.test('the quote totals add up the lines, and the discount is what the customer saves', async (t) => {
  const lines = [
    priceLine(rules, { family: 'Hardware', quantity: 50, unitPrice: 100 }, 'Germany'),
    priceLine(rules, { family: 'Software', quantity: 25, unitPrice: 19.99 }, 'Germany'),
    priceLine(rules, { family: null, quantity: 3, unitPrice: 0.1 }, 'Germany')
  ]
  t.same(totals(lines), { subtotal: 5500.05, discount: 704.98, grandTotal: 4795.07 })
  t.same(totals([]), { subtotal: 0, discount: 0, grandTotal: 0 }, 'a quote without lines')
})
