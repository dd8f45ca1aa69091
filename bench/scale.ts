// Figure 9, the scale curve: accountInsights and checkAvailability on the small data set and on the
// large one at 10,000, 100,000 and 1,000,000 accounts, each beside its physical reference (the same
// SQL run straight on a pg pool), with what it took to get there: seeding the local org, the org's
// heap, and the local sync's first load of the mirror (Bulk API query jobs written with COPY).
import pg from 'pg'
import { startLocalOrg } from '@applink-actions/local-org'
import { actionPath } from '../src/actions/define.ts'
import { productAvailability } from '../src/postgres/availability.ts'
import { callerMirror } from '../src/postgres/caller-mirror.ts'
import { visibleAccountFacts } from '../src/postgres/insights.ts'
import { createMirror } from '../src/postgres/mirror.ts'
import { orgScope } from '../src/postgres/org-scope.ts'
import { seedAppData } from '../scripts/app-data.ts'
import { benchDatabase, loadMirror } from './env.ts'
import { startService } from './dyno.ts'
import { httpLoad, loop, progress, type LoadResult } from './measure.ts'
import { availabilityItems } from './tenants.ts'
import { measureRescore } from './rescore-scale.ts'

/** Accounts of the large data set at each point after the small one; BENCH_SCALE=10000,100000 for fewer. */
export const SCALE_ACCOUNTS = (process.env.BENCH_SCALE ?? '10000,100000,1000000').split(',').map(Number)
/** Accounts accountInsights is asked about, taking turns: rep1's with opportunities, picked by a hash of the id. */
const INSIGHT_ACCOUNTS = 100
const REP = 'rep1@acme.local'

export interface ScalePoint {
  /** 'small', or the large data set's accounts. */
  dataset: 'small' | number
  records: Record<string, number>
  seedS: number
  /** Heap in use after seeding, less the heap before it (after a collection when --expose-gc). */
  orgHeapMb: number
  /** The local sync's first load of every mapped table. */
  mirrorLoadS: number
  insights: LoadResult
  insightsSql: LoadResult
  availability: LoadResult
  availabilitySql: LoadResult
  /**
   * startAccountRescore's rate at this size: accounts of the Customer segment rescored per second,
   * from the start request to its job's end (bench/rescore-scale.ts).
   */
  rescoreAccountsPerS?: number
}

export interface ScaleResults { seconds: number, connections: number, points: ScalePoint[] }

const collect = (): void => { (globalThis as { gc?: () => void }).gc?.() }

/** The caller of the reads: rep1 of the org. */
export interface Caller { orgId: string, userId: string, context: string }

/** rep1's accounts that have opportunities, spread over the table by a hash of their id. */
async function insightAccounts (pool: pg.Pool, caller: Caller): Promise<string[]> {
  const { rows } = await pool.query<{ sfid: string }>(
    `SELECT a.sfid FROM salesforce.account a
      WHERE a.ownerid = $1 AND EXISTS (SELECT 1 FROM salesforce.opportunity o WHERE o.accountid = a.sfid)
      ORDER BY md5(a.sfid) LIMIT ${INSIGHT_ACCOUNTS}`, [caller.userId])
  return rows.map((r) => r.sfid)
}

type Reads = Pick<ScalePoint, 'insights' | 'insightsSql' | 'availability' | 'availabilitySql'>

/**
 * accountInsights and checkAvailability as `caller` on the service at `serviceUrl`, whose mirror is
 * schema salesforce of `pool`, each beside its SQL run straight on `pool`.
 */
