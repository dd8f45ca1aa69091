import { quoteIdent as quote } from '@applink-actions/platform/postgres'
import pg from 'pg'
import type { Pool, QueryResultRow } from 'pg'
import { AppError } from '../errors.ts'
import { MAPPING, isWritable, tablesOf, type MirrorTable, type Row, type TableInfo, type WritableTable, type WritableValues } from './mapping.ts'

export type { MirrorTable, Row, WritableTable, WritableValues } from './mapping.ts'

/** Equality filters: a value, `null` (IS NULL) or a list (= ANY). Keys are the table's columns. */
export type Where<T extends MirrorTable> = {
  [C in keyof Row<T>]?: Row<T>[C] | ReadonlyArray<NonNullable<Row<T>[C]>>
}

export interface FindOptions<T extends MirrorTable> {
  /** Rows Salesforce deleted stay in the mirror with `isdeleted = true`; they are left out unless asked for. */
  includeDeleted?: boolean
  orderBy?: keyof Row<T> & string
  descending?: boolean
  limit?: number
}

export interface SyncError {
  errorCode: string
  message: string
  fields?: string[]
}

export interface SyncStatus {
  /** PENDING: waiting for Connect; SYNCED: the record is in Salesforce; FAILED: Salesforce refused it. */
  state: 'PENDING' | 'SYNCED' | 'FAILED'
  sfid: string | null
  /** Connect's raw `_hc_lastop` (PENDING, INSERTED, UPDATED, SYNCED, FAILED). */
  lastop: string | null
  error?: SyncError
}

export interface Freshness {
  /** Newest Salesforce change the table holds. */
  newestSystemModstamp: Date | null
  /** When the sync last polled Salesforce for this table; null when the sync does not record it. */
  lastPolledAt: Date | null
}

export interface WriteResult {
  id: number
  _hc_lastop: string | null
}

export class MirrorError extends Error {}

/**
 * A mirror table Heroku Connect has not created (yet). Inferred, not documented as such: Connect
 * makes a table per mapping ("Map the following fields over in Heroku Connect, or just import the
 * … config.json file to load the configuration … After your first sync, your Postgres table should
 * look like this", Heroku's Connect demo, tsykoduk/HCRailsDemo), and mappings are imported with
 * `heroku connect:import FILE` (Heroku Connect CLI plugin), so before that the table is absent. A
 * 503 so callers retry, naming the table and what creates it; PostgreSQL reports it as
 * undefined_table (42P01) naming the relation.
 */
export class MirrorNotReady extends AppError {
  constructor (relation: string) {
    const table = relation.split('.').at(-1) ?? relation
    const object = OBJECT_OF_TABLE.get(table) ?? table
    super(503, 'MIRROR_NOT_READY', `The mirror table ${relation} does not exist yet: Heroku Connect creates it when ` +
      `the ${object} mapping is created (import connect/mapping.json with \`heroku connect:import\`) and fills it ` +
      'in its first sync. Retry once the mapping is active', { retryAfterSeconds: 60 })
  }
}

/** Salesforce object of each mirror table. */
const OBJECT_OF_TABLE = new Map(Object.keys(MAPPING).map((object) => [object.toLowerCase(), object]))

/** The error to answer for a failed mirror query: MirrorNotReady when it read a table Connect has not made. */
export function mirrorNotReady (err: unknown): MirrorNotReady | undefined {
  if ((err as { code?: unknown } | null)?.code !== '42P01') return undefined
  const relation = /relation "([^"]+)" does not exist/.exec((err as Error).message)?.[1]
  const table = relation?.split('.').at(-1)
  if (relation === undefined || table === undefined || !OBJECT_OF_TABLE.has(table)) return undefined
  return new MirrorNotReady(relation)
}

/**
 * Connect stores datetimes as UTC in `timestamp without time zone`; pg would read them in the
 * process's zone, so they are parsed as UTC. Dates stay 'YYYY-MM-DD' (no zone to shift them).
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === pg.types.builtins.TIMESTAMP) return (v: string) => new Date(`${v.replace(' ', 'T')}Z`)
    if (oid === pg.types.builtins.DATE) return (v: string) => v
    return pg.types.getTypeParser(oid, format)
  }) as typeof pg.types.getTypeParser
}

/** Dates go in as UTC ISO strings: Postgres drops the zone when casting to `timestamp`. */
const param = (value: unknown) => (value instanceof Date ? value.toISOString() : value)

const SYSTEM_COLUMNS = new Set(['id', '_hc_lastop', '_hc_err'])

/** The mapped tables, the same for every schema: read once, shared by every org's mirror. */
const tables = tablesOf(MAPPING)

