// The few Salesforce REST calls the sync makes as the integration user, through jsforce, as an
// outside client of the org (Heroku Connect is one) would make them.
import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { Connection } from 'jsforce/lib/connection.js'
import { parseSalesforceErrors } from '@applink-actions/platform/errors'

export interface SfError {
  errorCode: string
  message: string
  fields?: string[]
}

/** One record's outcome in an sObject Collections answer. */
export interface SaveResult {
  id: string | null
  success: boolean
  errors: SfError[]
}

/** Error codes of an org that could not take the request now: retried later, not recorded as a refusal. */
const NOT_A_REFUSAL = /^(INVALID_SESSION_ID|REQUEST_LIMIT_EXCEEDED|SERVER_UNAVAILABLE|UNABLE_TO_LOCK_ROW|ERROR_HTTP_\d+)$/

export class OrgError extends Error {
  readonly errors: SfError[]
  constructor (errors: SfError[]) {
    super(`Salesforce: ${errors.map((e) => `${e.errorCode} ${e.message}`).join('; ')}`)
    this.errors = errors
  }

  /** The org refused the request itself (bad data), as opposed to an outage or an expired session. */
  get refused (): boolean {
    return this.errors.every((e) => !NOT_A_REFUSAL.test(e.errorCode))
  }
}

export type SfRecord = Record<string, unknown>

/** One record's result of sObject Collections, its errors read as Salesforce writes them. */
const toSaveResult = (r: unknown): SaveResult => {
  const o = (r ?? {}) as Record<string, unknown>
  return {
    id: typeof o.id === 'string' ? o.id : null,
    success: o.success === true,
    errors: parseSalesforceErrors(o.errors)
  }
}

interface QueryPage { records: SfRecord[], done: boolean, nextRecordsUrl?: string, totalSize: number }

/**
 * One set of a Bulk API 2.0 query job's results: CSV with a header line, as the org sends it (a
 * set of 50,000 rows is megabytes: held whole, each set would go to the old generation and make
 * V8 mark the whole heap of a big local org once per set).
 */
export interface BulkPage { body: Readable, records: number }

interface QueryJobInfo { id: string, state: string, errorMessage?: string }

/**
 * Records per set of results asked for. Bulk API 2.0 Developer Guide, "Get Results for a Query
 * Job": "maxRecords: The maximum number of records to retrieve per set of results for the query.
 * The request is still subject to the size limits."
 */
const BULK_PAGE = 50_000
/** How often a query job is polled until it is JobComplete (inferred: the guide sets no rate). */
const BULK_POLL_MS = 500

