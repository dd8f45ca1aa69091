import { agentAction, defineAction } from './define.ts'
import { GenerateQuoteRequest, GenerateQuoteResponse } from '../schemas/generate-quote.ts'
import { opportunityWithLines, quoteByIdempotencyKey, type StoredQuote } from '../salesforce/queries.ts'
import { toId18 } from '../salesforce/soql.ts'
import { loadPricingRules } from '../postgres/pricing-rules.ts'
import { discountedLine, priceLine, totals, type PricedLine } from '../domain/pricing.ts'
import { NotFound, OutcomeUnknown, Unprocessable } from '../errors.ts'
import { answerLost } from '../salesforce/org-client.ts'
import { createQuoteByKey, linePosition } from '../salesforce/quotes.ts'
import { SalesforceApiError } from '../salesforce/errors.ts'
import type { Static } from 'typebox'

const QUOTE_VALIDITY_DAYS = 30
/** A composite graph holds at most 500 nodes: the quote and its lines. */
const MAX_GRAPH_NODES = 500

/**
 * How the graph fails when the quote of this request is already in the org: the upsert matched
 * it and tried to update fields that can only be set on create (OpportunityId and QuoteId are
 * "Create, Filter, Group, Sort", without Update, in the Object Reference; tablexi/restforce-db#49:
 * "createable fields which are not also updateable ... will result in an error on the upsert"),
 * or a concurrent graph created it first (the unique key: DUPLICATE_VALUE). The error codes are
 * inferred from those documents; the answer is then read back by the key.
 */
const EXISTS_ALREADY = new Set(['INVALID_FIELD_FOR_INSERT_UPDATE', 'DUPLICATE_VALUE'])

type QuoteAnswer = Omit<Static<typeof GenerateQuoteResponse>, 'replayed'>

/** One line of an answer: the record's id, what was quoted, and its price. */
interface AnsweredLine {
  id: string
  productName: string
  quantity: number
  unitPrice: number
  price: PricedLine
}

/** The answer's shape, one for a quote just created and for one an earlier attempt created. */
function quoteAnswer (quoteId: string, quoteName: string, lines: AnsweredLine[]): QuoteAnswer {
  return {
    quoteId,
    quoteName,
    lines: lines.map((line) => ({
      quoteLineItemId: line.id,
      productName: line.productName,
      quantity: line.quantity,
      unitPrice: line.unitPrice,
      discountPercent: line.price.discountPercent,
      lineTotal: line.price.lineTotal
    })),
    ...totals(lines.map((line) => line.price))
  }
}

/** The answer for a quote an earlier attempt created, from what the org holds. */
function storedQuoteAnswer (quote: StoredQuote): QuoteAnswer {
  const lines = [...(quote.QuoteLineItems?.records ?? [])]
    .sort((a, b) => linePosition(a.Idempotency_Key__c) - linePosition(b.Idempotency_Key__c))
  return quoteAnswer(quote.Id, quote.Name, lines.map((line) => ({
    id: line.Id,
    productName: line.Product2?.Name ?? line.Product2Id,
    quantity: line.Quantity,
    unitPrice: line.UnitPrice,
    price: discountedLine(line.Quantity, line.UnitPrice, line.Discount ?? 0)
  })))
}

/**
 * Reads the opportunity with its lines as the caller (1 API call), prices the lines with the
 * app's rules, and creates the Quote with all its lines in one composite graph (1 API call):
 * all or nothing. A repeated call with the same key returns the first quote.
 */
