import { isValidId } from '@applink-actions/platform/ids'
import { pipeline } from 'node:stream/promises'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { inTransaction, quoteIdent as quote } from '@applink-actions/platform/postgres'
import type { Pool, PoolClient } from 'pg'
import {
  columnName, isWritable, tablesOf,
  type MappingDecl, type SfField, type SfRelationshipField, type TableInfo
} from '@applink-actions/platform/connect-mapping'
import { createConnectSchema } from './schema.ts'
import { createOrgClient, OrgError, type OrgClient, type SaveResult, type SfError, type SfRecord } from './org.ts'

export interface LocalSyncOptions {
  /** Either a URL (the sync owns its pool) or a pool it borrows one connection of for LISTEN. */
  databaseUrl?: string
  pool?: Pool
  schema?: string
  orgUrl: string
  accessToken: string
  apiVersion?: string
  /** What to mirror: the product's declaration (Connect itself reads it from its dashboard). */
  mapping: MappingDecl
  /** Read poll and write pass period; writes also run on the trigger log's notify. */
  intervalMs?: number
  onError?: (err: unknown) => void
  /**
   * SQL the Connect user runs on the mirror once Connect has made its tables (indexes Connect's
   * dashboard cannot make), with the schema as search_path; run on every start (it must be idempotent).
   */
  userSql?: string
  /** Records beyond which an empty table loads through the Bulk API (default BULK_THRESHOLD, Connect's). */
  bulkThreshold?: number
  /** Told how a table's first load goes ("account: 250,000 of 1,000,000 rows"). */
  progress?: (line: string) => void
  /** Test seam: runs after Salesforce accepted a batch and before its log rows are marked done. */
  afterSend?: () => Promise<void> | void
}

export interface LocalSync {
  /** Sends pending trigger-log rows, then polls every table for Salesforce changes. */
  syncOnce (): Promise<void>
  /** Sends NEW (and, after a crash, PENDING) trigger-log rows to Salesforce. */
  writeOnce (): Promise<void>
  /** Polls every table by SystemModstamp window; returns rows changed per table. */
  pollOnce (): Promise<Record<string, number>>
  /** Reads every table from scratch, like Connect's reload; returns rows changed per table. */
  initialLoad (): Promise<Record<string, number>>
  stop (): Promise<void>
}

type Field = SfField | SfRelationshipField

interface LogRow {
  id: number
  action: 'INSERT' | 'UPDATE' | 'DELETE'
  table_name: string
  record_id: number
  sfid: string | null
  values: Record<string, string | null> | null
}

/** How one trigger-log row ended. */
interface Outcome {
  log: LogRow
  state: 'SUCCESS' | 'FAILED' | 'IGNORED' | 'READONLY'
  sfid?: string | null
  error?: SfError
}

const BATCH = 200
/**
 * Beyond this many records a table's first load goes through the Bulk API. Heroku Dev Center,
 * "Reading Data from Salesforce with Heroku Connect": the SOAP API is "used by Heroku Connect for
 * the following tasks when there are up to 10,000 records to be processed: initially loading data
 * from your Salesforce organization for a new mapping, reloading all data into an existing
 * mapping, reading changes"; its next section, "Bulk API", covers larger volumes.
 */
const BULK_THRESHOLD = 10_000
/**
 * Tables polled at once. A large first load is PostgreSQL's work (COPY into indexed tables, one core
 * per connection); the local org streams two tables' results as fast as one's.
 */
const POLL_LANES = 2
/** A delete that finds the record gone already succeeded (a resend after a crash). */
const ALREADY_DELETED = new Set(['ENTITY_IS_DELETED', 'NOT_FOUND', 'INVALID_CROSS_REFERENCE_KEY'])

/** Postgres text (hstore values) → the JSON value Salesforce expects for the field. */
function toSalesforce (field: Field, value: string | null): unknown {
  if (value === null) return null
  switch (field.type) {
    case 'double': case 'currency': case 'percent': case 'int': return Number(value)
    case 'boolean': return value === 't' || value === 'true'
    case 'datetime': return new Date(`${value.replace(' ', 'T')}Z`).toISOString()
    default: return value
  }
}

