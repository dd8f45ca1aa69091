import type { Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { Readable, Writable } from 'node:stream'
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes, randomUUID } from 'node:crypto'
import pg from 'pg'
import app, { type AppOptions } from '../src/app.ts'
import { serverOptions } from '../src/server-options.ts'
import { DEFAULT_ORG_DOMAINS, loadConfig, type Config } from '../src/config.ts'

/** Salesforce's hosts, and the local orgs tests start on loopback (any port). */
export const LOCAL_ORG_DOMAINS = `${DEFAULT_ORG_DOMAINS},http://127.0.0.1:*`

/**
 * The job key of this test process, made for it: no key is built in (src/keyring.ts). Processes a
 * test spawns on the same database get it too, to open the jobs this one sealed.
 */
export const TEST_JOB_ENCRYPTION_KEYS = `test:${randomBytes(32).toString('base64')}`

/** Config as a test run sees it: the database of the run (DATABASE_URL, set by `npm test`), the test's job key. */
export function testConfig (overrides: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: process.env.DATABASE_URL,
    ORG_DOMAINS: LOCAL_ORG_DOMAINS,
    JOB_ENCRYPTION_KEYS: TEST_JOB_ENCRYPTION_KEYS,
    ...overrides
  })
}

export interface BuiltApp {
  app: FastifyInstance
  /** Every log line the app wrote, raw. */
  logs: string[]
}

/** Builds the real app for one test and closes it in teardown; logs are captured. */
export async function buildApp (
  t: Test,
  opts: Partial<AppOptions> & { env?: Record<string, string | undefined> } = {}
): Promise<BuiltApp> {
  const config = opts.config ?? testConfig(opts.env)
  const logs: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _enc, done) { logs.push(chunk.toString('utf8')); done() } })
  const instance = Fastify(serverOptions(config, { level: config.LOG_LEVEL, stream }))
  await instance.register(app, { ...opts, config })
  await instance.ready()
  t.teardown(() => instance.close())
  return { app: instance, logs }
}

export const TEST_ORG_ID = '00D5g000004SxyzEAC'
export const TEST_USER_ID = '0055g00000AbcdeAAB'

/** The JSON AppLink puts in x-client-context; fields may be overridden or removed (undefined). */
export function clientContext (overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    accessToken: `00D5g000004Sxyz!AR${randomUUID().replaceAll('-', '')}`,
    apiVersion: '62.0',
    requestId: `${TEST_ORG_ID}-${randomUUID()}`,
    namespace: '',
    orgId: TEST_ORG_ID,
    orgDomainUrl: 'https://acme.my.salesforce.com',
    userContext: { userId: TEST_USER_ID, username: 'rep@acme.example' },
    ...overrides
  }
}

/**
 * An org that only answers who a token belongs to (`/services/oauth2/userinfo`): every token is
 * TEST_USER_ID of TEST_ORG_ID. For tests of database-only actions that need a caller the identity
 * check accepts; returns its URL, for `clientContext({ orgDomainUrl })`.
 */
export async function userInfoOrg (t: Test): Promise<string> {
  const server = createServer((req, res) => {
    const ok = req.url === '/services/oauth2/userinfo' && req.headers.authorization !== undefined
    res.writeHead(ok ? 200 : 403, { 'content-type': 'application/json' })
    res.end(ok ? JSON.stringify({ user_id: TEST_USER_ID, organization_id: TEST_ORG_ID }) : '"Bad_OAuth_Token"')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => { resolve() })))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

export const encodeContext = (context: Record<string, unknown>): string => Buffer.from(JSON.stringify(context)).toString('base64')

/** Asserts the shared error body and returns it. */
export function assertError (
  t: Test,
  res: { statusCode: number, json: () => unknown },
  status: number,
  errorCode: string,
  fields?: string[]
): Record<string, unknown> {
  const body = res.json() as Record<string, unknown>
  t.equal(res.statusCode, status, `status ${status}`)
  t.equal(body.errorCode, errorCode, `errorCode ${errorCode}`)
  t.type(body.message, 'string')
  t.type(body.requestId, 'string')
  if (fields !== undefined) t.same(body.fields, fields, `fields ${fields.join(',')}`)
  return body
}

/**
 * This process's environment without what tap set for its test processes, for a command that runs
 * tap (or `npm test`) itself: an inner tap would otherwise take them for its own settings.
 */
export function envOutsideTap (overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) =>
    !/^(TAP|_TAPJS_)/.test(key) && key !== 'NODE_OPTIONS'))
  return { ...env, ...overrides }
}

/** The database server of the run (DATABASE_URL, set by `npm test`), at a given database. */
export function serverUrl (database: string): string {
  const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test')
  url.pathname = `/${database}`
  return url.toString()
}

/** A fresh database on the run's server, dropped when the test ends. */
export async function testDatabase (t: Test, prefix = 'test'): Promise<{ url: string, pool: pg.Pool }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: serverUrl('postgres') })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  const url = serverUrl(name)
  const pool = new pg.Pool({ connectionString: url, max: 5 })
  // An idle client the server drops while the test runs must not crash the test process; the
  // database is the test's own, so that is unexpected and said.
  pool.on('error', (err) => { t.comment(`an idle client of ${name} lost its connection: ${err.message}`) })
  const closed: Array<Promise<void>> = []
  pool.on('connect', (client) => { closed.push(new Promise((resolve) => { client.once('end', resolve) })) })
  t.teardown(async () => {
    // pool.end() resolves once the pool has let go of its clients, while their connections are
    // still closing: the forced drop would terminate them, and each would report it as an error.
    await pool.end()
    await Promise.all(closed)
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  })
  return { url, pool }
}

/** Polls `probe` until it gives a value (not undefined/false), or fails naming what it waited for. */
export async function until<R> (
  what: string,
  probe: () => Promise<R | undefined | false> | R | undefined | false,
  timeoutMs = 30_000,
  intervalMs = 100
): Promise<R> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** Every value of every table of the database (pg-boss's included) as text, to look for secrets in. */
export async function databaseText (database: string | pg.Pool): Promise<string> {
  const pool = typeof database === 'string' ? new pg.Pool({ connectionString: database, max: 1 }) : database
  try {
    const { rows: tables } = await pool.query<{ schema: string, name: string }>(`SELECT table_schema AS schema,
      table_name AS name FROM information_schema.tables
      WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`)
    const parts: string[] = []
    for (const { schema, name } of tables) {
      const { rows } = await pool.query(`SELECT t::text AS row FROM "${schema}"."${name}" t`)
      parts.push(...rows.map((r: { row: string }) => r.row))
    }
    return parts.join('\n')
  } finally {
    if (typeof database === 'string') await pool.end()
  }
}

/**
 * `node scripts/dev.ts …` in a process group of its own, killed whole at teardown: a SIGKILL of the
 * dev script alone would leave the service it started running, orphaned.
 */
export function spawnDev (t: Test, args: string[], options: SpawnOptions): ChildProcess & { stdout: Readable } {
  const dev = spawn(process.execPath, ['scripts/dev.ts', ...args], { ...options, detached: true })
  if (dev.stdout === null) throw new Error('spawnDev: stdout must be piped (what dev prints is read)')
  t.teardown(() => {
    try {
      process.kill(-(dev.pid as number), 'SIGKILL')
    } catch {
      // The group is gone already.
    }
  })
  return dev as ChildProcess & { stdout: Readable }
}
