/** What the mirror and the app know about one account, as the summary reads it. */
export interface AccountFacts {
  account: { name: string, type: string | null, industry: string | null, billingCountry: string | null } | null
  pipeline: Array<{ stage: string, count: number, amount: number }>
  wonRevenue12Months: number
  openCases: Array<{ priority: string, count: number }>
  lastActivityAt: string | null
  topProducts: Array<{ name: string, productCode: string | null, revenue: number }>
  webOrders: { count12Months: number, total12Months: number, lastOrderAt: string | null }
}

const money = (amount: number): string =>
  amount.toLocaleString('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 })

/** Two plain sentences an agent can read out: the money, then the service side. */
export function summarize (name: string, facts: AccountFacts): string {
  const openPipeline = facts.pipeline.reduce((sum, s) => sum + s.amount, 0)
  const openDeals = facts.pipeline.reduce((sum, s) => sum + s.count, 0)
  const topStage = facts.pipeline[0]
  const money1 = openDeals === 0
    ? `${name} has no open opportunities and won ${money(facts.wonRevenue12Months)} in the last 12 months.`
    : `${name} has ${money(openPipeline)} in open pipeline across ${openDeals} ${openDeals === 1 ? 'opportunity' : 'opportunities'}` +
      `${topStage === undefined ? '' : `, mostly in ${topStage.stage}`}, and won ${money(facts.wonRevenue12Months)} in the last 12 months.`
  const openCases = facts.openCases.reduce((sum, c) => sum + c.count, 0)
  const high = facts.openCases.find((c) => c.priority === 'High')?.count ?? 0
  const cases = openCases === 0 ? 'There are no open cases' : `There ${openCases === 1 ? 'is 1 open case' : `are ${openCases} open cases`}${high > 0 ? ` (${high} high priority)` : ''}`
  const orders = facts.webOrders.count12Months === 0 ? 'no web orders in the last 12 months' : `${facts.webOrders.count12Months} web ${facts.webOrders.count12Months === 1 ? 'order' : 'orders'} worth ${money(facts.webOrders.total12Months)} in the last 12 months`
  return `${money1} ${cases} and ${orders}.`
}
