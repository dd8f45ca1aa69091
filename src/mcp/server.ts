// The MCP server of one caller, on the official SDK: it speaks the protocol (initialize, tools/list,
// tools/call, ping, errors), the toolbox answers. The SDK's low-level `Server` rather than `McpServer`:
// McpServer.registerTool takes zod schemas, and the tools' schemas are the actions' TypeBox schemas,
// already JSON Schema; the SDK documents Server "for advanced use cases" (its deprecation note).
import { createRequire } from 'node:module'
import type { FastifyBaseLogger } from 'fastify'
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js'
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv'
import type { Toolbox, ToolCaller } from './toolbox.ts'

const { name, version } = createRequire(import.meta.url)('../../package.json') as { name: string, version: string }

const INSTRUCTIONS = 'Business actions of a Salesforce org (accounts, opportunities, quotes, product availability, ' +
  'health scores), served by AppLink Actions on Heroku. Each tool runs as the org\'s AppLink authorization, not as ' +
  'the person asking. Never invent record ids: ask for them or find them first. A long rescore is started with ' +
  'startAccountRescore and followed with getJobStatus.'

/**
 * The JSON Schema validator the SDK gives each Server (for elicitation answers, which these servers
 * never ask for): one for all, made on first use. A Server of its own made a new Ajv per request,
 * a sixth of an MCP call's CPU.
 */
let validator: AjvJsonSchemaValidator | undefined

/** A server answering `who`'s requests with the toolbox's tools (one per HTTP request when stateless). */
export function mcpServer (toolbox: Toolbox, who: ToolCaller, log: FastifyBaseLogger): Server {
  const server = new Server({ name, version, title: 'AppLink Actions' }, {
    capabilities: { tools: { listChanged: false } },
    instructions: INSTRUCTIONS,
    jsonSchemaValidator: validator ??= new AjvJsonSchemaValidator()
  })
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: toolbox.list(who) }))
  server.setRequestHandler(CallToolRequestSchema, async (request) =>
    await toolbox.call(who, request.params.name, request.params.arguments, log))
  return server
}