/** Decodes `_hc_err`: Connect's JSON (`msg`) or the local sync's (`message`, `errorCode`, `fields`). */
export function decodeSyncError (raw: string): SyncError {
  try {
    const parsed: unknown = JSON.parse(raw)
    if (parsed !== null && typeof parsed === 'object') {
      const o = parsed as Record<string, unknown>
      const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined)
      const fields = Array.isArray(o.fields) ? o.fields.filter((f): f is string => typeof f === 'string') : undefined
      return {
        errorCode: text(o.errorCode) ?? text(o.statusCode) ?? 'UNKNOWN_ERROR',
        message: text(o.message) ?? text(o.msg) ?? raw,
        ...(fields === undefined || fields.length === 0 ? {} : { fields })
      }
    }
  } catch {}
  return { errorCode: 'UNKNOWN_ERROR', message: raw }
}

const info = (table: string): TableInfo => {
  const found = tables.get(table)
  if (found === undefined) throw new MirrorError(`${table} is not a mirrored table`)
  return found
}
const isColumn = (t: TableInfo, column: string) => t.columns.has(column) || SYSTEM_COLUMNS.has(column)
const checkColumn = (t: TableInfo, column: string) => {
  if (!isColumn(t, column)) throw new MirrorError(`${t.table} has no column ${column}`)
  return quote(column)
}

/** WHERE clause from equality filters, numbering parameters after `values`. */
function whereClause (
  t: TableInfo, where: Record<string, unknown>, includeDeleted: boolean, values: unknown[]
): string {
  const clauses = includeDeleted ? [] : ['isdeleted IS NOT TRUE']
  for (const [column, value] of Object.entries(where)) {
    if (value === undefined) continue
    const col = checkColumn(t, column)
    if (value === null) clauses.push(`${col} IS NULL`)
    else {
      values.push(value)
      clauses.push(Array.isArray(value) ? `${col} = ANY($${values.length})` : `${col} = $${values.length}`)
    }
  }
  return clauses.length === 0 ? '' : ` WHERE ${clauses.join(' AND ')}`
}

function writable (t: TableInfo, values: Record<string, unknown>): Array<[string, unknown]> {
  if (t.object.access !== 'read_write') throw new MirrorError(`${t.table} is mapped read-only: Connect would not send the write`)
  const entries = Object.entries(values).filter(([, v]) => v !== undefined)
  for (const [column] of entries) {
    const field = t.columns.get(column)
    if (field === undefined || !isWritable(t.object, field)) throw new MirrorError(`${t.table}.${column} cannot be written`)
  }
  return entries
}

/**
 * Typed access to the tables Heroku Connect mirrors into `schema`. Every identifier comes from the
 * mapping and is quoted; every value is a query parameter. One per schema, held for every org the
 * service serves (OrgMirrors): its methods live on the class, so an instance is its three fields.
 */
export class Mirror {
  readonly schema: string
  readonly #pool: Pool
  /** The quoted schema name, `"schema".` before a table. */
  readonly #prefix: string

  constructor (pool: Pool, schema: string) {
    this.#pool = pool
    this.schema = schema
    this.#prefix = `${quote(schema)}.`
  }

