import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import swaggerUi from '@fastify/swagger-ui'
import type { OpenAPIV3 } from 'openapi-types'
import { Type } from 'typebox'
import type { Config } from '../config.ts'
import { actionPath } from '../actions/define.ts'
import { CLIENT_CONTEXT_HEADER } from '../salesforce/context.ts'

export const DOCS_PREFIX = '/docs'
/** Where the page's "try it" calls go: this plugin's forwarder, never the action routes directly. */
export const DOCS_TRY_PREFIX = `${DOCS_PREFIX}/try`

/** Name of the security scheme that exists only in the document the docs page reads. */
const SCHEME = 'clientContext'

/** Headers of the action's answer that belong to its own connection, not to the page's. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date'])

/** DOCS_ENABLED, or when unset: on everywhere but production. */
export function docsEnabled (config: Config): boolean {
  return config.DOCS_ENABLED ?? config.NODE_ENV !== 'production'
}

/**
 * The document as the page needs it, never as published: its server is the docs forwarder, so
 * "try it" reaches the actions with a context added on the server (the page never holds a
 * token), and an optional `apiKey` scheme lets a person paste a context of their own (External
 * Services gets the context from AppLink and must not see a scheme).
 */
function forTheDocsPage (doc: OpenAPIV3.Document): OpenAPIV3.Document {
  return {
    ...doc,
    servers: [{ url: DOCS_TRY_PREFIX, description: 'This service, through the API reference' }],
    components: {
      ...doc.components,
      securitySchemes: {
        ...doc.components?.securitySchemes,
        [SCHEME]: {
          type: 'apiKey',
          in: 'header',
          name: CLIENT_CONTEXT_HEADER,
          description: 'Optional: a base64 JSON context of your own (`npm run dev` prints one per local-org user). ' +
            'Without one, calls run as the user of the context the service was given (DOCS_CLIENT_CONTEXT).'
        }
      }
    },
    security: [{}, { [SCHEME]: [] }]
  }
}

/**
 * The same context as a new AppLink request: a fresh requestId, as each real invocation has, so
 * write actions do not replay the previous answer. A header that is not a context goes on as it
 * is, for the action route to refuse with its own words.
 */
function withFreshRequestId (header: string): string {
  try {
    const context = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as unknown
    if (typeof context !== 'object' || context === null || Array.isArray(context)) return header
    const { orgId } = context as { orgId?: unknown }
    const requestId = `${typeof orgId === 'string' ? orgId : 'docs'}-${randomUUID()}`
    return Buffer.from(JSON.stringify({ ...context, requestId })).toString('base64')
  } catch {
    return header
  }
}

/**
 * `/docs`: Swagger UI over the generated spec, its assets served from the package (works
 * offline), and `POST /docs/try/actions/:operationId`, which forwards the page's call to the
 * action with the caller's pasted context or DOCS_CLIENT_CONTEXT, so the token stays on the server.
 */
export default async function docsPlugin (app: FastifyInstance): Promise<void> {
  const preset = app.config.DOCS_CLIENT_CONTEXT
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    theme: { title: 'AppLink Actions API reference' },
    transformSpecification: (doc) => forTheDocsPage(doc as OpenAPIV3.Document),
    uiConfig: {
      displayOperationId: true,
      docExpansion: 'list',
      defaultModelsExpandDepth: 1
    }
  })

  // The body goes on untouched, so the action route parses, limits and refuses it as for any caller.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })
  app.post(`${DOCS_TRY_PREFIX}/actions/:operationId`, {
    // A name only, so the forwarded call cannot leave /actions.
    schema: { hide: true, params: Type.Object({ operationId: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]*$' }) }) }
  }, async (request, reply) => {
    const { operationId } = request.params as { operationId: string }
    const given = request.headers[CLIENT_CONTEXT_HEADER]
    const context = typeof given === 'string' && given.trim() !== '' ? given : preset
    const contentType = request.headers['content-type']
    const answer = await app.inject({
      method: 'POST',
      url: actionPath(operationId),
      headers: {
        ...(contentType === undefined ? {} : { 'content-type': contentType }),
        ...(context === undefined ? {} : { [CLIENT_CONTEXT_HEADER]: withFreshRequestId(context) })
      },
      ...(request.body === undefined ? {} : { payload: request.body as Buffer })
    })
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) void reply.header(name, value)
    }
    return reply.status(answer.statusCode).send(answer.rawPayload)
  })
}
