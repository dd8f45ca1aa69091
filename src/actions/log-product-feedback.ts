import { randomUUID } from 'node:crypto'
import { agentAction, defineAction } from './define.ts'
import { LogProductFeedbackRequest, LogProductFeedbackResponse } from '../schemas/product-feedback.ts'
import { idempotent } from './idempotent.ts'
import { recordFeedbackOwner } from '../postgres/feedback-owners.ts'
import { NotFound } from '../errors.ts'

/**
 * Writes to Postgres, not to Salesforce: a row in the read-write mirror table, which Heroku
 * Connect sends to the org. The product is linked by its external id, so the row needs no sfid
 * of the product and no API call.
 */
export default defineAction({
  operationId: 'logProductFeedback',
  summary: 'Record product feedback',
  description: 'Records a customer\'s rating (1 to 5) and comment about a product. The feedback reaches Salesforce as a Product_Feedback__c record through Heroku Connect shortly after; use getSyncStatus with the returned feedbackId to follow it.',
  request: LogProductFeedbackRequest,
  response: LogProductFeedbackResponse,
  sfdc: agentAction,
  handler: async (input, { caller, app }) => {
    return await idempotent({ caller, app }, 'logProductFeedback', input, async () => {
      const product = await app.mirror.findOne('product2', { external_id__c: input.productCode })
      if (product === undefined) throw new NotFound(`No product has the code ${input.productCode}`, ['productCode'])
      const externalId = randomUUID()
      const row = await app.mirror.insert('product_feedback__c', {
        product__r__external_id__c: input.productCode,
        rating__c: input.rating,
        comment__c: input.comment ?? null,
        external_id__c: externalId
      })
      await recordFeedbackOwner(app.pg, row.id, { orgId: caller.org.id, userId: caller.user.id })
      return { feedbackId: row.id, externalId, syncStatus: 'PENDING' as const }
    })
  }
})
