/** The few Salesforce REST calls the sync makes, with plain fetch, as the integration user. */

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

export class OrgError extends Error {
  readonly status: number
  readonly errors: SfError[]
  constructor (status: number, errors: SfError[]) {
    super(`Salesforce ${status}: ${errors.map((e) => `${e.errorCode} ${e.message}`).join('; ')}`)
    this.status = status
    this.errors = errors
  }

  /** The org refused the request itself (bad data), as opposed to an outage or an expired session. */
  get refused (): boolean {
    return this.status >= 400 && this.status < 500 && this.status !== 401 && this.status !== 403 && this.status !== 429
  }
}

export type SfRecord = Record<string, unknown>

/** Collections errors carry `statusCode`; REST errors carry `errorCode`. */
const toSfError = (e: unknown): SfError => {
  const o = (e ?? {}) as Record<string, unknown>
  const fields = Array.isArray(o.fields) ? o.fields.map(String) : []
  return {
    errorCode: String(o.errorCode ?? o.statusCode ?? 'UNKNOWN_ERROR'),
    message: String(o.message ?? 'unknown error'),
    ...(fields.length === 0 ? {} : { fields })
  }
}

const toSaveResult = (r: unknown): SaveResult => {
  const o = (r ?? {}) as Record<string, unknown>
  return {
    id: typeof o.id === 'string' ? o.id : null,
    success: o.success === true,
    errors: Array.isArray(o.errors) ? o.errors.map(toSfError) : []
  }
}

export function createOrgClient (options: { orgUrl: string, accessToken: string, apiVersion: string }) {
  const version = options.apiVersion.replace(/^v/, '')
  const origin = options.orgUrl.replace(/\/+$/, '')
  const base = `/services/data/v${version}`

  async function call (method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${origin}${path.startsWith('/services/') ? path : base + path}`, {
      method,
      headers: {
        authorization: `Bearer ${options.accessToken}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' })
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await res.text()
    const parsed: unknown = text === '' ? undefined : JSON.parse(text)
    if (!res.ok) {
      const errors = Array.isArray(parsed) ? parsed.map(toSfError) : [toSfError(parsed)]
      throw new OrgError(res.status, errors)
    }
    return parsed
  }

  return {
    /** Every record of a SOQL query, deleted ones included (queryAll), following nextRecordsUrl. */
    async * queryAll (soql: string): AsyncGenerator<SfRecord[]> {
      let page = await call('GET', `/queryAll?q=${encodeURIComponent(soql)}`) as { records: SfRecord[], done: boolean, nextRecordsUrl?: string }
      yield page.records
      while (!page.done && page.nextRecordsUrl !== undefined) {
        page = await call('GET', page.nextRecordsUrl) as typeof page
        yield page.records
      }
    },

    /** sObject Collections create (≤ 200), each record judged on its own. */
    async create (records: SfRecord[]): Promise<SaveResult[]> {
      const out = await call('POST', '/composite/sobjects', { allOrNone: false, records })
      return (out as unknown[]).map(toSaveResult)
    },

    /** sObject Collections upsert by an external id field (≤ 200). */
    async upsert (type: string, externalIdField: string, records: SfRecord[]): Promise<SaveResult[]> {
      const out = await call('PATCH', `/composite/sobjects/${encodeURIComponent(type)}/${encodeURIComponent(externalIdField)}`, { allOrNone: false, records })
      return (out as unknown[]).map(toSaveResult)
    },

    /** sObject Collections update (≤ 200); records carry `Id`. */
    async update (records: SfRecord[]): Promise<SaveResult[]> {
      const out = await call('PATCH', '/composite/sobjects', { allOrNone: false, records })
      return (out as unknown[]).map(toSaveResult)
    },

    /** sObject Collections delete (≤ 200). */
    async delete (ids: string[]): Promise<SaveResult[]> {
      const out = await call('DELETE', `/composite/sobjects?ids=${ids.map(encodeURIComponent).join(',')}&allOrNone=false`)
      return (out as unknown[]).map(toSaveResult)
    }
  }
}

export type OrgClient = ReturnType<typeof createOrgClient>
