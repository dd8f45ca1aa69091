import { Type } from 'typebox'
import { IdempotencyKey, SalesforceId, StringEnum, Text } from './common.ts'
import { agentInput, agentOutput, agentPiiInput } from './agent-flags.ts'

/** Where a feedback row stands on its way to Salesforce through Heroku Connect. */
const SYNC_STATES = ['PENDING', 'SYNCED', 'FAILED'] as const

export const LogProductFeedbackRequest = Type.Object({
  productCode: Text({ minLength: 1, maxLength: 40, description: 'Code of the product the feedback is about (its external id)', ...agentInput }),
  rating: Type.Integer({ minimum: 1, maximum: 5, description: 'Rating from 1 (poor) to 5 (excellent)', ...agentInput }),
  comment: Type.Optional(Text({ maxLength: 1000, description: 'What the customer said (may name people)', ...agentPiiInput })),
  idempotencyKey: IdempotencyKey(64, 'record')
}, { additionalProperties: false })

export const LogProductFeedbackResponse = Type.Object({
  feedbackId: Type.Integer({ description: 'Id of the feedback in the service, for getSyncStatus', ...agentOutput }),
  externalId: Type.String({ description: 'External id the Salesforce record will carry', ...agentOutput }),
  syncStatus: StringEnum(SYNC_STATES, { description: 'PENDING until Heroku Connect has written it to Salesforce', ...agentOutput }),
  replayed: Type.Boolean({ description: 'True when this call repeated an earlier one', ...agentOutput })
}, { additionalProperties: false, description: 'The recorded feedback' })

export const GetSyncStatusRequest = Type.Object({
  feedbackId: Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'feedbackId returned by logProductFeedback', ...agentInput })
}, { additionalProperties: false })

export const GetSyncStatusResponse = Type.Object({
  feedbackId: Type.Integer({ description: 'The feedback asked about', ...agentOutput }),
  state: StringEnum(SYNC_STATES, { description: 'PENDING: on its way to Salesforce; SYNCED: in Salesforce; FAILED: Salesforce refused it', ...agentOutput }),
  salesforceId: Type.Optional(SalesforceId({ description: 'Id of the Product_Feedback__c record once in Salesforce', ...agentOutput })),
  errorCode: Type.Optional(Type.String({ description: 'Salesforce error code when FAILED', ...agentOutput })),
  errorMessage: Type.Optional(Type.String({ description: 'Salesforce error message when FAILED', ...agentOutput }))
}, { additionalProperties: false, description: 'Where the feedback stands on its way to Salesforce' })
