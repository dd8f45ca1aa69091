import { MAPPING } from '../src/postgres/mapping.ts'
import Fastify, { type FastifyInstance } from 'fastify'
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import pg from 'pg'
import app from '../src/app.ts'
import { serverOptions } from '../src/server-options.ts'
import type { ActionDefinition } from '../src/actions/define.ts'
import { DEFAULT_ORG_DOMAINS, loadConfig } from '../src/config.ts'
import { startLocalOrg, type LocalOrg } from '@applink-actions/local-org'
import { startLocalSync } from '@applink-actions/local-connect'
import { seedAppData } from '../scripts/app-data.ts'
import { integrationUser } from '../scripts/local-orgs.ts'
import { mirrorIndexesSql } from '../scripts/mirror-indexes.ts'

/** The PostgreSQL server the bench uses: BENCH_DATABASE_URL, else the local trust server. */
const SERVER_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

export function databaseUrl (database: string): string {
  const url = new URL(SERVER_URL)
  url.pathname = `/${database}`
  return url.toString()
}

export interface BenchDatabase { url: string, pool: pg.Pool, drop: () => Promise<void> }

/** A fresh database for this run, dropped at the end whatever happened. */
export async function benchDatabase (): Promise<BenchDatabase> {
  const name = `bench_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: databaseUrl('postgres') })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  const url = databaseUrl(name)
  const pool = new pg.Pool({ connectionString: url, max: 10 })
  pool.on('error', () => {})
  return {
    url,
    pool,
    drop: async () => {
      await pool.end()
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end()
    }
  }
}

/**
 * Fastify options as production has them (info-level request logs), written to /dev/null so the
 * cost of logging is measured without flooding the terminal.
 */
export function benchServerOptions (config: ReturnType<typeof loadConfig>) {
  return serverOptions(config, { level: config.LOG_LEVEL, file: '/dev/null' })
}

export interface Served { app: FastifyInstance, url: string }

/** Listens on loopback on a free port; `build` adds routes or plugins. */
export async function listen (app: FastifyInstance): Promise<string> {
  return await app.listen({ port: 0, host: '127.0.0.1' })
}

/** The bench's job key, made per run (none is built in); its worker processes are given it too. */
export const BENCH_JOB_ENCRYPTION_KEYS = `bench:${randomBytes(32).toString('base64')}`
/** Salesforce's hosts and the bench's local orgs on loopback: the callers' org is a local one. */
export const LOCAL_ORG_DOMAINS = `${DEFAULT_ORG_DOMAINS},http://127.0.0.1:*`

/** The real app, listening, with the bench's database and no job worker in the web process. */
export async function serveApp (env: Record<string, string>, actions?: ActionDefinition[]): Promise<Served> {
  const config = loadConfig({
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    WORKER_IN_WEB: 'false',
    JOB_ENCRYPTION_KEYS: BENCH_JOB_ENCRYPTION_KEYS,
    ORG_DOMAINS: LOCAL_ORG_DOMAINS,
    ...env
  })
  const instance = Fastify(benchServerOptions(config))
  await instance.register(app, { config, ...(actions === undefined ? {} : { actions }) })
  return { app: instance, url: await listen(instance) }
}

/**
 * The local sync's initial load of the org into `schema` (its `_hcmeta` names the org), as its
 * integration user, then the sync stops: no poll runs during a measurement. `progress` hears how a
 * large table's load goes.
 */
export async function loadMirror (
  org: LocalOrg, db: BenchDatabase, schema = 'salesforce', progress?: (line: string) => void
): Promise<void> {
  const sync = await startLocalSync({
    mapping: MAPPING,
    pool: db.pool,
    schema,
    orgUrl: org.url,
    accessToken: org.user(integrationUser(org)).accessToken,
    intervalMs: 3_600_000,
    onError: () => {},
    progress,
    userSql: mirrorIndexesSql()
  })
  await sync.stop()
}

export interface BenchStack {
  org: LocalOrg
  db: BenchDatabase
  app: FastifyInstance
  url: string
  close: () => Promise<void>
}

/**
 * Local org (small data set) + fresh database with the mirror loaded once by the local sync
 * (then stopped, so no poll runs during a measurement) + app tables seeded + the app listening.
 */
export async function startStack (env: Record<string, string> = {}): Promise<BenchStack> {
  // A bench run sends far more than an org's default 100,000 daily API calls: the limit is not measured here.
  const org = await startLocalOrg({ port: 0, dataset: 'small', seed: 7, faults: { dailyApiLimit: 100_000_000 } })
  const db = await benchDatabase()
  let served: Served
  try {
    await loadMirror(org, db)
    served = await serveApp({ DATABASE_URL: db.url, ...env })
    await seedAppData(db.pool, 'salesforce')
    await db.pool.query('ANALYZE')
  } catch (err) {
    await org.close()
    await db.drop()
    throw err
  }
  org.resetStats()
  return {
    org,
    db,
    ...served,
    close: async () => {
      await served.app.close()
      await org.close()
      await db.drop()
    }
  }
}

export interface Machine { cpu: string, cores: number, memoryGb: number, os: string, node: string }

export function machine (): Machine {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version
  }
}
