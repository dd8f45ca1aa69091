// The MCP door, encapsulated: /mcp (Streamable HTTP, stateless: each POST its own SDK server and
// transport, no session between calls), the OAuth 2.0 client credentials token endpoint (RFC 6749
// §4.4) and the metadata a standard MCP client discovers them by (RFC 9728, RFC 8414). None of these
// routes comes through AppLink: heroku-applink-service-mesh.yaml lets them past the mesh.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { authorizationFor, mcpClients, type McpClientSetting } from '../config.ts'
import type { ActionDefinition } from '../actions/define.ts'
import { hostCheck } from './guard.ts'
import { mcpServer } from './server.ts'
import { AccessTokens } from './tokens.ts'
import { Toolbox, type ToolCaller } from './toolbox.ts'
import { tokenEndpoint } from './token-endpoint.ts'
import { traceRequests } from '../telemetry/tracing.ts'
import { AUTHORIZE_PATH, MCP_PATH, RESOURCE_METADATA_PATH, SERVER_METADATA_PATH, TOKEN_PATH } from './paths.ts'

/**
 * The service's origin as its callers reach it: the Host header (checked against
 * MCP_ALLOWED_HOSTS before any route of this scope runs) and the scheme the Heroku router reports
 * in X-Forwarded-Proto. The issuer, the resource and the metadata URLs all derive from it.
 */
export function publicOrigin (request: FastifyRequest): string {
  const forwarded = request.headers['x-forwarded-proto']
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim()
  return `${proto === 'https' || proto === 'http' ? proto : request.protocol}://${request.headers.host ?? ''}`
}

export interface McpRoutesOptions { actions: readonly ActionDefinition[] }

