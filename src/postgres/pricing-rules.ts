import type pg from 'pg'
import type { PricingRules } from '../domain/pricing.ts'

/**
 * How long read pricing rules are reused: a change to the pricing tables prices quotes within
 * this time. Reading them took a round trip and ≈ 0.2 ms of PostgreSQL CPU per quote
 * (docs/performance.md) for tables that change a few times a year.
 */
export const PRICING_RULES_MAX_AGE_MS = 5_000

interface Cached { rules: Promise<PricingRules>, readAt: number }

/** Per pool, so each app (and each test's database) has its own. */
const cache = new WeakMap<pg.Pool, Cached>()

/**
 * The app-owned pricing rules, read at most once per `maxAgeMs` per pool (concurrent callers
 * share one read; a failed read is not kept).
 */
export async function loadPricingRules (pool: pg.Pool, maxAgeMs = PRICING_RULES_MAX_AGE_MS): Promise<PricingRules> {
  const now = performance.now()
  const hit = cache.get(pool)
  if (hit !== undefined && now - hit.readAt < maxAgeMs) return await hit.rules
  const rules = readPricingRules(pool)
  cache.set(pool, { rules, readAt: now })
  rules.catch(() => { if (cache.get(pool)?.rules === rules) cache.delete(pool) })
  return await rules
}

/** The rules as stored, in one round trip. */
async function readPricingRules (pool: pg.Pool): Promise<PricingRules> {
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
