import { agentAction, defineAction, readOnlyTool } from './define.ts'
import { AccountInsightsRequest, AccountInsightsResponse } from '../schemas/account-insights.ts'
import { toId18 } from '../salesforce/soql.ts'
import { visibleAccountFacts } from '../postgres/insights.ts'
import { summarize } from '../domain/insights.ts'
import { NotFound } from '../errors.ts'

/**
 * The mirror has no sharing: anyone who can query it sees every row. So the account and every
 * opportunity and case the figures add up are checked against the caller's access in the org
 * (UserRecordAccess, 200 a query, cached briefly), and the figures count the readable ones only.
 */
export default defineAction({
  operationId: 'accountInsights',
  summary: 'Account insights',
  description: 'How an account is doing: open pipeline by stage, revenue won in the last 12 months, open cases by priority, last activity, top products and web shop orders, with a two-sentence summary to read out. Only for accounts the caller can see in Salesforce, and only the ' +
    'opportunities and cases the caller can see there count.',
  request: AccountInsightsRequest,
  response: AccountInsightsResponse,
  sfdc: agentAction,
  tool: readOnlyTool,
  handler: async (input, { appData, mirror }) => {
    const accountId = toId18(input.accountId, 'accountId')
    const notFound = new NotFound(`Account ${input.accountId} does not exist or you do not have access to it`, ['accountId'])
    const [facts, asOf] = await Promise.all([
      visibleAccountFacts(appData, mirror, accountId),
      mirror.dataAsOf('opportunity')
    ])
    if (facts?.account == null) throw notFound
    return {
      accountId,
      accountName: facts.account.name,
      summary: summarize(facts.account.name, facts),
      openPipeline: Math.round(facts.pipeline.reduce((sum, s) => sum + s.amount, 0) * 100) / 100,
      pipelineByStage: facts.pipeline,
      wonRevenueLast12Months: facts.wonRevenue12Months,
      openCasesByPriority: facts.openCases,
      ...(facts.lastActivityAt === null ? {} : { lastActivityAt: facts.lastActivityAt }),
      topProducts: facts.topProducts.map((p) => ({
        name: p.name,
        revenue: p.revenue,
        ...(p.productCode === null ? {} : { productCode: p.productCode })
      })),
      webOrdersLast12Months: {
        count: facts.webOrders.count12Months,
        total: facts.webOrders.total12Months,
        ...(facts.webOrders.lastOrderAt === null ? {} : { lastOrderAt: facts.webOrders.lastOrderAt })
      },
      ...asOf
    }
  }
})
