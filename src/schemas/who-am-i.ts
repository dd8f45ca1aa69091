import { Type } from 'typebox'
import { SalesforceId } from './common.ts'
import { agentOutput, agentPiiOutput } from './agent-flags.ts'

export const WhoAmIRequest = Type.Object({}, { additionalProperties: false, description: 'No input' })

export const WhoAmIResponse = Type.Object({
  orgId: SalesforceId({ description: 'Id of the calling org', ...agentOutput }),
  userId: SalesforceId({ description: 'Id of the calling user', ...agentOutput }),
  username: Type.String({ description: 'Username of the calling user', ...agentPiiOutput }),
  apiVersion: Type.String({ description: 'REST API version the org is called with, for example 62.0', ...agentOutput }),
  orgDomainUrl: Type.String({ description: 'My Domain URL of the org', ...agentOutput })
}, { additionalProperties: false, description: 'The calling org and user' })