export async function measureReads (
  caller: Caller, pool: pg.Pool, serviceUrl: string, opts: { seconds: number, connections: number }, name: string
): Promise<Reads> {
  const accounts = await insightAccounts(pool, caller)
  const { context } = caller
  const headers = { 'content-type': 'application/json', 'x-client-context': context }
  const insightsUrl = `${serviceUrl}${actionPath('accountInsights')}`
  // Each account asked once first: the caller's access to it is then cached, as on a warm service.
  for (const accountId of accounts) {
    const res = await fetch(insightsUrl, { method: 'POST', headers, body: JSON.stringify({ accountId }) })
    if (res.status !== 200) throw new Error(`accountInsights ${res.status}: ${await res.text()}`)
    await res.arrayBuffer()
  }
  const durationS = opts.seconds
  const { connections } = opts
  progress(`9/9 scale: accountInsights (${name})`)
  const insights = await httpLoad({
    url: insightsUrl,
    method: 'POST',
    headers,
    connections,
    durationS,
    callers: accounts.map((accountId) => ({ context, body: JSON.stringify({ accountId }) }))
  })
  const mirror = createMirror(pool, 'salesforce')
  const scope = orgScope(pool, caller.orgId)
  const everything = callerMirror(mirror, async (ids) => new Set(ids))
  let turn = 0
  const insightsSql = await loop(
    () => visibleAccountFacts(scope, everything, accounts[turn++ % accounts.length] as string),
    { concurrency: connections, durationMs: durationS * 1000 })
  progress(`9/9 scale: checkAvailability (${name})`)
  const items = await availabilityItems(pool, 'salesforce')
  const codes = items.map((i) => i.productCode)
  const availability = await httpLoad({
    url: `${serviceUrl}${actionPath('checkAvailability')}`,
    method: 'POST',
    headers,
    body: JSON.stringify({ items }),
    connections,
    durationS
  })
  // The statements the action runs, as it runs them (two at once).
  const availabilitySql = await loop(
    () => Promise.all([productAvailability(scope, mirror, codes), mirror.freshness('product2')]),
    { concurrency: connections, durationMs: durationS * 1000 })
  return { insights, insightsSql, availability, availabilitySql }
}

async function measurePoint (
  dataset: 'small' | number, opts: { seconds: number, connections: number }
): Promise<ScalePoint> {
  const name = dataset === 'small' ? 'small data set' : `${dataset.toLocaleString('en-US')} accounts`
  progress(`9/9 scale: seeding the local org (${name})`)
  collect()
  const heapBefore = process.memoryUsage().heapUsed
  const t0 = performance.now()
  const org = await startLocalOrg({
    port: 0,
    seed: 42,
    faults: { dailyApiLimit: 100_000_000 },
    progress: () => {},
    ...(dataset === 'small' ? { dataset: 'small' } : { dataset: 'large', accounts: dataset })
  })
  const seedS = (performance.now() - t0) / 1000
  collect()
  const orgHeapMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6
  const db = await benchDatabase()
  try {
    progress(`9/9 scale: loading the mirror (${name})`)
    const t1 = performance.now()
    await loadMirror(org, db, 'salesforce', (line) => { progress(`9/9 scale: ${line}`) })
    const mirrorLoadS = (performance.now() - t1) / 1000
    // The service in a process of its own, as `npm start` and `npm run dev` run it: in this one, the
    // local org's heap (gigabytes at a million accounts) would pause it for each of its collections.
    const service = await startService(db.url)
    try {
      await seedAppData(db.pool, 'salesforce')
      await db.pool.query('ANALYZE')
      // The reads of a settled mirror: the load wrote gigabytes, and the checkpoints it set off would
      // otherwise still be writing them out (spread over minutes) under the measurement.
      await db.pool.query('CHECKPOINT')
      // And this process (the org's) collected: V8's memory reducer would otherwise run a full
      // collection of its heap (gigabytes at a million accounts) on both cores during the reads.
      collect()
      const caller = { orgId: org.orgId, userId: org.user(REP).id, context: org.mintContext(REP) }
      const reads = await measureReads(caller, db.pool, service.url, opts, name)
      const records = org.counts()
      progress(`9/9 scale: startAccountRescore (${name})`)
      const rescore = await measureRescore(org, db)
      return { dataset, records, seedS, orgHeapMb, mirrorLoadS, ...reads, rescoreAccountsPerS: rescore.rate }
    } finally {
      await service.stop()
    }
  } finally {
    await org.close()
    await db.drop()
  }
}

/** Every point of the curve, one at a time (a million accounts take several GB of the bench's heap). */
export async function measureScale (opts: { seconds: number, connections: number }): Promise<ScaleResults> {
  const points: ScalePoint[] = []
  for (const dataset of ['small' as const, ...SCALE_ACCOUNTS]) points.push(await measurePoint(dataset, opts))
  return { ...opts, points }
}