export default defineAction({
  operationId: 'generateQuote',
  summary: 'Generate a quote for an opportunity',
  description: 'Creates a Quote with one line per opportunity product, priced with the volume and region discounts kept by the service (or a given discount), all or nothing. Returns the quote id, line totals, subtotal, discount and grand total. Calling again with the same idempotency key returns the same quote.',
  request: GenerateQuoteRequest,
  response: GenerateQuoteResponse,
  sfdc: agentAction,
  // Adds a quote; the same idempotency key answers the same quote. Not over MCP: the quote would be
  // created by the org's AppLink run-as user, not by the rep the agent speaks for.
  tool: { readOnly: false, destructive: false, idempotent: true },
  handler: async (input, { org, appData, once }) => {
    const opportunityId = toId18(input.opportunityId, 'opportunityId')
    return await once(input, async (claim) => {
      // An earlier attempt sent the graph and never learnt its outcome: the org knows.
      if (claim.writeMaybeDone) {
        const existing = await quoteByIdempotencyKey(org, claim.orgKey)
        if (existing !== undefined) return storedQuoteAnswer(existing)
      }
      const [opportunity, rules] = await Promise.all([
        opportunityWithLines(org, opportunityId),
        loadPricingRules(appData)
      ])
      if (opportunity === undefined) {
        throw new NotFound(`Opportunity ${input.opportunityId} does not exist or you do not have access to it`, ['opportunityId'])
      }
      const lines = opportunity.OpportunityLineItems?.records ?? []
      if (lines.length === 0 || opportunity.Pricebook2Id === null) {
        throw new Unprocessable('NO_LINE_ITEMS', `Opportunity ${opportunity.Name} has no products to quote`, ['opportunityId'])
      }
      if (lines.length >= MAX_GRAPH_NODES) {
        throw new Unprocessable('TOO_MANY_LINE_ITEMS', `Opportunity ${opportunity.Name} has ${lines.length} products; one quote holds at most ${MAX_GRAPH_NODES - 1}`, ['opportunityId'])
      }
      if (input.discountPercent !== undefined && input.discountPercent > rules.maxTotalDiscountPercent) {
        throw new Unprocessable('DISCOUNT_ABOVE_CEILING', `A discount of ${input.discountPercent}% is above the ceiling of ${rules.maxTotalDiscountPercent}%`, ['discountPercent'])
      }
      const country = opportunity.Account?.BillingCountry ?? null
      const priced = lines.map((line) => ({
        line,
        price: priceLine(
          rules,
          { family: line.Product2?.Family ?? null, quantity: line.Quantity, unitPrice: line.UnitPrice },
          country,
          input.discountPercent
        )
      }))
      const quoteName = `Quote for ${opportunity.Name}`.slice(0, 80)
      const expiration = new Date(Date.now() + QUOTE_VALIDITY_DAYS * 86_400_000).toISOString().slice(0, 10)
      const quote = {
        Name: quoteName,
        OpportunityId: opportunity.Id,
        Pricebook2Id: opportunity.Pricebook2Id,
        Status: 'Draft',
        ExpirationDate: expiration
      }
      const quoteLines = priced.map(({ line, price }) => ({
        PricebookEntryId: line.PricebookEntryId,
        Product2Id: line.Product2Id,
        Quantity: line.Quantity,
        UnitPrice: line.UnitPrice,
        Discount: price.discountPercent
      }))
      await claim.sending()
      let created: { quoteId: string, lineIds: string[] }
      try {
        // The org refuses a second quote for the key (see EXISTS_ALREADY).
        created = await createQuoteByKey(org, claim.orgKey, quote, quoteLines)
      } catch (err) {
        if (answerLost(err)) {
          throw new OutcomeUnknown(`Salesforce did not confirm whether the quote for ${opportunity.Name} was created; ` +
            'ask again with the same idempotency key to find out', err)
        }
        const exists = err instanceof SalesforceApiError && EXISTS_ALREADY.has(err.errorCode)
        const existing = exists ? await quoteByIdempotencyKey(org, claim.orgKey) : undefined
        if (existing === undefined) throw err
        return storedQuoteAnswer(existing)
      }
      return quoteAnswer(created.quoteId, quoteName, priced.map(({ line, price }, i) => ({
        id: created.lineIds[i] ?? '',
        productName: line.Product2?.Name ?? line.Product2Id,
        quantity: line.Quantity,
        unitPrice: line.UnitPrice,
        price
      })))
    })
  }
})
