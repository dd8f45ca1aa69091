import { agentAction, defineAction } from './define.ts'
import { LogProductFeedbackRequest, LogProductFeedbackResponse } from '../schemas/product-feedback.ts'
import { recordFeedbackOwner } from '../postgres/feedback-owners.ts'
import { NotFound } from '../errors.ts'

/**
 * Writes to Postgres, not to Salesforce: a row in the read-write mirror table, which Heroku
 * Connect sends to the org. The product is linked by its external id, so the row needs no sfid
 * of the product and no API call. Sharing: the product is looked up by code only to refuse an
 * unknown one (products have no record-level sharing), and the answer is the caller's own new row.
 */
export default defineAction({
  operationId: 'logProductFeedback',
  summary: 'Record product feedback',
  description: 'Records a customer\'s rating (1 to 5) and comment about a product. The feedback reaches Salesforce as a Product_Feedback__c record through Heroku Connect shortly after; use getSyncStatus with the returned feedbackId to follow it.',
  request: LogProductFeedbackRequest,
  response: LogProductFeedbackResponse,
  sfdc: agentAction,
  // Adds a feedback row; the same idempotency key answers the same row. Not over MCP: the feedback
  // would be recorded as the org's AppLink run-as user's, not the customer's or the rep's.
  tool: { readOnly: false, destructive: false, idempotent: true },
  handler: async (input, { caller, appData, mirror, once }) => {
    return await once(input, async (claim) => {
      const product = await mirror.findOne('product2', { external_id__c: input.productCode })
      if (product === undefined) throw new NotFound(`No product has the code ${input.productCode}`, ['productCode'])
      // The request's key is the row's External_Id__c, the upsert field of the read-write mapping
      // (connect/mapping.json), and unique in the mirror: an attempt that inserted the row and died
      // before recording its answer is found again, so a retry never writes a second feedback.
      const externalId = claim.orgKey
      const row = await mirror.insertOnce('product_feedback__c', 'external_id__c', {
        product__r__external_id__c: input.productCode,
        rating__c: input.rating,
        comment__c: input.comment ?? null,
        external_id__c: externalId
      })
      await recordFeedbackOwner(appData, row.id, caller.user.id)
      return { feedbackId: row.id, externalId, syncStatus: 'PENDING' as const }
    })
  }
})
