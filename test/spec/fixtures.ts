// One valid spec shaped like the generated one; each lint test breaks one thing in a copy of it.
import { fileURLToPath } from 'node:url'

export const METADATA_DIR = fileURLToPath(new URL('../../salesforce/force-app/main/default', import.meta.url))

const userInput = (isUserInput: boolean) => ({ 'x-sfdc': { agent: { action: { isUserInput } } } })
const displayable = () => ({ 'x-sfdc': { agent: { action: { isDisplayable: true } } } })
const errorResponse = () => ({
  description: 'Bad request',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
})

/** The callbacks of an asynchronous operation (Apex-only, so not in the base spec). */
export const rescoreCallbacks = () => ({
  rescoreDone: {
    '{$request.body#/callbackUrl}': {
      post: {
        requestBody: {
          content: { 'application/json': { schema: { $ref: '#/components/schemas/RescoreResult' } } },
        },
        responses: { 200: { description: 'Received' } },
      },
    },
  },
})

export function validSpec (): Record<string, any> {
  return {
    openapi: '3.0.3',
    info: { title: 'AppLink Actions', version: '1.0.0', description: 'Business actions on Heroku.' },
    'x-sfdc': {
      agent: {
        topic: {
          name: 'sales_operations',
          classificationDescription: 'Quotes, availability and account insights for sellers.',
          scope: 'Your job is to help sellers price deals and understand their accounts.',
          instructions: ['Ask for the Opportunity before generating a quote.'],
        },
      },
    },
    paths: {
      '/actions/whoAmI': {
        post: {
          operationId: 'whoAmI',
          description: 'Returns the calling Salesforce user.',
          'x-sfdc': { agent: { action: { publishAsAgentAction: true } } },
          responses: {
            200: {
              description: 'The caller',
              content: {
                'application/json': {
                  schema: { type: 'object', properties: { userId: { type: 'string', ...displayable() } } },
                },
              },
            },
          },
        },
      },
      '/actions/generateQuote': {
        post: {
          operationId: 'generateQuote',
          description: 'Creates a Quote with line items from an Opportunity.',
          'x-sfdc': {
            heroku: { authorization: { permissionSet: 'AppLinkActions_User' } },
            agent: { action: { publishAsAgentAction: true } },
          },
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['opportunityId'],
                  properties: { opportunityId: { type: 'string', ...userInput(true) } },
                },
              },
            },
          },
          responses: {
            200: {
              description: 'The new Quote',
              content: {
                'application/json': {
                  schema: { type: 'object', properties: { quoteId: { type: 'string', ...displayable() } } },
                },
              },
            },
            400: errorResponse(),
          },
        },
      },
      '/actions/rescoreAccounts': {
        post: {
          operationId: 'rescoreAccounts',
          description: 'Rescores accounts in the background.',
          requestBody: {
            content: { 'application/json': { schema: { $ref: '#/components/schemas/RescoreRequest' } } },
          },
          responses: {
            202: {
              description: 'Accepted',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/RescoreResult' } } },
            },
            400: errorResponse(),
          },
        },
      },
    },
    components: {
      schemas: {
        ErrorBody: {
          type: 'object',
          properties: { message: { type: 'string' }, errorCode: { type: 'string' } },
        },
        RescoreRequest: {
          type: 'object',
          required: ['callbackUrl'],
          properties: { callbackUrl: { type: 'string', format: 'uri' }, accountIds: { type: 'array', items: { type: 'string' } } },
        },
        RescoreResult: {
          type: 'object',
          properties: { jobId: { type: 'string' }, rescored: { type: 'integer' } },
        },
      },
    },
  }
}
