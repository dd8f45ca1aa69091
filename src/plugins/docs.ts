import type { FastifyInstance } from 'fastify'
import swaggerUi, { type FastifySwaggerUiOptions } from '@fastify/swagger-ui'
import type { OpenAPIV3 } from 'openapi-types'
import type { Config } from '../config.ts'
import { CLIENT_CONTEXT_HEADER } from '../salesforce/context.ts'

export const DOCS_PREFIX = '/docs'

type UiConfig = NonNullable<FastifySwaggerUiOptions['uiConfig']>
type InterceptedRequest = Parameters<NonNullable<UiConfig['requestInterceptor']>>[0]

/** Name of the security scheme that exists only in the document the docs page reads. */
const SCHEME = 'clientContext'
/** Where that scheme carries DOCS_CLIENT_CONTEXT, for the page to authorize itself with. */
const PRESET = 'x-preset-value'

/*
 * The two functions below run in the page, not here: Swagger UI writes uiConfig functions into the
 * page as their source text, so they may use only literals and the page's globals (`ui`, `crypto`).
 */

/** Each call is a new AppLink request: a fresh requestId, or write actions would replay. */
function freshRequestId (request: InterceptedRequest): InterceptedRequest {
  const headers = request.headers as Record<string, string | undefined>
  const header = headers['x-client-context']
  if (header !== undefined && header !== '') {
    try {
      const context = JSON.parse(atob(header)) as { orgId?: string, requestId?: string }
      context.requestId = (context.orgId ?? 'docs') + '-' + crypto.randomUUID()
      headers['x-client-context'] = btoa(JSON.stringify(context))
    } catch {}
  }
  return request
}

interface SwaggerUiPage {
  specSelectors: { specJson: () => { getIn: (path: string[]) => unknown } }
  preauthorizeApiKey: (scheme: string, value: string) => void
}

/** The page's Swagger UI: a `const` of the page script the uiConfig functions close over. */
declare const ui: SwaggerUiPage

/** Starts the page authorized with the context the spec carries (DOCS_CLIENT_CONTEXT), if any. */
function preauthorize () {
  const preset = ui.specSelectors.specJson().getIn(['components', 'securitySchemes', 'clientContext', 'x-preset-value'])
  if (typeof preset === 'string') ui.preauthorizeApiKey('clientContext', preset)
}

/** DOCS_ENABLED, or when unset: on everywhere but production. */
export function docsEnabled (config: Config): boolean {
  return config.DOCS_ENABLED ?? config.NODE_ENV !== 'production'
}

/**
 * The document as the page needs it, never as published: the x-client-context header as an
 * `apiKey` scheme, so "try it" sends it (External Services gets the context from AppLink and
 * must not see a scheme), and a relative server, so calls go to the service serving the page.
 */
function forTheDocsPage (doc: OpenAPIV3.Document, context: string | undefined): OpenAPIV3.Document {
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
          description: 'Base64 JSON context AppLink adds to each call. `npm run dev` prints one per local-org user.',
          ...(context === undefined ? {} : { [PRESET]: context })
        } as OpenAPIV3.ApiKeySecurityScheme
      }
    },
    security: [{ [SCHEME]: [] }]
  }
}

/**
 * `/docs`: Swagger UI over the generated spec, its assets served from the package (works
 * offline). With DOCS_CLIENT_CONTEXT the page starts authorized with that context.
 */
export default async function docsPlugin (app: FastifyInstance): Promise<void> {
  const context = app.config.DOCS_CLIENT_CONTEXT
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    theme: { title: 'AppLink Actions API reference' },
    transformSpecification: (doc) => forTheDocsPage(doc as OpenAPIV3.Document, context),
    uiConfig: {
      displayOperationId: true,
      docExpansion: 'list',
      defaultModelsExpandDepth: 1,
      requestInterceptor: freshRequestId,
      onComplete: preauthorize
    }
  })
}
