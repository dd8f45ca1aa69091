// npm run -s invoke -- <operationId> '<json body>' [--user <username>] [--url <service url>] [--pick <field>]
//                   [--data-dir .data] [--org-url <instance url> --token <access token> --username <u> --org-id <id>]
// Calls a running service (the one `npm run dev` started, or --url) with an x-client-context
// for a local-org user, or minted for a real org from `sf org display` values. Prints the
// response body as JSON (--pick: one field's value alone, to use in the next call) and exits
// non-zero on an HTTP status of 400 or more. `-s` keeps npm's banner out of what it prints.
import { readFile } from 'node:fs/promises'
import { randomUUID } from 'node:crypto'
import { parseArgs } from 'node:util'
import { soql } from '../src/salesforce/soql.ts'
import { DEV_DATA_DIR, devStateFile, type DevState } from './dev-state.ts'

const USAGE = `usage: npm run -s invoke -- <operationId> '<json>' [--user <username>] [--url <service url>] [--pick <field>]
       [--data-dir ${DEV_DATA_DIR}] [--org-url <instance url> --token <access token> --username <username> --org-id <org id>] [--api-version 62.0]`

function fail (message: string, code = 2): never {
  process.stderr.write(`${message}\n`)
  process.exit(code)
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    user: { type: 'string', default: 'rep1@acme.local' },
    url: { type: 'string' },
    pick: { type: 'string' },
    'data-dir': { type: 'string', default: DEV_DATA_DIR },
    'org-url': { type: 'string' },
    token: { type: 'string' },
    username: { type: 'string' },
    'org-id': { type: 'string' },
    'api-version': { type: 'string', default: '62.0' },
    help: { type: 'boolean', short: 'h' }
  }
})
if (values.help === true) fail(USAGE, 0)
const [operationId, json = '{}'] = positionals
if (operationId === undefined || !/^[A-Za-z]\w*$/.test(operationId)) fail(USAGE)
let body: unknown
try { body = JSON.parse(json) } catch { fail(`the body is not JSON: ${json}`) }

const encode = (context: object): string => Buffer.from(JSON.stringify(context)).toString('base64')

/** A context for a real org: the user id is looked up with the token, as the user. */
async function realOrgContext (orgUrl: string, token: string, username: string, orgId: string): Promise<string> {
  const apiVersion = values['api-version']
  const res = await fetch(`${orgUrl.replace(/\/+$/, '')}/services/data/v${apiVersion}/query?q=${encodeURIComponent(soql`SELECT Id FROM User WHERE Username = ${username}`)}`, {
    headers: { authorization: `Bearer ${token}` }
  })
  const result = await res.json() as { records?: Array<{ Id: string }> }
  const userId = result.records?.[0]?.Id ?? fail(`could not find user ${username} in ${orgUrl} (HTTP ${res.status})`, 1)
  return encode({ accessToken: token, apiVersion, requestId: `${orgId}-${randomUUID()}`, namespace: '', orgId, orgDomainUrl: orgUrl, userContext: { userId, username } })
}

let serviceUrl = values.url
let context: string
if (values['org-url'] !== undefined) {
  if (values.token === undefined || values.username === undefined || values['org-id'] === undefined) fail('--org-url needs --token, --username and --org-id (from `sf org display`)')
  context = await realOrgContext(values['org-url'], values.token, values.username, values['org-id'])
} else {
  const stateFile = devStateFile(values['data-dir'])
  const state = JSON.parse(await readFile(stateFile, 'utf8').catch(() => fail(`no ${stateFile}: start the service with \`npm run dev\` first, or pass --org-url`, 1))) as DevState
  serviceUrl ??= state.serviceUrl
  const saved = state.contexts[values.user] ?? fail(`no local-org user ${values.user}; users: ${Object.keys(state.contexts).join(', ')}`)
  // Each call is a new AppLink request: a fresh request id, or write actions would replay.
  const decoded = JSON.parse(Buffer.from(saved, 'base64').toString('utf8')) as Record<string, unknown>
  context = encode({ ...decoded, requestId: `${String(decoded.orgId)}-${randomUUID()}` })
}
serviceUrl ??= 'http://127.0.0.1:3000'

const response = await fetch(`${serviceUrl.replace(/\/+$/, '')}/actions/${operationId}`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', 'x-client-context': context },
  body: JSON.stringify(body)
}).catch((err: unknown) => fail(`could not reach ${serviceUrl} (${String((err as Error).cause ?? err)}): is \`npm run dev\` running?`, 1))
const text = await response.text()
let output = text
try {
  const answer: unknown = JSON.parse(text)
  const picked = values.pick === undefined || response.status >= 400
    ? answer
    : (answer as Record<string, unknown> | null)?.[values.pick]
  if (picked === undefined) fail(`the answer has no field ${values.pick ?? ''}: ${text}`, 1)
  output = typeof picked === 'string' && values.pick !== undefined ? picked : JSON.stringify(picked, null, 2)
} catch {}
process.stdout.write(`${output}\n`)
if (response.status >= 400) {
  process.stderr.write(`HTTP ${response.status}\n`)
  process.exit(1)
}