export default async function mcpRoutes (app: FastifyInstance, { actions }: McpRoutesOptions): Promise<void> {
  const { config } = app
  const toolbox = new Toolbox(app, actions)
  const clients = new Map(mcpClients(config).map((client) => [client.clientId, client]))
  for (const client of clients.values()) {
    const unknown = (client.tools ?? []).filter((name) => !toolbox.names.includes(name))
    if (unknown.length > 0) {
      throw new Error(`MCP_CLIENTS: the client ${client.clientId} names tools that do not exist: ${unknown.join(', ')}; ` +
        `the tools are ${toolbox.names.join(', ')}`)
    }
  }
  // Without clients nothing is issued; a key of the process still lets /mcp refuse every token alike.
  const key = config.MCP_TOKEN_SIGNING_KEY === undefined
    ? crypto.getRandomValues(new Uint8Array(32))
    : new Uint8Array(Buffer.from(config.MCP_TOKEN_SIGNING_KEY, 'base64'))
  const tokens = new AccessTokens(key, config.MCP_TOKEN_TTL_SECONDS)
  const refused = hostCheck(config)

  // Before the host check, so its refusals are traced too.
  traceRequests(app)
  app.addHook('onRequest', (request, reply, done) => {
    const reason = refused(request)
    if (reason === undefined) {
      done()
      return
    }
    request.log.info({ host: request.headers.host, origin: request.headers.origin }, reason)
    void reply.status(403).send({ jsonrpc: '2.0', error: { code: -32000, message: `Forbidden: ${reason}` }, id: null })
  })

  const resourceMetadataUrl = (request: FastifyRequest): string => `${publicOrigin(request)}${RESOURCE_METADATA_PATH}${MCP_PATH}`
  // RFC 9728 §3.1: the metadata of the resource https://host/mcp is at
  // /.well-known/oauth-protected-resource/mcp; the bare well-known path serves the same document.
  for (const path of [RESOURCE_METADATA_PATH, `${RESOURCE_METADATA_PATH}${MCP_PATH}`]) {
    app.get(path, async (request) => {
      const origin = publicOrigin(request)
      return {
        resource: `${origin}${MCP_PATH}`,
        authorization_servers: [origin],
        bearer_methods_supported: ['header'],
        resource_name: 'AppLink Actions'
      }
    })
  }
  app.get(SERVER_METADATA_PATH, async (request) => {
    const origin = publicOrigin(request)
    return {
      issuer: origin,
      token_endpoint: `${origin}${TOKEN_PATH}`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      // RFC 8414 §2 makes the authorization endpoint optional when no grant uses it, but the MCP SDK's
      // client refuses metadata without one (OAuthMetadataSchema in @modelcontextprotocol/sdk's
      // shared/auth: authorization_endpoint and response_types_supported are required): it is given,
      // and it refuses every request.
      authorization_endpoint: `${origin}${AUTHORIZE_PATH}`,
      response_types_supported: []
    }
  })
  app.get(AUTHORIZE_PATH, async (_request, reply) => await reply.status(400).send({
    error: 'unsupported_response_type',
    error_description: 'This authorization server issues tokens only by the client credentials grant at ' + TOKEN_PATH
  }))
  tokenEndpoint(app, { clients, tokens, resource: (request) => `${publicOrigin(request)}${MCP_PATH}`, issuer: publicOrigin })

  /** The caller of a /mcp request, or undefined after answering 401. */
  async function authenticated (request: FastifyRequest, reply: FastifyReply): Promise<ToolCaller | undefined> {
    const header = request.headers.authorization
    const token = header?.startsWith('Bearer ') === true ? header.slice(7).trim() : undefined
    const origin = publicOrigin(request)
    const clientId = token === undefined ? undefined : await tokens.clientOf(token, origin, `${origin}${MCP_PATH}`)
    const client = clientId === undefined ? undefined : clients.get(clientId)
    if (client === undefined) {
      // RFC 9728 §5.1: the challenge names the resource metadata; RFC 6750 §3.1: invalid_token once a token was sent.
      const error = token === undefined ? '' : ', error="invalid_token", error_description="The access token is invalid or expired"'
      void reply.status(401).header('www-authenticate', `Bearer resource_metadata="${resourceMetadataUrl(request)}"${error}`)
      void reply.send({ error: token === undefined ? 'invalid_request' : 'invalid_token', error_description: 'A bearer token from ' + TOKEN_PATH + ' is required' })
      return undefined
    }
    return callerOf(client)
  }

  const callerOf = (client: McpClientSetting): ToolCaller => ({
    clientId: client.clientId,
    // config.ts refuses a client whose org has no authorization.
    authorization: authorizationFor(config, client.orgId) ?? '',
    orgId: client.orgId,
    tools: client.tools === undefined ? undefined : new Set(client.tools)
  })

  app.post(MCP_PATH, async (request, reply) => {
    const who = await authenticated(request, reply)
    if (who === undefined) return reply
    const server = mcpServer(toolbox, who, request.log)
    // Stateless (no session id) with JSON answers: each POST is answered in full, no stream kept open.
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
    reply.hijack()
    // A client gone before its answer: closing aborts the tool call still running. After a full answer
    // there is nothing to stop, and closing would only make (and drop) a "Connection closed" error.
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) void transport.close().finally(() => server.close())
    })
    try {
      await server.connect(transport)
      await transport.handleRequest(request.raw, reply.raw, request.body)
    } catch (err) {
      request.log.error({ err }, 'MCP request failed')
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'content-type': 'application/json' })
        reply.raw.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null }))
      }
    }
    return reply
  })
  // Stateless: no stream to open (GET) and no session to end (DELETE). MCP, "Transports": the server
  // "MUST either return Content-Type: text/event-stream in response to this HTTP GET, or else return
  // HTTP 405 Method Not Allowed".
  for (const method of ['GET', 'DELETE'] as const) {
    app.route({
      method,
      url: MCP_PATH,
      handler: async (_request, reply) => await reply.status(405).header('allow', 'POST').send({
        jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this server is stateless, POST only' }, id: null
      })
    })
  }
}
