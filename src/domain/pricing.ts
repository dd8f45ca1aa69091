/** Pricing rules a business keeps in the app's tables (see migration 002). */
export interface PricingRules {
  volumeTiers: Array<{ family: string, minQuantity: number, discountPercent: number }>
  /** Keyed by lower-cased billing country. */
  regionDiscounts: Record<string, number>
  maxTotalDiscountPercent: number
}

export interface PricedLineInput {
  family: string | null
  quantity: number
  unitPrice: number
}

export interface PricedLine {
  discountPercent: number
  listTotal: number
  lineTotal: number
}

const cents = (amount: number): number => Math.round(amount * 100) / 100

/** The best volume tier that the line's quantity reaches, for its family or for any ('*'). */
export function volumeDiscount (rules: PricingRules, family: string | null, quantity: number): number {
  return rules.volumeTiers
    .filter((t) => (t.family === '*' || t.family === family) && quantity >= t.minQuantity)
    .reduce((best, t) => Math.max(best, t.discountPercent), 0)
}

export function regionDiscount (rules: PricingRules, billingCountry: string | null): number {
  if (billingCountry === null) return 0
  const key = billingCountry.trim().toLowerCase()
  // Free text from the org: "constructor" must not find Object.prototype's.
  return Object.hasOwn(rules.regionDiscounts, key) ? rules.regionDiscounts[key] ?? 0 : 0
}

/**
 * Prices a line: volume tier plus region discount, capped at the ceiling; an override replaces
 * both (the caller checks it against the ceiling first).
 */
export function priceLine (
  rules: PricingRules,
  line: PricedLineInput,
  billingCountry: string | null,
  overridePercent?: number
): PricedLine {
  const rulePercent = volumeDiscount(rules, line.family, line.quantity) + regionDiscount(rules, billingCountry)
  const discountPercent = Math.min(overridePercent ?? rulePercent, rules.maxTotalDiscountPercent)
  return discountedLine(line.quantity, line.unitPrice, discountPercent)
}

/** A line's totals at a discount already decided (as priced, or as read back from a quote line). */
export function discountedLine (quantity: number, unitPrice: number, discountPercent: number): PricedLine {
  const listTotal = cents(quantity * unitPrice)
  return { discountPercent, listTotal, lineTotal: cents(listTotal * (1 - discountPercent / 100)) }
}

export interface QuoteTotals { subtotal: number, discount: number, grandTotal: number }

export function totals (lines: PricedLine[]): QuoteTotals {
  const subtotal = cents(lines.reduce((sum, l) => sum + l.listTotal, 0))
  const grandTotal = cents(lines.reduce((sum, l) => sum + l.lineTotal, 0))
  return { subtotal, discount: cents(subtotal - grandTotal), grandTotal }
}
