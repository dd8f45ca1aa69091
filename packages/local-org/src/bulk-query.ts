// Bulk API 2.0 query jobs (/services/data/vNN.N/jobs/query), as the Bulk API 2.0 Developer Guide
// documents them ("Create a Query Job", "Get Information About a Query Job", "Get Results for a
// Query Job", "Delete a Query Job"). Quotes from the guide are in the comments; what it does not
// say is marked inferred.
import type { UserInfo } from './access.ts'
import { csvLine } from './csv.ts'
import type { ColumnDelimiter, LineEnding } from './csv.ts'
import { fmtDateTime } from './dates.ts'
import { SfError, asObject, methodNotAllowed, notFound, parseJson } from './errors.ts'
import { IdGenerator, isValidId, normalizeId } from './ids.ts'
import type { OrgCore } from './org.ts'
import { pathValue } from './soql.ts'
import type { Compiled } from './soql.ts'
import type { Rec, Value } from './store.ts'
import { csvOptions } from './bulk.ts'
import type { BulkReply } from './bulk.ts'

/** "Query jobs in Bulk API 2.0 are available in API version 47.0 and later." */
const MIN_QUERY_VERSION = 47

type QueryState = 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted'
type FieldItem = Extract<Compiled['select'][number], { kind: 'field' }>

/** "Get Information About a Query Job", response body. */
export interface QueryJobInfo {
  id: string
  operation: 'query' | 'queryAll'
  object: string
  createdById: string
  createdDate: string
  systemModstamp: string
  state: QueryState
  concurrencyMode: 'Parallel'
  contentType: 'CSV'
  apiVersion: number
  jobType: 'V2Query'
  lineEnding: LineEnding
  columnDelimiter: ColumnDelimiter
  numberRecordsProcessed: number
  retries: number
  totalProcessingTime: number
}

interface QueryJob { info: QueryJobInfo, owner: UserInfo, columns: FieldItem[], recs: Rec[] }

/**
 * Rows written to the connection at once: a set of results is streamed, never held whole (a set of
 * 50,000 rows of a million-record org would be megabytes of garbage in V8's old generation).
 */
const ROWS_PER_CHUNK = 500

/** Records per set of results when the caller gives no maxRecords (inferred: the guide leaves it to Salesforce). */
const DEFAULT_MAX_RECORDS = 50_000

/** A value as a results row holds it: null as an empty field (inferred from real results). */
function csvValue (v: Value): string {
  if (v === null) return ''
  return typeof v === 'string' ? v : String(v)
}

/**
 * "Sforce-Locator": an opaque string naming the next set of results. Salesforce's read as base64
 * of the record offset (inferred from published examples); the local org's are the same.
 */
const toLocator = (offset: number): string => Buffer.from(String(offset)).toString('base64')
const fromLocator = (locator: string): number => Number(Buffer.from(locator, 'base64').toString())

/** The query jobs of one org, kept in memory (not in snapshots). */
export class BulkQuery {
  readonly #org: OrgCore
  readonly #jobs = new Map<string, QueryJob>()
  readonly #ids = new IdGenerator(2, 'Lq')

  constructor (org: OrgCore) {
    this.#org = org
  }

  /** `rest` is the path after /jobs/query. */
  handle (
    user: UserInfo, method: string, rest: string[], raw: string, version: string, qs: URLSearchParams
  ): BulkReply {
    if (Number(version.split('.')[0]) < MIN_QUERY_VERSION) throw notFound()
    const [jobId, sub, extra] = rest
    if (jobId === undefined) {
      if (method !== 'POST') throw methodNotAllowed(method, 'POST')
      return { status: 200, body: this.#create(user, raw, version) }
    }
    const job = this.#job(user, jobId)
    if (extra !== undefined) throw notFound()
    if (sub === undefined) {
      if (method === 'GET') return { status: 200, body: job.info }
      if (method === 'DELETE') {
        // "Returns a status code of 204 (No Content), which indicates that the job was successfully deleted."
        this.#jobs.delete(job.info.id)
        return { status: 204 }
      }
      throw methodNotAllowed(method, 'GET,DELETE')
    }
    if (sub !== 'results') throw notFound()
    if (method !== 'GET') throw methodNotAllowed(method, 'GET')
    // "Use the same API version to get query results that you used to create the query. Otherwise,
    // the call returns a 409 error."
    if (Number(version) !== job.info.apiVersion) {
      throw new SfError(409, 'INVALIDJOBSTATE', `Use API version ${job.info.apiVersion.toFixed(1)} for this job's results`)
    }
    // "The job must have the state JobComplete."
    if (job.info.state !== 'JobComplete') {
      throw new SfError(400, 'INVALIDJOBSTATE', `Job ${job.info.id} is ${job.info.state}, not JobComplete`)
    }
    return this.#results(job, qs)
  }

  #job (user: UserInfo, jobId: string): QueryJob {
    if (!isValidId(jobId)) throw new SfError(400, 'NOT_FOUND', 'The requested resource does not exist')
    const job = this.#jobs.get(normalizeId(jobId) ?? '')
    const manager = user.profile === 'admin' || user.profile === 'integration'
    if (job === undefined || !(job.owner.id === user.id || manager)) throw notFound()
    return job
  }

