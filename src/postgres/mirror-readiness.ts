import { quoteIdent } from '@applink-actions/platform/postgres'
import pg from 'pg'
import { MAPPING } from './mapping.ts'

/** Whether one org's mirror has what the actions read, and how fresh it is. */
export interface MirrorReadiness {
  orgId: string
  schema: string
  ready: boolean
  /** Mapped tables Heroku Connect has not created in the schema (yet). */
  missingTables: string[]
  /** The newest change the mirror holds (its newest SystemModstamp); null when it holds none. */
  lastSyncAt: string | null
}

const TABLES = Object.keys(MAPPING).map((object) => object.toLowerCase())

/**
 * Per org: which mapped tables exist in its schema, and the newest SystemModstamp among them (Connect
 * indexes SystemModstamp on every mapping, so each max is an index lookup). Two statements in all.
 */
export async function mirrorReadiness (
  pool: pg.Pool, schemas: ReadonlyMap<string, string>
): Promise<MirrorReadiness[]> {
  const wanted = [...new Set(schemas.values())]
  if (wanted.length === 0) return []
  const { rows } = await pool.query<{ schema: string, table: string }>(
    `SELECT n.nspname AS schema, c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1) AND c.relname = ANY($2) AND c.relkind IN ('r', 'p')`, [wanted, TABLES])
  const present = new Map<string, Set<string>>()
  for (const { schema, table } of rows) present.set(schema, (present.get(schema) ?? new Set()).add(table))
  const newest = new Map<string, string | null>()
  const selects = wanted.flatMap((schema) => [...(present.get(schema) ?? [])].map((table) =>
    `SELECT ${pg.escapeLiteral(schema)} AS schema, max(systemmodstamp) AS newest FROM ${quoteIdent(schema)}.${quoteIdent(table)}`))
  if (selects.length > 0) {
    const { rows: stamps } = await pool.query<{ schema: string, newest: string | null }>(
      `SELECT schema, to_char(max(newest), 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS newest FROM (${selects.join(' UNION ALL ')}) s GROUP BY schema`)
    for (const { schema, newest: stamp } of stamps) newest.set(schema, stamp)
  }
  return [...schemas].map(([orgId, schema]) => {
    const tables = present.get(schema) ?? new Set()
    const missingTables = TABLES.filter((table) => !tables.has(table))
    return { orgId, schema, ready: missingTables.length === 0, missingTables, lastSyncAt: newest.get(schema) ?? null }
  })
}

/**
 * Rows the app wrote to each org's read-write mirror tables that Heroku Connect has not sent to
 * Salesforce yet (`_hc_lastop` PENDING, as Connect marks a row it still has to write).
 */
export async function pendingWrites (
  pool: pg.Pool, schemas: ReadonlyMap<string, string>
): Promise<Map<string, number>> {
  const tables = Object.entries(MAPPING)
    .filter(([, object]) => object.access === 'read_write').map(([name]) => name.toLowerCase())
  const selects = [...new Set(schemas.values())].flatMap((schema) => tables.map((table) =>
    `SELECT ${pg.escapeLiteral(schema)} AS schema, count(*)::int AS n
       FROM ${quoteIdent(schema)}.${quoteIdent(table)} WHERE _hc_lastop = 'PENDING'`))
  const pending = new Map<string, number>()
  if (selects.length === 0) return pending
  const { rows } = await pool.query<{ schema: string, n: number }>(selects.join(' UNION ALL '))
  for (const { schema, n } of rows) pending.set(schema, (pending.get(schema) ?? 0) + n)
  return pending
}
