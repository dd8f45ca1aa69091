// npm run dev [-- --dataset small|large [--accounts N]] [--faults 503=0.05,lock=0.02,latency=30-100,lost=0.01]
// [--data-dir .data] [--orgs acme,acme-sandbox,globex] [--watch src]: the whole service on one machine,
// no org needed.
// Starts PostgreSQL (DATABASE_URL or an embedded one), the local org, the local Heroku Connect
// sync (mirror filled before the service starts), then the service itself as its own process,
// exactly as `npm start` runs it. Once ready it prints SERVICE_URL=, LOCAL_ORG_URL=, the local
// AppLink add-on's settings (HEROKU_APP_ID=, HEROKU_APPLINK_API_URL=, HEROKU_APPLINK_TOKEN=,
// APPLINK_AUTHORIZATION=) and one CONTEXT line per local-org user, and writes the URLs and contexts
// to .data/dev.json for `npm run invoke`, with a ready-to-paste call per action
// (scripts/dev-examples.ts). A change of a file under --watch restarts the service alone. Its
// JOB_ENCRYPTION_KEYS (unless set) is made once and kept in .data/job-key.
// --dataset large: a million accounts (--accounts N: another size), seeded afresh on each start (no
// snapshot: the org's changes do not outlive it) and loaded into an empty mirror through Bulk API
// query jobs, with progress, the org's memory and the time to ready printed.
// --orgs (default all three, acme alone with --dataset large; scripts/local-orgs.ts): besides acme,
// its sandbox copy (not mirrored) and another customer, globex (mirrored into its own schema by its
// own sync); each has its own AppLink authorization (APPLINK_AUTHORIZATIONS) and origin in
// ORG_DOMAINS. After the lines above it prints `ORG <alias> <orgId> <url> <schema or ->` per org
// and `CONTEXT@<alias> <username> <context>` for the other orgs' users. --faults and --org-port apply to acme.
// --traces: the service exports its OpenTelemetry spans to the stack, which prints each call's
// waterfall (name, offset, duration) under its log line; without it the OTEL_* variables given reach
// the service unchanged (OTEL_EXPORTER_OTLP_ENDPOINT and the rest, src/telemetry/sdk.ts).
// --faults switches on the local org's faults (also later: POST <LOCAL_ORG_URL>/__admin/faults).
// Stops cleanly, saving the local org, on Ctrl-C, SIGTERM, or when the service dies of any cause.
import { MAPPING } from '../src/postgres/mapping.ts'
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { watch } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { prettyFactory } from 'pino-pretty'
import { loadConfig } from '../src/config.ts'
import { startEmbeddedPostgres } from '../src/postgres/embedded.ts'
import { migrate } from '../src/postgres/migrate.ts'
import { FAULTS_USAGE, formatFaults, parseFaultSpec, startLocalOrg } from '@applink-actions/local-org'
import { startLocalSync } from '@applink-actions/local-connect'
import { startLocalAppLink } from '@applink-actions/local-applink'
import { quoteIdent } from '@applink-actions/platform/postgres'
import { seedAppData } from './app-data.ts'
import { mirrorIndexesSql } from './mirror-indexes.ts'
import { exampleCalls } from './dev-examples.ts'
import { startOtlpReceiver, waterfall, type ReceivedSpan } from './otlp-receiver.ts'
import { DEV_DATA_DIR, DEV_MCP_CLIENT_ID, devJobKeys, devMcpSecrets, devStateFile, type DevState } from './dev-state.ts'
import {
  LOCAL_ORGS, ORG_ALIASES, authorizationsSetting, integrationUser, parseOrgAliases, type OrgAlias
} from './local-orgs.ts'

