import t from 'tap'
import { shipPlan } from '../../src/domain/availability.ts'

type Warehouse = Parameters<typeof shipPlan>[0][number]

interface Restock { date: string, quantity: number }
const warehouse = (code: string, available: number, leadTimeDays: number, restock?: Restock): Warehouse => ({
  warehouseCode: code,
  warehouseName: code,
  available,
  leadTimeDays,
  nextRestockDate: restock?.date ?? null,
  nextRestockQuantity: restock?.quantity ?? null
})
const today = new Date('2026-12-01T15:30:00Z')

t.test('stock on hand ships from the quickest warehouses first', async (t) => {
  // Listed slowest first: the plan must not depend on the order the rows come in.
  const stock = [warehouse('SIN', 100, 7), warehouse('RNO', 10, 3), warehouse('FRA', 5, 1)]
  const shipsNow = (earliestShipDate: string) => ({ availableNow: 115, canShipNow: true, earliestShipDate })
  t.same(shipPlan(stock, 5, today), shipsNow('2026-12-02'), 'FRA alone')
  t.same(shipPlan(stock, 6, today), shipsNow('2026-12-04'), 'FRA and RNO')
  t.same(shipPlan(stock, 15, today), shipsNow('2026-12-04'))
  t.same(shipPlan(stock, 16, today), shipsNow('2026-12-08'), 'SIN too')
  t.same(shipPlan(stock, 115, today), shipsNow('2026-12-08'), 'every unit')
})

t.test('a warehouse without stock does not delay the shipment', async (t) => {
  const stock = [warehouse('FRA', 0, 1), warehouse('SIN', 0, 0), warehouse('RNO', 8, 2)]
  t.same(shipPlan(stock, 8, today), { availableNow: 8, canShipNow: true, earliestShipDate: '2026-12-03' })
})

t.test('short of stock, the earliest restocks that cover the rest give the date', async (t) => {
  const stock = [
    warehouse('FRA', 5, 1, { date: '2026-12-20', quantity: 10 }),
    warehouse('RNO', 5, 2, { date: '2026-12-10', quantity: 4 }),
    warehouse('SIN', 0, 7, { date: '2027-01-15', quantity: 500 })
  ]
  t.same(shipPlan(stock, 14, today), { availableNow: 10, canShipNow: false, earliestShipDate: '2026-12-12' },
    'RNO restocks on the 10th, ships two days later')
  t.same(shipPlan(stock, 15, today), { availableNow: 10, canShipNow: false, earliestShipDate: '2026-12-21' },
    'RNO\'s restock is not enough: FRA\'s on the 20th, one day later')
  t.same(shipPlan(stock, 500, today), { availableNow: 10, canShipNow: false, earliestShipDate: '2027-01-22' },
    'into the next year')
})

t.test('no date when neither stock nor announced restocks cover the quantity', async (t) => {
  const stock = [
    warehouse('FRA', 3, 1, { date: '2026-12-20', quantity: 2 }),
    warehouse('RNO', 0, 2, { date: '2026-12-05', quantity: 0 }),
    { ...warehouse('SIN', 0, 7), nextRestockQuantity: 1000 }
  ]
  t.same(shipPlan(stock, 6, today), { availableNow: 3, canShipNow: false, earliestShipDate: null },
    'a restock of 0, or without a date, is no restock')
  t.same(shipPlan([], 1, today), { availableNow: 0, canShipNow: false, earliestShipDate: null },
    'a product no warehouse stocks')
})

t.test('ship dates are calendar days in UTC, across month and year ends', async (t) => {
  const stock = [warehouse('FRA', 5, 1)]
  t.equal(shipPlan(stock, 1, new Date('2026-12-31T23:59:00Z')).earliestShipDate, '2027-01-01')
  t.equal(shipPlan(stock, 1, new Date('2028-02-28T00:00:00Z')).earliestShipDate, '2028-02-29', 'a leap year')
  t.equal(shipPlan([warehouse('FRA', 5, 0)], 1, today).earliestShipDate, '2026-12-01', 'no lead time: today')
})
