import { MAPPING } from '../../src/postgres/mapping.ts'
import type { Test } from 'tap'
import { createServer, type IncomingMessage } from 'node:http'
import { spawn, type ChildProcess } from 'node:child_process'
import type { FastifyInstance } from 'fastify'
import { startLocalOrg, type LocalOrg } from '@applink-actions/local-org'
import { startLocalSync } from '@applink-actions/local-connect'
import { startLocalAppLink, type LocalAppLink } from '@applink-actions/local-applink'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { buildApp, databaseText, testConfig, TEST_JOB_ENCRYPTION_KEYS, type BuiltApp } from '../helper.ts'
import rescoreAccounts from '../../src/actions/rescore-accounts.ts'
import startAccountRescore from '../../src/actions/start-account-rescore.ts'
import getJobStatus from '../../src/actions/get-job-status.ts'
import type { ActionDefinition } from '../../src/actions/define.ts'

export const COLLECTIONS_PATH = '/services/data/v62.0/composite/sobjects'

/** Settings that make retries, heartbeats and polling fast enough for a test. */
export const FAST_JOBS = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'info',
  CONNECT_SCHEMA: 'salesforce',
  JOB_POLL_SECONDS: '0.5',
  JOB_RETRY_DELAY_SECONDS: '1',
  JOB_HEARTBEAT_SECONDS: '10',
  JOB_SUPERVISE_SECONDS: '1',
  JOB_CONCURRENCY: '1',
  // The org under test, and the callbacks it answers, live on loopback.
  CALLBACK_ALLOW_PRIVATE_ADDRESSES: 'true',
  // Worker processes open the jobs the test's app sealed.
  JOB_ENCRYPTION_KEYS: TEST_JOB_ENCRYPTION_KEYS
}

export interface Callback { path: string, authorization: string | undefined, body: unknown }

/**
 * The local org behind a recording proxy: counts the record ids every collections PATCH carries
 * and answers `POST /callback/…` itself (the summary's destination, on the org's own origin).
 */
export interface OrgUnderTest {
  org: LocalOrg
  /** The proxy's URL: what the caller context names as the org. */
  url: string
  /** Every id sent in a collections PATCH, in order (duplicates included). */
  written: string[]
  patchCalls: number
  callbacks: Callback[]
  /** x-client-context for the user, on the proxy; remembers the token in `tokens`. */
  context: (username: string) => string
  /** Every access token handed to the service. */
  tokens: Set<string>
  /** The next N collection calls reach the org, but their answer is lost (the connection drops). */
  loseAnswers: number
  /** Statuses the next callbacks are answered with, in turn (then 200). */
  callbackAnswers: number[]
  /** The next N platform event publishes reach the org, but their answer is lost. */
  loseEventAnswers: number
}