  #qualified (table: string): string {
    return `${this.#prefix}${quote(table)}`
  }

  async #run<R extends QueryResultRow> (text: string, values: unknown[]): Promise<R[]> {
    return (await this.#pool.query<R>({ text, values: values.map(param), types })).rows
  }

  /** Quoted, schema-qualified name, for SQL written in `src/postgres` that joins mirror tables. */
  table (table: MirrorTable): string {
    return this.#qualified(info(table).table)
  }

  async find<T extends MirrorTable> (
    table: T,
    where: Where<T> = {},
    options: FindOptions<T> = {}
  ): Promise<Row<T>[]> {
    const t = info(table)
    const values: unknown[] = []
    let text = `SELECT * FROM ${this.#qualified(t.table)}${whereClause(t, where, options.includeDeleted ?? false, values)}`
    if (options.orderBy !== undefined) text += ` ORDER BY ${checkColumn(t, options.orderBy)}${options.descending === true ? ' DESC' : ''}`
    if (options.limit !== undefined) { values.push(options.limit); text += ` LIMIT $${values.length}` }
    return await this.#run<Row<T>>(text, values)
  }

  async findOne<T extends MirrorTable> (table: T, where: Where<T>, options: Pick<FindOptions<T>, 'includeDeleted'> = {}): Promise<Row<T> | undefined> {
    const rows = await this.find(table, where, { ...options, limit: 1 })
    return rows[0]
  }

  async count<T extends MirrorTable> (table: T, where: Where<T> = {}, options: Pick<FindOptions<T>, 'includeDeleted'> = {}): Promise<number> {
    const t = info(table)
    const values: unknown[] = []
    const rows = await this.#run<{ n: number }>(`SELECT count(*)::int AS n FROM ${this.#qualified(t.table)}${whereClause(t, where, options.includeDeleted ?? false, values)}`, values)
    return rows[0]?.n ?? 0
  }

  /** Inserts a row; Connect's trigger marks it PENDING and logs it for Salesforce. */
  async insert<T extends WritableTable> (table: T, values: WritableValues<T>): Promise<WriteResult> {
    const t = info(table)
    const entries = writable(t, values)
    const text = entries.length === 0
      ? `INSERT INTO ${this.#qualified(t.table)} DEFAULT VALUES RETURNING id, _hc_lastop`
      : `INSERT INTO ${this.#qualified(t.table)} (${entries.map(([c]) => quote(c)).join(', ')}) VALUES (${entries.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id, _hc_lastop`
    const rows = await this.#run<WriteResult>(text, entries.map(([, v]) => v))
    return rows[0] as WriteResult
  }

  /** Updates the given columns of row `id`; only changed columns reach Salesforce. Undefined when no such row. */
  async update<T extends WritableTable> (
    table: T,
    id: number,
    values: WritableValues<T>
  ): Promise<WriteResult | undefined> {
    const t = info(table)
    const entries = writable(t, values)
    if (entries.length === 0) throw new MirrorError('nothing to update')
    const sets = entries.map(([c], i) => `${quote(c)} = $${i + 2}`).join(', ')
    const rows = await this.#run<WriteResult>(`UPDATE ${this.#qualified(t.table)} SET ${sets} WHERE id = $1 RETURNING id, _hc_lastop`, [id, ...entries.map(([, v]) => v)])
    return rows[0]
  }

  /** Deletes row `id`; Connect deletes the Salesforce record if the row had reached it. */
  async remove (table: WritableTable, id: number): Promise<boolean> {
    const t = info(table)
    writable(t, {})
    const rows = await this.#run(`DELETE FROM ${this.#qualified(t.table)} WHERE id = $1 RETURNING id`, [id])
    return rows.length > 0
  }

  /** Where row `id` stands on its way to Salesforce. Undefined when no such row. */
  async syncStatus (table: MirrorTable, id: number): Promise<SyncStatus | undefined> {
    const t = info(table)
    const rows = await this.#run<{ sfid: string | null, _hc_lastop: string | null, _hc_err: string | null }>(
      `SELECT sfid, _hc_lastop, _hc_err FROM ${this.#qualified(t.table)} WHERE id = $1`, [id])
    const row = rows[0]
    if (row === undefined) return undefined
    const lastop = row._hc_lastop
    if (lastop === 'FAILED') {
      return { state: 'FAILED', sfid: row.sfid, lastop, error: decodeSyncError(row._hc_err ?? '') }
    }
    // INSERTED/UPDATED: the record is in Salesforce, the next read poll turns it SYNCED.
    const synced = lastop === 'SYNCED' || lastop === 'INSERTED' || lastop === 'UPDATED' || (lastop === null && row.sfid !== null)
    return { state: synced ? 'SYNCED' : 'PENDING', sfid: row.sfid, lastop }
  }

  /** `{ dataAsOf }` for an action's answer: the last poll, else the newest change; `{}` when unknown. */
  async dataAsOf (table: MirrorTable): Promise<{ dataAsOf?: string }> {
    const { lastPolledAt, newestSystemModstamp } = await this.freshness(table)
    const asOf = lastPolledAt ?? newestSystemModstamp
    return asOf === null ? {} : { dataAsOf: asOf.toISOString() }
  }

  /** How stale a table is, so an action can say "data as of …". */
  async freshness (table: MirrorTable): Promise<Freshness> {
    const t = info(table)
    // One prepared statement, one round trip: actions ask this on every call. It takes no
    // parameter (the table's name, from the mapping, is a literal), so PostgreSQL plans it once per
    // connection instead of making five custom plans first: with one schema per org, a connection
    // prepares it once per org (issue 24).
    // The local sync records poll times in Connect's _hcmeta details; real Connect does not.
    const { rows: [row] } = await this.#pool.query<{ newest: Date | null, polled: string | null }>({
      name: `freshness-${this.schema}-${t.table}`,
      text: `SELECT (SELECT max(systemmodstamp) FROM ${this.#qualified(t.table)}) AS newest,
                    (SELECT CASE WHEN details LIKE '{%' THEN details::jsonb -> 'polled_at' ->> ${pg.escapeLiteral(t.table)} END
                       FROM ${this.#qualified('_hcmeta')} ORDER BY id DESC LIMIT 1) AS polled`,
      types
    })
    return {
      newestSystemModstamp: row?.newest ?? null,
      lastPolledAt: row?.polled == null ? null : new Date(row.polled)
    }
  }
}

/** The mirror of `schema`. */
export function createMirror (pool: Pool, schema: string): Mirror {
  return new Mirror(pool, schema)
}
