import type { CallerMirror } from './caller-mirror.ts'
import type { OrgScope } from './org-scope.ts'
import type { WarehouseStock } from '../domain/availability.ts'

export interface ProductAvailabilityRow {
  productCode: string
  productId: string | null
  name: string | null
  family: string | null
  unitPrice: number | null
  warehouses: WarehouseStock[]
}

/**
 * For each requested product code, in request order: the active product and its standard
 * price from the mirror, and its stock per warehouse from the org's app tables. One statement, on
 * its generic plan from the first call: every lookup is by equality (product codes, the price book
 * entry's product, the org's stock by its key), and PostgreSQL's own choice after its five trial
 * plans was the generic one (pg_prepared_statements: 5 custom, then only generic, whatever the
 * number of codes).
 */
export async function productAvailability (
  db: OrgScope,
  mirror: Pick<CallerMirror, 'schema' | 'table'>,
  productCodes: string[]
): Promise<ProductAvailabilityRow[]> {
  const { rows } = await db.query<ProductAvailabilityRow>({
    name: `product-availability-${mirror.schema}`,
    text: `
      WITH requested AS (
        SELECT code, ord FROM unnest($1::text[]) WITH ORDINALITY AS r(code, ord)
      ), product AS (
        SELECT DISTINCT ON (p.productcode) p.productcode, p.sfid, p.name, p.family
          FROM ${mirror.table('product2')} p
         WHERE p.productcode = ANY($1) AND p.isdeleted IS NOT TRUE AND p.isactive IS TRUE
         ORDER BY p.productcode, p.systemmodstamp DESC
      ), price AS (
        SELECT DISTINCT ON (e.product2id) e.product2id, e.unitprice
          FROM ${mirror.table('pricebookentry')} e
          JOIN product ON product.sfid = e.product2id
          JOIN ${mirror.table('pricebook2')} b ON b.sfid = e.pricebook2id AND b.isstandard IS TRUE
         WHERE e.isdeleted IS NOT TRUE AND e.isactive IS TRUE
         ORDER BY e.product2id, e.systemmodstamp DESC
      ), stock AS (
        SELECT s.product_code, json_agg(json_build_object(
                 'warehouseCode', w.code, 'warehouseName', w.name,
                 'available', greatest(s.quantity_on_hand - s.quantity_reserved, 0),
                 'leadTimeDays', w.lead_time_days,
                 'nextRestockDate', to_char(s.next_restock_date, 'YYYY-MM-DD'),
                 'nextRestockQuantity', s.next_restock_quantity
               ) ORDER BY w.lead_time_days, w.code) AS warehouses
          FROM warehouse_stock s JOIN warehouses w ON w.org_id = s.org_id AND w.code = s.warehouse_code
         WHERE s.org_id = $2 AND s.product_code = ANY($1)
         GROUP BY s.product_code
      )
      SELECT r.code AS "productCode", product.sfid AS "productId", product.name, product.family,
             price.unitprice AS "unitPrice", coalesce(stock.warehouses, '[]'::json) AS warehouses
        FROM requested r
        LEFT JOIN product ON product.productcode = r.code
        LEFT JOIN price ON price.product2id = product.sfid
        LEFT JOIN stock ON stock.product_code = r.code AND product.sfid IS NOT NULL
       ORDER BY r.ord`,
    values: [productCodes, db.orgId]
  }, undefined, { genericPlan: true })
  return rows
}
