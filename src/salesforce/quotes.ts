import type { GraphNode, OrgClient } from './org-client.ts'

/** The fields a new quote is created with. */
export interface NewQuote {
  Name: string
  OpportunityId: string
  Pricebook2Id: string
  Status: string
  ExpirationDate: string
}

/** The fields a new quote line is created with (QuoteId comes from the graph). */
export interface NewQuoteLine {
  PricebookEntryId: string
  Product2Id: string
  Quantity: number
  UnitPrice: number
  Discount: number
}

/** A line's key: its quote's key, a colon, its position (at most 64 + 4 characters of the field's 80). */
export const lineKey = (quoteKey: string, index: number): string => `${quoteKey}:${index}`

/** A line's position in its quote, from its key. */
export const linePosition = (key: string): number => Number(key.slice(key.lastIndexOf(':') + 1))

/**
 * Creates the quote with all its lines in one composite graph (1 API call): all or nothing.
 * Returns the quote's id and its lines' ids in order; throws what the graph throws.
 *
 * Upserts on the key (Composite Graph: "/services/data/vXX.X/sobjects/sObject/customFieldName/externalId
 * DELETE, GET, PATCH, POST" is among the URLs a graph supports), so the org itself refuses a
 * second quote or line for the same key: the key is unique, and an upsert that matches an
 * existing record fails on the create-only OpportunityId / QuoteId.
 */
export async function createQuoteByKey (
  org: OrgClient,
  quoteKey: string,
  quote: NewQuote,
  lines: NewQuoteLine[]
): Promise<{ quoteId: string, lineIds: string[] }> {
  const base = `/services/data/v${org.apiVersion}/sobjects`
  const upsert = (sobject: string, key: string): string => `${base}/${sobject}/Idempotency_Key__c/${encodeURIComponent(key)}`
  const nodes: GraphNode[] = [
    { referenceId: 'quote', method: 'PATCH', url: upsert('Quote', quoteKey), body: { ...quote } },
    ...lines.map((line, i) => ({
      referenceId: `line${i}`,
      method: 'PATCH' as const,
      url: upsert('QuoteLineItem', lineKey(quoteKey, i)),
      body: { QuoteId: '@{quote.id}', ...line }
    }))
  ]
  const created = await org.compositeGraph(nodes)
  return { quoteId: created.get('quote') ?? '', lineIds: lines.map((_, i) => created.get(`line${i}`) ?? '') }
}
