// `npm run dev` as a user runs it: its fault switch changes what the service sees (in its log
// lines and its answers), the local org's admin endpoint switches faults while it runs, and the
// stack stops cleanly, with the local org saved, when its service dies. It starts three orgs by
// default, and --orgs acme only acme.
import t from 'tap'
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { spawnDev, testDatabase, until } from '../helper.ts'
import { devJobKeyFile, devJobKeys } from '../../scripts/dev-state.ts'
import { keyringFrom } from '../../src/keyring.ts'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js'

type Line = Record<string, unknown>

t.test('the dev stack makes its job key once, at random, and keeps it in its data folder', async (t) => {
  const root = await mkdtemp(path.join(tmpdir(), 'applink-dev-key-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  const dataDir = path.join(root, 'data')
  const keys = await devJobKeys(dataDir)
  t.equal(keyringFrom({ JOB_ENCRYPTION_KEYS: keys }).current.key.length, 32, 'a 32-byte key in the kid:base64 form')
  t.equal(await devJobKeys(dataDir), keys, 'the same after a restart, so queued jobs still open')
  t.equal((await stat(devJobKeyFile(dataDir))).mode & 0o777, 0o600, 'readable by its owner only')
  t.not(await devJobKeys(path.join(root, 'other')), keys, 'another data folder, another key')
})

t.test('npm run dev -- --faults', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'applink-dev-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const { url } = await testDatabase(t, 'dev')
  const args = ['--faults', '503=1', '--data-dir', dataDir, '--sync-interval-ms', '60000']
  const dev = spawnDev(t, args, {
    env: { ...process.env, DATABASE_URL: url, APP_PORT: '0', LOG_LEVEL: 'info', WORKER_IN_WEB: 'false' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = new Promise<number | null>((resolve) => { dev.once('exit', (code) => { resolve(code) }) })
  const logs: Line[] = []
  const printed: string[] = []
  createInterface({ input: dev.stdout }).on('line', (text) => {
    printed.push(text)
    if (text.startsWith('{')) logs.push(JSON.parse(text) as Line)
  })
  const stderr: string[] = []
  createInterface({ input: dev.stderr as Readable }).on('line', (text) => { stderr.push(text) })
  const value = (prefix: string) => printed.find((l) => l.startsWith(prefix))?.slice(prefix.length)
  await until('the dev stack to be ready', () => value('CONTEXT rep1@acme.local ') !== undefined, 120_000, 200)
  const serviceUrl = value('SERVICE_URL=') as string
  const orgUrl = value('LOCAL_ORG_URL=') as string
  const context = value('CONTEXT rep1@acme.local ') as string
  t.match(printed.find((l) => l.startsWith('CONTEXT')), /^CONTEXT admin@acme\.local /, 'acme\'s users first, as before')
  const orgLines = printed.filter((l) => l.startsWith('ORG ')).map((l) => l.split(' '))
  t.same(orgLines.map(([, alias, , , schema]) => [alias, schema]),
    [['acme', 'salesforce'], ['acme-sandbox', '-'], ['globex', 'globex']], 'one ORG line per org, acme first')
  t.equal(orgLines[0]?.[3], orgUrl, 'acme is LOCAL_ORG_URL')
  t.equal(new Set(orgLines.map((l) => l[2])).size, 3, 'three org ids')
  const globexContext = value('CONTEXT@globex rep1@globex.local ') as string
  const sandboxContext = value('CONTEXT@acme-sandbox rep1@acme.local.uat ') as string
  t.equal(JSON.parse(Buffer.from(globexContext, 'base64').toString()).orgId, orgLines[2]?.[2], 'globex\'s users')
  t.equal(JSON.parse(Buffer.from(sandboxContext, 'base64').toString()).orgId, orgLines[1]?.[2], 'the sandbox\'s users')
  const callAs = async (ctx: string, operationId: string, body: unknown) => await fetch(`${serviceUrl}/actions/${operationId}`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-client-context': ctx }, body: JSON.stringify(body)
  })
  const items = [{ productCode: 'HW-0001', quantity: 1 }]
  t.equal((await callAs(globexContext, 'checkAvailability', { items })).status, 200, 'globex reads its own mirror')
  t.equal((await callAs(sandboxContext, 'checkAvailability', { items })).status, 403, 'the sandbox has none')
  t.equal((await callAs(sandboxContext, 'whoAmI', {})).status, 200, 'and is a caller all the same')
  t.match(stderr.join('\n'), /local org faults: 503=1/, 'it says which faults are on')
  t.match(await readFile(devJobKeyFile(dataDir), 'utf8'), /^local:[A-Za-z0-9+/]{43}=\n$/, 'it made its job key')

  const token = JSON.parse(Buffer.from(context, 'base64').toString()).accessToken as string
  const org = async (soqlText: string) => {
    const res = await fetch(`${orgUrl}/services/data/v62.0/query?q=${encodeURIComponent(soqlText)}`, {
      headers: { authorization: `Bearer ${token}` }
    })
    return await res.json() as { records: Line[] }
  }
  const quote = async (opportunityId?: string) => await fetch(`${serviceUrl}/actions/generateQuote`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-client-context': context },
    body: JSON.stringify({ opportunityId: opportunityId ?? '006000000000000AAA', idempotencyKey: `dev-${Date.now()}` })
  })

  const failed = await quote()
  t.equal(failed.status, 502, 'with every org call answered 503, the action answers 502')
  t.equal((await failed.json() as Line).errorCode, 'SERVER_UNAVAILABLE', 'naming Salesforce\'s error')
  // The action line is written once the answer has gone out.
  const line = await until('the action log line', () =>
    logs.find((l) => l.msg === 'action' && l.operationId === 'generateQuote'))
  t.match(line, { status: 502 }, 'the service\'s action log line shows it')
  t.ok(Number(line?.orgApiCalls) >= 3, 'after retrying the read')
  const named = logs.some((l) => l.msg === 'request failed' && (l.err as Line | undefined)?.errorCode === 'SERVER_UNAVAILABLE')
  t.ok(named, 'and its error line names it')

  const off = await fetch(`${orgUrl}/__admin/faults`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ spec: '' })
  })
  t.same(await off.json(), { spec: 'none' }, 'the admin endpoint switches the faults off')
  const opps = await org(
    'SELECT Id FROM Opportunity WHERE HasOpportunityLineItem = true AND Owner.Username = \'rep1@acme.local\' LIMIT 1')
  const opportunityId = opps.records[0]?.Id as string
  const ok = await quote(opportunityId)
  t.equal(ok.status, 200, 'and the next call succeeds')
  const quoteId = (await ok.json() as Line).quoteId as string

  const pid = logs.find((l) => typeof l.pid === 'number')?.pid as number
  process.kill(pid, 'SIGKILL')
  const started = Date.now()
  t.equal(await exited, 1, 'npm run dev ends (with 1) when its service is killed')
  t.ok(Date.now() - started < 30_000, `promptly (${Date.now() - started} ms)`)
  const saved = await Promise.all((await readdir(path.join(dataDir, 'local-org'))).filter((f) => f.endsWith('.jsonl'))
    .map(async (f) => await readFile(path.join(dataDir, 'local-org', f), 'utf8')))
  t.ok(saved.some((text) => text.includes(quoteId)), 'the local org was saved on the way out, the new quote included')
})

