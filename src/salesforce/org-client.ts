import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { constants as zlibConstants, gunzip, inflate, inflateRaw } from 'node:zlib'
import { Agent, type Dispatcher } from 'undici'
import { SalesforceApiError, parseSalesforceErrors } from './errors.ts'
import { AppError, Unavailable } from '../errors.ts'
import type { Span } from '@opentelemetry/api'
import { inSpan, pathTemplate, SpanKind } from '../telemetry/tracing.ts'

export interface OrgClientOptions {
  instanceUrl: string
  apiVersion: string
  accessToken: string
  /** Per-call timeout; also capped by `deadline`. */
  timeoutMs: number
  /** Epoch ms after which no call starts (the request's remaining budget). */
  deadline?: number
  /** Retries of idempotent calls on transient failures. */
  retries?: number
  /** Sees every response's `Sforce-Limit-Info` usage, and may refuse a call before it is made. */
  limits?: { check: () => void, record: (used: number, max: number) => void }
  /**
   * A fresh token when Salesforce answers INVALID_SESSION_ID (an AppLink authorization's run-as
   * user); the call is then made once more with it. Without it, an expired session is the caller's error.
   */
  renewAccessToken?: () => Promise<string>
}

export interface QueryPage<R> { totalSize: number, done: boolean, records: R[], nextRecordsUrl?: string }
export interface SaveResult {
  id: string | null
  success: boolean
  errors: Array<{ statusCode: string, message: string, fields: string[] }>
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PATCH', 'PUT', 'DELETE'])
const JSON_TYPE = 'application/json'

/**
 * One keep-alive connection pool per origin for every org client of the process, as global fetch
 * had (undici's global dispatcher), without fetch's WHATWG Request/Response/Headers and web-stream
 * layers on each call. Idle sockets do not keep the process alive (undici unrefs them), so it
 * needs no closing. undici's own headers and body timeouts are off: the call's timeout (capped by
 * the deadline) is the one timer, before the headers and while the body streams in, so a timeout
 * is always reported the same way.
 *
 * Answers are asked for compressed, as fetch asked for them: "For better performance, we suggest
 * that clients accept and support compression as defined by the HTTP 1.1 specification", and
 * "Salesforce compresses a response only if the request contains an Accept-Encoding: gzip,
 * Accept-Encoding: deflate, ... header" (REST API Developer Guide, Compression Headers).
 */
const orgDispatcher = new Agent({ headersTimeout: 0, bodyTimeout: 0 })
const ACCEPT_ENCODING = 'gzip, deflate'

/** A request body sent as it is (a Bulk API 2.0 CSV upload) rather than as JSON. */
export class RawBody {
  readonly contentType: string
  readonly text: string
  constructor (contentType: string, text: string) {
    this.contentType = contentType
    this.text = text
  }
}

/** `api-usage=N/M` → [N, M]. */
export function parseLimitInfo (header: string | undefined): [number, number] | undefined {
  const match = header === undefined ? null : /api-usage=(\d+)\/(\d+)/.exec(header)
  return match === null ? undefined : [Number(match[1]), Number(match[2])]
}

/** A response header's value (the first, if it came more than once). */
function headerValue (headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** As fetch decodes (undici): tolerant of a stream cut at a flush point, zlib-wrapped or raw deflate. */
const SYNC_FLUSH = { finishFlush: zlibConstants.Z_SYNC_FLUSH }
const gunzipAsync = promisify(gunzip)
const inflateAsync = promisify(inflate)
const inflateRawAsync = promisify(inflateRaw)
const DECOMPRESS = new Map<string, (data: Buffer) => Promise<Buffer>>([
  ['gzip', async (data) => await gunzipAsync(data, SYNC_FLUSH)],
  // A zlib header's first byte names the deflate method (low four bits 8, RFC 1950); without it, raw deflate.
  ['deflate', async (data) => ((data[0] ?? 0) & 0x0f) === 0x08
    ? await inflateAsync(data, SYNC_FLUSH)
    : await inflateRawAsync(data, SYNC_FLUSH)]
])

/** The answer's text, decompressed as its Content-Encoding says (an error answer's too: it carries the errorCode). */
async function answerText (response: Dispatcher.ResponseData): Promise<string> {
  const encoding = headerValue(response.headers, 'content-encoding')?.trim().toLowerCase()
  if (encoding === undefined || encoding === '' || encoding === 'identity') return await response.body.text()
  const data = Buffer.from(await response.body.arrayBuffer())
  // A 204 (an update) has no body to decode, whatever its headers say.
  if (data.length === 0) return ''
  const decompress = DECOMPRESS.get(encoding)
  if (decompress === undefined) throw new Error(`Salesforce answered in an encoding not asked for: ${encoding}`)
  return (await decompress(data)).toString('utf8')
}

/**
 * The org's REST API as the calling user, on the caller's token. Counts the calls it makes so
 * an action can log what it spent. Creates are never retried blindly: a lost answer could mean
 * the record exists.
 */
export class OrgClient {
  readonly #opts: OrgClientOptions
  /**
   * The instance's origin, the path before `/services/` (empty for an org's instance URL) and the
   * REST base under it: parsed on the first call, as a client is made for every action request
   * and many (whoAmI, mirror reads) never call the org.
   */
  #where: { origin: string, root: string, base: string } | undefined
  #accessToken: string
  apiCalls = 0

  constructor (opts: OrgClientOptions) {
    this.#opts = opts
    this.#accessToken = opts.accessToken
  }

  #instance (): { origin: string, root: string, base: string } {
    if (this.#where === undefined) {
      const instance = new URL(this.#opts.instanceUrl)
      const root = instance.pathname.replace(/\/+$/, '')
      this.#where = { origin: instance.origin, root, base: `${root}/services/data/v${this.#opts.apiVersion}` }
    }
    return this.#where
  }

  /** The REST API version of every call, for paths a request carries inside its body (a graph's nodes). */
  get apiVersion (): string {
    return this.#opts.apiVersion
  }

  /** The current token, only to seal it into a job that calls the org after the request; never logged. */
  get accessToken (): string {
    return this.#accessToken
  }

  /**
   * "When your session expires, the exception code INVALID_SESSION_ID is returned. If this code is
   * returned, you must invoke the login() call again." (SOAP API Developer Guide, Error Handling for
   * Session Expiration; REST answers it with 401.) A request whose session is refused was not run
   * (inferred: authentication comes before any work), so it is sent again with a fresh token, even a write.
   */
  async request<T> (method: string, path: string, body?: unknown): Promise<T> {
    return await this.withSession(async () => await this.#withRetries<T>(method, path, body))
  }

  /**
   * Runs `call` with the current token and, when Salesforce refuses the session and a renewal is
   * configured, once more with a fresh one: for calls made through another client on this
   * client's session (the SDK's Bulk API 2.0 reads).
   */
  async withSession<T> (call: (accessToken: string) => Promise<T>): Promise<T> {
    try {
      return await call(this.#accessToken)
    } catch (err) {
      const renew = this.#opts.renewAccessToken
      const sessionRefused = err instanceof SalesforceApiError && (err.errorCode === 'INVALID_SESSION_ID' || err.httpStatus === 401)
      if (renew === undefined || !sessionRefused) throw err
      this.#accessToken = await renew()
      return await call(this.#accessToken)
    }
  }

  async #withRetries<T> (method: string, path: string, body?: unknown): Promise<T> {
    const attempts = IDEMPOTENT.has(method) ? 1 + (this.#opts.retries ?? 2) : 1
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#once<T>(method, path, body)
      } catch (err) {
        const transient = (err instanceof SalesforceApiError && err.transient) ||
          (err instanceof OrgUnreachable && err.connectionReset)
        if (!transient || attempt >= attempts) throw err
        // Full jitter keeps many callers from retrying in lock step.
        await sleep(Math.random() * 100 * 2 ** attempt)
      }
    }
  }

  /** One call, as a client span: the method, the path without ids, Salesforce's errorCode, the API usage after it. */
  async #once<T> (method: string, path: string, body?: unknown): Promise<T> {
    const template = pathTemplate(path)
    return await inSpan(`salesforce ${method} ${template}`,
      { 'http.request.method': method, 'url.template': template },
      async (span) => await this.#call<T>(method, path, body, span),
      { kind: SpanKind.CLIENT, errorAttribute: 'salesforce.error_code', leaf: true })
  }

  async #call<T> (method: string, path: string, body: unknown, span: Span): Promise<T> {
    const remaining = this.#opts.deadline === undefined ? Infinity : this.#opts.deadline - Date.now()
    if (remaining <= 0) throw new Unavailable('ORG_TIMEOUT', 'The request ran out of time before Salesforce could be called', 1)
    this.#opts.limits?.check()
    const timeout = Math.min(this.#opts.timeoutMs, remaining)
    const { origin, root, base } = this.#instance()
    const target = path.startsWith('/services/') ? `${root}${path}` : `${base}${path}`
    this.apiCalls++
    // One timer for the whole exchange, cleared when it ends: AbortSignal.timeout's timer would
    // outlive every call and fire (an abort event, a DOMException) long after its answer came.
    const timer = new AbortController()
    const timeoutId = setTimeout(() => { timer.abort() }, timeout)
    let response: Dispatcher.ResponseData
    let text: string
    // Reading the answer can fail at any point: before the headers (reset, timeout) or while
    // the body streams in (connection cut mid-body, the timeout firing between chunks). Once the
    // request went out, every one of these leaves a write's outcome unknown, so all of them are
    // classified here, the body included.
    try {
      try {
        response = await orgDispatcher.request({
          origin,
          path: target,
          method: method as Dispatcher.HttpMethod,
          headers: {
            authorization: `Bearer ${this.#accessToken}`,
            accept: JSON_TYPE,
            'accept-encoding': ACCEPT_ENCODING,
            ...(body === undefined ? {} : { 'content-type': body instanceof RawBody ? body.contentType : JSON_TYPE })
          },
          body: body === undefined ? undefined : body instanceof RawBody ? body.text : JSON.stringify(body),
          signal: timer.signal
        })
      } catch (err) {
        throw transportFailure(err, timeout, timer.signal.aborted, false)
      }
      const usage = parseLimitInfo(headerValue(response.headers, 'sforce-limit-info'))
      span.setAttribute('http.response.status_code', response.statusCode)
      if (usage !== undefined) {
        this.#opts.limits?.record(usage[0], usage[1])
        span.setAttributes({ 'salesforce.api_usage.used': usage[0], 'salesforce.api_usage.max': usage[1] })
      }
      try {
        text = await answerText(response)
      } catch (err) {
        throw transportFailure(err, timeout, timer.signal.aborted, true)
      }
    } finally {
      clearTimeout(timeoutId)
    }
    const parsed: unknown = text === '' ? undefined : safeJson(text)
    const status = response.statusCode
    if (status < 200 || status > 299) {
      const retryAfter = Number(headerValue(response.headers, 'retry-after'))
      throw new SalesforceApiError(
        status,
        parseSalesforceErrors(parsed),
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined
      )
    }
    return parsed as T
  }

  /** One page of a query (≤ 2,000 records); follow `nextRecordsUrl` with `queryMore`. */
  query<R> (soql: string): Promise<QueryPage<R>> {
    return this.request('GET', `/query?q=${encodeURIComponent(soql)}`)
  }

  queryMore<R> (nextRecordsUrl: string): Promise<QueryPage<R>> {
    return this.request('GET', nextRecordsUrl)
  }

  /** Every record of a query, page after page. */
  async queryAllPages<R> (soql: string): Promise<R[]> {
    let page = await this.query<R>(soql)
    const records = [...page.records]
    while (!page.done && page.nextRecordsUrl !== undefined) {
      page = await this.queryMore<R>(page.nextRecordsUrl)
      records.push(...page.records)
    }
    return records
  }

  create (sobject: string, fields: Record<string, unknown>): Promise<{ id: string, success: boolean }> {
    return this.request('POST', `/sobjects/${encodeURIComponent(sobject)}`, fields)
  }

  update (sobject: string, id: string, fields: Record<string, unknown>): Promise<void> {
    return this.request('PATCH', `/sobjects/${encodeURIComponent(sobject)}/${encodeURIComponent(id)}`, fields)
  }

  /**
   * One composite graph (≤ 500 nodes): all nodes succeed or none is kept. Returns each node's
   * created id by referenceId; throws the Salesforce error of the node that failed. Written here
   * rather than with the SDK's unit of work, which flattens errors into one string.
   */
  async compositeGraph (nodes: GraphNode[]): Promise<Map<string, string>> {
    const response = await this.request<GraphResponse>('POST', '/composite/graph', { graphs: [{ graphId: 'graph0', compositeRequest: nodes }] })
    const graph = response.graphs[0]
    if (graph === undefined) throw new SalesforceApiError(502, [{ errorCode: 'UNKNOWN_EXCEPTION', message: 'Salesforce answered the graph without a result', fields: [] }])
    const results = graph.graphResponse.compositeResponse
    if (!graph.isSuccessful) throw graphFailure(results)
    return new Map(results.map((n) => [n.referenceId, (n.body as { id?: string } | null)?.id ?? '']))
  }

  /** sObject Collections update (≤ 200 records); per-record results, partial success allowed. */
  updateCollection (
    records: Array<{ attributes: { type: string }, Id: string } & Record<string, unknown>>,
    allOrNone = false
  ): Promise<SaveResult[]> {
    return this.request('PATCH', '/composite/sobjects', { allOrNone, records })
  }
}

export interface GraphNode { referenceId: string, method: 'POST' | 'PATCH' | 'DELETE', url: string, body?: Record<string, unknown> }
interface GraphResponse {
  graphs: Array<{
    graphId: string
    isSuccessful: boolean
    graphResponse: { compositeResponse: Array<{ referenceId: string, httpStatusCode: number, body: unknown }> }
  }>
}

/** The node error that made a graph fail: the first one that is not a PROCESSING_HALTED echo. */
function graphFailure (nodes: GraphResponse['graphs'][number]['graphResponse']['compositeResponse']): SalesforceApiError {
  const failed = nodes.filter((n) => n.httpStatusCode >= 400)
  const cause = failed.find((n) => parseSalesforceErrors(n.body).some((e) => e.errorCode !== 'PROCESSING_HALTED')) ?? failed[0]
  return new SalesforceApiError(cause?.httpStatusCode ?? 400, parseSalesforceErrors(cause?.body))
}

function safeJson (text: string): unknown {
  try { return JSON.parse(text) } catch { return text }
}

/** One error for a failed exchange, whether it broke before the answer's headers or inside its body. */
function transportFailure (err: unknown, timeout: number, timedOut: boolean, answerStarted: boolean): AppError {
  if (timedOut) {
    return new Unavailable('ORG_TIMEOUT', `Salesforce did not answer within ${timeout} ms`, 5, err)
  }
  return new OrgUnreachable(err, answerStarted)
}

/** The call may have reached Salesforce, but no (whole) answer came back. */
export function answerLost (err: unknown): boolean {
  return (err instanceof Unavailable && err.errorCode === 'ORG_TIMEOUT') || (err instanceof OrgUnreachable && err.connectionReset)
}

/**
 * The org could not be reached (refused, reset, DNS), or its answer broke off: 502; a reset
 * connection is retried when idempotent.
 */
export class OrgUnreachable extends AppError {
  /** The request may have reached Salesforce: reset after sending, or the answer cut after its headers. */
  readonly connectionReset: boolean
  constructor (cause: unknown, answerStarted = false) {
    super(502, 'SALESFORCE_UNREACHABLE', 'Salesforce could not be reached; retry shortly', { cause, retryAfterSeconds: 5 })
    // undici's errors carry the code themselves (`UND_ERR_SOCKET`: the other side closed; a raw `ECONNRESET`).
    const code = cause instanceof Error ? (cause as { code?: string }).code : undefined
    this.connectionReset = answerStarted || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET'
  }
}
