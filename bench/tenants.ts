// Many orgs on one database (issue 24): checkAvailability with callers spread over 200 orgs, each
// mirrored into a schema of its own on one database, against the single-org stack; the service's
// connections in both; the org → schema map's memory per 1,000 orgs.
//
// Each tenant is what Heroku Connect for ISVs makes of a customer: a local org of its own (own org
// id, users, tokens and seeded records), mirrored by the local sync into schema `tenant_<n>` whose
// `_hcmeta` names the org, and the org's app data seeded by scripts/app-data.ts (warehouses, stock,
// pricing rules, web orders, under the org's row-level security). The service finds every schema
// itself, from `_hcmeta`, as in production; each caller's token is confirmed by its own org's
// UserInfo endpoint.
import pg from 'pg'
import { startLocalOrg, type LocalOrg } from '@applink-actions/local-org'
import { actionPath } from '../src/actions/define.ts'
import { loadConfig } from '../src/config.ts'
import { migrate } from '../src/postgres/migrate.ts'
import { seedAppData } from '../scripts/app-data.ts'
import { BENCH_JOB_ENCRYPTION_KEYS, benchDatabase, loadMirror, type BenchDatabase, type BenchStack } from './env.ts'
import { httpLoad, progress, type Caller, type LoadResult } from './measure.ts'
import { compareWithCpu, measured, startService, type CpuLoadResult, type DynoOptions } from './dyno.ts'
import { measureOrgMapMemory, type OrgMapMemory } from './org-map-memory.ts'
import type { ServerProcess } from './processes.ts'

/** Orgs on the tenant database: the bench's own (acme) and 199 more. */
export const TENANT_ORGS = 200
/** Seeds of the tenant orgs: far from the bench org's (7), so no org id repeats. */
const TENANT_SEED = 1000
/** Tenants built at once: seeding an org is CPU in this process, its sync and app data are PostgreSQL's. */
const BUILD_CONCURRENCY = 4
/** The pool's application_name (src/postgres/pool.ts): the service's connections in pg_stat_activity. */
const APPLICATION_NAME = 'applink-actions'

export interface PoolFigures {
  /** DATABASE_POOL_MAX, plus the idempotency writer's one connection. */
  max: number
  /** Most of the service's connections to its database seen at once (pg_stat_activity, every 100 ms under load). */
  peak: number
}

export interface TenantResults {
  orgs: number
  products: number
  /** The first seconds of load after each service started, before the rounds below. */
  cold: { seconds: number, single: LoadResult, tenants: LoadResult }
  single: CpuLoadResult & { pool: PoolFigures }
  tenants: CpuLoadResult & { pool: PoolFigures }
  /** Tenants' req/s ÷ the single org's (target ≥ 0.95). */
  ratio: number
  buildS: number
  orgMap: OrgMapMemory[]
}

/** The first 10 active product codes of the org mirrored in `schema`, with quantities, as figure 2 asks. */
export async function availabilityItems (
  pool: pg.Pool, schema: string
): Promise<Array<{ productCode: string, quantity: number }>> {
  const { rows } = await pool.query<{ productcode: string }>(
    `SELECT productcode FROM ${pg.escapeIdentifier(schema)}.product2
      WHERE isactive AND productcode IS NOT NULL ORDER BY productcode LIMIT 10`)
  return rows.map((r, i) => ({ productCode: r.productcode, quantity: 1 + i * 7 }))
}

/** rep1 of the org, asking for the first 10 products of its own mirror. */
async function callerOf (org: LocalOrg, pool: pg.Pool, schema: string): Promise<Caller> {
  const rep = org.users.find((u) => u.username.startsWith('rep1@'))
  if (rep === undefined) throw new Error(`the org ${org.orgId} has no rep1`)
  const items = await availabilityItems(pool, schema)
  return { context: org.mintContext(rep.username), body: JSON.stringify({ items }) }
}

interface TenantDatabase { db: BenchDatabase, orgs: LocalOrg[], callers: Caller[], close: () => Promise<void> }

/**
 * A new database holding the bench org's mirror (`salesforce`) and `count - 1` tenants', each with
 * its app data; the callers, one per org, the bench org's first.
 */
async function tenantDatabase (stack: BenchStack, count: number): Promise<TenantDatabase> {
  const db = await benchDatabase()
  const orgs: LocalOrg[] = []
  const close = async () => {
    await Promise.all(orgs.map(async (org) => { await org.close() }))
    await db.drop()
  }
  try {
    await migrate(db.pool)
    await loadMirror(stack.org, db)
    await seedAppData(db.pool, 'salesforce')
    const built: Array<{ org: LocalOrg, schema: string }> = []
    let next = 1
    await Promise.all(Array.from({ length: BUILD_CONCURRENCY }, async () => {
      while (next < count) {
        const n = next++
        const schema = `tenant_${String(n).padStart(3, '0')}`
        const org = await startLocalOrg({
          port: 0,
          dataset: 'small',
          seed: TENANT_SEED + n,
          userDomain: `tenant${n}.local`,
          faults: { dailyApiLimit: 100_000_000 }
        })
        orgs.push(org)
        await loadMirror(org, db, schema)
        await seedAppData(db.pool, schema)
        built.push({ org, schema })
        if (built.length % 20 === 0) progress(`  ${built.length + 1} of ${count} orgs on the tenant database`)
      }
    }))
    await db.pool.query('ANALYZE')
    const callers = [await callerOf(stack.org, db.pool, 'salesforce')]
    for (const { org, schema } of built) callers.push(await callerOf(org, db.pool, schema))
    return { db, orgs, callers, close }
  } catch (err) {
    await close()
    throw err
  }
}