const { values: args } = parseArgs({
  options: {
    dataset: { type: 'string', default: 'small' },
    accounts: { type: 'string' },
    'org-port': { type: 'string', default: '0' },
    'sync-interval-ms': { type: 'string', default: '2000' },
    faults: { type: 'string' },
    'data-dir': { type: 'string', default: DEV_DATA_DIR },
    orgs: { type: 'string' },
    watch: { type: 'string', default: 'src' },
    traces: { type: 'boolean', default: false }
  }
})
if (args.dataset !== 'small' && args.dataset !== 'large') throw new Error('--dataset is small or large')
const large = args.dataset === 'large'
const accounts = args.accounts === undefined ? undefined : Number(args.accounts)
if (accounts !== undefined && (!large || !Number.isInteger(accounts) || accounts < 1)) {
  throw new Error('--accounts is a positive integer, with --dataset large')
}
let faults: ReturnType<typeof parseFaultSpec> | undefined
try {
  faults = args.faults === undefined ? undefined : parseFaultSpec(args.faults)
} catch (err) {
  process.stderr.write(`[dev] --faults: ${(err as Error).message}\n[dev] usage: --faults ${FAULTS_USAGE}\n`)
  process.exit(2)
}
let aliases: OrgAlias[]
try {
  aliases = parseOrgAliases(args.orgs ?? (large ? 'acme' : ORG_ALIASES.join(',')))
  if (!aliases.includes('acme')) throw new Error('--orgs must name acme: the other orgs stand beside it')
} catch (err) {
  process.stderr.write(`[dev] ${(err as Error).message}\n`)
  process.exit(2)
}
const dataDir = args['data-dir']
const orgDir = path.join(dataDir, 'local-org')
/** `npm run invoke` reads it (its --data-dir, default .data). */
const stateFile = devStateFile(dataDir)

/** startLocalOrg's default seed: acme's, which its sandbox copies and globex's derives from. */
const ACME_SEED = 42
const say = (line: string) => { process.stderr.write(`[dev] ${line}\n`) }
// No job key is built in: the stack makes one and keeps it in its data folder, unless one is given.
const givenKeys = process.env.JOB_ENCRYPTION_KEYS
const jobKeys = givenKeys !== undefined && givenKeys !== '' ? givenKeys : await devJobKeys(dataDir)
const config = loadConfig({ ...process.env, JOB_ENCRYPTION_KEYS: jobKeys })
const cleanups: Array<() => Promise<unknown>> = []

/** Stops what started so far and exits with a message a person can act on. */
async function giveUp (message: string): Promise<never> {
  say(`could not start: ${message}`)
  for (const cleanup of cleanups) await cleanup().catch(() => {})
  process.exit(1)
}

let databaseUrl = config.DATABASE_URL
if (databaseUrl === undefined) {
  const embedded = await startEmbeddedPostgres(config.EMBEDDED_PG_DIR).catch(async (err: unknown) => await giveUp(
    `the embedded PostgreSQL in ${config.EMBEDDED_PG_DIR} did not start${err instanceof Error ? ` (${err.message})` : ''}; is another \`npm run dev\` running? Stop it, or set EMBEDDED_PG_DIR or DATABASE_URL`))
  cleanups.unshift(embedded.stop)
  databaseUrl = embedded.url
  say(`embedded PostgreSQL started (data in ${config.EMBEDDED_PG_DIR})`)
}

