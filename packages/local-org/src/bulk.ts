// Bulk API 2.0 ingest jobs (/services/data/vNN.N/jobs/ingest), as the Bulk API 2.0 Developer Guide
// documents them. Quotes from the guide are in the comments; what it does not say is marked inferred.
import type { UserInfo } from './access.ts'
import { CsvError, DELIMITERS, csvLine, parseCsv } from './csv.ts'
import type { ColumnDelimiter, LineEnding } from './csv.ts'
import { fmtDateTime } from './dates.ts'
import { SfError, asObject, methodNotAllowed, notFound, parseJson } from './errors.ts'
import { IdGenerator, isValidId, normalizeId } from './ids.ts'
import type { OrgCore } from './org.ts'
import type { ObjectDef } from './schema.ts'

export type IngestState = 'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted'
type Operation = 'insert' | 'update' | 'upsert' | 'delete' | 'hardDelete'

/** "Create a Job": operation "insert, delete, hardDelete, update, upsert". */
const OPERATIONS = new Set<string>(['insert', 'update', 'upsert', 'delete', 'hardDelete'])
/**
 * "Upload Job Data": "A request can provide CSV data that does not in total exceed 150 MB of base64
 * encoded content."
 */
const MAX_BASE64_BYTES = 150_000_000
/** "Delete a Job": "a job must have a state of UploadComplete, JobComplete, Aborted, or Failed". */
const DELETABLE = new Set<IngestState>(['UploadComplete', 'JobComplete', 'Aborted', 'Failed'])
/** Rows processed between two turns of the event loop, so polls see InProgress (inferred: Salesforce chunks by 200). */
const CHUNK = 200
/** "Valid CSV Record Rows": "To set a field value to null, use a field value of #N/A." */
const NULL_VALUE = '#N/A'
/** Bulk API 2.0 is "available in API version 41.0 and later". */
export const MIN_BULK_VERSION = 41

/** The job info JSON ("Get Information About an Ingest Job", response body). */
export interface IngestJobInfo {
  id: string
  operation: Operation
  object: string
  createdById: string
  createdDate: string
  systemModstamp: string
  state: IngestState
  externalIdFieldName?: string
  concurrencyMode: 'Parallel'
  contentType: 'CSV'
  apiVersion: number
  jobType: 'V2Ingest'
  contentUrl: string
  lineEnding: LineEnding
  columnDelimiter: ColumnDelimiter
  numberRecordsProcessed: number
  numberRecordsFailed: number
  retries: number
  totalProcessingTime: number
  apiActiveProcessingTime: number
  apexProcessingTime: number
  errorMessage?: string
}

interface Job {
  info: IngestJobInfo
  def: ObjectDef
  owner: UserInfo
  upload: string | undefined
  header: string[]
  successful: string[][]
  failed: string[][]
  unprocessed: string[][]
  startedAt: number
}

/** `csv` as chunks (a query job's set of results) is written as it is made, with chunked transfer coding. */
export interface BulkReply {
  status: number
  body?: unknown
  csv?: string | Iterable<string>
  headers?: Record<string, string>
}

/** A job's CSV settings from its create request (ingest and query jobs alike), or INVALIDJOB. */
export function csvOptions (
  body: Record<string, unknown>
): { lineEnding: LineEnding, columnDelimiter: ColumnDelimiter } {
  const lineEnding = body.lineEnding ?? 'LF'
  if (lineEnding !== 'LF' && lineEnding !== 'CRLF') {
    throw new SfError(400, 'INVALIDJOB', `InvalidJob : Invalid lineEnding: ${String(lineEnding)}`)
  }
  const columnDelimiter = body.columnDelimiter ?? 'COMMA'
  if (typeof columnDelimiter !== 'string' || !(columnDelimiter in DELIMITERS)) {
    throw new SfError(400, 'INVALIDJOB', `InvalidJob : Invalid columnDelimiter: ${String(columnDelimiter)}`)
  }
  // "contentType: The only valid value (and the default) is CSV."
  if ((body.contentType ?? 'CSV') !== 'CSV') {
    throw new SfError(400, 'INVALIDJOB', `InvalidJob : Invalid contentType: ${String(body.contentType)}`)
  }
  return { lineEnding, columnDelimiter: columnDelimiter as ColumnDelimiter }
}

/** The ingest jobs of one org, kept in memory (not in snapshots). */
export class BulkIngest {
  readonly #org: OrgCore
  readonly #jobs = new Map<string, Job>()
  readonly #ids = new IdGenerator(1, 'Lb')
  readonly #timers = new Set<NodeJS.Timeout>()
  /** How long a job stays InProgress before its rows are processed (a setting of the local org's faults). */
  processingDelayMs: () => number