async function readBody (req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

export async function orgUnderTest (t: Test, accounts = 0): Promise<OrgUnderTest> {
  const org = await startLocalOrg({ port: 0, dataset: 'small', seed: 1 })
  const owners = org.users.filter((u) => u.profile === 'rep')
  for (let i = 0; i < accounts; i++) {
    org.insertRecord('Account', {
      Name: `Rescore Test ${i}`,
      Type: 'Customer',
      Industry: 'Technology',
      OwnerId: owners[i % owners.length]?.id
    })
  }
  const state: Omit<OrgUnderTest, 'context'> = {
    org,
    url: '',
    written: [],
    patchCalls: 0,
    callbacks: [],
    tokens: new Set(),
    loseAnswers: 0,
    callbackAnswers: [],
    loseEventAnswers: 0
  }
  const proxy = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req)
      const path = req.url ?? '/'
      if (req.method === 'POST' && path.startsWith('/callback/')) {
        state.callbacks.push({ path, authorization: req.headers.authorization, body: JSON.parse(body.toString('utf8')) })
        res.writeHead(state.callbackAnswers.shift() ?? 200).end()
        return
      }
      const headers: Record<string, string> = {}
      for (const name of ['authorization', 'content-type', 'accept']) {
        const value = req.headers[name]
        if (typeof value === 'string') headers[name] = value
      }
      const upstream = await fetch(`${org.url}${path}`, { method: req.method, headers, body: body.length > 0 ? body : undefined })
      const answer = Buffer.from(await upstream.arrayBuffer())
      if (req.method === 'POST' && /\/sobjects\/\w+__e$/.test(path) && state.loseEventAnswers > 0) {
        state.loseEventAnswers--
        res.destroy()
        return
      }
      if (req.method === 'PATCH' && path === COLLECTIONS_PATH) {
        state.patchCalls++
        if (upstream.ok) {
          const sent = JSON.parse(body.toString('utf8')) as { records: Array<{ Id: string }> }
          const results = JSON.parse(answer.toString('utf8')) as Array<{ success: boolean }>
          sent.records.forEach((r, i) => { if (results[i]?.success === true) state.written.push(r.Id) })
        }
        if (state.loseAnswers > 0) {
          state.loseAnswers--
          res.destroy()
          return
        }
      }
      res.writeHead(upstream.status, {
        'content-type': upstream.headers.get('content-type') ?? 'application/json',
        ...(upstream.headers.get('sforce-limit-info') === null ? {} : { 'sforce-limit-info': upstream.headers.get('sforce-limit-info') ?? '' })
      }).end(answer)
    })().catch((err: unknown) => { res.writeHead(502).end(String(err)) })
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const address = proxy.address()
  state.url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  t.teardown(async () => {
    proxy.closeAllConnections()
    await new Promise((resolve) => proxy.close(resolve))
    await org.close()
  })
  const context = (username: string): string => {
    const decoded = org.contextFor(username, { orgDomainUrl: state.url })
    state.tokens.add(decoded.accessToken)
    return Buffer.from(JSON.stringify(decoded)).toString('base64')
  }
  return Object.assign(state, { context })
}

const SERVER = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432'

/**
 * A database of the test's own (the server is shared, and pg-boss would let another test's app
 * work these jobs) with the mirror filled from the org by the local Connect's initial load.
 * Dropped at the end, after the apps and workers of the test closed (teardowns run last-in first).
 */
