import type { ActionDefinition } from './define.ts'
import whoAmI from './who-am-i.ts'
import generateQuote from './generate-quote.ts'
import checkAvailability from './check-availability.ts'
import accountInsights from './account-insights.ts'
import logProductFeedback from './log-product-feedback.ts'
import getSyncStatus from './get-sync-status.ts'
import rescoreAccounts from './rescore-accounts.ts'
import startAccountRescore from './start-account-rescore.ts'
import getJobStatus from './get-job-status.ts'

/**
 * Every action the service offers. The app registers one POST route per entry, the spec
 * generator documents them, and the tests iterate them: add a new action here.
 */
export const actions: ActionDefinition[] = [
  whoAmI,
  generateQuote,
  checkAvailability,
  accountInsights,
  logProductFeedback,
  getSyncStatus,
  rescoreAccounts,
  startAccountRescore,
  getJobStatus
]

/** The Agentforce topic that groups the agent actions (document-level `x-sfdc.agent.topic`). */
export const agentTopic = {
  name: 'sales_operations',
  classificationDescription: 'Questions and tasks about accounts, opportunities, quotes, product availability and product feedback in this Salesforce org, answered by the AppLink Actions service on Heroku.',
  scope: 'Your job is to look up account insights, check product availability, generate quotes for opportunities and record product feedback, using only the actions of this topic.',
  instructions: [
    'Use checkAvailability when the user asks whether products can ship, with product codes and quantities.',
    'Use accountInsights when the user asks how an account is doing; read the summary back in plain words.',
    'Use generateQuote only when the user asks for a quote for a specific opportunity, and give the quote id and grand total.',
    'Never invent record ids: ask the user for them or find them first.'
  ]
}
