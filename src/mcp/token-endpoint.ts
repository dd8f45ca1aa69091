// The OAuth 2.0 token endpoint, client credentials grant only (RFC 6749 §4.4): the client authenticates
// with HTTP Basic (`client_secret_basic`) or in the body (`client_secret_post`), RFC 6749 §2.3.1, and
// gets a short-lived bearer token for /mcp. Errors as RFC 6749 §5.2 has them.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { McpClientSetting } from '../config.ts'
import { secretMatches, type AccessTokens } from './tokens.ts'
import { TOKEN_PATH } from './paths.ts'

export interface TokenEndpointOptions {
  clients: ReadonlyMap<string, McpClientSetting>
  tokens: AccessTokens
  /** The resource (the /mcp URL) a request's tokens are for. */
  resource: (request: FastifyRequest) => string
  issuer: (request: FastifyRequest) => string
}

type OAuthError = 'invalid_request' | 'invalid_client' | 'unsupported_grant_type' | 'invalid_target'

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encodes them. */
const formDecoded = (text: string): string => decodeURIComponent(text.replaceAll('+', ' '))

/** The credentials of a Basic header, or undefined when it is not one. */
function basicCredentials (header: string | undefined): { id: string, secret: string } | undefined {
  if (header === undefined || !/^Basic /i.test(header)) return undefined
  const text = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
  const colon = text.indexOf(':')
  if (colon < 0) return undefined
  try {
    return { id: formDecoded(text.slice(0, colon)), secret: formDecoded(text.slice(colon + 1)) }
  } catch {
    return undefined
  }
}

export function tokenEndpoint (app: FastifyInstance, opts: TokenEndpointOptions): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, new URLSearchParams(body as string))
  })

  const fail = async (
    reply: FastifyReply,
    error: OAuthError,
    description: string,
    basic = false
  ): Promise<FastifyReply> => {
    // RFC 6749 §5.2: a client that tried the Authorization header gets 401 with a challenge of its scheme.
    if (basic) void reply.header('www-authenticate', 'Basic realm="mcp", charset="UTF-8"')
    return await reply.status(error === 'invalid_client' ? 401 : 400).header('cache-control', 'no-store')
      .send({ error, error_description: description })
  }

  app.post(TOKEN_PATH, async (request, reply) => {
    const params = request.body instanceof URLSearchParams ? request.body : undefined
    if (params === undefined) return await fail(reply, 'invalid_request', 'Send the request as application/x-www-form-urlencoded')
    // RFC 6749 §3.2: "Request and response parameters MUST NOT be included more than once."
    const repeated = [...new Set(params.keys())].find((name) => params.getAll(name).length > 1)
    if (repeated !== undefined) return await fail(reply, 'invalid_request', `The parameter ${repeated} is given more than once`)
    const basic = basicCredentials(request.headers.authorization)
    const posted = params.get('client_id') ?? undefined
    // RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each request."
    if (basic !== undefined && (posted !== undefined || params.has('client_secret'))) {
      return await fail(reply, 'invalid_request', 'Authenticate with HTTP Basic or with client_id and client_secret, not both')
    }
    const id = basic?.id ?? posted
    const secret = basic?.secret ?? params.get('client_secret') ?? undefined
    const client = id === undefined ? undefined : opts.clients.get(id)
    if (client === undefined || secret === undefined || !secretMatches(client, secret)) {
      request.log.info({ clientId: id }, 'MCP client authentication failed')
      return await fail(reply, 'invalid_client', 'Unknown client or wrong secret', basic !== undefined)
    }
    const grant = params.get('grant_type')
    if (grant === null) return await fail(reply, 'invalid_request', 'grant_type is required (client_credentials)')
    if (grant !== 'client_credentials') {
      return await fail(reply, 'unsupported_grant_type', 'The only grant is client_credentials')
    }
    // RFC 8707 §2: a resource this server does not serve is invalid_target; none means /mcp.
    const resource = opts.resource(request)
    const asked = params.get('resource')
    if (asked !== null && asked !== resource) {
      return await fail(reply, 'invalid_target', `Tokens are issued for ${resource} only`)
    }
    const { token, expiresIn } = await opts.tokens.issue(client.clientId, opts.issuer(request), resource)
    request.log.info({ clientId: client.clientId, orgId: client.orgId }, 'MCP access token issued')
    // RFC 6749 §5.1: "Cache-Control: no-store" and "Pragma: no-cache" on an answer with a token.
    return await reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
      .send({ access_token: token, token_type: 'Bearer', expires_in: expiresIn })
  })
}