export function createOrgClient (options: { orgUrl: string, accessToken: string, apiVersion: string }) {
  const connection = new Connection({
    instanceUrl: options.orgUrl.replace(/\/+$/, ''),
    accessToken: options.accessToken,
    version: options.apiVersion.replace(/^v/, '')
  })
  const base = `/services/data/v${connection.version}`

  async function call<R> (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<R> {
    try {
      return await connection.request<R>({
        method,
        url: path.startsWith('/services/') ? path : base + path,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
      })
    } catch (err) {
      // jsforce names the error by Salesforce's errorCode (or ERROR_HTTP_<status> without a body).
      const e = err as { errorCode?: unknown, message?: unknown, data?: unknown }
      const parsed = parseSalesforceErrors(e.data)
      throw new OrgError(parsed.length > 0
        ? parsed
        : [{ errorCode: String(e.errorCode ?? 'UNKNOWN_ERROR'), message: String(e.message ?? 'unknown error'), fields: [] }])
    }
  }

  const bulkBase = `${options.orgUrl.replace(/\/+$/, '')}${base}/jobs/query`
  /** A Bulk API 2.0 call, outside jsforce: it would parse the CSV, and it hides the Sforce-Locator header. */
  async function bulk (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<Response> {
    const res = await fetch(bulkBase + path, {
      method,
      headers: {
        authorization: `Bearer ${options.accessToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' })
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    if (!res.ok) {
      const text = await res.text()
      let data: unknown = text
      try { data = JSON.parse(text) } catch {}
      const parsed = parseSalesforceErrors(data)
      throw new OrgError(parsed.length > 0 ? parsed : [{ errorCode: `ERROR_HTTP_${res.status}`, message: text }])
    }
    return res
  }

  const collection = async (method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<SaveResult[]> =>
    (await call<unknown[]>(method, path, body)).map(toSaveResult)

  return {
    /** The org's id, from the OpenID Connect UserInfo endpoint of the token's user. */
    orgId: async (): Promise<string> =>
      (await call<{ organization_id: string }>('GET', '/services/oauth2/userinfo')).organization_id,

    /** Every record of a SOQL query, deleted ones included (queryAll), following nextRecordsUrl. */
    async * queryAll (soql: string): AsyncGenerator<SfRecord[]> {
      let page = await call<QueryPage>('GET', `/queryAll?q=${encodeURIComponent(soql)}`)
      yield page.records
      while (!page.done && page.nextRecordsUrl !== undefined) {
        page = await call<QueryPage>('GET', page.nextRecordsUrl)
        yield page.records
      }
    },

    /** The number of records a `SELECT COUNT() FROM …` query counts. */
    count: async (soql: string): Promise<number> =>
      (await call<QueryPage>('GET', `/query?q=${encodeURIComponent(soql)}`)).totalSize,

    /**
     * The results of a Bulk API 2.0 query job, a set at a time: creates the job, polls it until it
     * is JobComplete, follows Sforce-Locator until "null", and deletes the job. The caller reads
     * each set's body before asking for the next.
     */
    async * bulkQuery (soql: string): AsyncGenerator<BulkPage> {
      let job = await (await bulk('POST', '', { operation: 'query', query: soql, contentType: 'CSV' })).json() as QueryJobInfo
      while (job.state !== 'JobComplete') {
        if (job.state === 'Failed' || job.state === 'Aborted') {
          throw new OrgError([{ errorCode: 'BULK_QUERY_FAILED', message: job.errorMessage ?? `query job ${job.state}` }])
        }
        await new Promise((resolve) => setTimeout(resolve, BULK_POLL_MS))
        job = await (await bulk('GET', `/${job.id}`)).json() as QueryJobInfo
      }
      try {
        let locator: string | null = null
        do {
          const query = `maxRecords=${BULK_PAGE}${locator === null ? '' : `&locator=${encodeURIComponent(locator)}`}`
          const res = await bulk('GET', `/${job.id}/results?${query}`)
          const next = res.headers.get('sforce-locator')
          locator = next === null || next === 'null' ? null : next
          const stream = res.body as WebReadableStream<Uint8Array> | null
          const body = stream === null ? Readable.from([]) : Readable.fromWeb(stream)
          yield { body, records: Number(res.headers.get('sforce-numberofrecords') ?? 0) }
        } while (locator !== null)
      } finally {
        await bulk('DELETE', `/${job.id}`).catch(() => {})
      }
    },

    /** sObject Collections create (≤ 200), each record judged on its own. */
    create: (records: SfRecord[]) => collection('POST', '/composite/sobjects', { allOrNone: false, records }),

    /** sObject Collections upsert by an external id field (≤ 200). */
    upsert: (type: string, externalIdField: string, records: SfRecord[]) => collection(
      'PATCH',
      `/composite/sobjects/${encodeURIComponent(type)}/${encodeURIComponent(externalIdField)}`,
      { allOrNone: false, records }
    ),

    /** sObject Collections update (≤ 200); records carry `Id`. */
    update: (records: SfRecord[]) => collection('PATCH', '/composite/sobjects', { allOrNone: false, records }),

    /** sObject Collections delete (≤ 200). */
    delete: (ids: string[]) => collection(
      'DELETE', `/composite/sobjects?ids=${ids.map(encodeURIComponent).join(',')}&allOrNone=false`)
  }
}

export type OrgClient = ReturnType<typeof createOrgClient>