  constructor (org: OrgCore, processingDelayMs: () => number) {
    this.#org = org
    this.processingDelayMs = processingDelayMs
  }

  close (): void {
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
  }

  /** `rest` is the path after /jobs/ingest. */
  handle (user: UserInfo, method: string, rest: string[], raw: string, version: string): BulkReply {
    if (Number(version.split('.')[0]) < MIN_BULK_VERSION) throw notFound()
    const [jobId, sub, extra] = rest
    if (jobId === undefined) {
      if (method === 'POST') return { status: 200, body: this.#create(user, raw, version) }
      if (method === 'GET') return { status: 200, body: this.#list(user) }
      throw methodNotAllowed(method, 'GET,POST')
    }
    const job = this.#job(user, jobId)
    if (extra !== undefined) throw notFound()
    if (sub === undefined) {
      if (method === 'GET') return { status: 200, body: job.info }
      if (method === 'PATCH') return { status: 200, body: this.#patch(job, raw) }
      if (method === 'DELETE') return this.#delete(job)
      throw methodNotAllowed(method, 'GET,PATCH,DELETE')
    }
    if (sub === 'batches') {
      if (method !== 'PUT') throw methodNotAllowed(method, 'PUT')
      return this.#upload(job, raw)
    }
    if (method !== 'GET') throw methodNotAllowed(method, 'GET')
    const { columnDelimiter: d } = job.info
    // The results are CSV with LF line endings, as recorded from a real org (fixtures: successfulResults).
    const lines = (header: string[], rows: string[][]): string =>
      [header, ...rows].map((r) => csvLine(r, d, 'LF')).join('')
    switch (sub) {
      // "Get Job Successful Record Results": sf__Created, sf__Id, then "Fields from the original CSV request data".
      case 'successfulResults':
        return { status: 200, csv: lines(['sf__Id', 'sf__Created', ...job.header], job.successful) }
      // "Get Job Failed Record Results": sf__Error "Error code and message", sf__Id, then the original fields.
      case 'failedResults':
        return { status: 200, csv: lines(['sf__Id', 'sf__Error', ...job.header], job.failed) }
      // "Get Job Unprocessed Record Results": "all the records that were not processed by the job".
      case 'unprocessedrecords': return { status: 200, csv: lines(job.header, job.unprocessed) }
      default: throw notFound()
    }
  }

  #job (user: UserInfo, jobId: string): Job {
    // A malformed id answers 400 NOT_FOUND, as recorded from a real org (fixtures: get-info-clientError).
    if (!isValidId(jobId)) throw new SfError(400, 'NOT_FOUND', 'The requested resource does not exist')
    const job = this.#jobs.get(normalizeId(jobId) ?? '')
    // Jobs belong to their creator; admins and the integration user ("Manage Data Integrations") see all.
    const manager = user.profile === 'admin' || user.profile === 'integration'
    const sees = job !== undefined && (job.owner.id === user.id || manager)
    if (!sees) throw notFound()
    return job
  }

  #create (user: UserInfo, raw: string, version: string): IngestJobInfo {
    const body = asObject(parseJson(raw, 'POST'))
    const object = typeof body.object === 'string' ? body.object : ''
    const operation = typeof body.operation === 'string' ? body.operation : ''
    // Invalid requests answer 400 with errorCode INVALIDJOB (inferred from the Bulk API's InvalidJob exception code).
    if (object === '') throw new SfError(400, 'INVALIDJOB', 'InvalidJob : Object is required')
    if (!OPERATIONS.has(operation)) throw new SfError(400, 'INVALIDJOB', `InvalidJob : Invalid operation: ${operation}`)
    const def = this.#org.schema.get(object)
    if (!def) throw new SfError(400, 'INVALIDJOB', `InvalidJob : Unable to find object: ${object}`)
    const { lineEnding, columnDelimiter } = csvOptions(body)
    // "externalIdFieldName: … Required for upsert operations"
    let externalIdFieldName: string | undefined
    if (operation === 'upsert') {
      const field = def.fieldMap.get(String(body.externalIdFieldName ?? '').toLowerCase())
      if (!field || !(field.externalId || field.name === 'Id')) {
        const named = String(body.externalIdFieldName ?? '')
        throw new SfError(400, 'INVALIDJOB', `InvalidJob : External ID field not found or not an external id: ${named}`)
      }
      externalIdFieldName = field.name
    }
    const id = this.#ids.next('750')
    const now = fmtDateTime(Date.now())
    const info: IngestJobInfo = {
      id,
      operation: operation as Operation,
      object: def.name,
      createdById: user.id,
      createdDate: now,
      systemModstamp: now,
      state: 'Open',
      ...(externalIdFieldName === undefined ? {} : { externalIdFieldName }),
      concurrencyMode: 'Parallel',
      contentType: 'CSV',
      apiVersion: Number(version),
      jobType: 'V2Ingest',
      // "The resource URL is provided in the contentUrl field in the response from Create a Job"
      contentUrl: `services/data/v${version}/jobs/ingest/${id}/batches`,
      lineEnding,
      columnDelimiter,
      numberRecordsProcessed: 0,
      numberRecordsFailed: 0,
      retries: 0,
      totalProcessingTime: 0,
      apiActiveProcessingTime: 0,
      apexProcessingTime: 0
    }
    this.#jobs.set(id, {
      info, def, owner: user, upload: undefined, header: [], successful: [], failed: [], unprocessed: [], startedAt: 0
    })
    return info
  }

  #list (user: UserInfo): unknown {
    const records = [...this.#jobs.values()].filter((j) => j.owner.id === user.id).map((j) => j.info)
    return { done: true, records, nextRecordsUrl: null }
  }

  #upload (job: Job, raw: string): BulkReply {
    if (job.info.state !== 'Open') {
      throw new SfError(400, 'INVALIDJOBSTATE', `Job ${job.info.id} is not open for uploads: it is ${job.info.state}`)
    }
    // One upload per job, as jsforce enforces ("Data can only be uploaded to a job once."): inferred.
    if (job.upload !== undefined) throw new SfError(400, 'INVALIDJOBSTATE', 'Data can only be uploaded to a job once')
    if (Math.ceil(Buffer.byteLength(raw) / 3) * 4 > MAX_BASE64_BYTES) {
      throw new SfError(400, 'EXCEEDED_QUOTA',
        'A request can provide CSV data that does not in total exceed 150 MB of base64 encoded content')
    }
    job.upload = raw
    touch(job)
    // "Returns a status code of 201 (Created), which indicates that the job data was successfully received"
    return { status: 201 }
  }

  #patch (job: Job, raw: string): IngestJobInfo {
    const state = asObject(parseJson(raw, 'PATCH')).state
    const current = job.info.state
    if (state === 'UploadComplete') {
      // "Notifies Salesforce servers that the upload of job data is complete and is ready for processing."
      if (current !== 'Open') throw new SfError(400, 'INVALIDJOBSTATE', `Closing already ${current} Job not allowed`)
      job.info.state = 'UploadComplete'
      touch(job)
      this.#later(() => { this.#start(job) }, 0)
      return job.info
    }
    if (state === 'Aborted') {
      // Recorded from a real org:
      // [{"errorCode":"INVALIDJOBSTATE","message":"Aborting already Completed Job not allowed"}]
      if (current === 'JobComplete' || current === 'Failed' || current === 'Aborted') {
        const was = current === 'JobComplete' ? 'Completed' : current
        throw new SfError(400, 'INVALIDJOBSTATE', `Aborting already ${was} Job not allowed`)
      }
      job.info.state = 'Aborted'
      touch(job)
      return job.info
    }
    throw new SfError(400, 'INVALIDJOBSTATE', `Invalid state: ${String(state)}; use UploadComplete or Aborted`)
  }

  #delete (job: Job): BulkReply {
    if (!DELETABLE.has(job.info.state)) {
      throw new SfError(400, 'INVALIDJOBSTATE', `Deleting a job in state ${job.info.state} is not allowed`)
    }
    this.#jobs.delete(job.info.id)
    // "Returns a status code of 204 (No Content), which indicates that the job was successfully deleted."
    return { status: 204 }
  }

  #later (fn: () => void, ms: number): void {
    const timer = setTimeout(() => { this.#timers.delete(timer); fn() }, ms)
    this.#timers.add(timer)
  }

  /** UploadComplete → InProgress, then the rows in chunks, then JobComplete (or Failed). */
  #start (job: Job): void {
    if (job.info.state !== 'UploadComplete') return
    job.info.state = 'InProgress'
    job.startedAt = Date.now()
    touch(job)
    let rows: string[][]
    try {
      rows = parseCsv(job.upload ?? '', job.info.columnDelimiter, job.info.lineEnding)
        .filter((r) => !(r.length === 1 && r[0] === ''))
    } catch (e) {
      if (!(e instanceof CsvError)) throw e
      this.#fail(job, e.message, [])
      return
    }
    const header = rows.shift() ?? []
    job.header = header
    const columns = this.#columns(job, header)
    if (typeof columns === 'string') {
      this.#fail(job, columns, rows)
      return
    }
    const step = (from: number): void => {
      if (job.info.state !== 'InProgress') {
        // Aborted meanwhile: the rest is unprocessed.
        job.unprocessed.push(...rows.slice(from))
        return
      }
      const end = Math.min(rows.length, from + CHUNK)
      for (let i = from; i < end; i++) this.#row(job, columns, rows[i] ?? [])
      job.info.numberRecordsProcessed = job.successful.length + job.failed.length
      job.info.numberRecordsFailed = job.failed.length
      touch(job)
      if (end < rows.length) {
        this.#later(() => { step(end) }, 0)
        return
      }
      job.info.state = 'JobComplete'
      job.info.totalProcessingTime = job.info.apiActiveProcessingTime = Date.now() - job.startedAt
      touch(job)
    }
    this.#later(() => { step(0) }, this.processingDelayMs())
  }

  #fail (job: Job, message: string, rows: string[][]): void {
    job.info.state = 'Failed'
    job.info.errorMessage = message
    job.unprocessed = rows
    touch(job)
  }

  /**
   * The header's fields, or the job's error message. Field names and relationship columns
   * (`Owner.Username`) resolve case-insensitively; an unknown one fails the job with the message a
   * real org gives: "InvalidBatch : Field name not found : ContactId__c" (recorded in
   * amp-labs/connectors#118).
   */
  #columns (job: Job, header: string[]): Array<{ name: string, relation?: string }> | string {
    const def = job.def
    const out: Array<{ name: string, relation?: string }> = []
    for (const column of header) {
      const [first = '', second] = column.split('.')
      if (second !== undefined) {
        const rel = def.parentRels.get(first.toLowerCase())
        if (!rel) return `InvalidBatch : Field name not found : ${column}`
        out.push({ name: second, relation: rel.relationshipName ?? first })
        continue
      }
      const field = def.fieldMap.get(column.toLowerCase())
      if (!field) return `InvalidBatch : Field name not found : ${column}`
      out.push({ name: field.name })
    }
    const { operation } = job.info
    const needs = operation === 'insert' ? undefined : operation === 'upsert' ? job.info.externalIdFieldName : 'Id'
    if (needs !== undefined && !out.some((c) => c.relation === undefined && c.name === needs)) {
      return `InvalidBatch : Field name not found : ${needs}`
    }
    return out
  }

  /** One record, in its own transaction; its outcome goes to the successful or failed results. */
  #row (job: Job, columns: Array<{ name: string, relation?: string }>, values: string[]): void {
    const org = this.#org
    const { operation, object } = job.info
    const fields: Record<string, unknown> = {}
    let key = ''
    columns.forEach((c, i) => {
      const value = values[i] ?? ''
      if (c.relation === undefined && (c.name === 'Id' || c.name === job.info.externalIdFieldName)) key = value
      // "Empty field values are ignored when you update records."
      if (value === '') return
      if (c.relation !== undefined) fields[c.relation] = { [c.name]: value }
      else fields[c.name] = value === NULL_VALUE ? null : value
    })
    const byId = operation === 'update' || operation === 'delete' || operation === 'hardDelete'
    const given = byId ? (normalizeId(key) ?? '') : ''
    org.store.begin()
    try {
      if (values.length !== columns.length) {
        // Inferred: Salesforce rejects a row whose field count differs from the header's.
        throw new SfError(400, 'INVALID_FIELD', `The row has ${values.length} fields, the header ${columns.length}`)
      }
      let id: string
      let created = false
      if (operation === 'insert') {
        id = org.create(job.owner, object, fields).f.Id as string
        created = true
      } else if (operation === 'upsert') {
        const ext = job.info.externalIdFieldName ?? 'Id'
        if (key === '') throw new SfError(400, 'MISSING_ARGUMENT', `${ext} not specified`, [])
        const rest = Object.fromEntries(Object.entries(fields).filter(([k]) => k !== ext))
        const result = org.upsert(job.owner, object, ext, key, rest)
        id = result.rec.f.Id as string
        created = result.created
      } else {
        if (key === '') throw new SfError(400, 'MISSING_ARGUMENT', `Id not specified in an ${operation} call`, [])
        const rest = Object.fromEntries(Object.entries(fields).filter(([k]) => k !== 'Id'))
        const rec = operation === 'update'
          ? org.update(job.owner, object, key, rest)
          : org.delete(job.owner, object, key)
        id = rec.f.Id as string
      }
      org.store.commit()
      job.successful.push([id, String(created), ...values])
    } catch (e) {
      org.store.rollback()
      const err = e instanceof SfError ? e : new SfError(500, 'UNKNOWN_EXCEPTION', String((e as Error).message))
      // "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --" (guide, "Handle Failed
      // Records in Batches"): code, message, then the fields and " --"; with no fields ":--" (inferred).
      const where = (err.fields ?? []).join(',')
      job.failed.push([given, `${err.errorCode}:${err.message}:${where === '' ? '' : `${where} `}--`, ...values])
    }
  }
}

function touch (job: Job): void {
  job.info.systemModstamp = fmtDateTime(Date.now())
}
