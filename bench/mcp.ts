// Figure 1e: checkAvailability over MCP (a tools/call to /mcp, stateless Streamable HTTP with JSON
// answers, as an Agentforce MCP client calls it) against the same action's REST route, both on one
// service process started as `npm start` starts it, with the service CPU each spends per call.
import { createHash, randomBytes } from 'node:crypto'
import { startLocalAppLink } from '@applink-actions/local-applink'
import { actionPath } from '../src/actions/define.ts'
import { compareWithCpu, measured, startService, type CpuLoadResult, type DynoOptions } from './dyno.ts'
import { httpLoad } from './measure.ts'
import type { BenchStack } from './env.ts'
import type { availabilityItems } from './tenants.ts'

export interface McpResults { products: number, rest: CpuLoadResult, mcp: CpuLoadResult, ratio: number }

/** The AppLink authorization an MCP tool call acts as (the org's integration user). */
const AUTHORIZATION = 'BenchIntegration'
const CLIENT_ID = 'bench-agent'

/**
 * The REST side calls as a user (the `x-client-context` AppLink adds); the MCP side as the org's
 * AppLink authorization, with a bearer token from the service's own token endpoint, got once (a
 * client reuses it until it expires). Every answer is checked once before the load: a 200 that
 * carried an error would measure the wrong thing.
 */
export async function mcpVsRest (
  stack: BenchStack, items: Awaited<ReturnType<typeof availabilityItems>>, opts: DynoOptions
): Promise<McpResults> {
  const integration = stack.org.users.find((u) => u.profile === 'integration')
  if (integration === undefined) throw new Error('the local org has no integration user')
  const applink = await startLocalAppLink({ org: stack.org, authorizations: { [AUTHORIZATION]: integration.username } })
  const secret = randomBytes(24).toString('hex')
  const service = await startService(stack.db.url, {
    ...applink.env,
    APPLINK_AUTHORIZATION: AUTHORIZATION,
    MCP_CLIENTS: `${CLIENT_ID}:${createHash('sha256').update(secret).digest('hex')}:${stack.org.orgId}:checkAvailability`,
    MCP_TOKEN_SIGNING_KEY: randomBytes(32).toString('base64'),
    MCP_TOKEN_TTL_SECONDS: '3600'
  })
  try {
    const token = await tokenFor(service.url, secret)
    const rest = {
      method: 'POST' as const,
      url: `${service.url}${actionPath('checkAvailability')}`,
      headers: { 'content-type': 'application/json', 'x-client-context': opts.context },
      body: JSON.stringify({ items }),
      connections: opts.connections
    }
    const mcp = {
      method: 'POST' as const,
      url: `${service.url}/mcp`,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${token}`,
        'mcp-protocol-version': '2025-06-18'
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'checkAvailability', arguments: { items } } }),
      connections: opts.connections
    }
    await expectAnswers(rest, mcp)
    const { baseline, subject, ratio } = await compareWithCpu(
      measured(stack.db, () => service, async (durationS) => await httpLoad({ ...rest, durationS })),
      measured(stack.db, () => service, async (durationS) => await httpLoad({ ...mcp, durationS })),
      opts)
    return { products: items.length, rest: baseline, mcp: subject, ratio }
  } finally {
    await service.stop()
    await applink.close()
  }
}

async function tokenFor (base: string, secret: string): Promise<string> {
  const res = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: secret, resource: `${base}/mcp` })
  })
  const body = await res.json() as { access_token?: string }
  if (res.status !== 200 || body.access_token === undefined) throw new Error(`token endpoint answered ${res.status}`)
  return body.access_token
}

type Request = { url: string, headers: Record<string, string>, body: string }

/** Both sides answer 200 with availability, the MCP one without `isError`. */
async function expectAnswers (rest: Request, mcp: Request): Promise<void> {
  const call = async (r: Request) => {
    const res = await fetch(r.url, { method: 'POST', headers: r.headers, body: r.body })
    return { status: res.status, body: await res.json() as Record<string, unknown> }
  }
  const [viaRest, viaMcp] = [await call(rest), await call(mcp)]
  const result = viaMcp.body.result as { isError?: boolean, structuredContent?: unknown } | undefined
  const mcpAnswered = viaMcp.status === 200 && result?.isError !== true && result?.structuredContent !== undefined
  if (viaRest.status !== 200 || !mcpAnswered) {
    throw new Error(`checkAvailability: REST ${viaRest.status}, MCP ${viaMcp.status} ${JSON.stringify(viaMcp.body).slice(0, 300)}`)
  }
}
