import type pg from 'pg'
import { createHash } from 'node:crypto'
import { inTransaction } from '@applink-actions/platform/postgres'

/** A number in [0, 1) fixed by the text: the same product always gets the same stock. */
const unit = (text: string): number => createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32

const WAREHOUSES = [
  { code: 'FRA', name: 'Frankfurt', country: 'Germany', leadTimeDays: 1 },
  { code: 'RNO', name: 'Reno', country: 'United States', leadTimeDays: 2 },
  { code: 'SIN', name: 'Singapore', country: 'Singapore', leadTimeDays: 4 }
]

/**
 * Fills the app-owned tables that Salesforce does not hold, for local development and tests:
 * warehouses, stock for every product in the mirror, and web orders for some accounts.
 * Deterministic, and a no-op when warehouses already exist.
 */
export async function seedAppData (pool: pg.Pool, schema: string, today = new Date()): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('LOCK TABLE warehouses IN EXCLUSIVE MODE')
    const { rowCount } = await client.query('SELECT 1 FROM warehouses LIMIT 1')
    if (rowCount !== 0) return
    for (const w of WAREHOUSES) {
      await client.query('INSERT INTO warehouses (code, name, country, lead_time_days) VALUES ($1, $2, $3, $4)', [w.code, w.name, w.country, w.leadTimeDays])
    }
    const products = await client.query<{ productcode: string }>(`SELECT DISTINCT productcode FROM "${schema}".product2 WHERE productcode IS NOT NULL`)
    for (const { productcode: code } of products.rows) {
      for (const w of WAREHOUSES) {
        const r = unit(`${code}/${w.code}`)
        // About a fifth of the stock lines are empty, so shortages and restocks show up.
        const onHand = r < 0.2 ? 0 : Math.floor(r * 400)
        const restock = r < 0.5
          ? new Date(today.getTime() + Math.ceil(r * 40 + 3) * 86_400_000).toISOString().slice(0, 10)
          : null
        await client.query(
          `INSERT INTO warehouse_stock (warehouse_code, product_code, quantity_on_hand, quantity_reserved, next_restock_date, next_restock_quantity)
           VALUES ($1, $2, $3, $4, $5, $6)`, [w.code, code, onHand, Math.floor(onHand * r * 0.2), restock, restock === null ? null : 200])
      }
    }
    const accounts = await client.query<{ sfid: string }>(`SELECT sfid FROM "${schema}".account WHERE isdeleted IS NOT TRUE ORDER BY sfid LIMIT 5000`)
    for (const { sfid } of accounts.rows) {
      const r = unit(sfid)
      for (let i = 0; i < Math.floor(r * 4); i++) {
        const daysAgo = Math.floor(unit(`${sfid}/${i}`) * 500)
        await client.query('INSERT INTO web_orders (account_sfid, ordered_at, total) VALUES ($1, $2, $3)',
          [sfid, new Date(today.getTime() - daysAgo * 86_400_000), Math.round(unit(`${sfid}/${i}/total`) * 500_000) / 100])
      }
    }
  })
}