const startedAt = performance.now()
const seconds = () => ((performance.now() - startedAt) / 1000).toFixed(1)
let told = -1
const org = await startLocalOrg({
  port: Number(args['org-port']),
  dataset: args.dataset,
  accounts,
  // The large set is seeded on each start: its snapshot would be gigabytes of JSON lines.
  snapshotDir: large ? undefined : orgDir,
  progress: (done, total) => {
    const tenth = Math.floor((done / total) * 10)
    if (tenth > told) say(`local org: seeding ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} accounts (${seconds()} s)`)
    told = tenth
  }
})
cleanups.unshift(org.close)
if (large) {
  const counts = Object.entries(org.counts()).map(([type, n]) => `${n.toLocaleString('en-US')} ${type}`).join(', ')
  say(`local org seeded in ${seconds()} s: ${counts}; heap ${Math.round(process.memoryUsage().heapUsed / 1e6)} MB`)
}
say(`local org serving ${org.url} (${large ? 'seeded afresh each start' : `data kept in ${orgDir}`})`)
/** Every org of the stack, acme first. */
const orgs = [{ spec: LOCAL_ORGS.acme, org }]
for (const alias of aliases.filter((a) => a !== 'acme')) {
  const spec = LOCAL_ORGS[alias]
  const dir = path.join(dataDir, `local-org-${alias}`)
  // The acme seed startLocalOrg uses by default: the sandbox copies acme's records.
  const other = await startLocalOrg({
    dataset: args.dataset, accounts, snapshotDir: large ? undefined : dir, ...spec.options(ACME_SEED)
  })
  cleanups.unshift(other.close)
  orgs.push({ spec, org: other })
  say(`local org ${alias} serving ${other.url} (data kept in ${dir})`)
}
// The AppLink add-on beside them: jobs run as each org's integration user through its org's authorization.
const LOCAL_AUTHORIZATION = LOCAL_ORGS.acme.authorization
const applink = await startLocalAppLink({
  org,
  authorizations: Object.fromEntries(orgs.map(({ spec, org }) =>
    [spec.authorization, { org, username: integrationUser(org) }]))
})
cleanups.unshift(applink.close)
const applinkEnv = { ...applink.env, APPLINK_AUTHORIZATION: LOCAL_AUTHORIZATION }

