// HTTP face of the local org: the Salesforce REST API resources under /services/data/vNN.N,
// with bearer-token auth, API usage accounting, injected faults and query cursors.
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { UserInfo } from './access.ts'
import { BulkIngest } from './bulk.ts'
import { BulkQuery } from './bulk-query.ts'
import { SfError, asObject, invalidSession, methodNotAllowed, notFound, parseJson } from './errors.ts'
import type { SfErrorItem } from './errors.ts'
import { IdGenerator, normalizeId } from './ids.ts'
import type { OrgCore, PublishedEvent } from './org.ts'
import { describeGlobalEntry, describeObject } from './schema.ts'
import type { ObjectDef } from './schema.ts'
import type { QueryResult } from './soql.ts'
import type { Rec } from './store.ts'
import { LOST_ANSWER_MODES, formatFaults, parseFaultSpec } from './faults.ts'
import type { LostAnswerMode } from './faults.ts'

export interface Faults {
  /** Added latency per request: a fixed number of ms, or [min, max] for a uniform spread. */
  latencyMs?: number | [number, number]
  /** Share (0..1) of API requests answered 503 SERVER_UNAVAILABLE. */
  rate503?: number
  /** Share (0..1) of write requests answered 400 UNABLE_TO_LOCK_ROW. */
  rateUnableToLockRow?: number
  /** Tokens expire this many seconds after they were issued. */
  tokenTtlSeconds?: number
  /** API calls allowed per "day" (until resetStats()); then 403 REQUEST_LIMIT_EXCEEDED. */
  dailyApiLimit?: number
  /** Requests whose path (after /services/data/vNN.N, with query string) matches answer 503. */
  failPaths?: RegExp
  /**
   * Share (0..1) of successful writes whose answer is lost after the org did the write: what a
   * client sees when a connection breaks on the way back.
   */
  rateLostAnswer?: number
  /** How a lost answer breaks; default: one of them at random. */
  lostAnswerMode?: LostAnswerMode
  /** Only writes whose path (as for failPaths) matches lose their answer; default: every write. */
  lostAnswerPaths?: RegExp
  /** How long a Bulk API 2.0 ingest job stays InProgress before its rows are processed. */
  bulkProcessingMs?: number
}

export interface Stats {
  apiCalls: number
  byUser: Record<string, number>
  byPath: Record<string, number>
}

export interface SoqlLogEntry { soql: string; username: string; at: number; queryAll: boolean }

interface Token { token: string; username: string; issuedAt: number; revoked: boolean }
interface Cursor { id: string; user: string; recs: Rec[]; json: QueryResult['json']; total: number; batch: number }
interface Reply {
  status: number
  body?: unknown
  /** The body already written as JSON text (query answers). */
  json?: string
  headers?: Record<string, string>
  /** CSV text, or its chunks, written one at a time as the connection takes them. */
  csv?: string | Iterable<string>
}
interface Subrequest { method?: unknown; url?: unknown; body?: unknown; httpHeaders?: unknown }

const JSON_TYPE = 'application/json;charset=UTF-8'
/** The local org's own read-out of published platform events (tests, `npm run dev`). */
export const PUBLISHED_EVENTS_PATH = '/_local/platform-events'
const DEFAULT_LIMIT = 100_000
const USERINFO_PATH = '/services/oauth2/userinfo'
/** The issuer Salesforce names in a production org's `sub` claim. */
const LOGIN_URL = 'https://login.salesforce.com'
const VERSION_RE = /^v(\d{2})\.(\d)$/
const MIN_VERSION = 31
const MAX_VERSION = 66
const PROCESSING_HALTED_GRAPH = 'We rolled back the transaction since another operation in the same transaction failed.'
const PROCESSING_HALTED_COMPOSITE = 'The transaction was rolled back since another operation in the same transaction failed.'
const ROLLED_BACK = 'Record rolled back because not all records were valid and the request was using AllOrNone header'

export class OrgServer {
  readonly org: OrgCore
  faults: Faults
  stats: Stats = { apiCalls: 0, byUser: {}, byPath: {} }
  readonly soqlLog: SoqlLogEntry[] = []
  private usage = 0
  private readonly tokens = new Map<string, Token>()
  private readonly current = new Map<string, Token>()
  private readonly cursors = new Map<string, Cursor>()
  private readonly cursorIds = new IdGenerator(1, 'Lc')
  private readonly rnd: () => number
  private server: Server | undefined
  private readonly bulk: BulkIngest
  private readonly bulkQuery: BulkQuery
  url = ''

  constructor (org: OrgCore, faults: Faults, rnd: () => number) {
    this.org = org
    this.faults = { ...faults }
    this.rnd = rnd
    this.bulk = new BulkIngest(org, () => this.faults.bulkProcessingMs ?? 0)
    this.bulkQuery = new BulkQuery(org)
    for (const u of org.users) this.issueToken(u.username)
  }

  // ---- tokens -------------------------------------------------------------------------------
  issueToken (username: string): string {
    const token = `${this.org.orgId.slice(0, 15)}!AQ${randomBytes(48).toString('base64url')}`
    const t: Token = { token, username: username.toLowerCase(), issuedAt: Date.now(), revoked: false }
    this.tokens.set(token, t)
    this.current.set(t.username, t)
    return token
  }

