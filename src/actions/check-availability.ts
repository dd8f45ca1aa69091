import { agentAction, defineAction, readOnlyTool } from './define.ts'
import { CheckAvailabilityRequest, CheckAvailabilityResponse } from '../schemas/check-availability.ts'
import { productAvailability } from '../postgres/availability.ts'
import { shipPlan } from '../domain/availability.ts'

/**
 * Reads only Postgres (the mirror and the app's stock tables): no Salesforce API call. Not filtered
 * by sharing: products have no record-level sharing (Product2 has no organization-wide default; who
 * sees products is the object permission, which the action's permission set carries), and the price
 * is the standard price book's, which the default price book access (Use) lets every user see. An
 * org that sets price books to No Access is not honoured here (README, "Sharing").
 */
export default defineAction({
  operationId: 'checkAvailability',
  summary: 'Check product availability',
  description: 'For up to 50 product codes with quantities: unit price, stock per warehouse, whether the quantity can ship now and the earliest ship date. Unknown product codes are reported per item.',
  request: CheckAvailabilityRequest,
  response: CheckAvailabilityResponse,
  sfdc: agentAction,
  tool: readOnlyTool,
  handler: async (input, { appData, mirror }) => {
    const codes = input.items.map((i) => i.productCode)
    const [rows, asOf] = await Promise.all([productAvailability(appData, mirror, codes), mirror.dataAsOf('product2')])
    const today = new Date()
    const items = input.items.map((item, i) => {
      const row = rows[i]
      if (row?.productId == null) {
        return { productCode: item.productCode, found: false, message: `No active product has the code ${item.productCode}`, quantity: item.quantity, availableNow: 0, canShipNow: false, warehouses: [] }
      }
      const plan = shipPlan(row.warehouses, item.quantity, today)
      const message = plan.canShipNow
        ? `${item.quantity} × ${row.name ?? item.productCode} can ship by ${plan.earliestShipDate ?? ''}`
        : plan.earliestShipDate !== null
          ? `Only ${plan.availableNow} in stock; the full quantity can ship by ${plan.earliestShipDate}`
          : `Only ${plan.availableNow} in stock and no restock is announced`
      return {
        productCode: item.productCode,
        found: true,
        message,
        productId: row.productId,
        ...(row.name === null ? {} : { productName: row.name }),
        ...(row.unitPrice === null ? {} : { unitPrice: row.unitPrice }),
        quantity: item.quantity,
        availableNow: plan.availableNow,
        canShipNow: plan.canShipNow,
        ...(plan.earliestShipDate === null ? {} : { earliestShipDate: plan.earliestShipDate }),
        warehouses: row.warehouses.map((w) => ({
          warehouseCode: w.warehouseCode,
          warehouseName: w.warehouseName,
          available: w.available,
          leadTimeDays: w.leadTimeDays,
          ...(w.nextRestockDate === null ? {} : { nextRestockDate: w.nextRestockDate })
        }))
      }
    })
    return {
      items,
      allAvailable: items.every((i) => i.found && i.canShipNow),
      ...asOf
    }
  }
})
