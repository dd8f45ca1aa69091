// npm run dev [-- --dataset small|large]: the whole service on one machine, no org needed.
// Starts PostgreSQL (DATABASE_URL or an embedded one), the local org, the local Heroku Connect
// sync (mirror filled before the service starts), then the service itself as its own process,
// exactly as `npm start` runs it. Once ready it prints SERVICE_URL=, LOCAL_ORG_URL=, the local
// AppLink add-on's settings (HEROKU_APP_ID=, HEROKU_APPLINK_API_URL=, HEROKU_APPLINK_TOKEN=,
// APPLINK_AUTHORIZATION=) and one CONTEXT line per local-org user, and writes the URLs and contexts
// to .data/dev.json for `npm run invoke`.
import { spawn } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { loadConfig } from '../src/config.ts'
import { startEmbeddedPostgres } from '../src/postgres/embedded.ts'
import { migrate } from '../src/postgres/migrate.ts'
import { startLocalOrg } from '../local/org/index.ts'
import { startLocalSync } from '../local/connect/index.ts'
import { startLocalAppLink } from '../local/applink/index.ts'
import { seedAppData } from '../local/app-data.ts'
import { DEV_STATE_FILE, type DevState } from './dev-state.ts'

const { values: args } = parseArgs({
  options: {
    dataset: { type: 'string', default: 'small' },
    'org-port': { type: 'string', default: '0' },
    'sync-interval-ms': { type: 'string', default: '2000' }
  }
})
if (args.dataset !== 'small' && args.dataset !== 'large') throw new Error('--dataset is small or large')

const say = (line: string) => { process.stderr.write(`[dev] ${line}\n`) }
const config = loadConfig(process.env)
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

const org = await startLocalOrg({ port: Number(args['org-port']), dataset: args.dataset, snapshotDir: '.data/local-org' })
cleanups.unshift(org.close)
say(`local org serving ${org.url} (data kept in .data/local-org)`)
// The AppLink add-on beside it: jobs run as the integration user through this authorization.
const LOCAL_AUTHORIZATION = 'LocalIntegration'
const applink = await startLocalAppLink({ org, authorizations: { [LOCAL_AUTHORIZATION]: 'integration@acme.local' } })
cleanups.unshift(applink.close)
const applinkEnv = { ...applink.env, APPLINK_AUTHORIZATION: LOCAL_AUTHORIZATION }

const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 })
pool.on('error', (err) => { say(`database: ${err.message}`) })
cleanups.unshift(async () => { await pool.end() })
const started = Date.now()
const sync = await startLocalSync({
  pool,
  schema: config.CONNECT_SCHEMA,
  orgUrl: org.url,
  accessToken: org.user('integration@acme.local').accessToken,
  intervalMs: Number(args['sync-interval-ms']),
  onError: (err) => { say(`local sync: ${String(err)}`) }
})
cleanups.unshift(sync.stop)
say(`mirror filled by the local sync in ${Date.now() - started} ms; it polls every ${args['sync-interval-ms']} ms (real Heroku Connect: every 2-60 minutes)`)
await migrate(pool)
await seedAppData(pool, config.CONNECT_SCHEMA)

const service = spawn(process.execPath, ['src/server.ts'], {
  env: {
    ...process.env,
    ...applinkEnv,
    DATABASE_URL: databaseUrl,
    DOCS_CLIENT_CONTEXT: org.mintContext('rep1@acme.local')
  },
  stdio: ['ignore', 'pipe', 'inherit']
})
let serviceOutput = ''
const address = await new Promise<string>((resolve, reject) => {
  service.once('exit', (code) => { reject(new Error(`the service exited with ${code} before listening`)) })
  service.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk)
    serviceOutput += chunk.toString('utf8')
    const match = /"address":"(http[^"]+)".*"msg":"AppLink Actions listening"/.exec(serviceOutput)
    if (match?.[1] !== undefined) resolve(match[1])
  })
}).catch(async () => {
  const reason = /"message":"([^"]+)"/.exec(serviceOutput)?.[1] ?? 'see its log above'
  return await giveUp(`the service stopped before listening: ${reason}${reason.includes('EADDRINUSE') ? ` (port ${config.APP_PORT} is taken: set APP_PORT)` : ''}`)
})

const state: DevState = {
  serviceUrl: address,
  localOrgUrl: org.url,
  contexts: Object.fromEntries(org.users.map((u) => [u.username, org.mintContext(u.username)]))
}
await mkdir('.data', { recursive: true })
await writeFile(DEV_STATE_FILE, JSON.stringify(state, null, 2))
process.stdout.write([
  `SERVICE_URL=${state.serviceUrl}`,
  `LOCAL_ORG_URL=${state.localOrgUrl}`,
  ...Object.entries(applinkEnv).map(([name, value]) => `${name}=${value}`),
  ...Object.entries(state.contexts).map(([username, context]) => `CONTEXT ${username} ${context}`),
  ''
].join('\n'))
say(`ready. Try: npm run invoke -- checkAvailability '{"items":[{"productCode":"HW-0001","quantity":5}]}'`)
say(`API reference: ${state.serviceUrl}/docs`)

let stopping = false
async function stop (code: number): Promise<void> {
  if (stopping) return
  stopping = true
  service.kill('SIGTERM')
  await new Promise((resolve) => { if (service.exitCode !== null) resolve(null); else service.once('exit', resolve) })
  for (const cleanup of cleanups) await cleanup().catch((err: unknown) => { say(`cleanup: ${String(err)}`) })
  process.exit(code)
}
process.on('SIGINT', () => { void stop(0) })
process.on('SIGTERM', () => { void stop(0) })
service.on('exit', (code) => { if (!stopping) { say(`the service exited (${code})`); void stop(1) } })
