// npm run dev [-- --dataset small|large] [--faults 503=0.05,lock=0.02,latency=30-100,lost=0.01]
// [--data-dir .data] [--orgs acme,acme-sandbox,globex]: the whole service on one machine, no org needed.
// Starts PostgreSQL (DATABASE_URL or an embedded one), the local org, the local Heroku Connect
// sync (mirror filled before the service starts), then the service itself as its own process,
// exactly as `npm start` runs it. Once ready it prints SERVICE_URL=, LOCAL_ORG_URL=, the local
// AppLink add-on's settings (HEROKU_APP_ID=, HEROKU_APPLINK_API_URL=, HEROKU_APPLINK_TOKEN=,
// APPLINK_AUTHORIZATION=) and one CONTEXT line per local-org user, and writes the URLs and contexts
// to .data/dev.json for `npm run invoke`. Its JOB_ENCRYPTION_KEYS (unless set) is made once and kept
// in .data/job-key.
// --orgs (default all three, scripts/local-orgs.ts): besides acme, its sandbox copy (not mirrored)
// and another customer, globex (mirrored into its own schema by its own sync); each has its own
// AppLink authorization (APPLINK_AUTHORIZATIONS) and origin in ORG_DOMAINS. After the lines above it
// prints `ORG <alias> <orgId> <url> <schema or ->` per org and `CONTEXT@<alias> <username> <context>`
// for the other orgs' users. --faults and --org-port apply to acme.
// --faults switches on the local org's faults (also later: POST <LOCAL_ORG_URL>/__admin/faults).
// Stops cleanly, saving the local org, on Ctrl-C, SIGTERM, or when the service dies of any cause.
import { MAPPING } from '../src/postgres/mapping.ts'
import { spawn } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
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
import { seedAppData } from './app-data.ts'
import { DEV_DATA_DIR, devJobKeys, devStateFile, type DevState } from './dev-state.ts'
import {
  LOCAL_ORGS, ORG_ALIASES, authorizationsSetting, integrationUser, parseOrgAliases, type OrgAlias
} from './local-orgs.ts'

const { values: args } = parseArgs({
  options: {
    dataset: { type: 'string', default: 'small' },
    'org-port': { type: 'string', default: '0' },
    'sync-interval-ms': { type: 'string', default: '2000' },
    faults: { type: 'string' },
    'data-dir': { type: 'string', default: DEV_DATA_DIR },
    orgs: { type: 'string', default: ORG_ALIASES.join(',') }
  }
})
if (args.dataset !== 'small' && args.dataset !== 'large') throw new Error('--dataset is small or large')
let faults: ReturnType<typeof parseFaultSpec> | undefined
try {
  faults = args.faults === undefined ? undefined : parseFaultSpec(args.faults)
} catch (err) {
  process.stderr.write(`[dev] --faults: ${(err as Error).message}\n[dev] usage: --faults ${FAULTS_USAGE}\n`)
  process.exit(2)
}
let aliases: OrgAlias[]
try {
  aliases = parseOrgAliases(args.orgs)
  if (!aliases.includes('acme')) throw new Error('--orgs must name acme: the other orgs stand beside it')
} catch (err) {
  process.stderr.write(`[dev] ${(err as Error).message}\n`)
  process.exit(2)
}
const dataDir = args['data-dir']
const orgDir = path.join(dataDir, 'local-org')
/** `npm run invoke` reads the default folder's (DEV_STATE_FILE). */
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

const org = await startLocalOrg({ port: Number(args['org-port']), dataset: args.dataset, snapshotDir: orgDir })
cleanups.unshift(org.close)
say(`local org serving ${org.url} (data kept in ${orgDir})`)
/** Every org of the stack, acme first. */
const orgs = [{ spec: LOCAL_ORGS.acme, org }]
for (const alias of aliases.filter((a) => a !== 'acme')) {
  const spec = LOCAL_ORGS[alias]
  const dir = path.join(dataDir, `local-org-${alias}`)
  // The acme seed startLocalOrg uses by default: the sandbox copies acme's records.
  const other = await startLocalOrg({ dataset: args.dataset, snapshotDir: dir, ...spec.options(ACME_SEED) })
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
    onError: (err) => { say(`local sync${spec.alias === 'acme' ? '' : ` (${spec.alias})`}: ${String(err)}`) }
  })
  cleanups.unshift(sync.stop)
  say(spec.alias === 'acme'
    ? `mirror filled by the local sync in ${Date.now() - started} ms; it polls every ${args['sync-interval-ms']} ms (real Heroku Connect: every 2-60 minutes)`
    : `mirror of ${spec.alias} filled into schema ${schema} by its own local sync in ${Date.now() - started} ms`)
}
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

