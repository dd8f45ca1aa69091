// The few Salesforce REST calls the sync makes as the integration user, through jsforce, as an
// outside client of the org (Heroku Connect is one) would make them.
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

interface QueryPage { records: SfRecord[], done: boolean, nextRecordsUrl?: string }

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
