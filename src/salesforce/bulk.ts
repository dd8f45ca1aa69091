import { sdkModule } from './applink-sdk.ts'
import { csvLine } from '@applink-actions/platform/csv'
import { setTimeout as sleep } from 'node:timers/promises'
import type { BulkApi, IngestJobInfo, IngestJobReference, Org } from '@heroku/applink/dist/index.js'
import { OrgClient, RawBody } from './org-client.ts'
import { SalesforceApiError } from './errors.ts'

/**
 * The SDK's org carries a Bulk API 2.0 client (`OrgImpl.bulkApi`, also on the org
 * `getAuthorization` returns), but the exported `Org` type omits it: this is the one place it is typed.
 */
export type OrgWithBulkApi = Org & { readonly bulkApi: BulkApi }

type OrgImplConstructor = new (accessToken: string, apiVersion: string, namespace: string | null, orgId: string,
  domainUrl: string, userId: string, username: string, orgType: 'SalesforceOrg') => OrgWithBulkApi

/** Who calls which org, with which token. */
export interface OrgAccess {
  instanceUrl: string
  apiVersion: string
  accessToken: string
  orgId: string
  userId: string
}

/** The SDK's Bulk API client for an org, as the SDK builds it for a request, for any token. */
export function sdkBulkApi (org: Omit<OrgAccess, 'accessToken'>): (accessToken: string) => BulkApi {
  const sdkOrg = sdkModule<{ OrgImpl: OrgImplConstructor }>('dist/sdk/org.js')
  const { apiVersion, orgId, instanceUrl, userId } = org
  return (accessToken) =>
    new sdkOrg.OrgImpl(accessToken, apiVersion, null, orgId, instanceUrl, userId, '', 'SalesforceOrg').bulkApi
}

export type IngestState = IngestJobInfo['state']
export type IngestInfo = IngestJobInfo & { errorMessage?: string }

/** A failed record as Bulk API 2.0 reports it. */
export interface IngestFailure { id: string, errorCode: string, message: string }
export interface IngestResults {
  /** Ids of the records written. */
  written: string[]
  failed: IngestFailure[]
  /** Rows the job never reached (a failed or aborted job): their Id column. */
  unprocessed: string[]
}

/** Job Completion: "Job States" of the Bulk API 2.0 Developer Guide; the other states still change. */
const FINAL = new Set<IngestState>(['JobComplete', 'Failed', 'Aborted'])

/** Poll delays: doubling from the first, capped (Salesforce gives no completion notice for ingest jobs). */
export interface PollSchedule { firstMs: number, maxMs: number }
export const DEFAULT_POLL: PollSchedule = { firstMs: 250, maxMs: 30_000 }

/**
 * A value as Bulk API 2.0 reads it: an empty value leaves the field unchanged on update ("Empty field
 * values are ignored when you update records"); null is written "#N/A" ("To set a field value to null,
 * use a field value of #N/A").
 */
const csvValue = (value: string | number | null): string => value === null ? '#N/A' : String(value)

/** One CSV line, COMMA delimiter and LF line ending (the job's defaults), quoted as RFC 4180 wants. */
export function csvRow (row: Array<string | number | null>): string {
  return csvLine(row.map(csvValue), 'COMMA', 'LF')
}

/** CSV with a header row, as csvRow writes each line. */
export function toCsv (columns: string[], rows: Array<Array<string | number | null>>): string {
  return [columns, ...rows].map(csvRow).join('')
}

/**
 * `sf__Error` holds "Error code and message" ("Get Job Failed Record Results"), in the form recorded
 * from a real org: `REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --`.
 */
export function parseRecordError (text: string): { errorCode: string, message: string } {
  const match = /^([A-Z_]+):([\s\S]*):[^:]*--$/.exec(text)
  if (match === null) return { errorCode: 'UNKNOWN_EXCEPTION', message: text }
  return { errorCode: match[1] ?? '', message: match[2] ?? '' }
}

/**
 * Bulk API 2.0 ingest jobs: created, uploaded and closed through the service's org client (so the job's
 * id is known before any data is sent), read through the SDK's `bulkApi` (job info, and the result
 * CSVs parsed into tables). Both count their calls on the org client.
 */
export class BulkIngest {
  readonly #org: OrgClient
  readonly #bulkApiFor: (accessToken: string) => BulkApi
  #bulkApi: { accessToken: string, api: BulkApi } | undefined

  /**
   * `bulkApiFor` builds the SDK's client for a token: the SDK's client keeps the token it was
   * built with, so a session the org client renews (an AppLink authorization) needs a new one.
   */
  constructor (org: OrgClient, bulkApiFor: (accessToken: string) => BulkApi) {
    this.#org = org
    this.#bulkApiFor = bulkApiFor
  }

