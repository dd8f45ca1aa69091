import type pg from 'pg'
import { createHash } from 'node:crypto'
import { normalizeId } from '@applink-actions/platform/ids'
import { quoteIdent } from '@applink-actions/platform/postgres'
import { withOrg } from '../src/postgres/org-scope.ts'

/** A number in [0, 1) fixed by the text: the same product always gets the same stock. */
const unit = (text: string): number => createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32

const WAREHOUSES = [
  { code: 'FRA', name: 'Frankfurt', country: 'Germany', leadTimeDays: 1 },
  { code: 'RNO', name: 'Reno', country: 'United States', leadTimeDays: 2 },
  { code: 'SIN', name: 'Singapore', country: 'Singapore', leadTimeDays: 4 }
]

/** The pricing rules an org starts with (generateQuote): a business edits them per org. */
const PRICING = `
  INSERT INTO pricing_volume_tiers (product_family, min_quantity, discount_percent) VALUES
    ('Hardware', 10, 5), ('Hardware', 50, 10), ('Hardware', 100, 15),
    ('Software', 25, 8), ('Software', 100, 12),
    ('Services', 40, 5)
  ON CONFLICT DO NOTHING;
  INSERT INTO pricing_region_discounts (billing_country, discount_percent) VALUES
    ('germany', 3), ('france', 3), ('india', 7), ('brazil', 6), ('japan', 2)
  ON CONFLICT DO NOTHING;
  INSERT INTO pricing_settings (max_total_discount_percent) VALUES (20) ON CONFLICT DO NOTHING`

export interface SeedOptions {
  /** The org the data belongs to; by default the org Connect recorded in `schema`'s `_hcmeta`. */
  orgId?: string
  today?: Date
}

/**
 * Fills one org's app-owned tables that Salesforce does not hold, for local development and tests:
 * pricing rules, warehouses, stock for every product in the org's mirror (`schema`), and web orders
 * for some accounts. Deterministic, and a no-op when the org has warehouses already. The rows take
 * the org of the transaction (withOrg), so the same code seeds any org.
 */
export async function seedAppData (pool: pg.Pool, schema: string, options: SeedOptions = {}): Promise<void> {
  const today = options.today ?? new Date()
  const orgId = options.orgId ?? await mirroredOrg(pool, schema)
  await withOrg(pool, orgId, async (client) => {
    // One seed per org at a time; other orgs' seeds go on.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`applink-actions:seed:${orgId}`])
    const { rowCount } = await client.query('SELECT 1 FROM warehouses LIMIT 1')
    if (rowCount !== 0) return
    await client.query(PRICING)
    for (const w of WAREHOUSES) {
      await client.query('INSERT INTO warehouses (code, name, country, lead_time_days) VALUES ($1, $2, $3, $4)', [w.code, w.name, w.country, w.leadTimeDays])
    }
    const products = await client.query<{ productcode: string }>(`SELECT DISTINCT productcode FROM ${quoteIdent(schema)}.product2 WHERE productcode IS NOT NULL`)
    // One statement per table (arrays unnested): a million-account org has 10,000 products.
    const stock: unknown[][] = [[], [], [], [], [], []]
    for (const { productcode: code } of products.rows) {
      for (const w of WAREHOUSES) {
        const r = unit(`${code}/${w.code}`)
        // About a fifth of the stock lines are empty, so shortages and restocks show up.
        const onHand = r < 0.2 ? 0 : Math.floor(r * 400)
        const restock = r < 0.5
          ? new Date(today.getTime() + Math.ceil(r * 40 + 3) * 86_400_000).toISOString().slice(0, 10)
          : null
        const row = [w.code, code, onHand, Math.floor(onHand * r * 0.2), restock, restock === null ? null : 200]
        row.forEach((value, i) => stock[i]?.push(value))
      }
    }
    await client.query(
      `INSERT INTO warehouse_stock (warehouse_code, product_code, quantity_on_hand, quantity_reserved, next_restock_date, next_restock_quantity)
       SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::date[], $6::int[])`, stock)
    const accounts = await client.query<{ sfid: string }>(`SELECT sfid FROM ${quoteIdent(schema)}.account WHERE isdeleted IS NOT TRUE ORDER BY sfid LIMIT 5000`)
    const orders: unknown[][] = [[], [], []]
    for (const { sfid } of accounts.rows) {
      const r = unit(sfid)
      for (let i = 0; i < Math.floor(r * 4); i++) {
        const daysAgo = Math.floor(unit(`${sfid}/${i}`) * 500)
        orders[0]?.push(sfid)
        orders[1]?.push(new Date(today.getTime() - daysAgo * 86_400_000))
        orders[2]?.push(Math.round(unit(`${sfid}/${i}/total`) * 500_000) / 100)
      }
    }
    await client.query(
      'INSERT INTO web_orders (account_sfid, ordered_at, total) SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::numeric[])', orders)
  })
}

/** The 18-character id of the org whose mirror `schema` holds. */
async function mirroredOrg (pool: pg.Pool, schema: string): Promise<string> {
  const { rows } = await pool.query<{ org_id: string | null }>(`SELECT org_id FROM ${quoteIdent(schema)}._hcmeta LIMIT 1`)
  const orgId = normalizeId(rows[0]?.org_id)
  if (orgId === undefined) throw new Error(`schema ${schema} records no org in _hcmeta: pass the org id to seed`)
  return orgId
}
