import { flowAction, defineAction } from './define.ts'
import { InvalidRequest } from '../errors.ts'
import { RescoreAccountsAccepted, RescoreAccountsRequest, RescoreSummary } from '../schemas/jobs.ts'
import { startRescoreJob } from './rescore-job.ts'

/**
 * Long work for Apex: answers 202 with a job id at once; a worker writes the scores and calls
 * back. External Services "asynchronous callback operations are supported in Apex but not in
 * Flow" (Salesforce Help, "Asynchronous Callback Operations Using Apex"): Flow starts the same
 * job with startAccountRescore and learns of its end from the Account_Rescore__e platform event.
 */
export default defineAction({
  operationId: 'rescoreAccounts',
  summary: 'Recompute account health scores',
  description: 'Recomputes the health score (0-100) of every account that matches the filter, from open pipeline, ' +
    'revenue won in the last 12 months, open cases and recent activity, and writes Health_Score__c and ' +
    'Health_Scored_At__c as the calling user. Answers at once with a job id; when the job ends, a summary with ' +
    'the accounts Salesforce refused is POSTed to callbackUrl. Use getJobStatus to follow progress. For Apex: ' +
    'callbacks are not available in Flow, which uses startAccountRescore.',
  request: RescoreAccountsRequest,
  response: RescoreAccountsAccepted,
  successStatus: 202,
  sfdc: flowAction,
  callbacks: {
    rescoreAccountsDone: {
      '{$request.body#/callbackUrl}': {
        post: {
          summary: 'Summary of a finished rescore',
          requestBody: { required: true, content: { 'application/json': { schema: RescoreSummary } } },
          responses: { 200: { description: 'Summary received' } }
        }
      }
    }
  },
  handler: async (input, ctx) => {
    if (!ctx.jobs.allowsCallback(input.callbackUrl)) {
      throw new InvalidRequest(
        'callbackUrl must be on a Salesforce domain of the calling org or an origin in CALLBACK_ALLOWED_ORIGINS',
        ['callbackUrl'])
    }
    const { callbackUrl, ...filter } = input
    return await startRescoreJob(ctx, { filter, callbackUrl })
  }
})