  /** "Create a Job": POST /jobs/ingest; the job is Open and holds no data. */
  async create (object: string, operation: 'update'): Promise<string> {
    const info = await this.#org.request<{ id: string }>('POST', '/jobs/ingest', {
      object, operation, contentType: 'CSV', lineEnding: 'LF', columnDelimiter: 'COMMA'
    })
    return info.id
  }

  /** "Upload Job Data": PUT /jobs/ingest/{id}/batches, text/csv ("upload data that does not exceed 100 MB"). */
  async upload (jobId: string, csv: string): Promise<void> {
    await this.#org.request('PUT', `/jobs/ingest/${encodeURIComponent(jobId)}/batches`, new RawBody('text/csv', csv))
  }

  /** "Upload Complete": "If you don't make this request, processing of your data does not start." */
  async uploadComplete (jobId: string): Promise<void> {
    await this.#org.request('PATCH', `/jobs/ingest/${encodeURIComponent(jobId)}`, { state: 'UploadComplete' })
  }

  /** An Open job never processes its data: aborting it guarantees nothing of it is written. */
  async abort (jobId: string): Promise<void> {
    await this.#sdk(async (api) => { await api.abort(reference(jobId)) })
  }

  async info (jobId: string): Promise<IngestInfo> {
    return await this.#sdk(async (api) => await api.getInfo(reference(jobId)) as IngestInfo)
  }

  /**
   * Polls the job until it reaches JobComplete, Failed or Aborted, waiting longer after each answer;
   * `onInfo` sees every answer (progress). Aborting `signal` stops between polls.
   */
  async waitUntilFinal (jobId: string, signal: AbortSignal, onInfo: (info: IngestInfo) => Promise<void>,
    poll: PollSchedule = DEFAULT_POLL): Promise<IngestInfo> {
    for (let delay = poll.firstMs; ; delay = Math.min(poll.maxMs, delay * 2)) {
      await sleep(delay, undefined, { signal })
      const info = await this.info(jobId)
      await onInfo(info)
      if (FINAL.has(info.state)) return info
    }
  }

  /** The job's successful, failed and unprocessed records, by the `Id` column of the upload. */
  async results (jobId: string): Promise<IngestResults> {
    const ref = reference(jobId)
    const successful = await this.#sdk(async (api) => await api.getSuccessfulResults(ref))
    const failed = await this.#sdk(async (api) => await api.getFailedResults(ref))
    const unprocessed = await this.#sdk(async (api) => await api.getUnprocessedRecords(ref))
    const idOf = (row: Map<string, string>): string => row.get('Id') ?? row.get('sf__Id') ?? ''
    return {
      written: successful.map(idOf),
      failed: failed.map((row) => ({ id: idOf(row), ...parseRecordError(row.get('sf__Error') ?? '') })),
      unprocessed: unprocessed.map(idOf)
    }
  }

  async #sdk<T> (call: (api: BulkApi) => Promise<T>): Promise<T> {
    return await this.#org.withSession(async (accessToken) => {
      if (this.#bulkApi?.accessToken !== accessToken) {
        this.#bulkApi = { accessToken, api: this.#bulkApiFor(accessToken) }
      }
      this.#org.apiCalls++
      try {
        return await call(this.#bulkApi.api)
      } catch (err) {
        throw fromSdkError(err)
      }
    })
  }
}

function reference (id: string): IngestJobReference {
  return { id, type: 'ingestJob' }
}

/**
 * The SDK (jsforce) throws Salesforce's error as `{errorCode, message}`, or `ERROR_HTTP_<status>`
 * when the body was not an error array: turned into the service's SalesforceApiError so the job
 * queue decides retries the same way as for the org client's calls. Anything else (the network)
 * is passed on.
 */
function fromSdkError (err: unknown): unknown {
  if (!(err instanceof Error) || typeof (err as { errorCode?: unknown }).errorCode !== 'string') return err
  const errorCode = (err as Error & { errorCode: string }).errorCode
  const http = /^ERROR_HTTP_(\d{3})$/.exec(errorCode)
  const status = http !== null
    ? Number(http[1])
    : errorCode === 'INVALID_SESSION_ID'
      ? 401
      : errorCode === 'NOT_FOUND'
        ? 404
        : errorCode === 'SERVER_UNAVAILABLE'
          ? 503
          : errorCode === 'REQUEST_LIMIT_EXCEEDED' ? 403 : 400
  const code = http === null ? errorCode : 'UNKNOWN_EXCEPTION'
  return new SalesforceApiError(status, [{ errorCode: code, message: err.message, fields: [] }])
}
