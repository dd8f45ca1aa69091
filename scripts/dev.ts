// npm run dev [-- --dataset small|large]: the whole service on one machine, no org needed.
// Starts PostgreSQL (DATABASE_URL or an embedded one), the local org, the local Heroku Connect
// sync (mirror filled before the service starts), then the service itself as its own process,
// exactly as `npm start` runs it. Once ready it prints SERVICE_URL=, LOCAL_ORG_URL= and one
// CONTEXT line per local-org user, and writes them to .data/dev.json for `npm run invoke`.
import { MAPPING } from '../src/postgres/mapping.ts'
import { spawn } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { prettyFactory } from 'pino-pretty'
import { loadConfig } from '../src/config.ts'
import { startEmbeddedPostgres } from '../src/postgres/embedded.ts'
import { migrate } from '../src/postgres/migrate.ts'
import { startLocalOrg } from '@applink-actions/local-org'
import { startLocalSync } from '@applink-actions/local-connect'
import { seedAppData } from './app-data.ts'
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

const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 })
pool.on('error', (err) => { say(`database: ${err.message}`) })
cleanups.unshift(async () => { await pool.end() })
const started = Date.now()
const sync = await startLocalSync({
  mapping: MAPPING,
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
  env: { ...process.env, DATABASE_URL: databaseUrl, DOCS_CLIENT_CONTEXT: org.mintContext('rep1@acme.local') },
  stdio: ['ignore', 'pipe', 'inherit']
})
// The service logs JSON lines: in a terminal pino-pretty shows them to a person; piped, they pass
// unchanged to whatever reads them. The lines dev prints itself (SERVICE_URL=, CONTEXT …) are never
// reformatted. Each line is handled as it comes; only the last error message is kept.
const showLogLine = process.stdout.isTTY
  ? prettyFactory({ translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
  : (line: string) => `${line}\n`
let lastErrorMessage: string | undefined
const address = await new Promise<string>((resolve, reject) => {
  // 'close' comes after the last line was read, so the reason below has it.
  service.once('close', (code) => { reject(new Error(`the service exited with ${code} before listening`)) })
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