/** The service's connections to `database` at most, sampled every 100 ms until `stop`. */
function watchConnections (pool: pg.Pool, database: string): { stop: () => Promise<number> } {
  let peak = 0
  const sample = async () => {
    const { rows } = await pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = $2',
      [database, APPLICATION_NAME])
    peak = Math.max(peak, rows[0]?.n ?? 0)
  }
  let last = sample()
  const timer = setInterval(() => { last = last.then(sample) }, 100)
  return {
    stop: async () => {
      clearInterval(timer)
      await last
      await sample()
      return peak
    }
  }
}

/** One side: a service process on `db`, loaded by `callers` in turn, its CPU and connections watched. */
function side (db: BenchDatabase, service: () => ServerProcess, callers: Caller[], connections: number) {
  const database = new URL(db.url).pathname.slice(1)
  let peak = 0
  const load = async (durationS: number): Promise<LoadResult> => {
    const watch = watchConnections(db.pool, database)
    try {
      return await httpLoad({
        url: `${service().url}${actionPath('checkAvailability')}`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        callers,
        connections,
        durationS
      })
    } finally {
      peak = Math.max(peak, await watch.stop())
    }
  }
  return { load, measured: measured(db, service, load), peak: () => peak }
}

/** Each caller once, in turn, answered 200: its org's mirror is found and its token confirmed (then cached). */
async function callEachOnce (service: ServerProcess, callers: Caller[]): Promise<void> {
  for (const caller of callers) {
    const res = await fetch(`${service.url}${actionPath('checkAvailability')}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-client-context': caller.context },
      body: caller.body
    })
    if (res.status !== 200) throw new Error(`checkAvailability for a tenant: ${res.status} ${await res.text()}`)
    await res.arrayBuffer()
  }
}

/**
 * checkAvailability on a database holding one org's mirror (the bench org's, one caller) vs on one
 * holding 200 orgs' (callers of all 200 in turn), each database built the same way and served by a
 * service process of its own as a dyno runs it: first from a cold start (every connection meets
 * every org's statements for the first time), then warm in alternating rounds; then the org → schema
 * map's memory.
 */
export async function measureTenants (stack: BenchStack, opts: Omit<DynoOptions, 'context'>): Promise<TenantResults> {
  const t0 = performance.now()
  progress(`8/8 tenants: building ${TENANT_ORGS} orgs' mirrors and app data on one database, and one org's on another`)
  const one = await tenantDatabase(stack, 1)
  const many = await tenantDatabase(stack, TENANT_ORGS).catch(async (err: unknown) => { await one.close(); throw err })
  const buildS = (performance.now() - t0) / 1000
  const services: ServerProcess[] = []
  try {
    services.push(await startService(one.db.url), await startService(many.db.url))
    const [singleService, manyService] = services as [ServerProcess, ServerProcess]
    progress(`8/8 tenants: checkAvailability, callers of 1 org vs of ${TENANT_ORGS} orgs`)
    await callEachOnce(singleService, one.callers)
    await callEachOnce(manyService, many.callers)
    const a = side(one.db, () => singleService, one.callers, opts.connections)
    const b = side(many.db, () => manyService, many.callers, opts.connections)
    // Cold: the first seconds of load, each org's statements new to most connections.
    const coldS = opts.seconds
    const cold = { seconds: coldS, single: await a.load(coldS), tenants: await b.load(coldS) }
    const { baseline, subject, ratio } = await compareWithCpu(a.measured, b.measured, opts)
    const { DATABASE_POOL_MAX } = loadConfig({ JOB_ENCRYPTION_KEYS: BENCH_JOB_ENCRYPTION_KEYS })
    const max = DATABASE_POOL_MAX + 1
    progress('8/8 tenants: the org → schema map\'s memory for 1,000 and 10,000 orgs')
    return {
      orgs: TENANT_ORGS,
      products: (JSON.parse(one.callers[0]?.body ?? '{"items":[]}') as { items: unknown[] }).items.length,
      cold,
      single: { ...baseline, pool: { max, peak: a.peak() } },
      tenants: { ...subject, pool: { max, peak: b.peak() } },
      ratio,
      buildS,
      orgMap: await measureOrgMapMemory([1000, 10_000])
    }
  } finally {
    await Promise.all(services.map(async (service) => { await service.stop() }))
    await Promise.all([one.close(), many.close()])
  }
}