/** Salesforce JSON → a value json_populate_recordset casts into the column (datetimes in UTC). */
function toColumn (field: Field, value: unknown): unknown {
  if (value === null || value === undefined) return null
  return field.type === 'datetime' ? new Date(String(value)).toISOString() : value
}

/**
 * The local stand-in for Heroku Connect: keeps the mirror tables of `schema` in step with an org,
 * reading by SystemModstamp window and sending app writes from the trigger log.
 */
export async function startLocalSync (options: LocalSyncOptions): Promise<LocalSync> {
  const schema = options.schema ?? 'salesforce'
  const mapping = options.mapping
  const intervalMs = options.intervalMs ?? 2000
  const onError = options.onError ?? ((err: unknown) => { process.stderr.write(`local sync: ${String(err)}\n`) })
  if (options.pool === undefined && options.databaseUrl === undefined) throw new Error('startLocalSync needs pool or databaseUrl')
  const ownPool = options.pool === undefined
  const pool = options.pool ?? new pg.Pool({ connectionString: options.databaseUrl, max: 3 })
  if (ownPool) pool.on('error', onError)
  const org: OrgClient = createOrgClient({ orgUrl: options.orgUrl, accessToken: options.accessToken, apiVersion: options.apiVersion ?? '62.0' })
  const tables = tablesOf(mapping)
  const s = quote(schema)
  const qualified = (table: string) => `${s}.${quote(table)}`

  await createConnectSchema(pool, schema, mapping)
  const userSql = options.userSql
  if (userSql !== undefined) {
    await inTransaction(pool, async (client) => {
      await client.query(`SET LOCAL search_path = ${s}`)
      await client.query(userSql)
    })
  }
  // Connect records the org a schema mirrors in _hcmeta.org_id; a service finds each org's schema by it.
  await pool.query(`UPDATE ${s}._hcmeta SET org_id = $1 WHERE org_id IS DISTINCT FROM $1`, [await org.orgId()])

  /** Runs `fn` in a transaction of Connect's own session: its writes are SYNCED and not logged. */
  async function asConnect<R> (fn: (client: PoolClient) => Promise<R>): Promise<R> {
    return await inTransaction(pool, async (client) => {
      await client.query('SET LOCAL xmlbinary = hex')
      return await fn(client)
    })
  }

  // ---- read: Salesforce → Postgres -----------------------------------------------------------

  const readFields = (t: TableInfo) =>
    Object.entries(t.object.fields).filter(([, def]) => def.type !== 'relationship') as Array<[string, Field]>

  /**
   * Applies records to a table: matched by sfid (skipping rows with an app write still PENDING,
   * and records already held at the same SystemModstamp), else by the upsert field (a row the
   * app wrote whose sfid has not come back: left for the write sync), else inserted.
   */
  async function apply (t: TableInfo, records: SfRecord[]): Promise<number> {
    if (records.length === 0) return 0
    const fields = readFields(t)
    const rows = records.map((r) => Object.fromEntries(fields.map(([f, def]) => [columnName(f), toColumn(def, r[f])])))
    const cols = fields.map(([f]) => quote(columnName(f)))
    const table = qualified(t.table)
    const upsertColumn = t.object.upsertField === undefined ? undefined : quote(columnName(t.object.upsertField))
    const sql = `
WITH incoming AS (SELECT * FROM json_populate_recordset(NULL::${table}, $1::json)),
updated AS (
  UPDATE ${table} AS t SET ${cols.map((c) => `${c} = i.${c}`).join(', ')}
    FROM incoming i
   WHERE t.sfid = i.sfid
     AND t._hc_lastop IS DISTINCT FROM 'PENDING'
     AND (t.systemmodstamp IS DISTINCT FROM i.systemmodstamp OR t._hc_lastop IN ('INSERTED', 'UPDATED'))
  RETURNING 1),
inserted AS (
  INSERT INTO ${table} (${cols.join(', ')})
  SELECT ${cols.map((c) => `i.${c}`).join(', ')} FROM incoming i
   WHERE i.isdeleted IS NOT TRUE
     AND NOT EXISTS (SELECT 1 FROM ${table} x WHERE x.sfid = i.sfid)
     ${upsertColumn === undefined ? '' : `AND NOT EXISTS (SELECT 1 FROM ${table} x WHERE x.${upsertColumn} = i.${upsertColumn})`}
  ON CONFLICT (sfid) DO NOTHING
  RETURNING 1)
SELECT (SELECT count(*) FROM updated)::int + (SELECT count(*) FROM inserted)::int AS n`
    return await asConnect(async (c) => (await c.query<{ n: number }>(sql, [JSON.stringify(rows)])).rows[0]?.n ?? 0)
  }

  /**
   * The first load of a large empty table: a Bulk API 2.0 query job's CSV, each set of results
   * written with COPY, in one transaction of Connect's session (the columns are the SELECT's, in
   * its order; an empty field is NULL, as a Bulk result writes null).
   */
  async function bulkLoad (t: TableInfo, select: string, total: number): Promise<number> {
    const columns = readFields(t).map(([f]) => quote(columnName(f)))
    const table = qualified(t.table)
    const copy = `COPY ${table} (${columns.join(', ')}) FROM STDIN WITH (FORMAT csv, HEADER true)`
    const started = performance.now()
    let loaded = 0
    // A read-write table's triggers would run per row, each reading pg_settings twice, to mark
    // the row SYNCED and log nothing (Connect's session): the load does that once for all rows.
    const readWrite = t.object.access === 'read_write'
    await asConnect(async (client) => {
      if (readWrite) await client.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`)
      for await (const page of org.bulkQuery(select)) {
        await pipeline(page.body, client.query(copyFrom(copy)))
        loaded += page.records
        const seconds = ((performance.now() - started) / 1000).toFixed(1)
        options.progress?.(`${t.table}: ${loaded.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} rows (${seconds} s)`)
      }
      if (readWrite) {
        await client.query(`UPDATE ${table} SET _hc_lastop = 'SYNCED'`)
        await client.query(`ALTER TABLE ${table} ENABLE TRIGGER USER`)
      }
    })
    // PostgreSQL's ANALYZE reference: "it is a good idea to run ANALYZE periodically, or just after
    // making major changes in the contents of a table. Accurate statistics will help the planner to
    // choose the most appropriate query plan". Autovacuum would, some time after the load; until then
    // checkAvailability's generic plan scanned the million-account org's price book entries.
    // VACUUM too: a table that received millions of inserts is vacuumed by autovacuum anyway
    // (autovacuum_vacuum_insert_threshold, PostgreSQL 13+), some time later, under the reads that
    // follow; done now, it also fills the visibility map index-only scans rely on.
    await pool.query(`VACUUM (ANALYZE) ${table}`)
    return loaded
  }

  async function pollTable (t: TableInfo, full: boolean): Promise<number> {
    const startedAt = new Date()
    let where = ''
    let empty = false
    if (!full) {
      // One second of overlap: SOQL datetimes have whole seconds, and re-reading a record is harmless.
      const { rows } = await pool.query<{ since: string | null }>(
        `SELECT to_char(max(systemmodstamp) - interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS since FROM ${qualified(t.table)}`)
      const since = rows[0]?.since
      if (since != null) where = ` WHERE SystemModstamp >= ${since}`
      else empty = true
    }
    const select = `SELECT ${readFields(t).map(([f]) => f).join(', ')} FROM ${t.objectName}`
    // "The SOAP API is also used for administrative tasks such as counting records" (same article).
    const total = empty ? await org.count(`SELECT COUNT() FROM ${t.objectName}`) : 0
    let changed = 0
    if (total > (options.bulkThreshold ?? BULK_THRESHOLD)) {
      changed = await bulkLoad(t, select, total)
    } else {
      for await (const page of org.queryAll(`${select}${where} ORDER BY SystemModstamp`)) changed += await apply(t, page)
    }

    // Rows whose write reached Salesforce wait for a read to turn SYNCED, even outside the window.
    if (t.object.access === 'read_write') {
      const { rows } = await pool.query<{ sfid: string }>(
        `SELECT sfid FROM ${qualified(t.table)} WHERE _hc_lastop IN ('INSERTED', 'UPDATED') AND sfid IS NOT NULL LIMIT ${BATCH}`)
      const ids = rows.map((r) => r.sfid).filter((id) => isValidId(id))
      if (ids.length > 0) {
        for await (const page of org.queryAll(`${select} WHERE Id IN (${ids.map((id) => `'${id}'`).join(', ')})`)) changed += await apply(t, page)
      }
    }
    // The new details are made from the row being updated (not a subquery's earlier read of it): two
    // tables polled at once each add their key, neither losing the other's.
    const details = 'CASE WHEN details LIKE \'{%\' THEN details::jsonb ELSE \'{}\'::jsonb END'
    await asConnect((c) => c.query(
      `UPDATE ${s}._hcmeta
          SET details = jsonb_set(${details}, '{polled_at}',
                coalesce(${details} -> 'polled_at', '{}') || jsonb_build_object($1::text, $2::text))::text
        WHERE id = (SELECT max(id) FROM ${s}._hcmeta)`, [t.table, startedAt.toISOString()]))
    return changed
  }

  async function pollAll (full: boolean): Promise<Record<string, number>> {
    const counts: Record<string, number> = {}
    const waiting = [...tables.values()]
    const lanes = await Promise.allSettled(Array.from({ length: POLL_LANES }, async () => {
      for (let t = waiting.shift(); t !== undefined; t = waiting.shift()) counts[t.table] = await pollTable(t, full)
    }))
    const failed = lanes.find((lane) => lane.status === 'rejected')
    if (failed !== undefined) throw failed.reason
    return counts
  }

  // ---- write: trigger log → Salesforce -------------------------------------------------------

  /** Salesforce record for the changed columns of a log row; relationship columns become `Rel__r: {ExtId: v}`. */
  function payload (t: TableInfo, values: Record<string, string | null>, keepNulls: boolean): SfRecord {
    const record: SfRecord = { attributes: { type: t.objectName } }
    for (const [column, raw] of Object.entries(values)) {
      const field = t.columns.get(column)
      if (field === undefined || !isWritable(t.object, field)) continue
      const def = t.object.fields[field] as Field
      if (def.type === 'relationship') {
        if (raw !== null) record[def.relationship] = { attributes: { type: def.referenceTo }, [def.externalId]: raw }
      } else if (raw !== null || keepNulls) {
        record[field] = toSalesforce(def, raw)
      }
    }
    return record
  }

  const hasFields = (record: SfRecord) => Object.keys(record).some((k) => k !== 'attributes' && k !== 'Id')

  /** Sends one group of log rows (same table and action, ≤ 200, each record once). */
  async function send (t: TableInfo, action: LogRow['action'], logs: LogRow[]): Promise<Outcome[]> {
    const { rows: current } = await pool.query<{ id: number, sfid: string | null }>(
      `SELECT id, sfid FROM ${qualified(t.table)} WHERE id = ANY($1)`, [logs.map((l) => l.record_id)])
    const rowSfid = new Map(current.map((r) => [r.id, r.sfid]))
    const outcomes: Outcome[] = []
    const batch: Array<{ log: LogRow, record: SfRecord }> = []

    for (const log of logs) {
      const values = log.values ?? {}
      if (action === 'INSERT') {
        if (!rowSfid.has(log.record_id)) { outcomes.push({ log, state: 'IGNORED' }); continue }
        batch.push({ log, record: payload(t, values, false) })
      } else if (action === 'UPDATE') {
        const sfid = log.sfid ?? rowSfid.get(log.record_id) ?? null
        const record = payload(t, values, true)
        if (!hasFields(record)) { outcomes.push({ log, state: 'IGNORED', sfid }); continue }
        if (sfid === null) {
          outcomes.push({ log, state: 'FAILED', error: { errorCode: 'NOT_IN_SALESFORCE', message: 'the row has no sfid: its insert did not reach Salesforce' } })
          continue
        }
        batch.push({ log: { ...log, sfid }, record: { ...record, Id: sfid } })
      } else {
        batch.push({ log, record: {} })
      }
    }
    if (batch.length === 0) return outcomes

    let results: SaveResult[]
    try {
      const records = batch.map((b) => b.record)
      if (action === 'INSERT') {
        results = isUpsert(logs[0] as LogRow)
          ? await org.upsert(t.objectName, t.object.upsertField as string, records)
          : await org.create(records)
      } else if (action === 'UPDATE') {
        results = await org.update(records)
      } else {
        results = await org.delete(batch.map((b) => b.log.sfid as string))
      }
    } catch (err) {
      // An outage or expired session leaves the rows PENDING for the next pass; a refusal is final.
      if (!(err instanceof OrgError) || !err.refused) throw err
      const error = err.errors[0] ?? { errorCode: 'UNKNOWN_ERROR', message: err.message }
      return [...outcomes, ...batch.map(({ log }) => ({ log, state: 'FAILED' as const, error }))]
    }
    await options.afterSend?.()
    batch.forEach(({ log }, i) => {
      const result = results[i] ?? { id: null, success: false, errors: [{ errorCode: 'UNKNOWN_ERROR', message: 'no result for this record' }] }
      const first = result.errors[0]
      if (result.success || (action === 'DELETE' && first !== undefined && ALREADY_DELETED.has(first.errorCode))) {
        outcomes.push({ log, state: 'SUCCESS', sfid: result.id ?? log.sfid })
      } else {
        outcomes.push({ log, state: 'FAILED', error: first ?? { errorCode: 'UNKNOWN_ERROR', message: 'Salesforce gave no error' } })
      }
    })
    return outcomes
  }

  /** Records outcomes: table rows get sfid / _hc_lastop / _hc_err, log rows move to the archive. */
  async function finish (t: TableInfo, action: LogRow['action'], outcomes: Outcome[]): Promise<void> {
    const table = qualified(t.table)
    await asConnect(async (c) => {
      const ok = outcomes.filter((o) => o.state === 'SUCCESS')
      if (action !== 'DELETE' && ok.length > 0) {
        await c.query(
          `UPDATE ${table} AS t SET sfid = coalesce(u.sfid, t.sfid), _hc_lastop = $3
             FROM unnest($1::int[], $2::text[]) AS u(id, sfid) WHERE t.id = u.id`,
          [ok.map((o) => o.log.record_id), ok.map((o) => o.sfid ?? null), action === 'INSERT' ? 'INSERTED' : 'UPDATED'])
      }
      const failed = outcomes.filter((o) => o.state === 'FAILED')
      if (action !== 'DELETE' && failed.length > 0) {
        const ids = failed.map((o) => o.log.record_id)
        // The status trigger keeps a value Connect changes, so a row already FAILED steps through PENDING.
        await c.query(`UPDATE ${table} SET _hc_lastop = 'PENDING' WHERE id = ANY($1) AND _hc_lastop = 'FAILED'`, [ids])
        await c.query(
          `UPDATE ${table} AS t SET _hc_lastop = 'FAILED', _hc_err = u.err
             FROM unnest($1::int[], $2::text[]) AS u(id, err) WHERE t.id = u.id`,
          [ids, failed.map((o) => JSON.stringify({ op: action, src: 'SFDC', ...o.error }))])
      }
      await archive(c, outcomes)
    })
  }

  /** Marks log rows with their outcome and moves them to `_trigger_log_archive`. */
  async function archive (c: PoolClient, outcomes: Outcome[]): Promise<void> {
    await c.query(
      `UPDATE ${s}._trigger_log AS l
          SET state = u.state, sfid = coalesce(u.sfid, l.sfid), sf_message = u.message,
              updated_at = now(), processed_at = now(), processed_tx = txid_current()
         FROM unnest($1::int[], $2::text[], $3::text[], $4::text[]) AS u(id, state, sfid, message)
        WHERE l.id = u.id`,
      [outcomes.map((o) => o.log.id), outcomes.map((o) => o.state), outcomes.map((o) => o.sfid ?? null),
        outcomes.map((o) => (o.error === undefined ? null : `${o.error.errorCode}: ${o.error.message}`))])
    await c.query(
      `WITH moved AS (DELETE FROM ${s}._trigger_log WHERE id = ANY($1) RETURNING *)
       INSERT INTO ${s}._trigger_log_archive SELECT * FROM moved`, [outcomes.map((o) => o.log.id)])
  }

  /** Inserts carrying the upsert field go through upsert, so a resend cannot duplicate them. */
  const isUpsert = (log: LogRow) => {
    const field = tables.get(log.table_name)?.object.upsertField
    return log.action === 'INSERT' && field !== undefined && log.values?.[columnName(field)] != null
  }

  /** Consecutive rows of one table and kind of call, ≤ 200, a record at most once (order is kept). */
  function groups (logs: LogRow[]): LogRow[][] {
    const out: LogRow[][] = []
    let group: LogRow[] = []
    const records = new Set<number>()
    const kind = (log: LogRow) => `${log.table_name} ${log.action} ${isUpsert(log)}`
    for (const log of logs) {
      const head = group[0]
      if (head !== undefined && (kind(head) !== kind(log) || group.length === BATCH || records.has(log.record_id))) {
        out.push(group)
        group = []
        records.clear()
      }
      group.push(log)
      records.add(log.record_id)
    }
    if (group.length > 0) out.push(group)
    return out
  }

  async function writePass (): Promise<void> {
    await asConnect((c) => c.query(
      `WITH moved AS (DELETE FROM ${s}._trigger_log WHERE state = 'IGNORE' RETURNING *)
       INSERT INTO ${s}._trigger_log_archive
       SELECT id, txid, created_at, now(), now(), txid_current(), 'IGNORED', action, table_name, record_id, sfid, old, "values", sf_result, sf_message FROM moved`))
    for (;;) {
      // PENDING rows are left from a run that stopped between sending and recording: sent again,
      // which the upsert field and idempotent update / delete make safe.
      const { rows } = await pool.query<LogRow>(
        `SELECT id, action, table_name, record_id, sfid, hstore_to_json("values"::hstore) AS values
           FROM ${s}._trigger_log WHERE state IN ('NEW', 'PENDING') ORDER BY id LIMIT ${BATCH}`)
      if (rows.length === 0) return
      await pool.query(`UPDATE ${s}._trigger_log SET state = 'PENDING', updated_at = now() WHERE id = ANY($1) AND state = 'NEW'`, [rows.map((r) => r.id)])
      for (const group of groups(rows)) {
        const head = group[0] as LogRow
        const t = tables.get(head.table_name)
        if (t === undefined || t.object.access !== 'read_write') {
          // Connect takes no action on changes to tables it does not write (READONLY).
          await asConnect((c) => archive(c, group.map((log) => ({ log, state: 'READONLY' }))))
          continue
        }
        await finish(t, head.action, await send(t, head.action, group))
      }
    }
  }

  // ---- scheduling ------------------------------------------------------------------------------

  // One job at a time: a read never interleaves with a write's bookkeeping.
  let chain: Promise<unknown> = Promise.resolve()
  const enqueue = <R>(job: () => Promise<R>): Promise<R> => {
    const run = chain.then(job)
    chain = run.catch(() => {})
    return run
  }
  let stopped = false
  let writeQueued = false
  const scheduleWrite = () => {
    if (writeQueued) return
    writeQueued = true
    enqueue(async () => {
      writeQueued = false
      if (!stopped) await writePass()
    }).catch(onError)
  }

  // LISTEN holds one connection; if the server drops it, the next tick listens again (the
  // periodic pass covers the gap, as Connect's own 2-minute database poll does).
  const channel = quote(`${schema}.hc_trigger_log`)
  let listener: PoolClient | undefined
  let unlisten = async () => {}
  const listen = async () => {
    const client = await pool.connect()
    const onDropped = (err: Error) => {
      onError(err)
      client.off('error', onDropped)
      if (listener === client) listener = undefined
      client.release(err)
    }
    client.on('notification', scheduleWrite)
    client.on('error', onDropped)
    await client.query(`LISTEN ${channel}`)
    listener = client
    unlisten = async () => {
      client.off('notification', scheduleWrite)
      await client.query(`UNLISTEN ${channel}`).catch(() => {})
      client.off('error', onDropped)
      client.release()
    }
  }
  await listen()

  const syncOnce = () => enqueue(async () => { await writePass(); await pollAll(false) })
  await syncOnce()

  let timer: NodeJS.Timeout | undefined
  const tick = () => {
    timer = setTimeout(() => {
      const relisten = listener === undefined ? listen() : Promise.resolve()
      relisten.then(syncOnce).catch(onError).finally(() => { if (!stopped) tick() })
    }, intervalMs)
  }
  tick()

  return {
    syncOnce,
    writeOnce: () => enqueue(writePass),
    pollOnce: () => enqueue(() => pollAll(false)),
    initialLoad: () => enqueue(() => pollAll(true)),
    async stop () {
      if (stopped) return
      stopped = true
      clearTimeout(timer)
      if (listener !== undefined) {
        listener = undefined
        await unlisten()
      }
      await chain
      if (ownPool) await pool.end()
    }
  }
}