t.test('npm run dev -- --orgs acme: acme alone', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'applink-dev-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const { url } = await testDatabase(t, 'dev')
  // A folder of its own to watch: a test must not touch the checkout's src/.
  const watched = await mkdtemp(path.join(tmpdir(), 'applink-dev-src-'))
  t.teardown(() => rm(watched, { recursive: true, force: true }))
  const dev = spawnDev(t, ['--orgs', 'acme', '--data-dir', dataDir, '--watch', watched], {
    env: { ...process.env, DATABASE_URL: url, APP_PORT: '0', LOG_LEVEL: 'info', WORKER_IN_WEB: 'false' },
    stdio: ['ignore', 'pipe', 'ignore']
  })
  const exited = new Promise<number | null>((resolve) => { dev.once('exit', (code) => { resolve(code) }) })
  const printed: string[] = []
  createInterface({ input: dev.stdout }).on('line', (text) => { printed.push(text) })
  await until('the dev stack to be ready', () => printed.some((l) => l.startsWith('ORG ')), 120_000, 200)
  const orgLines = printed.filter((l) => l.startsWith('ORG '))
  t.equal(orgLines.length, 1)
  t.match(orgLines[0], /^ORG acme 00D\w{15} http:\/\/127\.0\.0\.1:\d+ salesforce$/)
  t.notOk(printed.some((l) => l.startsWith('CONTEXT@')), 'no other org\'s users')

  // The SDK's own client, with nothing but the three MCP lines, finds the token endpoint, gets a
  // token, lists the tools and calls one, acting for the first local org.
  const printedValue = (prefix: string): string => printed.find((l) => l.startsWith(prefix))?.slice(prefix.length) ?? ''
  const mcp = new Client({ name: 'dev-stack-test', version: '1.0.0' })
  await mcp.connect(new StreamableHTTPClientTransport(new URL(printedValue('MCP_URL=')), {
    authProvider: new ClientCredentialsProvider({
      clientId: printedValue('MCP_CLIENT_ID='),
      clientSecret: printedValue('MCP_CLIENT_SECRET=')
    })
  }))
  t.ok((await mcp.listTools()).tools.some((tool) => tool.name === 'checkAvailability'), 'the tools are listed')
  const who = await mcp.callTool({ name: 'whoAmI', arguments: {} })
  t.equal((who.structuredContent as { orgId?: string }).orgId, orgLines[0]?.split(' ')[2], 'acting for the first local org')
  await mcp.close()

  // A saved change restarts the service alone: a new process, the same local org still serving.
  const listening = () => printed.filter((l) => l.includes('AppLink Actions listening'))
  const pidOf = (line: string | undefined) => (JSON.parse(line ?? '{}') as { pid?: number }).pid
  const firstPid = pidOf(listening()[0])
  await writeFile(path.join(watched, 'changed.ts'), 'export {}\n')
  await until('the service to restart', () => listening().length >= 2, 60_000, 200)
  t.not(pidOf(listening()[1]), firstPid, 'a change under the watched folder restarts the service')
  const orgUrl = orgLines[0]?.split(' ')[3] ?? ''
  const answer = await fetch(`${orgUrl}/services/oauth2/userinfo`).then((res) => res.status, () => 'no answer')
  t.type(answer, 'number', 'the local org kept running (it answers)')
  dev.kill('SIGTERM')
  t.equal(await exited, 0, 'stops cleanly')
})
