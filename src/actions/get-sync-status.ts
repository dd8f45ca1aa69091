import { agentAction, defineAction } from './define.ts'
import { GetSyncStatusRequest, GetSyncStatusResponse } from '../schemas/product-feedback.ts'
import { NotFound } from '../errors.ts'

export default defineAction({
  operationId: 'getSyncStatus',
  summary: 'Follow recorded feedback to Salesforce',
  description: 'Tells whether feedback recorded with logProductFeedback has reached Salesforce (SYNCED, with the record id), is still on its way (PENDING), or was refused (FAILED, with Salesforce\'s error code and message).',
  request: GetSyncStatusRequest,
  response: GetSyncStatusResponse,
  sfdc: agentAction,
  handler: async (input, { app }) => {
    const status = await app.mirror.syncStatus('product_feedback__c', input.feedbackId)
    if (status === undefined) throw new NotFound(`No feedback has the id ${input.feedbackId}`, ['feedbackId'])
    return {
      feedbackId: input.feedbackId,
      state: status.state,
      ...(status.sfid === null ? {} : { salesforceId: status.sfid }),
      ...(status.error === undefined ? {} : { errorCode: status.error.errorCode, errorMessage: status.error.message })
    }
  }
})
