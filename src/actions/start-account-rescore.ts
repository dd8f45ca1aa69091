import { flowAction, defineAction } from './define.ts'
import { StartAccountRescoreAccepted, StartAccountRescoreRequest } from '../schemas/jobs.ts'
import { startRescoreJob } from './rescore-job.ts'

/**
 * The Flow path to the rescore job. External Services "asynchronous callback operations are
 * supported in Apex but not in Flow" (Salesforce Help, "Asynchronous Callback Operations Using
 * Apex"), so this operation has no `callbacks`: it starts the same job as rescoreAccounts and
 * answers the job id; the end of the job is announced inside the org by the platform event
 * Account_Rescore__e, which a platform event-triggered flow acts on.
 *
 * The answer is a typed 202: "If the operation's response parameter (OpenAPI) is defined under an
 * HTTP response code value […], then the operation output parameter name is the HTTP response
 * code value" (Salesforce Help, "Operation Output Parameters"), so Flow reads it as output `202`.
 *
 * Not an agent action (our reading, not a documented rule): the end of the job reaches the org as
 * an event, never the conversation that started it, and the topic's scope does not cover writing
 * to many accounts at once.
 */
export default defineAction({
  operationId: 'startAccountRescore',
  summary: 'Start recomputing account health scores',
  description: 'Starts the job that recomputes the health score (0-100) of every account that matches the filter ' +
    'and writes Health_Score__c and Health_Scored_At__c as the calling user. Answers at once with the job id. ' +
    'When the job ends (completed, or failed for good) the platform event Account_Rescore__e is published in ' +
    'the org with the job id, the state and the counts of accounts written, rejected by Salesforce and not ' +
    'editable by the user: a platform event-triggered flow can act on it. Use getJobStatus to follow progress. ' +
    'For Flow; Apex can use rescoreAccounts and its callback instead.',
  request: StartAccountRescoreRequest,
  response: StartAccountRescoreAccepted,
  successStatus: 202,
  sfdc: flowAction,
  // Overwrites the accounts' scores (destructive: not only additive); the same filter while its job
  // runs answers that job, and a later run computes the same scores from the same data (idempotent).
  // Over MCP it is the long-work door (with getJobStatus): the run-as user of an AppLink authorization
  // is who rescoring jobs already run as (README, "Long-running work").
  tool: { readOnly: false, destructive: true, idempotent: true, writesOverMcp: true },
  handler: async (filter, ctx) => await startRescoreJob(ctx, { filter })
})
