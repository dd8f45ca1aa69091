// The plans of the mirror statements the actions run, on a mirror of 20,000 accounts (the local
// org's large data set, loaded by the local sync, with connect/indexes.sql run as a Connect user
// would run it): none reads a large mirrored table whole. Each
// statement is recorded as the code sends it, then EXPLAINed with its values (the custom plan) and
// prepared under force_generic_plan (the plan a statement gets once PostgreSQL settles on one).
import pg from 'pg'
import t from 'tap'
import { seedAppData } from '../../scripts/app-data.ts'
import { mirrorIndexesSql } from '../../scripts/mirror-indexes.ts'
import { productAvailability } from '../../src/postgres/availability.ts'
import { callerMirror } from '../../src/postgres/caller-mirror.ts'
import { visibleAccountFacts } from '../../src/postgres/insights.ts'
import { MAPPING } from '../../src/postgres/mapping.ts'
import { migrate } from '../../src/postgres/migrate.ts'
import { mirrorReadiness, pendingWrites } from '../../src/postgres/mirror-readiness.ts'
import { createMirror } from '../../src/postgres/mirror.ts'
import { orgScope } from '../../src/postgres/org-scope.ts'
import { largeMirror } from './fixtures/large-mirror.ts'

const SCHEMA = 'salesforce'
/** Tables that grow with the org: a sequential scan of one is a read that slows as the org grows. */
const LARGE = new Set(['account', 'contact', 'opportunity', 'opportunitylineitem', 'case', 'product_feedback__c'])

interface Statement { text: string, values: unknown[] }
interface PlanNode { 'Node Type': string, 'Relation Name'?: string, Plans?: PlanNode[] }

/** A pool whose clients record every statement that reads the mirror schema. */
function recording (pool: pg.Pool, into: Statement[]): pg.Pool {
  const record = (config: unknown, values: unknown): void => {
    const c = (typeof config === 'string' ? { text: config, values } : config) as { text: string, values?: unknown }
    if (c.text.includes(`${SCHEMA}.`) || c.text.includes(`"${SCHEMA}".`)) {
      into.push({ text: c.text, values: Array.isArray(c.values) ? c.values : [] })
    }
  }
  const watch = <C extends pg.Pool | pg.PoolClient>(target: C): C => new Proxy(target, {
    get (object, key, receiver) {
      if (key === 'query') {
        return (config: unknown, values?: unknown) => {
          record(config, values)
          return (object.query as (c: unknown, v?: unknown) => unknown).call(object, config, values)
        }
      }
      if (key === 'connect') return async () => watch(await (object as pg.Pool).connect())
      const value = Reflect.get(object, key, receiver) as unknown
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(object) : value
    }
  })
  return watch(pool)
}

/** A value as an EXECUTE argument: a literal of unknown type, which takes the parameter's type. */
function literal (value: unknown): string {
  if (value === null || value === undefined) return 'NULL'
  if (Array.isArray(value)) return pg.escapeLiteral(`{${value.map((v) => `"${String(v).replace(/["\\]/g, '\\$&')}"`).join(',')}}`)
  return pg.escapeLiteral(value instanceof Date ? value.toISOString() : String(value))
}

const seqScans = (node: PlanNode): string[] => [
  ...(node['Node Type'] === 'Seq Scan' && node['Relation Name'] !== undefined ? [node['Relation Name']] : []),
  ...(node.Plans ?? []).flatMap(seqScans)
]

t.test('no mirror statement of the actions scans a large table', async (t) => {
  const { pool, org, sync } = await largeMirror(t, 20_000, { userSql: mirrorIndexesSql() })
  await sync.stop()
  await migrate(pool)
  await seedAppData(pool, SCHEMA)
  await pool.query('ANALYZE')

  const statements: Statement[] = []
  const db = recording(pool, statements)
  const mirror = createMirror(db, SCHEMA)
  const scope = orgScope(db, org.orgId)
  const everything = callerMirror(mirror, async (ids) => new Set(ids))
  const { rows: [heaviest] } = await pool.query<{ accountid: string }>(
    `SELECT accountid FROM ${SCHEMA}.opportunity GROUP BY accountid ORDER BY count(*) DESC LIMIT 1`)
  const { rows: [typical] } = await pool.query<{ sfid: string }>(`SELECT sfid FROM ${SCHEMA}.account ORDER BY sfid LIMIT 1`)
  const { rows: codes } = await pool.query<{ productcode: string }>(
    `SELECT productcode FROM ${SCHEMA}.product2 ORDER BY productcode LIMIT 10`)
  // What accountInsights, checkAvailability, logProductFeedback, getSyncStatus and the health and
  // readiness checks read from the mirror.
  for (const accountId of [heaviest?.accountid, typical?.sfid]) {
    t.ok(await visibleAccountFacts(scope, everything, String(accountId)), `facts of ${String(accountId)}`)
  }
  t.equal((await productAvailability(scope, mirror, codes.map((c) => c.productcode))).length, 10)
  for (const table of Object.keys(MAPPING)) await mirror.dataAsOf(table.toLowerCase() as 'account')
  await mirror.findOne('product2', { external_id__c: String(codes[0]?.productcode) })
  await mirror.syncStatus('product_feedback__c', 1)
  await mirrorReadiness(db, new Map([[org.orgId, SCHEMA]]))
  await pendingWrites(db, new Map([[org.orgId, SCHEMA]]))
  t.ok(statements.length >= 8, `${statements.length} statements recorded`)

  const client = await pool.connect()
  t.teardown(() => client.release())
  for (const [i, { text, values }] of statements.entries()) {
    const custom = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${text}`, values)
    await client.query('SET plan_cache_mode = force_generic_plan')
    await client.query(`PREPARE plan_check_${i} AS ${text}`)
    // EXPLAIN EXECUTE takes no bind parameters: the values go in as literals.
    const args = values.length > 0 ? `(${values.map(literal).join(', ')})` : ''
    const generic = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
      `EXPLAIN (FORMAT JSON) EXECUTE plan_check_${i}${args}`)
    await client.query('RESET plan_cache_mode')
    for (const [kind, result] of [['custom', custom], ['generic', generic]] as const) {
      const scanned = seqScans(result.rows[0]?.['QUERY PLAN'][0]?.Plan as PlanNode).filter((table) => LARGE.has(table))
      t.same(scanned, [], `${kind} plan of: ${text.replace(/\s+/g, ' ').trim().slice(0, 100)}`)
    }
  }
})
