// `npm run -s mcp:stdio` (Procfile `mcp`): the same MCP tools over stdio, for hosts that run an MCP
// server as a process (desktop assistants, IDE agents, Heroku Managed Inference and Agents, whose
// registered servers are Procfile process types whose names "must start with 'mcp'": Heroku Dev
// Center, "Managed Inference and Agents API /v1/mcp/servers", process_type). No OAuth here: MCP,
// "Authorization": "Implementations using an STDIO transport SHOULD NOT follow this specification,
// and instead retrieve credentials from the environment." The process acts as the AppLink
// authorization its environment names (MCP_STDIO_AUTHORIZATION, else APPLINK_AUTHORIZATION), with
// every tool. stdout carries the protocol: the log goes to stderr.
import Fastify from 'fastify'
import closeWithGrace from 'close-with-grace'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import app from './app.ts'
import { actions } from './actions/index.ts'
import { loadConfigOrExit } from './config.ts'
import { mcpServer } from './mcp/server.ts'
import { Toolbox } from './mcp/toolbox.ts'
import { serverOptions } from './server-options.ts'

const config = loadConfigOrExit(process.env)
const authorization = config.MCP_STDIO_AUTHORIZATION ?? config.APPLINK_AUTHORIZATION
if (authorization === undefined) {
  process.stderr.write('mcp:stdio acts as an AppLink authorization: set MCP_STDIO_AUTHORIZATION or APPLINK_AUTHORIZATION ' +
    '(and the add-on\'s HEROKU_APP_ID, HEROKU_APPLINK_API_URL and HEROKU_APPLINK_TOKEN)\n')
  process.exit(1)
}
const service = Fastify(serverOptions(config, { level: config.LOG_LEVEL, stream: process.stderr }))

closeWithGrace({ delay: 10_000, logger: service.log }, async ({ err }) => {
  if (err !== undefined) service.log.error({ err }, 'mcp:stdio closing after an unexpected error')
  await service.close()
})

try {
  await service.register(app, { config })
  await service.ready()
  const who = { clientId: 'stdio', authorization, orgId: undefined, tools: undefined }
  const server = mcpServer(new Toolbox(service, actions), who, service.log)
  // The host closing stdin ends the session, and the process with it.
  server.onclose = () => { void service.close().then(() => process.exit(0)) }
  await server.connect(new StdioServerTransport())
  service.log.info({ authorization }, 'MCP server on stdio')
} catch (err) {
  service.log.error({ err }, 'mcp:stdio could not start')
  await service.close()
  process.exit(1)
}
