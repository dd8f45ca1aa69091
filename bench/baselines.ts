// What a team would write without the service's design: the baselines the service is compared to.
import type { OrgClient } from '../src/salesforce/org-client.ts'
import { soql } from '../src/salesforce/soql.ts'
import { opportunityWithLines } from '../src/salesforce/queries.ts'

export interface AccountSummary {
  name: string
  pipelineByStage: Array<{ stage: string, count: number, amount: number }>
  wonRevenue12Months: number
  openCasesByPriority: Array<{ priority: string, count: number }>
}

interface OpportunityRow {
  StageName: string
  Amount: number | null
  IsClosed: boolean
  IsWon: boolean
  CloseDate: string | null
}

interface AccountWithChildren {
  Name: string
  Opportunities: { records: OpportunityRow[] } | null
  Cases: { records: Array<{ Priority: string | null }> } | null
}

/**
 * The summary accountInsights leads with, computed from the org's REST API as the caller: one
 * parent-child query (the cheapest the API allows, and it applies sharing), summed here.
 */
export async function accountSummaryFromApi (org: OrgClient, accountId: string): Promise<AccountSummary> {
  const page = await org.query<AccountWithChildren>(soql`SELECT Name,
      (SELECT StageName, Amount, IsClosed, IsWon, CloseDate FROM Opportunities),
      (SELECT Priority FROM Cases WHERE IsClosed = false)
    FROM Account WHERE Id = ${accountId}`.replace(/\s+/g, ' '))
  const account = page.records[0]
  if (account === undefined) throw new Error(`account ${accountId} not visible`)
  const yearAgo = new Date(Date.now() - 365 * 86_400_000).toISOString().slice(0, 10)
  const stages = new Map<string, { count: number, amount: number }>()
  let won = 0
  for (const o of account.Opportunities?.records ?? []) {
    if (!o.IsClosed) {
      const s = stages.get(o.StageName) ?? { count: 0, amount: 0 }
      stages.set(o.StageName, { count: s.count + 1, amount: s.amount + (o.Amount ?? 0) })
    }
    if (o.IsWon && o.CloseDate !== null && o.CloseDate >= yearAgo) won += o.Amount ?? 0
  }
  const priorities = new Map<string, number>()
  for (const c of account.Cases?.records ?? []) priorities.set(c.Priority ?? 'None', (priorities.get(c.Priority ?? 'None') ?? 0) + 1)
  return {
    name: account.Name,
    pipelineByStage: [...stages].map(([stage, s]) => ({ stage, ...s })).sort((a, b) => b.amount - a.amount),
    wonRevenue12Months: won,
    openCasesByPriority: [...priorities]
      .map(([priority, count]) => ({ priority, count }))
      .sort((a, b) => b.count - a.count)
  }
}

/**
 * generateQuote as Heroku's samples write it: read the opportunity with its lines, then create
 * the Quote and one QuoteLineItem per line, one REST call per record (and no atomicity).
 */
export async function naiveQuote (org: OrgClient, opportunityId: string): Promise<{ quoteId: string, lines: number }> {
  const opportunity = await opportunityWithLines(org, opportunityId)
  if (opportunity === undefined) throw new Error(`opportunity ${opportunityId} not visible`)
  const quote = await org.create('Quote', { Name: `Quote for ${opportunity.Name}`.slice(0, 80), OpportunityId: opportunity.Id, Pricebook2Id: opportunity.Pricebook2Id, Status: 'Draft' })
  const lines = opportunity.OpportunityLineItems?.records ?? []
  for (const line of lines) {
    await org.create('QuoteLineItem', { QuoteId: quote.id, PricebookEntryId: line.PricebookEntryId, Product2Id: line.Product2Id, Quantity: line.Quantity, UnitPrice: line.UnitPrice })
  }
  return { quoteId: quote.id, lines: lines.length }
}
