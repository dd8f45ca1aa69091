import { Type } from 'typebox'
import { IdempotencyKey, Money, SalesforceId } from './common.ts'
import { agentInput, agentOutput } from './agent-flags.ts'

export const GenerateQuoteRequest = Type.Object({
  opportunityId: SalesforceId({ description: 'Id of the Opportunity to quote (15 or 18 characters)', ...agentInput }),
  discountPercent: Type.Optional(Type.Number({
    minimum: 0,
    maximum: 100,
    description: 'Discount in percent for every line, replacing the pricing rules; at most the pricing ceiling',
    ...agentInput
  })),
  idempotencyKey: IdempotencyKey(100, 'quote')
}, { additionalProperties: false })

export const QuoteLine = Type.Object({
  quoteLineItemId: SalesforceId({ description: 'Id of the created QuoteLineItem' }),
  productName: Type.String({ description: 'Product name' }),
  quantity: Type.Number({ description: 'Quantity' }),
  unitPrice: Money({ description: 'List unit price' }),
  discountPercent: Type.Number({ description: 'Discount applied to the line, in percent' }),
  lineTotal: Money({ description: 'Line total after discount' })
}, { additionalProperties: false })

export const GenerateQuoteResponse = Type.Object({
  quoteId: SalesforceId({ description: 'Id of the created Quote', ...agentOutput }),
  quoteName: Type.String({ description: 'Name of the created Quote', ...agentOutput }),
  lines: Type.Array(QuoteLine, { description: 'The quote lines with their totals', ...agentOutput }),
  subtotal: Money({ description: 'Sum of the lines before discount', ...agentOutput }),
  discount: Money({ description: 'Total discount granted', ...agentOutput }),
  grandTotal: Money({ description: 'Amount of the quote after discount', ...agentOutput }),
  replayed: Type.Boolean({ description: 'True when this call repeated an earlier one and returns its quote', ...agentOutput })
}, { additionalProperties: false, description: 'The created quote' })
