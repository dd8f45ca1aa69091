import type { FindOptions, Mirror, MirrorTable, Row, SyncStatus, Where, WritableTable, WritableValues, WriteResult } from './mirror.ts'

/** Keeps the ids of org records the caller may read (src/salesforce/access-cache.ts, `readableBy`). */
export type ReadFilter = (ids: readonly string[]) => Promise<ReadonlySet<string>>

/**
 * Whose records a mirrored table holds, for filtering by the caller's sharing. Heroku Connect copies
 * rows, not Salesforce's security settings, so every read of a table with record-level sharing goes
 * through the caller's access (README, "Sharing"):
 * - 'record': the row's own record (`sfid`) is checked.
 * - a column: the row follows its parent record. OpportunityLineItem has no sharing of its own (no
 *   share object, no organization-wide default; the Object Reference's only access rule for it names
 *   the opportunity), so that its access is its opportunity's is inferred.
 * - 'everyone': no record-level sharing. Product2, Pricebook2 and PricebookEntry have no
 *   organization-wide default of their own: who sees products is the object permission (carried by
 *   the action's permission set) and price books are shared by the price book access setting, whose
 *   default (Use) lets every user see the standard price book (inferred from Salesforce Help,
 *   "Organization-Wide Sharing Defaults", which lists Price Book with "Use" as its default and no
 *   Product entry). An org that sets price books to No Access is not honoured (README, "Sharing").
 */
export const SHARING: { readonly [T in MirrorTable]: 'record' | 'everyone' | { parent: keyof Row<T> & string } } = {
  account: 'record',
  contact: 'record',
  opportunity: 'record',
  opportunitylineitem: { parent: 'opportunityid' },
  product2: 'everyone',
  pricebook2: 'everyone',
  pricebookentry: 'everyone',
  case: 'record',
  product_feedback__c: 'record'
}

/** The record whose access decides who may read a row: its own, its parent's, or none to check. */
function sharingKey (table: MirrorTable): string | undefined {
  const rule = SHARING[table]
  if (rule === 'everyone') return undefined
  return rule === 'record' ? 'sfid' : rule.parent
}

/**
 * The mirror as one caller sees it: what an action gets as `mirror`. Rows of tables with record-level
 * sharing come back only when the caller may read their record in Salesforce (a row not yet in
 * Salesforce, without an id, is nobody's to read); a limit applies before that filter, so a page may
 * hold fewer rows. SQL written in `src/postgres` that reads such tables must pass the ids it uses
 * through `readable` (as `visibleAccountFacts` does). Writes reach only read-write tables, and a row
 * the caller wrote is found again by its upsert key (`insertOnce`), never by a read of others' rows.
 */
export function callerMirror (mirror: Mirror, readable: ReadFilter) {
  const visibleRows = async <T extends MirrorTable>(table: T, rows: Row<T>[]): Promise<Row<T>[]> => {
    const key = sharingKey(table)
    if (key === undefined || rows.length === 0) return rows
    const idOf = (row: Row<T>): unknown => (row as Record<string, unknown>)[key]
    const ids = rows.map(idOf).filter((id): id is string => typeof id === 'string')
    const visible = await readable(ids)
    return rows.filter((row) => { const id = idOf(row); return typeof id === 'string' && visible.has(id) })
  }

  return {
    schema: mirror.schema,
    /** Quoted, schema-qualified name, for SQL in `src/postgres`: filter what it reads through `readable`. */
    table: (table: MirrorTable): string => mirror.table(table),
    /** Keeps the ids of org records the caller may read (⌈N/200⌉ API calls at most, cached per user). */
    readable,

    async find<T extends MirrorTable> (
      table: T, where: Where<T> = {}, options: FindOptions<T> = {}
    ): Promise<Row<T>[]> {
      return await visibleRows(table, await mirror.find(table, where, options))
    },

    async findOne<T extends MirrorTable> (
      table: T, where: Where<T>, options: Pick<FindOptions<T>, 'includeDeleted'> = {}
    ): Promise<Row<T> | undefined> {
      const [row] = await visibleRows(table, await mirror.find(table, where, { ...options, limit: 1 }))
      return row
    },

    /** How many rows match that the caller may read: counting a shared table reads the rows' ids. */
    async count<T extends MirrorTable> (
      table: T, where: Where<T> = {}, options: Pick<FindOptions<T>, 'includeDeleted'> = {}
    ): Promise<number> {
      if (sharingKey(table) === undefined) return await mirror.count(table, where, options)
      return (await visibleRows(table, await mirror.find(table, where, options))).length
    },

    /**
     * Inserts a row whose upsert key is this request's own (an idempotency key), or answers the row
     * an earlier attempt of the same request inserted with it: a retry never writes a second row.
     */
    async insertOnce<T extends WritableTable> (
      table: T, key: keyof WritableValues<T> & string, values: WritableValues<T>
    ): Promise<WriteResult> {
      return await mirror.insert(table, values).catch(async (err: unknown) => {
        const keyValue = values[key]
        const earlier = isUniqueViolation(err) && keyValue != null
          ? await mirror.findOne(table, { [key]: keyValue } as Where<T>)
          : undefined
        if (earlier === undefined) throw err
        return { id: earlier.id, _hc_lastop: earlier._hc_lastop }
      })
    },

    /** Where a row this app wrote stands on its way to Salesforce (state, id, error; no field values). */
    async syncStatus (table: WritableTable, id: number): Promise<SyncStatus | undefined> {
      return await mirror.syncStatus(table, id)
    },
    dataAsOf: async (table: MirrorTable): Promise<{ dataAsOf?: string }> => await mirror.dataAsOf(table)
  }
}

export type CallerMirror = ReturnType<typeof callerMirror>

/** PostgreSQL's unique_violation. */
const isUniqueViolation = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === '23505'
