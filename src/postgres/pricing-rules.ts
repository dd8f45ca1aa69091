import type { OrgScope } from './org-scope.ts'
import type { PricingRules } from '../domain/pricing.ts'

/**
 * How long read pricing rules are reused: a change to the pricing tables prices quotes within
 * this time. Reading them took a round trip and ≈ 0.2 ms of PostgreSQL CPU per quote
 * (docs/performance.md) for tables that change a few times a year.
 */
export const PRICING_RULES_MAX_AGE_MS = 5_000

interface Cached { rules: Promise<PricingRules>, readAt: number }

/** Per database and org, so each app (and each test's database) and each org has its own. */
const cache = new WeakMap<object, Map<string, Cached>>()

/**
 * The org's pricing rules, read at most once per `maxAgeMs` per database and org (concurrent
 * callers share one read; a failed read is not kept).
 */
export async function loadPricingRules (db: OrgScope, maxAgeMs = PRICING_RULES_MAX_AGE_MS): Promise<PricingRules> {
  const now = performance.now()
  let byOrg = cache.get(db.database)
  if (byOrg === undefined) cache.set(db.database, byOrg = new Map())
  const hit = byOrg.get(db.orgId)
  if (hit !== undefined && now - hit.readAt < maxAgeMs) return await hit.rules
  const rules = readPricingRules(db)
  byOrg.set(db.orgId, { rules, readAt: now })
  rules.catch(() => { if (byOrg.get(db.orgId)?.rules === rules) byOrg.delete(db.orgId) })
  return await rules
}

/** The rules as stored, in one round trip. */
async function readPricingRules (db: OrgScope): Promise<PricingRules> {
  const { rows } = await db.query<{ tiers: PricingRules['volumeTiers'] | null, regions: Record<string, number> | null, ceiling: number | null }>(`
    SELECT
      (SELECT json_agg(json_build_object('family', product_family, 'minQuantity', min_quantity::float8, 'discountPercent', discount_percent::float8))
         FROM pricing_volume_tiers WHERE org_id = $1) AS tiers,
      (SELECT json_object_agg(billing_country, discount_percent::float8) FROM pricing_region_discounts WHERE org_id = $1) AS regions,
      (SELECT max_total_discount_percent::float8 FROM pricing_settings WHERE org_id = $1) AS ceiling`, [db.orgId])
  const row = rows[0]
  return {
    volumeTiers: row?.tiers ?? [],
    regionDiscounts: row?.regions ?? {},
    maxTotalDiscountPercent: row?.ceiling ?? 0
  }
}