  tokenFor (username: string): string {
    const t = this.current.get(username.toLowerCase())
    if (!t) throw new Error(`unknown user ${username}`)
    return t.token
  }

  /** The user's current token if it still works, else a newly issued one. */
  validTokenFor (username: string): string {
    const t = this.current.get(username.toLowerCase())
    if (!t) throw new Error(`unknown user ${username}`)
    return this.isValid(t) ? t.token : this.issueToken(username)
  }

  expireToken (username: string): void {
    const t = this.current.get(username.toLowerCase())
    if (!t) throw new Error(`unknown user ${username}`)
    t.revoked = true
  }

  private isValid (t: Token): boolean {
    if (t.revoked) return false
    const ttl = this.faults.tokenTtlSeconds
    return ttl === undefined || ttl <= 0 || Date.now() - t.issuedAt < ttl * 1000
  }

  private authenticate (req: IncomingMessage): UserInfo {
    const h = req.headers.authorization ?? ''
    const m = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(h)
    const t = m ? this.tokens.get((m[1] ?? '').trim()) : undefined
    if (!t || !this.isValid(t)) throw invalidSession()
    const user = this.org.userByName(t.username)
    if (!user) throw invalidSession()
    return user
  }

  /** Changes some fault switches; an undefined value switches one off. */
  setFaults (partial: Partial<Faults>): void {
    for (const [k, v] of Object.entries(partial)) {
      if (v === undefined) delete (this.faults as Record<string, unknown>)[k]
      else (this.faults as Record<string, unknown>)[k] = v
    }
  }

  resetStats (): void {
    this.stats = { apiCalls: 0, byUser: {}, byPath: {} }
    this.usage = 0
  }

  private limitHeader (): string {
    return `api-usage=${this.usage}/${this.faults.dailyApiLimit ?? DEFAULT_LIMIT}`
  }

