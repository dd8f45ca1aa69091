import { agentAction, defineAction, readOnlyTool } from './define.ts'
import { GetSyncStatusRequest, GetSyncStatusResponse } from '../schemas/product-feedback.ts'
import { NotFound } from '../errors.ts'
import { ownsFeedback } from '../postgres/feedback-owners.ts'

/**
 * Sharing: answers only for feedback the caller recorded (the app's feedback_owners table says whose
 * row it is), so no org record of anyone else is read from the mirror; others get 404.
 */
export default defineAction({
  operationId: 'getSyncStatus',
  summary: 'Follow recorded feedback to Salesforce',
  description: 'Tells whether feedback the caller recorded with logProductFeedback has reached Salesforce (SYNCED, with the record id), is still on its way (PENDING), or was refused (FAILED, with Salesforce\'s error code and message).',
  request: GetSyncStatusRequest,
  response: GetSyncStatusResponse,
  sfdc: agentAction,
  tool: readOnlyTool,
  handler: async (input, { caller, appData, mirror }) => {
    const notFound = new NotFound(`No feedback of yours has the id ${input.feedbackId}`, ['feedbackId'])
    if (!await ownsFeedback(appData, input.feedbackId, caller.user.id)) throw notFound
    const status = await mirror.syncStatus('product_feedback__c', input.feedbackId)
    if (status === undefined) throw notFound
    return {
      feedbackId: input.feedbackId,
      state: status.state,
      ...(status.sfid === null ? {} : { salesforceId: status.sfid }),
      ...(status.error === undefined ? {} : { errorCode: status.error.errorCode, errorMessage: status.error.message })
    }
  }
})
