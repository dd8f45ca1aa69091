import { agentAction, defineAction } from './define.ts'
import { GenerateQuoteRequest, GenerateQuoteResponse } from '../schemas/generate-quote.ts'
import { opportunityWithLines } from '../salesforce/queries.ts'
import { toId18 } from '../salesforce/soql.ts'
import { loadPricingRules } from '../postgres/pricing-rules.ts'
import { idempotent } from './idempotent.ts'
import { priceLine, totals } from '../domain/pricing.ts'
import { NotFound, OutcomeUnknown, Unprocessable } from '../errors.ts'
import { answerLost } from '../salesforce/org-client.ts'

const QUOTE_VALIDITY_DAYS = 30
/** A composite graph holds at most 500 nodes: the quote and its lines. */
const MAX_GRAPH_NODES = 500

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
  handler: async (input, { caller, org, app }) => {
    const opportunityId = toId18(input.opportunityId, 'opportunityId')
    return await idempotent({ caller, app }, 'generateQuote', input, async () => {
      const [opportunity, rules] = await Promise.all([opportunityWithLines(org, opportunityId), loadPricingRules(app.pg)])
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
      const priced = lines.map((line) => ({ line, price: priceLine(rules, { family: line.Product2?.Family ?? null, quantity: line.Quantity, unitPrice: line.UnitPrice }, country, input.discountPercent) }))
      const quoteName = `Quote for ${opportunity.Name}`.slice(0, 80)
      const expiration = new Date(Date.now() + QUOTE_VALIDITY_DAYS * 86_400_000).toISOString().slice(0, 10)
      const base = `/services/data/v${caller.org.apiVersion}/sobjects`
      const created = await org.compositeGraph([
        { referenceId: 'quote', method: 'POST', url: `${base}/Quote`, body: { Name: quoteName, OpportunityId: opportunity.Id, Pricebook2Id: opportunity.Pricebook2Id, Status: 'Draft', ExpirationDate: expiration } },
        ...priced.map(({ line, price }, i) => ({
          referenceId: `line${i}`,
          method: 'POST' as const,
          url: `${base}/QuoteLineItem`,
          body: { QuoteId: '@{quote.id}', PricebookEntryId: line.PricebookEntryId, Product2Id: line.Product2Id, Quantity: line.Quantity, UnitPrice: line.UnitPrice, Discount: price.discountPercent }
        }))
      ]).catch((err: unknown) => {
        if (answerLost(err)) throw new OutcomeUnknown(`Salesforce did not confirm whether the quote for ${opportunity.Name} was created; check the opportunity's quotes before asking again`, err)
        throw err
      })
      return {
        quoteId: created.get('quote') ?? '',
        quoteName,
        lines: priced.map(({ line, price }, i) => ({
          quoteLineItemId: created.get(`line${i}`) ?? '',
          productName: line.Product2?.Name ?? line.Product2Id,
          quantity: line.Quantity,
          unitPrice: line.UnitPrice,
          discountPercent: price.discountPercent,
          lineTotal: price.lineTotal
        })),
        ...totals(priced.map((p) => p.price))
      }
    })
  }
})
