// MCP's own conformance suite (@modelcontextprotocol/conformance, its `server` scenarios) against the
// listening service. The suite connects without credentials, so it goes through a proxy that adds
// a bearer token from the service's token endpoint, as an MCP client would, and passes the rest
// (Host and Origin too) as sent. The scenarios that apply: those not naming tools, prompts,
// resources or capabilities (logging, completion, sampling, elicitation) a server of business actions
// does not have.
import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { execFile } from 'node:child_process'
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { startStack } from '../stack.ts'

const SCENARIOS = ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection']
const SUITE = fileURLToPath(import.meta.resolve('@modelcontextprotocol/conformance/dist/index.js'))

const secret = randomBytes(24).toString('hex')
const s = await startStack(t, {
  orgs: ['acme'],
  env: (org) => ({
    MCP_CLIENTS: `conformance:${createHash('sha256').update(secret).digest('hex')}:${org.orgId}:*`,
    MCP_TOKEN_SIGNING_KEY: randomBytes(32).toString('base64')
  })
})
await s.app.listen({ port: 0, host: '127.0.0.1' })
const servicePort = (s.app.server.address() as AddressInfo).port

/** One request to the service with these headers (the Host among them), its status and body. */
async function send (
  path: string, headers: IncomingHttpHeaders, body: string
): Promise<{ status: number, body: string }> {
  return await new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: servicePort, path, method: 'POST', headers }, (res) => {
      let text = ''
      res.on('data', (chunk: Buffer) => { text += chunk.toString('utf8') })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: text }) })
    })
    req.on('error', reject)
    req.end(body)
  })
}

// The token is for the resource as the suite names it: http://localhost:<proxy port>/mcp.
const proxy = createServer()
await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
t.teardown(() => { proxy.close() })
const proxyHost = `localhost:${(proxy.address() as AddressInfo).port}`
const issued = await send('/oauth/token', { host: proxyHost, 'content-type': 'application/x-www-form-urlencoded' },
  new URLSearchParams({ grant_type: 'client_credentials', client_id: 'conformance', client_secret: secret, resource: `http://${proxyHost}/mcp` }).toString())
const { access_token: token } = JSON.parse(issued.body) as { access_token: string }
proxy.on('request', (req, res) => {
  const upstream = httpRequest({
    host: '127.0.0.1', port: servicePort, path: req.url, method: req.method, headers: { ...req.headers, authorization: `Bearer ${token}` }
  }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers)
    answer.pipe(res)
  })
  upstream.on('error', () => { res.destroy() })
  req.pipe(upstream)
})

for (const scenario of SCENARIOS) {
  t.test(scenario, async (t) => {
    const { stdout } = await promisify(execFile)(process.execPath,
      [SUITE, 'server', '--url', `http://${proxyHost}/mcp`, '--scenario', scenario], { timeout: 60_000 })
      .catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? String(err) }))
    const result = /Passed: (\d+)\/(\d+), (\d+) failed/.exec(stdout)
    t.ok(result !== null, 'the suite reported')
    t.equal(result?.[3], '0', 'no check failed', { output: stdout.slice(-1500) })
    t.ok(Number(result?.[1]) > 0, 'some check ran and passed')
  })
}
