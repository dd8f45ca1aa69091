import { Type } from 'typebox'
import { Money, SalesforceId } from './common.ts'
import { agentInput, agentOutput } from './agent-flags.ts'

export const AccountInsightsRequest = Type.Object({
  accountId: SalesforceId({ description: 'Id of the Account (15 or 18 characters)', ...agentInput })
}, { additionalProperties: false })

export const AccountInsightsResponse = Type.Object({
  accountId: SalesforceId({ description: 'Id of the Account', ...agentOutput }),
  accountName: Type.String({ description: 'Account name', ...agentOutput }),
  summary: Type.String({ description: 'Two sentences on the account, to read out', ...agentOutput }),
  openPipeline: Money({ description: 'Amount of open opportunities', ...agentOutput }),
  pipelineByStage: Type.Array(Type.Object({
    stage: Type.String({ description: 'Opportunity stage' }),
    count: Type.Integer({ description: 'Open opportunities in the stage' }),
    amount: Money({ description: 'Their amount' })
  }, { additionalProperties: false }), { description: 'Open pipeline per stage', ...agentOutput }),
  wonRevenueLast12Months: Money({ description: 'Amount of opportunities won in the last 12 months', ...agentOutput }),
  openCasesByPriority: Type.Array(Type.Object({
    priority: Type.String({ description: 'Case priority' }),
    count: Type.Integer({ description: 'Open cases with it' })
  }, { additionalProperties: false }), { description: 'Open cases per priority', ...agentOutput }),
  lastActivityAt: Type.Optional(Type.String({ format: 'date-time', description: 'Latest change to an opportunity or open case', ...agentOutput })),
  topProducts: Type.Array(Type.Object({
    name: Type.String({ description: 'Product name' }),
    productCode: Type.Optional(Type.String({ description: 'Product code' })),
    revenue: Money({ description: 'Won revenue from it' })
  }, { additionalProperties: false }), { description: 'Best-selling products for the account', ...agentOutput }),
  webOrdersLast12Months: Type.Object({
    count: Type.Integer({ description: 'Web shop orders' }),
    total: Money({ description: 'Their total' }),
    lastOrderAt: Type.Optional(Type.String({ format: 'date-time', description: 'Latest web order' }))
  }, { additionalProperties: false, description: 'Orders from the web shop, which Salesforce does not hold', ...agentOutput }),
  dataAsOf: Type.Optional(Type.String({ format: 'date-time', description: 'When the figures were last synced from Salesforce', ...agentOutput }))
}, { additionalProperties: false, description: 'What is known about the account' })
