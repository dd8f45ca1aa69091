import { agentAction, defineAction } from './define.ts'
import { AccountInsightsRequest, AccountInsightsResponse } from '../schemas/account-insights.ts'
import { recordAccess } from '../salesforce/queries.ts'
import { toId18 } from '../salesforce/soql.ts'
import { accountFacts } from '../postgres/insights.ts'
import { summarize } from '../domain/insights.ts'
import { NotFound } from '../errors.ts'

/**
 * The mirror has no sharing: anyone who can query it sees every row. So the caller's read
 * access is asked of the org first (UserRecordAccess, cached briefly), and only then does the
 * mirror answer.
 */
export default defineAction({
  operationId: 'accountInsights',
  summary: 'Account insights',
  description: 'How an account is doing: open pipeline by stage, revenue won in the last 12 months, open cases by priority, last activity, top products and web shop orders, with a two-sentence summary to read out. Only for accounts the caller can see in Salesforce.',
  request: AccountInsightsRequest,
  response: AccountInsightsResponse,
  sfdc: agentAction,
  handler: async (input, { caller, org, app, mirror }) => {
    const accountId = toId18(input.accountId, 'accountId')
    const notFound = new NotFound(`Account ${input.accountId} does not exist or you do not have access to it`, ['accountId'])
    const { access } = await app.accessCache.get(
      { orgId: caller.org.id, userId: caller.user.id, recordId: accountId },
      () => recordAccess(org, caller.user.id, accountId))
    if (!access.read) throw notFound
    const [facts, asOf] = await Promise.all([accountFacts(app.pg, mirror, accountId), mirror.dataAsOf('opportunity')])
    if (facts.account === null) throw notFound
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
