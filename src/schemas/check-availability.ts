import { Type } from 'typebox'
import { Money, SalesforceId, Text } from './common.ts'
import { agentInput, agentOutput } from './agent-flags.ts'

export const CheckAvailabilityRequest = Type.Object({
  items: Type.Array(Type.Object({
    productCode: Text({ minLength: 1, maxLength: 255, description: 'Product code (Product2.ProductCode)' }),
    quantity: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Quantity wanted' })
  }, { additionalProperties: false }), {
    minItems: 1,
    maxItems: 50,
    description: 'Up to 50 product codes with the quantity wanted',
    ...agentInput
  })
}, { additionalProperties: false })

export const WarehouseAvailability = Type.Object({
  warehouseCode: Type.String({ description: 'Warehouse code' }),
  warehouseName: Type.String({ description: 'Warehouse name' }),
  available: Type.Integer({ description: 'Units on hand and not reserved' }),
  leadTimeDays: Type.Integer({ description: 'Days from order to shipment from this warehouse' }),
  nextRestockDate: Type.Optional(Type.String({ format: 'date', description: 'Date of the next announced restock' }))
}, { additionalProperties: false })

export const ItemAvailability = Type.Object({
  productCode: Type.String({ description: 'The product code asked for' }),
  found: Type.Boolean({ description: 'False when no active product has this code' }),
  message: Type.String({ description: 'One line on this item, for a person' }),
  productId: Type.Optional(SalesforceId({ description: 'Product2 id' })),
  productName: Type.Optional(Type.String({ description: 'Product name' })),
  unitPrice: Type.Optional(Money({ description: 'Standard price book unit price' })),
  quantity: Type.Integer({ description: 'Quantity asked for' }),
  availableNow: Type.Integer({ description: 'Units available across warehouses' }),
  canShipNow: Type.Boolean({ description: 'True when the quantity can ship from stock' }),
  earliestShipDate: Type.Optional(Type.String({ format: 'date', description: 'Earliest date the full quantity can ship' })),
  warehouses: Type.Array(WarehouseAvailability, { description: 'Stock per warehouse' })
}, { additionalProperties: false })

export const CheckAvailabilityResponse = Type.Object({
  items: Type.Array(ItemAvailability, { description: 'One entry per requested product, in request order', ...agentOutput }),
  allAvailable: Type.Boolean({ description: 'True when every item is known and can ship now', ...agentOutput }),
  dataAsOf: Type.Optional(Type.String({ format: 'date-time', description: 'When the product data was last synced from Salesforce', ...agentOutput }))
}, { additionalProperties: false, description: 'Availability per product' })