export async function mirroredDatabase (t: Test, org: LocalOrg): Promise<string> {
  const name = `jobs_test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: `${SERVER}/postgres` })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  t.teardown(async () => {
    const dropper = new pg.Client({ connectionString: `${SERVER}/postgres` })
    await dropper.connect()
    await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await dropper.end()
  })
  const url = `${SERVER}/${name}`
  const integration = org.user('integration@acme.local')
  const sync = await startLocalSync({ mapping: MAPPING, databaseUrl: url, schema: 'salesforce', orgUrl: org.url, accessToken: integration.accessToken, intervalMs: 3_600_000, onError: () => {} })
  await sync.stop()
  return url
}

export const jobActions: ActionDefinition[] = [rescoreAccounts, startAccountRescore, getJobStatus]

export const RUN_AS = 'integration@acme.local'
export const AUTHORIZATION = 'RescoreRunAs'

/**
 * The local AppLink add-on beside the org under test, with one authorization running as the
 * integration user on the proxy. The SDK reads its settings from process.env: they are set here
 * (each test file is its own process). Returns the settings a worker or app needs too.
 */
export async function applinkUnderTest (
  t: Test,
  ut: OrgUnderTest
): Promise<{ applink: LocalAppLink, env: Record<string, string> }> {
  const applink = await startLocalAppLink({
    org: ut.org,
    authorizations: { [AUTHORIZATION]: RUN_AS },
    instanceUrl: ut.url
  })
  t.teardown(applink.close)
  Object.assign(process.env, applink.env)
  // Empty is unset: under an authorization no session is sealed, so these jobs run with no key at all.
  return { applink, env: { ...applink.env, APPLINK_AUTHORIZATION: AUTHORIZATION, JOB_ENCRYPTION_KEYS: '' } }
}

/** The app with the job actions, on the test's database. */
export async function jobsApp (t: Test, databaseUrl: string, env: Record<string, string> = {}): Promise<BuiltApp> {
  return await buildApp(t, {
    actions: jobActions,
    config: testConfig({ ...FAST_JOBS, DATABASE_URL: databaseUrl, ...env })
  })
}

export async function startRescore (
  app: FastifyInstance, ut: OrgUnderTest, username: string, filter: Record<string, string> = {}, tag = 'done'
): Promise<{ statusCode: number, body: { jobId: string, state: string } }> {
  const res = await app.inject({
    method: 'POST',
    url: '/actions/rescoreAccounts',
    headers: { 'x-client-context': ut.context(username) },
    payload: { ...filter, callbackUrl: `${ut.url}/callback/${tag}` }
  })
  return { statusCode: res.statusCode, body: res.json() }
}

/** The Flow path: startAccountRescore, no callback. */
export async function startFlowRescore (
  app: FastifyInstance, ut: OrgUnderTest, username: string, filter: Record<string, string> = {}
): Promise<{ statusCode: number, body: { jobId: string, state: string } }> {
  const res = await app.inject({
    method: 'POST',
    url: '/actions/startAccountRescore',
    headers: { 'x-client-context': ut.context(username) },
    payload: filter
  })
  return { statusCode: res.statusCode, body: res.json() }
}

export interface Status {
  state: string
  attempts: number
  progress: { done: number, total: number }
  result?: Record<string, unknown>
  error?: { errorCode: string, message: string }
}

export async function jobStatus (
  app: FastifyInstance, ut: OrgUnderTest, username: string, jobId: string
): Promise<{ statusCode: number, body: Status }> {
  const res = await app.inject({
    method: 'POST',
    url: '/actions/getJobStatus',
    headers: { 'x-client-context': ut.context(username) },
    payload: { jobId }
  })
  return { statusCode: res.statusCode, body: res.json() }
}

/** Polls getJobStatus until the job is completed or failed for good. */
export async function settled (
  app: FastifyInstance, ut: OrgUnderTest, username: string, jobId: string, timeoutMs = 60_000
): Promise<Status> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const { body } = await jobStatus(app, ut, username, jobId)
    if (body.state === 'completed' || body.state === 'failed') return body
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${body.state} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

export { databaseText, until } from '../helper.ts'

/** The org's live Finance accounts (the tests' rescore filter), split by whether `username` owns them: ids. */
export function financeAccounts (
  ut: OrgUnderTest, username: string
): { all: string[], own: string[], others: string[] } {
  const owner = ut.org.user(username).id
  const accounts = ut.org.records('Account').filter((a) => a.Industry === 'Finance' && a.IsDeleted !== true)
  const ids = (list: typeof accounts) => list.map((a) => String(a.Id))
  return {
    all: ids(accounts),
    own: ids(accounts.filter((a) => a.OwnerId === owner)),
    others: ids(accounts.filter((a) => a.OwnerId !== owner))
  }
}

/**
 * A finished job left no token behind: none in any table of its database (whose text is seen to
 * hold the job, so the scan is not of an empty dump) and none in the log.
 */
export async function assertNoTokensKept (
  t: Test, databaseUrl: string, jobId: string, logs: string[], tokens: Iterable<string>
): Promise<void> {
  const text = await databaseText(databaseUrl)
  t.ok(text.includes(jobId), 'the scan sees the job tables')
  for (const token of tokens) {
    t.notOk(text.includes(token), 'no token in any table')
    t.notOk(logs.join('').includes(token), 'no token in the log')
  }
}

export interface WorkerProcess { child: ChildProcess, logs: string[], exited: Promise<number | null> }

/** `npm run worker` as a child process on the test's database. */
export function startWorker (t: Test, databaseUrl: string, env: Record<string, string> = {}): WorkerProcess {
  const child = spawn(process.execPath, ['src/jobs/worker.ts'], {
    cwd: new URL('../../', import.meta.url),
    env: { PATH: process.env.PATH, ...FAST_JOBS, DATABASE_URL: databaseUrl, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const logs: string[] = []
  let partial = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n')
    partial = lines.pop() ?? ''
    logs.push(...lines)
  })
  child.stderr?.on('data', (chunk: Buffer) => { logs.push(chunk.toString('utf8')) })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => { resolve(code) }))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  return { child, logs, exited }
}

/** The parsed JSON log lines of a worker with a given message. */
export const logged = (logs: string[], msg: string): Array<Record<string, unknown>> =>
  logs.flatMap((line) => {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>
      return entry.msg === msg ? [entry] : []
    } catch {
      return []
    }
  })