  // ---- lifecycle ----------------------------------------------------------------------------
  async listen (port: number, host: string): Promise<string> {
    const server = createServer((req, res) => { void this.handle(req, res) })
    // Far longer than any client keeps an idle connection (undici: 4 s), so the client always closes
    // first: with the org in the client's process, a busy event loop could otherwise fire both idle
    // timers at once and the client would send on a socket the server is closing (ECONNRESET).
    server.keepAliveTimeout = 65_000
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => resolve())
    })
    const addr = server.address()
    const p = typeof addr === 'object' && addr ? addr.port : port
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${p}`
    return this.url
  }

  async close (): Promise<void> {
    const s = this.server
    if (!s) return
    this.server = undefined
    this.bulk.close()
    await new Promise<void>(resolve => {
      s.close(() => resolve())
      s.closeAllConnections()
    })
  }

  // ---- request handling ---------------------------------------------------------------------
  private async handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    let reply: Reply
    let lost: LostAnswerMode | undefined
    try {
      const raw = await readBody(req)
      if ((req.url ?? '').startsWith('/__admin/')) {
        reply = this.admin(req, raw)
      } else {
        await this.delay()
        reply = this.route(req, raw)
        lost = this.loseAnswer(req, reply)
      }
    } catch (e) {
      reply = errorReply(e)
    }
    const headers: Record<string, string> = { 'Sforce-Limit-Info': this.limitHeader(), ...(reply.headers ?? {}) }
    if (reply.csv !== undefined && typeof reply.csv !== 'string' && lost === undefined) {
      headers['Content-Type'] = reply.headers?.['Content-Type'] ?? 'text/csv'
      res.writeHead(reply.status, headers)
      await writeChunks(res, reply.csv)
      return
    }
    const csv = reply.csv === undefined || typeof reply.csv === 'string' ? reply.csv : [...reply.csv].join('')
    const text = csv ?? reply.json ?? (reply.body === undefined ? '' : JSON.stringify(reply.body))
    if (reply.csv !== undefined || reply.json !== undefined || reply.body !== undefined) {
      headers['Content-Type'] = reply.headers?.['Content-Type'] ?? (reply.csv !== undefined ? 'text/csv' : JSON_TYPE)
      headers['Content-Length'] = String(Buffer.byteLength(text))
    }
    if (lost !== undefined) {
      spoil(res, lost, reply.status, headers, text)
      return
    }
    res.writeHead(reply.status, headers)
    res.end(text)
  }

  /** Whether this write's answer is lost (the write itself stands), and how. */
  private loseAnswer (req: IncomingMessage, reply: Reply): LostAnswerMode | undefined {
    const rate = this.faults.rateLostAnswer ?? 0
    const method = (req.method ?? 'GET').toUpperCase()
    if (rate <= 0 || method === 'GET' || method === 'HEAD' || reply.status >= 400) return undefined
    const path = (req.url ?? '').replace(/^\/services\/data\/v\d+\.\d/, '')
    if (this.faults.lostAnswerPaths !== undefined && !this.faults.lostAnswerPaths.test(path)) return undefined
    if (this.rnd() >= rate) return undefined
    return this.faults.lostAnswerMode ?? LOST_ANSWER_MODES[Math.floor(this.rnd() * LOST_ANSWER_MODES.length)]
  }

  /**
   * The local org's own control surface (a real org has nothing like it): GET /__admin/faults
   * shows the fault switches, POST /__admin/faults with {"spec": "503=0.05,latency=30-100"}
   * replaces them (see faults.ts).
   */
  private admin (req: IncomingMessage, raw: string): Reply {
    const path = new URL(req.url ?? '/', 'http://local').pathname
    if (path !== '/__admin/faults') throw notFound()
    const method = (req.method ?? 'GET').toUpperCase()
    if (method === 'POST') {
      const spec = (parseJson(raw, method) as { spec?: unknown } | undefined)?.spec
      if (typeof spec !== 'string') {
        throw new SfError(400, 'JSON_PARSER_ERROR', 'Send {"spec": "503=0.05,lock=0.02,latency=30-100,lost=0.01"}')
      }
      try {
        this.setFaults(parseFaultSpec(spec))
      } catch (e) {
        throw new SfError(400, 'INVALID_INPUT', (e as Error).message)
      }
    } else if (method !== 'GET') {
      throw methodNotAllowed(method)
    }
    return { status: 200, body: { spec: formatFaults(this.faults) } }
  }

  private async delay (): Promise<void> {
    const l = this.faults.latencyMs
    if (l === undefined) return
    const ms = Array.isArray(l) ? l[0] + this.rnd() * (l[1] - l[0]) : l
    if (ms > 0) await new Promise(resolve => setTimeout(resolve, ms))
  }

  private route (req: IncomingMessage, raw: string): Reply {
    const url = new URL(req.url ?? '/', 'http://local')
    const method = (req.method ?? 'GET').toUpperCase()
    const segs = url.pathname.split('/').filter(Boolean)
    if (url.pathname === PUBLISHED_EVENTS_PATH) return this.publishedEvents(method, url.searchParams)
    if (url.pathname === USERINFO_PATH) return this.userInfo(req, method)
    if (segs[0] !== 'services' || segs[1] !== 'data') throw notFound()
    if (segs.length === 2) {
      if (method !== 'GET') throw methodNotAllowed(method)
      return { status: 200, body: this.versions() }
    }
    const vm = VERSION_RE.exec(segs[2] ?? '')
    if (!vm || Number(vm[1]) < MIN_VERSION || Number(vm[1]) > MAX_VERSION) throw notFound()
    const version = `${vm[1] ?? ''}.${vm[2] ?? ''}`
    const user = this.authenticate(req)

    const limit = this.faults.dailyApiLimit ?? DEFAULT_LIMIT
    if (this.usage >= limit) throw new SfError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.')
    const rest = segs.slice(3)
    this.usage++
    this.stats.apiCalls++
    this.stats.byUser[user.username] = (this.stats.byUser[user.username] ?? 0) + 1
    const key = `${method} /${templateOf(rest)}`
    this.stats.byPath[key] = (this.stats.byPath[key] ?? 0) + 1

    const pathAndQuery = '/' + rest.join('/') + url.search
    if (this.faults.failPaths?.test(pathAndQuery)) {
      throw new SfError(503, 'SERVER_UNAVAILABLE', 'Server temporarily unavailable (injected fault)')
    }
    if ((this.faults.rate503 ?? 0) > 0 && this.rnd() < (this.faults.rate503 ?? 0)) {
      throw new SfError(503, 'SERVER_UNAVAILABLE', 'Server temporarily unavailable')
    }
    if (method !== 'GET' && method !== 'HEAD' && (this.faults.rateUnableToLockRow ?? 0) > 0 && this.rnd() < (this.faults.rateUnableToLockRow ?? 0)) {
      throw new SfError(400, 'UNABLE_TO_LOCK_ROW', 'unable to obtain exclusive access to this record or 1 records', [])
    }
    // Bulk API 2.0 uploads are CSV, not JSON; its jobs are not composite subrequests.
    if (rest[0] === 'jobs' && rest[1] === 'ingest') return this.bulk.handle(user, method, rest.slice(2), raw, version)
    if (rest[0] === 'jobs' && rest[1] === 'query') {
      return this.bulkQuery.handle(user, method, rest.slice(2), raw, version, url.searchParams)
    }
    const body = parseJson(raw, method)
    return this.dispatch(user, method, rest, url.searchParams, body, version, req.headers['sforce-query-options'])
  }

  /**
   * The OpenID Connect UserInfo endpoint (Salesforce Help, "Query for User Information": "A connected
   * app can query the UserInfo endpoint for information about the user associated with the connected
   * app's access token"), with the claims a service checks a caller by: `user_id` and
   * `organization_id`, both 18 characters. A token it does not accept answers 403 with the plain text
   * `Bad_OAuth_Token`, as Salesforce's identity service does (inferred from its identity URL error
   * list). Not counted against the daily API allowance.
   */
  private userInfo (req: IncomingMessage, method: string): Reply {
    if (method !== 'GET' && method !== 'POST') throw methodNotAllowed(method)
    let user: UserInfo
    try {
      user = this.authenticate(req)
    } catch {
      return { status: 403, csv: 'Bad_OAuth_Token', headers: { 'Content-Type': 'text/plain' } }
    }
    return {
      status: 200,
      body: {
        sub: `${LOGIN_URL}/id/${this.org.orgId}/${user.id}`,
        user_id: user.id,
        organization_id: this.org.orgId,
        preferred_username: user.username,
        name: user.name
      }
    }
  }

  /** Local only, no Salesforce counterpart: the platform events published so far (`?type=` filters). */
  private publishedEvents (method: string, qs: URLSearchParams): Reply {
    if (method !== 'GET') throw methodNotAllowed(method)
    return { status: 200, body: { events: this.org.eventsOf(qs.get('type') ?? undefined) } }
  }

  private versions (): unknown[] {
    const out: unknown[] = []
    for (let v = MIN_VERSION; v <= MAX_VERSION; v++) {
      out.push({ label: `API ${v}.0`, url: `/services/data/v${v}.0`, version: `${v}.0` })
    }
    return out
  }

  /** Serves one REST resource (also used for composite subrequests). */
  dispatch (
    user: UserInfo,
    method: string,
    rest: string[],
    qs: URLSearchParams,
    body: unknown,
    version: string,
    queryOptions?: string | string[]
  ): Reply {
    const base = `/services/data/v${version}`
    const [r0, r1, r2, r3] = rest
    if (rest.length === 0) {
      if (method !== 'GET') throw methodNotAllowed(method)
      return { status: 200, body: this.resources(base) }
    }
    switch (r0) {
      case 'limits':
        if (method !== 'GET') throw methodNotAllowed(method)
        return { status: 200, body: this.limits() }
      case 'query':
      case 'queryAll': {
        if (method !== 'GET') throw methodNotAllowed(method)
        if (r1 !== undefined) return { status: 200, json: this.queryMore(user, r1, version) }
        const q = qs.get('q')
        if (q === null || q.trim() === '') throw new SfError(400, 'MALFORMED_QUERY', 'The query string is empty')
        return { status: 200, json: this.runQuery(user, q, r0 === 'queryAll', version, queryOptions) }
      }
      case 'sobjects':
        return this.sobjects(user, method, rest.slice(1), qs, body, version, base)
      case 'composite':
        if (r1 === undefined) return this.composite(user, method, body, version)
        if (r1 === 'graph') return this.graph(user, method, body, version)
        if (r1 === 'sobjects') return this.collections(user, method, r2, r3, qs, body, version)
        throw notFound()
      default:
        throw notFound()
    }
  }

  private resources (base: string): Record<string, string> {
    const out: Record<string, string> = {}
    for (const k of ['sobjects', 'query', 'queryAll', 'composite', 'limits']) out[k] = `${base}/${k}`
    return out
  }

  private limits (): Record<string, unknown> {
    const max = this.faults.dailyApiLimit ?? DEFAULT_LIMIT
    let records = 0
    for (const o of this.org.schema.all()) records += this.org.store.size(o.name)
    const storageMb = Math.ceil(records * 2 / 1024)
    return {
      DailyApiRequests: { Max: max, Remaining: Math.max(0, max - this.usage) },
      DailyAsyncApexExecutions: { Max: 250000, Remaining: 250000 },
      DailyBulkV2QueryJobs: { Max: 10000, Remaining: 10000 },
      DailyBulkApiBatches: { Max: 15000, Remaining: 15000 },
      DataStorageMB: { Max: Math.max(1024, storageMb * 2), Remaining: Math.max(1024, storageMb * 2) - storageMb },
      FileStorageMB: { Max: 1024, Remaining: 1024 },
      SingleEmail: { Max: 5000, Remaining: 5000 }
    }
  }

  // ---- query --------------------------------------------------------------------------------
  private runQuery (
    user: UserInfo,
    soql: string,
    queryAll: boolean,
    version: string,
    queryOptions?: string | string[]
  ): string {
    this.soqlLog.push({ soql, username: user.username, at: Date.now(), queryAll })
    if (this.soqlLog.length > 100_000) this.soqlLog.splice(0, this.soqlLog.length - 50_000)
    const res = this.org.query(user, soql, queryAll)
    if (res.rows && res.recs.length === 0) {
      return queryPage(res.totalSize, JSON.stringify(res.rows).slice(1, -1))
    }
    const opt = Array.isArray(queryOptions) ? queryOptions[0] : queryOptions
    const m = opt ? /batchSize\s*=\s*(\d+)/i.exec(opt) : null
    const batch = m ? Math.min(2000, Math.max(200, Number(m[1]))) : 2000
    if (res.recs.length <= batch) return queryPage(res.totalSize, res.json(res.recs, version))
    const id = this.cursorIds.next('01g')
    this.cursors.set(id, { id, user: user.id, recs: res.recs, json: res.json, total: res.totalSize, batch })
    if (this.cursors.size > 500) {
      const oldest = this.cursors.keys().next().value
      if (oldest !== undefined) this.cursors.delete(oldest)
    }
    const next = `/services/data/v${version}/query/${id}-${batch}`
    return queryPage(res.totalSize, res.json(res.recs.slice(0, batch), version), next)
  }

  private queryMore (user: UserInfo, locator: string, version: string): string {
    const dash = locator.lastIndexOf('-')
    const id = dash > 0 ? locator.slice(0, dash) : locator
    const offset = dash > 0 ? Number(locator.slice(dash + 1)) : NaN
    const c = this.cursors.get(id)
    if (!c || c.user !== user.id || !Number.isInteger(offset) || offset < 0 || offset > c.recs.length) {
      throw new SfError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator')
    }
    const end = Math.min(c.recs.length, offset + c.batch)
    const next = end >= c.recs.length ? undefined : `/services/data/v${version}/query/${id}-${end}`
    return queryPage(c.total, c.json(c.recs.slice(offset, end), version), next)
  }

  // ---- sobjects -----------------------------------------------------------------------------
  private sobjects (
    user: UserInfo,
    method: string,
    rest: string[],
    qs: URLSearchParams,
    body: unknown,
    version: string,
    base: string
  ): Reply {
    const [type, a, b, c] = rest
    if (type === undefined) {
      if (method !== 'GET') throw methodNotAllowed(method)
      return { status: 200, body: { encoding: 'UTF-8', maxBatchSize: 200, sobjects: this.org.schema.all().map(o => describeGlobalEntry(o, base)) } }
    }
    const def = this.org.objectOr404(type)
    if (a === undefined) {
      if (method === 'GET') return { status: 200, body: { objectDescribe: describeGlobalEntry(def, base), recentItems: [] } }
      if (method === 'POST') {
        if (def.event) return enqueued(this.org.publish(user, def.name, asObject(body)))
        const rec = this.org.create(user, def.name, asObject(body))
        return created(rec, version)
      }
      throw methodNotAllowed(method)
    }
    if (a === 'describe' && b === undefined) {
      if (method !== 'GET') throw methodNotAllowed(method)
      return { status: 200, body: describeObject(def, base) }
    }
    if (c !== undefined) throw notFound()
    if (b !== undefined) return this.byExternalId(user, method, def, a, decodeURIComponent(b), body, version)
    switch (method) {
      case 'GET': {
        const rec = this.org.retrieve(user, def.name, a)
        const fieldsParam = qs.get('fields')
        const fields = fieldsParam ? this.org.fieldsParam(def, fieldsParam) : undefined
        return { status: 200, body: this.org.toJson(rec, version, fields) }
      }
      case 'PATCH':
        this.org.update(user, def.name, a, asObject(body))
        return { status: 204 }
      case 'DELETE':
        this.org.delete(user, def.name, a)
        return { status: 204 }
      default:
        throw methodNotAllowed(method)
    }
  }

  private byExternalId (
    user: UserInfo,
    method: string,
    def: ObjectDef,
    field: string,
    value: string,
    body: unknown,
    version: string
  ): Reply {
    const f = def.fieldMap.get(field.toLowerCase())
    if (!f || !(f.externalId || f.idLookup)) {
      throw new SfError(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${field}`)
    }
    if (method === 'PATCH' || method === 'POST') {
      const { rec, created: isNew } = this.org.upsert(user, def.name, f.name, value, asObject(body))
      const id = rec.f.Id as string
      const out = { id, success: true, errors: [], created: isNew }
      if (isNew) return { status: 201, body: out, headers: { Location: `/services/data/v${version}/sobjects/${def.name}/${id}` } }
      return Number(version) >= 46 ? { status: 200, body: out } : { status: 204 }
    }
    const matches = this.org.store.lookup(def.name, f.name, f.name === 'Id' ? (normalizeId(value) ?? '') : value)
      .filter(r => r.f.IsDeleted !== true)
    if (matches.length > 1) {
      return { status: 300, body: matches.map(r => `/services/data/v${version}/sobjects/${def.name}/${r.f.Id as string}`) }
    }
    const match = matches[0]
    if (!match) throw notFound()
    if (method === 'GET') {
      const rec = this.org.retrieve(user, def.name, match.f.Id as string)
      return { status: 200, body: this.org.toJson(rec, version) }
    }
    if (method === 'DELETE') {
      this.org.delete(user, def.name, match.f.Id as string)
      return { status: 204 }
    }
    throw methodNotAllowed(method)
  }

  // ---- composite ----------------------------------------------------------------------------
  private subrequest (user: UserInfo, sub: Subrequest, version: string, graph: boolean): Reply {
    const method = String(sub.method ?? '').toUpperCase()
    const url = new URL(String(sub.url ?? ''), 'http://local')
    const segs = url.pathname.split('/').filter(Boolean)
    if (segs[0] !== 'services' || segs[1] !== 'data' || !VERSION_RE.test(segs[2] ?? '')) throw notFound()
    const rest = segs.slice(3)
    if (graph && rest[0] !== 'sobjects') {
      throw new SfError(400, 'INVALID_INPUT', `Composite graph supports only sObject resources: ${url.pathname}`)
    }
    const subVersion = (segs[2] ?? '').slice(1)
    void version
    const headers = (sub.httpHeaders ?? {}) as Record<string, string>
    return this.dispatch(user, method, rest, url.searchParams, sub.body, subVersion, headers['Sforce-Query-Options'])
  }

  private graph (user: UserInfo, method: string, body: unknown, version: string): Reply {
    if (method !== 'POST') throw methodNotAllowed(method)
    const graphs = (asObject(body).graphs ?? null) as unknown
    if (!Array.isArray(graphs) || graphs.length === 0) throw new SfError(400, 'JSON_PARSER_ERROR', 'graphs is required')
    if (graphs.length > 75) throw new SfError(400, 'LIMIT_EXCEEDED', 'A composite graph request can contain at most 75 graphs')
    let nodes = 0
    for (const g of graphs) {
      const reqs = (g as { compositeRequest?: unknown }).compositeRequest
      nodes += Array.isArray(reqs) ? reqs.length : 0
    }
    if (nodes > 500) throw new SfError(400, 'LIMIT_EXCEEDED', 'A composite graph request can contain at most 500 nodes')
    const out = graphs.map((g: { graphId?: unknown; compositeRequest?: unknown }) => {
      const reqs = Array.isArray(g.compositeRequest) ? g.compositeRequest as Array<Record<string, unknown>> : []
      const results: Array<Record<string, unknown>> = []
      const refs = new Map<string, unknown>()
      let failed = -1
      this.org.store.begin()
      for (let i = 0; i < reqs.length; i++) {
        const sub = reqs[i] as Record<string, unknown>
        const r = this.runSub(user, sub, refs, version, true)
        results.push(r)
        if ((r.httpStatusCode as number) >= 400) { failed = i; break }
      }
      if (failed >= 0) {
        this.org.store.rollback()
        const final = reqs.map((sub, i) => i === failed
          ? results[i]
          : { body: [{ errorCode: 'PROCESSING_HALTED', message: PROCESSING_HALTED_GRAPH }], httpHeaders: {}, httpStatusCode: 400, referenceId: String(sub.referenceId ?? '') })
        return { graphId: String(g.graphId ?? ''), graphResponse: { compositeResponse: final }, isSuccessful: false }
      }
      this.org.store.commit()
      return { graphId: String(g.graphId ?? ''), graphResponse: { compositeResponse: results }, isSuccessful: true }
    })
    return { status: 200, body: { graphs: out } }
  }

  private composite (user: UserInfo, method: string, body: unknown, version: string): Reply {
    if (method !== 'POST') throw methodNotAllowed(method)
    const b = asObject(body)
    const reqs = b.compositeRequest
    if (!Array.isArray(reqs)) throw new SfError(400, 'JSON_PARSER_ERROR', 'compositeRequest is required')
    if (reqs.length > 25) throw new SfError(400, 'LIMIT_EXCEEDED', 'The composite request can contain at most 25 subrequests')
    const allOrNone = b.allOrNone === true
    const refs = new Map<string, unknown>()
    const results: Array<Record<string, unknown>> = []
    if (allOrNone) this.org.store.begin()
    let failed = -1
    for (let i = 0; i < reqs.length; i++) {
      const r = this.runSub(user, reqs[i] as Record<string, unknown>, refs, version, false)
      results.push(r)
      if ((r.httpStatusCode as number) >= 400 && allOrNone) { failed = i; break }
    }
    if (allOrNone) {
      if (failed >= 0) {
        this.org.store.rollback()
        const final = (reqs as Array<Record<string, unknown>>).map((sub, i) => i === failed
          ? results[i]
          : { body: [{ errorCode: 'PROCESSING_HALTED', message: PROCESSING_HALTED_COMPOSITE }], httpHeaders: {}, httpStatusCode: 400, referenceId: String(sub.referenceId ?? '') })
        return { status: 200, body: { compositeResponse: final } }
      }
      this.org.store.commit()
    }
    return { status: 200, body: { compositeResponse: results } }
  }

  private runSub (
    user: UserInfo,
    sub: Record<string, unknown>,
    refs: Map<string, unknown>,
    version: string,
    graph: boolean
  ): Record<string, unknown> {
    const referenceId = String(sub.referenceId ?? '')
    let reply: Reply
    try {
      const resolved = resolveRefs({ url: sub.url, body: sub.body }, refs) as { url: unknown; body: unknown }
      reply = this.subrequest(
        user,
        { method: sub.method, url: resolved.url, body: resolved.body, httpHeaders: sub.httpHeaders },
        version,
        graph
      )
    } catch (e) {
      reply = errorReply(e)
    }
    // A query answer arrives as JSON text: its fields can be referenced, so it is read back.
    const body = (reply.json === undefined ? reply.body : JSON.parse(reply.json)) ?? null
    if (reply.status < 400) refs.set(referenceId, body)
    return { body, httpHeaders: reply.headers ?? {}, httpStatusCode: reply.status, referenceId }
  }

  // ---- sObject collections ------------------------------------------------------------------
  private collections (
    user: UserInfo,
    method: string,
    type: string | undefined,
    extField: string | undefined,
    qs: URLSearchParams,
    body: unknown,
    version: string
  ): Reply {
    if (type !== undefined) {
      const def = this.org.objectOr404(type)
      if (extField !== undefined) {
        if (method !== 'PATCH') throw methodNotAllowed(method)
        return this.collectionWrite(user, 'upsert', body, def, extField)
      }
      if (method === 'GET' || method === 'POST') {
        const ids = method === 'GET' ? (qs.get('ids') ?? '').split(',').filter(Boolean) : ((asObject(body).ids ?? []) as string[])
        const fieldsRaw = method === 'GET' ? (qs.get('fields') ?? '') : ((asObject(body).fields ?? []) as string[]).join(',')
        if (ids.length > 2000) throw new SfError(400, 'EXCEEDED_ID_LIMIT', 'record limit reached. cannot submit more than 2000 records into this call')
        const fields = fieldsRaw ? this.org.fieldsParam(def, fieldsRaw) : undefined
        if (!fields) throw new SfError(400, 'MISSING_ARGUMENT', 'fields is required')
        return {
          status: 200,
          body: ids.map(id => {
            try { return this.org.toJson(this.org.retrieve(user, def.name, id), version, fields) } catch { return null }
          })
        }
      }
      throw methodNotAllowed(method)
    }
    if (method === 'POST') return this.collectionWrite(user, 'create', body)
    if (method === 'PATCH') return this.collectionWrite(user, 'update', body)
    if (method === 'DELETE') {
      const ids = (qs.get('ids') ?? '').split(',').map(s => s.trim()).filter(Boolean)
      if (ids.length > 200) throw tooMany()
      const allOrNone = qs.get('allOrNone') === 'true'
      return {
        status: 200,
        body: this.batch(ids.map(id => () => {
          const nid = normalizeId(id)
          const rec = nid ? this.org.store.get(nid) : undefined
          if (!nid) throw new SfError(400, 'MALFORMED_ID', `invalid record id: ${id}`, [])
          if (!rec) throw new SfError(404, 'ENTITY_IS_DELETED', 'entity is deleted', [])
          this.org.delete(user, rec.type, nid)
          return { id: nid }
        }), allOrNone, ids)
      }
    }
    throw methodNotAllowed(method)
  }

  private collectionWrite (user: UserInfo, op: 'create' | 'update' | 'upsert', body: unknown, def?: ObjectDef, extField?: string): Reply {
    const b = asObject(body)
    const records = b.records
    if (!Array.isArray(records)) throw new SfError(400, 'JSON_PARSER_ERROR', 'records is required')
    if (records.length > 200) throw tooMany()
    const allOrNone = b.allOrNone === true
    const ops = (records as Array<Record<string, unknown>>).map(r => () => {
      const attrs = (r.attributes ?? {}) as { type?: string }
      const type = attrs.type ?? def?.name
      if (!type) throw new SfError(400, 'INVALID_TYPE', 'Must send a concrete entity type.', [])
      const fields = Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'attributes'))
      if (op === 'create') {
        if (fields.id !== undefined || fields.Id !== undefined) throw new SfError(400, 'INVALID_FIELD_FOR_INSERT_UPDATE', 'cannot specify Id in an insert call', ['Id'])
        return { id: this.org.create(user, type, fields).f.Id as string }
      }
      if (op === 'update') {
        const id = (fields.Id ?? fields.id) as string | undefined
        delete fields.Id
        delete fields.id
        if (!id) throw new SfError(400, 'MISSING_ARGUMENT', 'Id not specified in an update call', [])
        return { id: this.org.update(user, type, id, fields).f.Id as string }
      }
      const ext = (def as ObjectDef).fieldMap.get((extField ?? '').toLowerCase())
      if (!ext || !(ext.externalId || ext.name === 'Id')) throw new SfError(400, 'INVALID_FIELD', `Provided external ID field does not exist or is not accessible: ${extField ?? ''}`, [])
      const value = Object.entries(fields).find(([k]) => k.toLowerCase() === ext.name.toLowerCase())?.[1]
      if (value === undefined || value === null) throw new SfError(400, 'MISSING_ARGUMENT', `${ext.name} not specified`, [])
      const rest = Object.fromEntries(
        Object.entries(fields).filter(([k]) => k.toLowerCase() !== ext.name.toLowerCase())
      )
      const { rec, created: isNew } = this.org.upsert(user, type, ext.name, String(value), rest)
      return { id: rec.f.Id as string, created: isNew }
    })
    const ids = (records as Array<Record<string, unknown>>).map(r => (op === 'update' ? (r.Id ?? r.id) as string | undefined : undefined))
    return { status: 200, body: this.batch(ops, allOrNone, ids, op === 'upsert') }
  }

  /** Runs per-record operations; allOrNone rolls all back when one fails. */
  private batch (
    ops: Array<() => { id: string; created?: boolean }>,
    allOrNone: boolean,
    ids: Array<string | undefined>,
    upsert = false
  ): unknown[] {
    const results: Array<Record<string, unknown>> = []
    let anyFailed = false
    if (allOrNone) this.org.store.begin()
    ops.forEach((op, i) => {
      this.org.store.begin()
      try {
        const r = op()
        this.org.store.commit()
        const out: Record<string, unknown> = { id: r.id, success: true, errors: [] }
        if (upsert) out.created = r.created === true
        results.push(out)
      } catch (e) {
        this.org.store.rollback()
        anyFailed = true
        const err = e instanceof SfError ? e : new SfError(500, 'UNKNOWN_EXCEPTION', String((e as Error).message))
        const out: Record<string, unknown> = {}
        if (ids[i]) out.id = normalizeId(ids[i]) ?? ids[i]
        out.success = false
        out.errors = [{ statusCode: err.errorCode, message: err.message, fields: err.fields ?? [] }]
        if (upsert) out.created = false
        results.push(out)
      }
    })
    if (allOrNone) {
      if (anyFailed) {
        this.org.store.rollback()
        return results.map(r => r.success === true
          ? { id: r.id, success: false, errors: [{ statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK', message: ROLLED_BACK, fields: [] }] }
          : r)
      }
      this.org.store.commit()
    }
    return results
  }
}

// ---- helpers --------------------------------------------------------------------------------
/** A query answer's page as JSON text; `records` is the text of its records, comma-separated. */
function queryPage (totalSize: number, records: string, nextRecordsUrl?: string): string {
  const next = nextRecordsUrl === undefined ? '' : `,"nextRecordsUrl":"${nextRecordsUrl}"`
  return `{"totalSize":${totalSize},"done":${nextRecordsUrl === undefined}${next},"records":[${records}]}`
}

/** Writes each chunk when the connection has taken the last; stops if the client goes away. */
async function writeChunks (res: ServerResponse, chunks: Iterable<string>): Promise<void> {
  for (const chunk of chunks) {
    if (res.destroyed) return
    if (res.write(chunk)) continue
    await new Promise<void>((resolve) => {
      const go = (): void => { res.off('drain', go).off('close', go); resolve() }
      res.on('drain', go).on('close', go)
    })
  }
  res.end()
}

/**
 * Breaks an answer the org already acted on: 'reset' closes the connection without a byte,
 * 'cut' sends the headers and half the body then closes, 'stall' sends the headers and half the
 * body and then nothing, until the client gives up (its timeout fires while it reads the body).
 */
function spoil (
  res: ServerResponse, mode: LostAnswerMode, status: number, headers: Record<string, string>, text: string
): void {
  // An answer without a body is whole once its headers are out: only a reset loses it.
  if (mode === 'reset' || text === '') {
    res.socket?.resetAndDestroy()
    return
  }
  res.writeHead(status, headers)
  res.write(text.slice(0, Math.floor(text.length / 2)), () => {
    if (mode === 'cut') res.socket?.destroy()
  })
}

function created (rec: Rec, version: string): Reply {
  const id = rec.f.Id as string
  return { status: 201, body: { id, success: true, errors: [] }, headers: { Location: `/services/data/v${version}/sobjects/${rec.type}/${id}` } }
}

/**
 * A platform event publish, answered as Salesforce documents it for high-volume events ("Publish
 * Event Messages with Salesforce APIs"): "HTTP/1.1 201 Created", `success: true`, and "the
 * OPERATION_ENQUEUED status code is returned for a successful call in the response's error field,
 * in addition to the event UUID".
 */
function enqueued (event: PublishedEvent): Reply {
  return {
    status: 201,
    body: {
      id: event.id,
      success: true,
      errors: [{ statusCode: 'OPERATION_ENQUEUED', message: String(event.fields.EventUuid), fields: [] }]
    }
  }
}

function tooMany (): SfError {
  return new SfError(400, 'EXCEEDED_ID_LIMIT', 'record limit reached. cannot submit more than 200 records into this call')
}

function errorReply (e: unknown): Reply {
  if (e instanceof SfError) {
    if (e.status === 300) return { status: 300, body: e.message.split(',') }
    return { status: e.status, body: e.body() }
  }
  const err: SfErrorItem = { message: `An unexpected error occurred: ${(e as Error)?.message ?? String(e)}`, errorCode: 'UNKNOWN_EXCEPTION' }
  return { status: 500, body: [err] }
}

async function readBody (req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** A stable key for API-call statistics: ids and locators replaced by placeholders. */
function templateOf (rest: string[]): string {
  if (rest[0] === 'query' || rest[0] === 'queryAll') return rest.length > 1 ? `${rest[0]}/{locator}` : rest[0]
  if (rest[0] === 'jobs' && rest.length > 2) return [...rest.slice(0, 2), '{id}', ...rest.slice(3)].join('/')
  if (rest[0] === 'sobjects' && rest.length >= 3 && rest[2] !== 'describe') {
    return rest.length === 3 ? `sobjects/${rest[1] ?? ''}/{id}` : `sobjects/${rest[1] ?? ''}/${rest[2] ?? ''}/{value}`
  }
  return rest.join('/')
}

const REF = /@\{([^}.[]+)((?:\.[^}.[]+|\[\d+\])*)\}/g

function refValue (refs: Map<string, unknown>, name: string, path: string): unknown {
  if (!refs.has(name)) throw new SfError(400, 'PROCESSING_HALTED', `Invalid reference specified. No value for ${name}${path} found in ${name}. Provided referenceId ('${name}') must start with a letter or a number, and it can contain only letters, numbers and underscores ('_').`)
  let cur: unknown = refs.get(name)
  for (const m of path.matchAll(/\.([^.[]+)|\[(\d+)\]/g)) {
    if (cur === null || cur === undefined || typeof cur !== 'object') { cur = undefined; break }
    cur = m[1] !== undefined ? (cur as Record<string, unknown>)[m[1]] : (cur as unknown[])[Number(m[2])]
  }
  if (cur === undefined) throw new SfError(400, 'PROCESSING_HALTED', `Invalid reference specified. No value for ${name}${path} found in ${name}.`)
  return cur
}

function resolveRefs (v: unknown, refs: Map<string, unknown>): unknown {
  if (typeof v === 'string') {
    const whole = /^@\{([^}.[]+)((?:\.[^}.[]+|\[\d+\])*)\}$/.exec(v)
    if (whole) return refValue(refs, whole[1] ?? '', whole[2] ?? '')
    return v.replace(REF, (_, name: string, path: string) => String(refValue(refs, name, path)))
  }
  if (Array.isArray(v)) return v.map(x => resolveRefs(x, refs))
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveRefs(x, refs)]))
  return v
}