const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 })
pool.on('error', (err) => { say(`database: ${err.message}`) })
cleanups.unshift(async () => { await pool.end() })
/** The schema each org is mirrored into; undefined: not mirrored. */
const schemaOf = (alias: OrgAlias): string | undefined => {
  const schema = LOCAL_ORGS[alias].schema
  return schema === 'connect' ? config.CONNECT_SCHEMA : schema
}
// The mirror holds what its org holds. The large set is seeded afresh on each start, so its mirror
// is emptied and loaded again (a new Connect mapping's first load); so is a mirror another data set left.
const mirrorDatasetFile = path.join(dataDir, 'mirror-dataset')
const mirrorDataset = large ? `large ${accounts ?? 'default'}` : 'small'
const previousDataset = await readFile(mirrorDatasetFile, 'utf8').catch(() => undefined)
if (large || (previousDataset !== undefined && previousDataset !== mirrorDataset)) {
  for (const { spec } of orgs) {
    const schema = schemaOf(spec.alias)
    if (schema !== undefined) await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`)
  }
}
await mkdir(dataDir, { recursive: true })
await writeFile(mirrorDatasetFile, mirrorDataset)
// One sync per mirrored org, as one Connect add-on per org, each into its own schema.
for (const { spec, org } of orgs) {
  const schema = schemaOf(spec.alias)
  if (schema === undefined) continue
  const started = Date.now()
  const sync = await startLocalSync({
    mapping: MAPPING,
    pool,
    schema,
    orgUrl: org.url,
    accessToken: org.user(integrationUser(org)).accessToken,
    intervalMs: Number(args['sync-interval-ms']),
    onError: (err) => { say(`local sync${spec.alias === 'acme' ? '' : ` (${spec.alias})`}: ${String(err)}`) },
    progress: (line) => { say(`local sync${spec.alias === 'acme' ? '' : ` (${spec.alias})`}: ${line}`) },
    userSql: mirrorIndexesSql()
  })
  cleanups.unshift(sync.stop)
  say(spec.alias === 'acme'
    ? `mirror filled by the local sync in ${Date.now() - started} ms; it polls every ${args['sync-interval-ms']} ms (real Heroku Connect: every 2-60 minutes)`
    : `mirror of ${spec.alias} filled into schema ${schema} by its own local sync in ${Date.now() - started} ms`)
}
// The large load wrote gigabytes: written out now, not by checkpoints spread over the first calls'
// minutes (CHECKPOINT needs a superuser or pg_checkpoint; without either, PostgreSQL does it in time).
if (large) await pool.query('CHECKPOINT').catch(() => {})
await migrate(pool)
// Each mirrored org's own app data (pricing rules, warehouses, stock), seeded from its mirror; the
// sandbox, not mirrored, has none.
for (const { spec } of orgs) {
  const schema = schemaOf(spec.alias)
  if (schema !== undefined) await seedAppData(pool, schema)
}
// After the mirror's first fill, so the service starts on a complete mirror, then sees a bad day.
if (faults !== undefined) org.setFaults(faults)
say(`local org faults: ${formatFaults(org.faults)}; change them while it runs: curl -X POST ${org.url}/__admin/faults ` +
  '-H \'content-type: application/json\' -d \'{"spec":"503=0.05,lost=0.01"}\'')

// An MCP client acting for acme (through its AppLink authorization), with every tool; its secret and
// the token signing key are kept in the data folder. MCP_CLIENTS given to the stack are kept beside it.
const mcp = await devMcpSecrets(dataDir)
const mcpClient = `${DEV_MCP_CLIENT_ID}:${createHash('sha256').update(mcp.clientSecret).digest('hex')}:${org.orgId}:*`
// --traces: the service's spans come here (OTLP/HTTP JSON) and each call's waterfall is printed
// under its log line; otherwise the OTEL_* variables given pass on to the service as they are.
const traceView = args.traces ? await startOtlpReceiver(receiveSpans) : undefined
if (traceView !== undefined) cleanups.unshift(traceView.close)
const tracesEnv = traceView === undefined
  ? {}
  : {
      OTEL_EXPORTER_OTLP_ENDPOINT: traceView.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: process.env.OTEL_SERVICE_NAME ?? 'applink-actions',
      // A call's spans shown a moment after it, not after the default 5 s.
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_METRICS_EXPORTER: 'none'
    }
const serviceEnv = {
  ...process.env,
  ...tracesEnv,
  MCP_CLIENTS: [process.env.MCP_CLIENTS, mcpClient].filter((c) => c !== undefined && c !== '').join(','),
  MCP_TOKEN_SIGNING_KEY: process.env.MCP_TOKEN_SIGNING_KEY ?? mcp.signingKey,
  ...applinkEnv,
  APPLINK_AUTHORIZATIONS: authorizationsSetting(orgs),
  DATABASE_URL: databaseUrl,
  JOB_ENCRYPTION_KEYS: jobKeys,
  // The local orgs are the callers' orgs: their origins join Salesforce's hosts, and callbacks may
  // reach them on loopback.
  ORG_DOMAINS: [config.ORG_DOMAINS, ...orgs.map(({ org }) => org.url)].join(','),
  CALLBACK_ALLOW_PRIVATE_ADDRESSES: 'true',
  DOCS_CLIENT_CONTEXT: org.mintContext('rep1@acme.local')
}
// The service logs JSON lines: in a terminal pino-pretty shows them to a person; piped, they pass
// unchanged to whatever reads them. The lines dev prints itself (SERVICE_URL=, CONTEXT …) are never
// reformatted.
const showLogLine = process.stdout.isTTY
  ? prettyFactory({ translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
  : (line: string) => `${line}\n`

/** Spans seen per trace, so a job's spans, arriving later, show under the call that queued it. */
const seenTraces = new Map<string, number>()

/**
 * Spans of calls whose server span has not arrived yet: a call slower than the export delay has its
 * first statements and org calls exported before it ends. Shown together once it does (or after
 * ROOT_WAIT_MS, for a trace that has none).
 */
const waiting = new Map<string, { spans: ReceivedSpan[], timer: NodeJS.Timeout }>()
const ROOT_WAIT_MS = 3000
const SERVER_SPAN = 2

function receiveSpans (spans: ReceivedSpan[]): void {
  const byTrace = new Map<string, ReceivedSpan[]>()
  for (const span of spans) byTrace.set(span.traceId, [...(byTrace.get(span.traceId) ?? []), span])
  for (const [traceId, trace] of byTrace) {
    if (seenTraces.has(traceId)) {
      printTrace(traceId, trace)
      continue
    }
    const held = waiting.get(traceId)
    const all = [...(held?.spans ?? []), ...trace]
    if (all.some((s) => s.kind === SERVER_SPAN || s.parentSpanId === '')) {
      clearTimeout(held?.timer)
      waiting.delete(traceId)
      printTrace(traceId, all)
    } else if (held === undefined) {
      const timer = setTimeout(() => {
        const late = waiting.get(traceId)
        waiting.delete(traceId)
        if (late !== undefined) printTrace(traceId, late.spans)
      }, ROOT_WAIT_MS)
      timer.unref()
      waiting.set(traceId, { spans: all, timer })
    } else {
      held.spans = all
    }
  }
}

function printTrace (traceId: string, trace: ReceivedSpan[]): void {
  const continued = seenTraces.has(traceId)
  seenTraces.set(traceId, (seenTraces.get(traceId) ?? 0) + trace.length)
  if (seenTraces.size > 1000) seenTraces.delete(seenTraces.keys().next().value ?? '')
  const root = trace.find((s) => s.kind === SERVER_SPAN) ?? trace.find((s) => s.parentSpanId === '')
  const title = root?.attributes['applink.operation_id'] ?? root?.name ?? trace[0]?.name ?? ''
  process.stdout.write(`  trace ${traceId}${continued ? ' (continued)' : ''} ${String(title)}\n`)
  for (const line of waterfall(trace)) process.stdout.write(`  ${line}\n`)
}

interface RunningService {
  process: ChildProcess
  /** Settles however the service ends (exit code or signal), after its last line was read. */
  exited: Promise<number | string>
  /** Its URL once it listens; rejects with the last error it logged when it ends before. */
  address: Promise<string>
}

/** Starts the service as `npm start` runs it, its log lines shown as they come. */
function startService (): RunningService {
  // As `npm start` runs it: OpenTelemetry first, when the OTEL_* variables passed on ask for it.
  const child = spawn(process.execPath, ['--import', './src/telemetry/register.ts', 'src/server.ts'], {
    env: serviceEnv, stdio: ['ignore', 'pipe', 'inherit']
  })
  const exited = new Promise<number | string>((resolve) => {
    child.once('close', (code, signal) => { resolve(code ?? signal ?? 'unknown') })
  })
  let lastErrorMessage: string | undefined
  const address = new Promise<string>((resolve, reject) => {
    void exited.then((code) => {
      const reason = lastErrorMessage ?? `it exited (${code}); see its log above`
      reject(new Error(`${reason}${reason.includes('EADDRINUSE') ? ` (port ${config.APP_PORT} is taken: set APP_PORT)` : ''}`))
    })
    createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => {
      process.stdout.write(showLogLine(line))
      lastErrorMessage = /"message":"([^"]+)"/.exec(line)?.[1] ?? lastErrorMessage
      const match = /"address":"(http[^"]+)".*"msg":"AppLink Actions listening"/.exec(line)
      if (match?.[1] !== undefined) resolve(match[1])
    })
  })
  address.catch(() => {})
  return { process: child, exited, address }
}

let service = startService()
const address = await service.address.catch(async (err: unknown) =>
  await giveUp(`the service stopped before listening: ${(err as Error).message}`))

const contextsOf = (o: typeof org) => Object.fromEntries(o.users.map((u) => [u.username, o.mintContext(u.username)]))
const acmeContexts = contextsOf(org)
const others = orgs.slice(1).map(({ spec, org }) => ({ alias: spec.alias, contexts: contextsOf(org) }))
const state: DevState = {
  serviceUrl: address,
  localOrgUrl: org.url,
  // Usernames differ between the orgs, so `npm run invoke -- … --user rep1@globex.local` finds its own.
  contexts: Object.assign({}, acmeContexts, ...others.map((o) => o.contexts))
}
await writeFile(stateFile, JSON.stringify(state, null, 2))
process.stdout.write([
  `SERVICE_URL=${state.serviceUrl}`,
  `LOCAL_ORG_URL=${state.localOrgUrl}`,
  ...Object.entries(applinkEnv).map(([name, value]) => `${name}=${value}`),
  // What a standard MCP client needs, and nothing else: it discovers the token endpoint from the URL.
  `MCP_URL=${state.serviceUrl}/mcp`,
  `MCP_CLIENT_ID=${DEV_MCP_CLIENT_ID}`,
  `MCP_CLIENT_SECRET=${mcp.clientSecret}`,
  ...Object.entries(acmeContexts).map(([username, context]) => `CONTEXT ${username} ${context}`),
  ...orgs.map(({ spec, org }) => `ORG ${spec.alias} ${org.orgId} ${org.url} ${schemaOf(spec.alias) ?? '-'}`),
  ...others.flatMap(({ alias, contexts }) =>
    Object.entries(contexts).map(([username, context]) => `CONTEXT@${alias} ${username} ${context}`)),
  ''
].join('\n'))
say(`ready in ${seconds()} s. Example calls as rep1@acme.local (paste one; \`-s\` keeps npm's banner out of the JSON):`)
for (const example of exampleCalls(org, 'rep1@acme.local', dataDir)) say(`  ${example.command}`)
say(`API reference: ${state.serviceUrl}/docs (the OpenAPI document: ${state.serviceUrl}/docs/json)`)
say(`watching ${args.watch}/: a saved change restarts the service (the local orgs and the database stay up)`)

/** A cleanup that hangs must not keep `npm run dev` from ending. */
const STOP_DEADLINE_MS = 30_000

let stopping = false
async function stop (code: number): Promise<void> {
  if (stopping) return
  stopping = true
  setTimeout(() => {
    say('stopping took too long; exiting')
    process.exit(code === 0 ? 1 : code)
  }, STOP_DEADLINE_MS).unref()
  watcher.close()
  service.process.kill('SIGTERM')
  await service.exited
  // The local org's close saves what changed since its last save.
  for (const cleanup of cleanups) await cleanup().catch((err: unknown) => { say(`cleanup: ${String(err)}`) })
  process.exit(code)
}

/** A service that dies on its own (not for a restart) ends the stack: something is wrong. */
const replaced = new WeakSet<RunningService>()
function endWithService (running: RunningService): void {
  void running.exited.then((how) => {
    if (stopping || replaced.has(running)) return
    say(`the service exited (${how}); stopping`)
    void stop(1)
  })
}
endWithService(service)

// A change under src/ restarts the service, as `node --watch` would, but only the service: the
// local orgs, the syncs and the database keep their state. Changes are gathered for a moment (an
// editor's save is several events) and restarts never overlap.
const RESTART_DELAY_MS = 300
let restartTimer: NodeJS.Timeout | undefined
let restarting: Promise<void> = Promise.resolve()
const changed = new Set<string>()
const watcher = watch(args.watch, { recursive: true }, (_event, file) => {
  if (stopping || file === null || !/\.(ts|js|json|sql)$/.test(file)) return
  changed.add(file)
  clearTimeout(restartTimer)
  restartTimer = setTimeout(() => { restarting = restarting.then(restart) }, RESTART_DELAY_MS)
})

async function restart (): Promise<void> {
  if (stopping) return
  const files = [...changed].map((f) => path.join(args.watch, f))
  changed.clear()
  say(`${files.join(', ')} changed: restarting the service`)
  // The old one first: both would want the same port.
  replaced.add(service)
  service.process.kill('SIGTERM')
  await service.exited
  const next = startService()
  service = next
  try {
    const url = await next.address
    if (url !== state.serviceUrl) {
      state.serviceUrl = url
      await writeFile(stateFile, JSON.stringify(state, null, 2))
    }
    say(`service restarted: ${url}`)
    endWithService(next)
  } catch (err) {
    // A mistake in the code being written: say it, keep the rest up, wait for the next save.
    if (!stopping) say(`the service did not start: ${(err as Error).message}. Fix it and save: it restarts then`)
  }
}

process.on('SIGINT', () => { void stop(0) })
process.on('SIGTERM', () => { void stop(0) })