  #create (user: UserInfo, raw: string, version: string): QueryJobInfo {
    const body = asObject(parseJson(raw, 'POST'))
    // "operation: The type of query. Possible values are: query … queryAll"
    const operation = body.operation
    if (operation !== 'query' && operation !== 'queryAll') {
      throw new SfError(400, 'INVALIDJOB', `InvalidJob : Invalid operation: ${String(operation)}`)
    }
    if (typeof body.query !== 'string' || body.query.trim() === '') {
      throw new SfError(400, 'INVALIDJOB', 'InvalidJob : query is required')
    }
    const { lineEnding, columnDelimiter } = csvOptions(body)
    const org = this.#org
    const compiled = org.soql.compile(body.query)
    const columns = compiled.select.filter((s): s is FieldItem => s.kind === 'field')
    // "Understanding Bulk API 2.0 Query": "Bulk API 2.0 doesn't support SOQL queries that include
    // any of these items: GROUP BY, OFFSET, or TYPEOF clauses. Aggregate Functions such as COUNT().
    // … Parent-to-child relationship queries." The error code is inferred.
    const unsupported = compiled.aggregate !== undefined || compiled.countOnly || compiled.offset > 0
    if (unsupported || columns.length !== compiled.select.length) {
      throw new SfError(400, 'API_ERROR', 'Bulk API 2.0 does not support this query: aggregates, OFFSET and subqueries')
    }
    const started = Date.now()
    const recs = org.soql.execute(compiled, org.execCtx(user, operation === 'queryAll')).recs
    const id = this.#ids.next('750')
    const now = fmtDateTime(started)
    const info: QueryJobInfo = {
      id,
      operation,
      object: compiled.def.name,
      createdById: user.id,
      createdDate: now,
      systemModstamp: now,
      // Inferred: the query runs when the job is created, so the first poll sees it complete.
      state: 'JobComplete',
      concurrencyMode: 'Parallel',
      contentType: 'CSV',
      apiVersion: Number(version),
      jobType: 'V2Query',
      lineEnding,
      columnDelimiter,
      numberRecordsProcessed: recs.length,
      retries: 0,
      totalProcessingTime: Date.now() - started
    }
    this.#jobs.set(id, { info, owner: user, columns, recs })
    return info
  }

  /**
   * One set of results: the header, then up to maxRecords rows from the locator's offset. "Sforce-
   * Locator" names the next set, "null" after the last; "Sforce-NumberOfRecords" counts this set's.
   */
  #results (job: QueryJob, qs: URLSearchParams): BulkReply {
    const locator = qs.get('locator')
    const offset = locator === null || locator === '' ? 0 : fromLocator(locator)
    if (!Number.isInteger(offset) || offset < 0 || offset > job.recs.length) {
      throw new SfError(400, 'INVALIDLOCATOR', `Invalid locator: ${locator ?? ''}`)
    }
    const given = qs.get('maxRecords')
    const max = given === null ? DEFAULT_MAX_RECORDS : Number(given)
    if (!Number.isInteger(max) || max < 1) throw new SfError(400, 'INVALIDMAXRECORDS', `Invalid maxRecords: ${given ?? ''}`)
    const { columnDelimiter: d, lineEnding: e } = job.info
    const store = this.#org.store
    const end = Math.min(job.recs.length, offset + max)
    const header = csvLine(job.columns.map((c) => [...c.path.steps.map((s) => s.relationshipName), c.path.field.name].join('.')), d, e)
    const { columns, recs } = job
    /** The set a few hundred rows at a time, made as the connection takes them. */
    function * rows (): Generator<string> {
      yield header
      for (let from = offset; from < end; from += ROWS_PER_CHUNK) {
        let chunk = ''
        for (let i = from; i < Math.min(end, from + ROWS_PER_CHUNK); i++) {
          const rec = recs[i] as Rec
          chunk += csvLine(columns.map((c) => csvValue(pathValue(rec, c.path, store))), d, e)
        }
        yield chunk
      }
    }
    return {
      status: 200,
      csv: rows(),
      headers: {
        'Content-Type': 'text/csv',
        'Sforce-Locator': end < job.recs.length ? toLocator(end) : 'null',
        'Sforce-NumberOfRecords': String(end - offset)
      }
    }
  }
}
