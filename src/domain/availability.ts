/** One warehouse's stock of a product, as the availability rules read it. */
export interface WarehouseStock {
  warehouseCode: string
  warehouseName: string
  available: number
  leadTimeDays: number
  nextRestockDate: string | null
  nextRestockQuantity: number | null
}

export interface ShipPlan {
  availableNow: number
  canShipNow: boolean
  /** YYYY-MM-DD, or null when neither stock nor announced restocks cover the quantity. */
  earliestShipDate: string | null
}

const addDays = (from: Date, days: number): string =>
  new Date(from.getTime() + days * 86_400_000).toISOString().slice(0, 10)

/**
 * When `quantity` can ship: from the quickest warehouses' stock now (their lead time), else
 * once announced restocks cover what is missing.
 */
export function shipPlan (warehouses: WarehouseStock[], quantity: number, today: Date): ShipPlan {
  const availableNow = warehouses.reduce((sum, w) => sum + w.available, 0)
  let covered = 0
  let lead = 0
  for (const w of [...warehouses].sort((a, b) => a.leadTimeDays - b.leadTimeDays)) {
    if (w.available === 0) continue
    covered += w.available
    lead = w.leadTimeDays
    if (covered >= quantity) return { availableNow, canShipNow: true, earliestShipDate: addDays(today, lead) }
  }
  const restocks = warehouses
    .filter((w) => w.nextRestockDate !== null && (w.nextRestockQuantity ?? 0) > 0)
    .map((w) => ({
      date: w.nextRestockDate as string,
      quantity: w.nextRestockQuantity as number,
      lead: w.leadTimeDays
    }))
    .sort((a, b) => a.date.localeCompare(b.date))
  for (const r of restocks) {
    covered += r.quantity
    if (covered >= quantity) return { availableNow, canShipNow: false, earliestShipDate: addDays(new Date(`${r.date}T00:00:00Z`), r.lead) }
  }
  return { availableNow, canShipNow: false, earliestShipDate: null }
}
