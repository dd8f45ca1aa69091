import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import type { OpenAPIV3 } from 'openapi-types'
import type { ActionDefinition } from '../actions/define.ts'

export interface SwaggerOptions {
  actions: ActionDefinition[]
  /** Document-level `x-sfdc.agent.topic` that groups the agent actions. */
  agentTopic: Record<string, unknown>
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const

/**
 * @fastify/swagger configured for what Salesforce registers: OpenAPI 3.0, components named by
 * their `$id` (they become Apex class names), and the `x-sfdc` extensions, which it drops on
 * operations, added back from the action list.
 */
export default fp<SwaggerOptions>(async (app, { actions, agentTopic }) => {
  const byOperationId = new Map(actions.map((a) => [a.operationId, a]))
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'AppLink Actions',
        version: '1.0.0',
        description: 'Business actions for Salesforce (Flow, Apex, Agentforce) running on Heroku through Heroku AppLink.'
      },
      servers: [{ url: 'http://127.0.0.1:3000', description: 'Local development (AppLink replaces it when publishing)' }]
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => typeof json.$id === 'string' ? json.$id : `Schema${i}`
    },
    transformObject: (documents) => {
      if (!('openapiObject' in documents)) return documents.swaggerObject
      const doc = documents.openapiObject as OpenAPIV3.Document & Record<string, unknown>
      for (const pathItem of Object.values(doc.paths ?? {})) {
        for (const method of HTTP_METHODS) {
          const operation = pathItem?.[method] as (OpenAPIV3.OperationObject & Record<string, unknown>) | undefined
          const action = operation?.operationId === undefined ? undefined : byOperationId.get(operation.operationId)
          if (operation === undefined || action === undefined) continue
          if (action.sfdc !== undefined) operation['x-sfdc'] = action.sfdc
          if (action.callbacks !== undefined) operation.callbacks = action.callbacks as OpenAPIV3.OperationObject['callbacks']
        }
      }
      return { ...doc, 'x-sfdc': { agent: { topic: agentTopic } } }
    }
  })
}, { name: 'swagger' })
