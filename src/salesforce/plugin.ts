import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import type { IncomingMessage } from 'node:http'
import { randomUUID } from 'node:crypto'
import type { DataApi, RecordForCreate, RecordForUpdate, RecordQueryResult, UnitOfWork } from '@heroku/applink/dist/index.js'
import { CLIENT_CONTEXT_HEADER, callerFrom, decodeClientContext, type Caller, type ClientContext } from './context.ts'
import { OrgClient } from './org-client.ts'
import { AccessCache } from './access-cache.ts'
import { ApiLimits } from './api-limits.ts'
import { applink } from './applink-sdk.ts'
import { InvalidContext } from '../errors.ts'

/** What the context hook attaches to an action request. */
export interface SalesforceRequestContext {
  caller: Caller
  org: OrgClient
  dataApi: DataApi
}

declare module 'fastify' {
  interface FastifyInstance {
    /** UserRecordAccess answers, reused for ACCESS_CACHE_TTL_MS. */
    accessCache: AccessCache
    /** Each org's API usage from Sforce-Limit-Info; refuses calls under the floor. */
    apiLimits: ApiLimits
  }
  interface FastifyRequest {
    salesforce: SalesforceRequestContext | null
  }
  interface FastifyContextConfig {
    /** Route needs the caller's Salesforce context (action routes). */
    requiresCaller?: boolean
  }
}

/**
 * The SDK's data API for one request, built by parseRequest on first use: parseRequest builds a
 * jsforce connection, a Bulk API client and a data API per call, which most actions never touch.
 */
class LazyDataApi implements DataApi {
  readonly accessToken: string
  readonly #parse: () => DataApi
  #api: DataApi | undefined

  constructor (accessToken: string, parse: () => DataApi) {
    this.accessToken = accessToken
    this.#parse = parse
  }

  get #real (): DataApi {
    this.#api ??= this.#parse()
    return this.#api
  }

  query (soql: string): Promise<RecordQueryResult> { return this.#real.query(soql) }
  queryMore (result: RecordQueryResult): Promise<RecordQueryResult> { return this.#real.queryMore(result) }
  create (record: RecordForCreate): ReturnType<DataApi['create']> { return this.#real.create(record) }
  update (record: RecordForUpdate): ReturnType<DataApi['update']> { return this.#real.update(record) }
  delete (type: string, id: string): ReturnType<DataApi['delete']> { return this.#real.delete(type, id) }
  newUnitOfWork (): UnitOfWork { return this.#real.newUnitOfWork() }
  commitUnitOfWork (unitOfWork: UnitOfWork): ReturnType<DataApi['commitUnitOfWork']> { return this.#real.commitUnitOfWork(unitOfWork) }
}

const decoded = new WeakMap<IncomingMessage, ClientContext | InvalidContext>()

function decodeOnce (raw: IncomingMessage): ClientContext | InvalidContext {
  let result = decoded.get(raw)
  if (result === undefined) {
    try {
      result = decodeClientContext(raw.headers[CLIENT_CONTEXT_HEADER])
    } catch (err) {
      if (!(err instanceof InvalidContext)) throw err
      result = err
    }
    decoded.set(raw, result)
  }
  return result
}

const SANE_REQUEST_ID = /^[\w.:/-]{1,200}$/

/** The requestId of a header, even one too broken to be a valid context. */
function requestIdOf (raw: IncomingMessage): string | undefined {
  const context = decodeOnce(raw)
  if (!(context instanceof InvalidContext)) return context.requestId
  try {
    const header = raw.headers[CLIENT_CONTEXT_HEADER]
    const parsed: unknown = JSON.parse(Buffer.from(String(header), 'base64').toString('utf8'))
    return typeof parsed === 'object' && parsed !== null && 'requestId' in parsed && typeof parsed.requestId === 'string' ? parsed.requestId : undefined
  } catch {
    return undefined
  }
}

/**
 * Request ids follow the AppLink request id so every log line of a call can be found from
 * Salesforce's side; calls without one (or with an odd one) get a UUID.
 */
export function requestIdFrom (raw: IncomingMessage): string {
  if (raw.headers[CLIENT_CONTEXT_HEADER] === undefined) return randomUUID()
  const id = requestIdOf(raw)
  return id !== undefined && SANE_REQUEST_ID.test(id) ? id : randomUUID()
}

/**
 * Caller context on action routes: decodes `x-client-context`, hands it to the AppLink SDK's
 * parseRequest (its data API), and gives the handler an org client on the same token.
 */
export default fp(async (app) => {
  app.decorate('accessCache', new AccessCache(app.config.ACCESS_CACHE_TTL_MS))
  app.decorate('apiLimits', new ApiLimits(app.config.API_LIMIT_FLOOR_PERCENT))
  app.decorateRequest('salesforce', null)
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (request.routeOptions.config.requiresCaller !== true) return
    const context = decodeOnce(request.raw)
    if (context instanceof InvalidContext) throw context
    const caller = callerFrom(context, String(request.id))
    const dataApi = new LazyDataApi(context.accessToken, () => {
      const { context: sdkContext } = applink().salesforce.parseRequest(request.headers, undefined, request.log)
      const api = sdkContext.org?.dataApi
      if (api === undefined) throw new InvalidContext('INVALID_CONTEXT', `The ${CLIENT_CONTEXT_HEADER} header does not describe an org`)
      return api
    })
    request.salesforce = {
      caller,
      dataApi,
      org: new OrgClient({
        instanceUrl: caller.org.domainUrl,
        apiVersion: caller.org.apiVersion,
        accessToken: context.accessToken,
        timeoutMs: app.config.ORG_TIMEOUT_MS,
        // Heroku's router gives up at 30 s; leave time to answer.
        deadline: Date.now() + app.config.REQUEST_BUDGET_MS,
        limits: {
          check: () => { app.apiLimits.check(caller.org.id) },
          record: (used, max) => { app.apiLimits.record(caller.org.id, used, max) }
        }
      })
    }
  })
}, { name: 'caller-context', dependencies: ['config'] })
