import t from 'tap'
import { startStack } from '../stack.ts'
import { assertError } from '../helper.ts'

type Rec = Record<string, unknown>

t.test('checkAvailability', async (t) => {
  const s = await startStack(t)
  const products = s.org.records('Product2').filter((p) => p.IsActive === true).slice(0, 4)
  const standard = s.org.records('Pricebook2').find((b) => b.IsStandard === true) as Rec

  t.test('prices and stock per known code, unknown codes reported per item, no API call', async (t) => {
    const { rows: stock } = await s.pool.query<{ product_code: string, warehouse_code: string, available: number }>(
      'SELECT product_code, warehouse_code, quantity_on_hand - quantity_reserved AS available FROM warehouse_stock')
    const before = s.org.stats.byUser['rep1@acme.local'] ?? 0
    const items = [...products.map((p, i) => ({ productCode: String(p.ProductCode), quantity: 1 + i * 150 })), { productCode: 'NO-SUCH-CODE', quantity: 1 }, { productCode: "x' OR 1=1 --", quantity: 2 }]
    const res = await s.call('checkAvailability', { items })
    t.equal(res.statusCode, 200)
    t.equal(s.org.stats.byUser['rep1@acme.local'] ?? 0, before, 'zero Salesforce API calls')
    const body = res.json()
    t.equal(body.items.length, items.length, 'one answer per item, in order')
    for (const [i, product] of products.entries()) {
      const item = body.items[i]
      const price = s.org.records('PricebookEntry').find((e) => e.Product2Id === product.Id && e.Pricebook2Id === standard.Id) as Rec
      const available = stock
        .filter((r) => r.product_code === product.ProductCode)
        .reduce((sum, r) => sum + Math.max(r.available, 0), 0)
      t.equal(item.productCode, product.ProductCode)
      t.equal(item.found, true)
      t.equal(item.productId, product.Id)
      t.equal(item.unitPrice, price.UnitPrice, 'standard price book price')
      t.equal(item.availableNow, available, 'stock summed over warehouses')
      t.equal(item.canShipNow, available >= items[i]!.quantity)
      t.equal(item.warehouses.length, 3)
      if (item.canShipNow) t.match(item.earliestShipDate, /^\d{4}-\d{2}-\d{2}$/)
    }
    for (const unknown of body.items.slice(products.length)) {
      t.equal(unknown.found, false)
      t.match(unknown.message, /No active product/)
      t.same(unknown.warehouses, [])
    }
    t.equal(body.allAvailable, false)
    t.match(body.dataAsOf, /^\d{4}-\d{2}-\d{2}T/)
  })

  t.test('a quantity beyond stock gives the restock date, or none', async (t) => {
    const product = products[0] as Rec
    const res = await s.call('checkAvailability', { items: [{ productCode: product.ProductCode, quantity: 1_000_000 }] })
    const item = res.json().items[0]
    t.equal(item.canShipNow, false)
    t.notOk(item.earliestShipDate, 'no announced restock covers a million units')
  })

  t.test('input limits', async (t) => {
    const many = Array.from({ length: 51 }, (_, i) => ({ productCode: `P${i}`, quantity: 1 }))
    assertError(t, await s.call('checkAvailability', { items: many }), 400, 'INVALID_REQUEST', ['items'])
    assertError(t, await s.call('checkAvailability', { items: [] }), 400, 'INVALID_REQUEST', ['items'])
    assertError(t, await s.call('checkAvailability', { items: [{ productCode: 'A', quantity: 0 }] }), 400, 'INVALID_REQUEST', ['items.0.quantity'])
  })
})
