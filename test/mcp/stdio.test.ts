// `npm run -s mcp:stdio`: the same tools over stdio, reached by the SDK's own stdio client, acting as
// the AppLink authorization its environment names.
import t from 'tap'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { startStack, type StackOrg } from '../stack.ts'
import { TEST_JOB_ENCRYPTION_KEYS } from '../helper.ts'
import { actions } from '../../src/actions/index.ts'
import { isMcpTool } from '../../src/mcp/tools.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const s = await startStack(t, { orgs: ['acme'] })
const acme = s.orgs.acme as StackOrg
const env: Record<string, string> = {
  ...process.env as Record<string, string>,
  NODE_ENV: 'test',
  LOG_LEVEL: 'warn',
  DATABASE_URL: s.app.config.DATABASE_URL ?? '',
  ORG_DOMAINS: s.app.config.ORG_DOMAINS,
  JOB_ENCRYPTION_KEYS: TEST_JOB_ENCRYPTION_KEYS,
  WORKER_IN_WEB: 'false',
  MCP_STDIO_AUTHORIZATION: acme.authorization
}

t.test('lists and calls the tools as the authorization named in its environment', async (t) => {
  const transport = new StdioClientTransport({ command: process.execPath, args: ['src/mcp-stdio.ts'], cwd: root, env, stderr: 'pipe' })
  const client = new Client({ name: 'stdio-test', version: '1.0.0' })
  await client.connect(transport)
  t.teardown(() => client.close())
  const { tools } = await client.listTools()
  t.same(tools.map((tool) => tool.name), actions.filter(isMcpTool).map((a) => a.operationId))
  const who = await client.callTool({ name: 'whoAmI', arguments: {} }) as CallToolResult
  t.equal((who.structuredContent as { orgId: string }).orgId, acme.org.orgId)
  const code = String(acme.org.records('Product2').find((p) => p.IsActive === true)?.ProductCode)
  const availability = await client.callTool({ name: 'checkAvailability', arguments: { items: [{ productCode: code, quantity: 1 }] } })
  t.notOk(availability.isError, JSON.stringify(availability.content))
  const invalid = await client.callTool({ name: 'checkAvailability', arguments: {} }) as CallToolResult
  t.equal(invalid.isError, true)
  t.match((invalid.content[0] as { text: string }).text, /"errorCode":"INVALID_REQUEST"/)
})
