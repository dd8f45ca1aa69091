import fp from 'fastify-plugin'
import swaggerUi, { type FastifySwaggerUiOptions } from '@fastify/swagger-ui'
import type { OpenAPIV3 } from 'openapi-types'
import type { Config } from '../config.ts'
import { CLIENT_CONTEXT_HEADER } from '../salesforce/context.ts'

export const DOCS_PREFIX = '/docs'

type UiConfig = NonNullable<FastifySwaggerUiOptions['uiConfig']>

/** Name of the security scheme that exists only in the document the docs page reads. */
const SCHEME = 'clientContext'

/** DOCS_ENABLED, or when unset: on everywhere but production. */
export function docsEnabled (config: Config): boolean {
  return config.DOCS_ENABLED ?? config.NODE_ENV !== 'production'
}

/**
 * The document as the page needs it, never as published: the x-client-context header as an
 * `apiKey` scheme, so "try it" sends it (External Services gets the context from AppLink and
 * must not see a scheme), and a relative server, so calls go to the service serving the page.
 */
function forTheDocsPage (doc: OpenAPIV3.Document): OpenAPIV3.Document {
  return {
    ...doc,
    servers: [{ url: '/', description: 'This service' }],
    components: {
      ...doc.components,
      securitySchemes: {
        ...doc.components?.securitySchemes,
        [SCHEME]: {
          type: 'apiKey',
          in: 'header',
          name: CLIENT_CONTEXT_HEADER,
          description: 'Base64 JSON context AppLink adds to each call. `npm run dev` prints one per local-org user.'
        }
      }
    },
    security: [{ [SCHEME]: [] }]
  }
}

/**
 * `/docs`: Swagger UI over the generated spec, its assets served from the package (works
 * offline). With DOCS_CLIENT_CONTEXT the page starts authorized with that context.
 */
export default fp(async (app) => {
  const context = app.config.DOCS_CLIENT_CONTEXT
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    theme: { title: 'AppLink Actions API reference' },
    transformSpecification: (doc) => forTheDocsPage(doc as OpenAPIV3.Document),
    uiConfig: {
      displayOperationId: true,
      docExpansion: 'list',
      defaultModelsExpandDepth: 1,
      // Swagger UI writes uiConfig functions into the page as source (where `ui` is in scope);
      // built from text so the values are part of that source.
      // Each call is a new AppLink request: a fresh requestId, or write actions would replay.
      requestInterceptor: new Function('request', `
        const header = request.headers[${JSON.stringify(CLIENT_CONTEXT_HEADER)}]
        if (header) {
          try {
            const context = JSON.parse(atob(header))
            context.requestId = (context.orgId || 'docs') + '-' + crypto.randomUUID()
            request.headers[${JSON.stringify(CLIENT_CONTEXT_HEADER)}] = btoa(JSON.stringify(context))
          } catch (err) {}
        }
        return request`) as UiConfig['requestInterceptor'],
      ...(context === undefined
        ? {}
        : { onComplete: new Function(`ui.preauthorizeApiKey(${JSON.stringify(SCHEME)}, ${JSON.stringify(context)})`) as () => void })
    }
  })
}, { name: 'docs', dependencies: ['config', 'swagger'] })
