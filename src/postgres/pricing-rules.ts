import type pg from 'pg'
import type { PricingRules } from '../domain/pricing.ts'

/** The app-owned pricing rules, in one round trip. */
export async function loadPricingRules (pool: pg.Pool): Promise<PricingRules> {
  const { rows } = await pool.query<{ tiers: PricingRules['volumeTiers'] | null, regions: Record<string, number> | null, ceiling: number | null }>(`
    SELECT
      (SELECT json_agg(json_build_object('family', product_family, 'minQuantity', min_quantity::float8, 'discountPercent', discount_percent::float8))
         FROM pricing_volume_tiers) AS tiers,
      (SELECT json_object_agg(billing_country, discount_percent::float8) FROM pricing_region_discounts) AS regions,
      (SELECT max_total_discount_percent::float8 FROM pricing_settings) AS ceiling`)
  const row = rows[0]
  return {
    volumeTiers: row?.tiers ?? [],
    regionDiscounts: row?.regions ?? {},
    maxTotalDiscountPercent: row?.ceiling ?? 0
  }
}