const service = spawn(process.execPath, ['src/server.ts'], {
  env: {
    ...process.env,
    ...applinkEnv,
    APPLINK_AUTHORIZATIONS: authorizationsSetting(orgs),
    DATABASE_URL: databaseUrl,
    JOB_ENCRYPTION_KEYS: jobKeys,
    // The local orgs are the callers' orgs: their origins join Salesforce's hosts, and callbacks may
    // reach them on loopback.
    ORG_DOMAINS: [config.ORG_DOMAINS, ...orgs.map(({ org }) => org.url)].join(','),
    CALLBACK_ALLOW_PRIVATE_ADDRESSES: 'true',
    DOCS_CLIENT_CONTEXT: org.mintContext('rep1@acme.local')
  },
  stdio: ['ignore', 'pipe', 'inherit']
})
// Settles however the service ends (exit code or signal), also when it already has; 'close'
// comes after its last line was read, so the reason given below has it.
const serviceExited = new Promise<number | string>((resolve) => {
  service.once('close', (code, signal) => { resolve(code ?? signal ?? 'unknown') })
})
// The service logs JSON lines: in a terminal pino-pretty shows them to a person; piped, they pass
// unchanged to whatever reads them. The lines dev prints itself (SERVICE_URL=, CONTEXT …) are never
// reformatted. Each line is handled as it comes; only the last error message is kept.
const showLogLine = process.stdout.isTTY
  ? prettyFactory({ translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
  : (line: string) => `${line}\n`
let lastErrorMessage: string | undefined
const address = await new Promise<string>((resolve, reject) => {
  void serviceExited.then((code) => { reject(new Error(`the service exited (${code}) before listening`)) })
  createInterface({ input: service.stdout, crlfDelay: Infinity }).on('line', (line) => {
    process.stdout.write(showLogLine(line))
    lastErrorMessage = /"message":"([^"]+)"/.exec(line)?.[1] ?? lastErrorMessage
    const match = /"address":"(http[^"]+)".*"msg":"AppLink Actions listening"/.exec(line)
    if (match?.[1] !== undefined) resolve(match[1])
  })
}).catch(async () => {
  const reason = lastErrorMessage ?? 'see its log above'
  return await giveUp(`the service stopped before listening: ${reason}${reason.includes('EADDRINUSE') ? ` (port ${config.APP_PORT} is taken: set APP_PORT)` : ''}`)
})

const contextsOf = (o: typeof org) => Object.fromEntries(o.users.map((u) => [u.username, o.mintContext(u.username)]))
const acmeContexts = contextsOf(org)
const others = orgs.slice(1).map(({ spec, org }) => ({ alias: spec.alias, contexts: contextsOf(org) }))
const state: DevState = {
  serviceUrl: address,
  localOrgUrl: org.url,
  // Usernames differ between the orgs, so `npm run invoke -- … --user rep1@globex.local` finds its own.
  contexts: Object.assign({}, acmeContexts, ...others.map((o) => o.contexts))
}
await mkdir(dataDir, { recursive: true })
await writeFile(stateFile, JSON.stringify(state, null, 2))
process.stdout.write([
  `SERVICE_URL=${state.serviceUrl}`,
  `LOCAL_ORG_URL=${state.localOrgUrl}`,
  ...Object.entries(applinkEnv).map(([name, value]) => `${name}=${value}`),
  ...Object.entries(acmeContexts).map(([username, context]) => `CONTEXT ${username} ${context}`),
  ...orgs.map(({ spec, org }) => `ORG ${spec.alias} ${org.orgId} ${org.url} ${schemaOf(spec.alias) ?? '-'}`),
  ...others.flatMap(({ alias, contexts }) =>
    Object.entries(contexts).map(([username, context]) => `CONTEXT@${alias} ${username} ${context}`)),
  ''
].join('\n'))
say('ready. Try: npm run invoke -- checkAvailability \'{"items":[{"productCode":"HW-0001","quantity":5}]}\'')
say(`API reference: ${state.serviceUrl}/docs`)

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
  service.kill('SIGTERM')
  await serviceExited
  // The local org's close saves what changed since its last save.
  for (const cleanup of cleanups) await cleanup().catch((err: unknown) => { say(`cleanup: ${String(err)}`) })
  process.exit(code)
}
process.on('SIGINT', () => { void stop(0) })
process.on('SIGTERM', () => { void stop(0) })
void serviceExited.then((how) => {
  if (stopping) return
  say(`the service exited (${how}); stopping`)
  void stop(1)
})
