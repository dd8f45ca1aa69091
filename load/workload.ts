// The mixed workload: the six synchronous actions in turn on every connection, each request with
// a fresh context (fresh requestId, the default idempotency key), as the reps of the local org.
// Every answer is tallied by action, status and errorCode; quotes and feedback are tracked by key
// so the run can check afterwards that none was created twice or lost.
import { actionPath } from '../src/actions/define.ts'
import type { LocalOrg } from '@applink-actions/local-org'
import { autocannon, type CannonRequest, type CannonRequestSpec, type CannonResult } from './autocannon.ts'

type Rec = Record<string, unknown>

export const REPS = ['rep1@acme.local', 'rep2@acme.local', 'rep3@acme.local']

/** What the load needs from the org, looked up once (records() scans the whole store). */
export interface Fixture {
  org: LocalOrg
  accountsOf: Map<string, string[]>
  productCodes: string[]
  /** Per rep: an account, its price book and active entries, to make fresh opportunities from. */
  templates: Map<string, { accountId: string, pricebookId: string, entries: Array<{ id: string, price: number }> }>
  /** Feedback ids each user recorded, for their getSyncStatus (the load sends no request meant to 404). */
  feedbackIdsOf: Map<string, number[]>
}

export function fixture (org: LocalOrg): Fixture {
  const accounts = org.records('Account')
  const opportunities = org.records('Opportunity')
  const entries = org.records('PricebookEntry')
  const accountsOf = new Map<string, string[]>()
  const templates: Fixture['templates'] = new Map()
  for (const username of REPS) {
    const owner = org.user(username).id
    accountsOf.set(username, accounts.filter((a) => a.OwnerId === owner).map((a) => String(a.Id)))
    const template = opportunities.find((o) => o.OwnerId === owner && o.Pricebook2Id != null) as Rec | undefined
    if (template === undefined) throw new Error(`${username} has no opportunity with a price book`)
    const active = entries.filter((e) => e.Pricebook2Id === template.Pricebook2Id && e.IsActive === true)
    templates.set(username, {
      accountId: String(template.AccountId),
      pricebookId: String(template.Pricebook2Id),
      entries: active.slice(0, 20).map((e) => ({ id: String(e.Id), price: Number(e.UnitPrice) }))
    })
  }
  const productCodes = org.records('Product2').filter((p) => p.IsActive === true && p.External_Id__c != null).map((p) => String(p.External_Id__c))
  return { org, accountsOf, productCodes, templates, feedbackIdsOf: new Map() }
}

/**
 * A new opportunity with two products, owned by the rep: each quote key gets its own, so "one
 * quote per key" is checkable as "at most one quote per opportunity" in the org.
 */
export function freshOpportunity (f: Fixture, username: string, n: number): string {
  const t = f.templates.get(username)
  if (t === undefined) throw new Error(`no template for ${username}`)
  const opp = f.org.insertRecord('Opportunity', { Name: `Load ${n}`, AccountId: t.accountId, StageName: 'Proposal', CloseDate: '2027-06-30', Pricebook2Id: t.pricebookId }, username)
  for (let i = 0; i < 2; i++) {
    const entry = t.entries[(n + i) % t.entries.length]
    if (entry === undefined) throw new Error('no price book entry')
    f.org.insertRecord('OpportunityLineItem', { OpportunityId: opp.Id, PricebookEntryId: entry.id, Quantity: 1 + (n % 30), UnitPrice: entry.price }, username)
  }
  return String(opp.Id)
}

export interface QuoteKey {
  key: string
  username: string
  opportunityId: string
  attempts: number
  quoteIds: Set<string>
  statuses: number[]
}

export interface Failure { at: number, operationId: string, status: number, errorCode: string }

export interface Tally {
  requests: number
  /** `operationId status errorCode?` → count */
  outcomes: Map<string, number>
  latencies: Map<string, number[]>
  failures: Failure[]
  quotes: Map<string, QuoteKey>
  /** externalIds of feedback answered 200 (not replayed). */
  feedback: string[]
  replays: { sent: number, sameQuote: number }
}

export const newTally = (): Tally => ({
  requests: 0,
  outcomes: new Map(),
  latencies: new Map(),
  failures: [],
  quotes: new Map(),
  feedback: [],
  replays: { sent: 0, sameQuote: 0 }
})

const bump = (map: Map<string, number>, key: string): void => { map.set(key, (map.get(key) ?? 0) + 1) }

function errorCodeOf (body: string): string {
  try { return String((JSON.parse(body) as Rec).errorCode ?? '-') } catch { return 'non-JSON' }
}

interface Pending { operationId: string, username: string, t0: number, quote?: QuoteKey, replayOf?: string }

/** A feedback id its writer may ask about. */
export function rememberFeedback (f: Fixture, username: string, feedbackId: number): void {
  f.feedbackIdsOf.set(username, [...(f.feedbackIdsOf.get(username) ?? []), feedbackId])
}

/** The request specs for one run; `label` keeps keys of different runs apart. */
function requestSpecs (f: Fixture, tally: Tally, label: string): CannonRequestSpec[] {
  let n = 0
  const done: QuoteKey[] = []
  const rep = () => REPS[n % REPS.length] as string
  const spec = (
    operationId: string,
    body: (username: string, pending: Pending) => Rec,
    after?: (status: number, json: Rec, pending: Pending) => void
  ): CannonRequestSpec => ({
    setupRequest: (req: CannonRequest, context) => {
      n++
      const username = rep()
      const pending: Pending = { operationId, username, t0: performance.now() }
      const payload = JSON.stringify(body(username, pending))
      context.pending = pending
      tally.requests++
      return {
        ...req,
        method: 'POST',
        path: actionPath(operationId),
        headers: { 'content-type': 'application/json', 'x-client-context': f.org.mintContext(username) },
        body: payload
      }
    },
    onResponse: (status, text, context) => {
      // The pending request of this connection (pipelining 1), whichever spec autocannon calls back.
      const pending = context.pending as Pending | undefined
      if (pending === undefined) return
      context.pending = undefined
      const latency = performance.now() - pending.t0
      const list = tally.latencies.get(pending.operationId) ?? []
      list.push(latency)
      tally.latencies.set(pending.operationId, list)
      if (status >= 200 && status < 300) {
        bump(tally.outcomes, `${pending.operationId} ${status}`)
        if (after !== undefined) after(status, JSON.parse(text) as Rec, pending)
      } else {
        const errorCode = errorCodeOf(text)
        bump(tally.outcomes, `${pending.operationId} ${status} ${errorCode}`)
        tally.failures.push({ at: Date.now(), operationId: pending.operationId, status, errorCode })
        if (pending.quote !== undefined) pending.quote.statuses.push(status)
      }
    }
  })

  return [
    spec('whoAmI', () => ({})),
    spec('checkAvailability', () => ({
      items: [0, 1, 2].map((i) => ({
        productCode: f.productCodes[(n * 3 + i) % f.productCodes.length] as string,
        quantity: 1 + ((n + i) % 40)
      }))
    })),
    spec('accountInsights', (username) => {
      const accounts = f.accountsOf.get(username) ?? []
      return { accountId: accounts[n % accounts.length] as string }
    }),
    spec('generateQuote', (username, pending) => {
      // One call in five repeats a key of the same user that already has its quote: the answer
      // must be that quote (keys are per user).
      const mine = n % 5 === 0 ? done.filter((q) => q.username === username) : []
      const replay = mine[n % Math.max(1, mine.length)]
      if (replay !== undefined) {
        tally.replays.sent++
        replay.attempts++
        pending.quote = replay
        pending.replayOf = [...replay.quoteIds][0]
        return { opportunityId: replay.opportunityId, idempotencyKey: replay.key }
      }
      const quote: QuoteKey = {
        key: `load-${label}-${n}`,
        username,
        opportunityId: freshOpportunity(f, username, n),
        attempts: 1,
        quoteIds: new Set(),
        statuses: []
      }
      tally.quotes.set(quote.key, quote)
      pending.quote = quote
      return { opportunityId: quote.opportunityId, idempotencyKey: quote.key }
    }, (status, json, pending) => {
      const quote = pending.quote
      if (quote === undefined) return
      quote.statuses.push(status)
      quote.quoteIds.add(String(json.quoteId))
      if (pending.replayOf !== undefined) {
        if (json.replayed === true && json.quoteId === pending.replayOf) tally.replays.sameQuote++
      } else {
        done.push(quote)
      }
    }),
    spec('logProductFeedback', () => ({
      productCode: f.productCodes[n % f.productCodes.length] as string,
      rating: 1 + (n % 5),
      comment: `load ${label} ${n}: "quotes", 'apostrophes', ünïcödé`
    }), (_status, json, pending) => {
      tally.feedback.push(String(json.externalId))
      rememberFeedback(f, pending.username, Number(json.feedbackId))
    }),
    spec('getSyncStatus', (username) => {
      const ids = f.feedbackIdsOf.get(username) ?? []
      return { feedbackId: ids[n % ids.length] as number }
    })
  ]
}

export interface LoadRun { result: CannonResult, tally: Tally, connErrors: Map<string, number> }

/**
 * autocannon for `seconds` with `connections` keep-alive connections. `during` runs alongside
 * (faults, restarts, SIGTERM) and may stop the run early through the returned handle.
 */
export interface LoadOptions {
  url: string
  fixture: Fixture
  label: string
  seconds: number
  connections: number
  during?: (stop: () => void) => Promise<void>
}

export async function runLoad (opts: LoadOptions): Promise<LoadRun> {
  const tally = newTally()
  const connErrors = new Map<string, number>()
  const run = autocannon({
    url: opts.url,
    connections: opts.connections,
    duration: opts.seconds,
    // Above IDEMPOTENCY_WAIT_MS (20 s): a duplicate that waits is an answer, not a client timeout.
    timeout: 30,
    requests: requestSpecs(opts.fixture, tally, opts.label)
  })
  run.on('reqError', (err: NodeJS.ErrnoException) => { bump(connErrors, err.code ?? err.message) })
  const during = opts.during?.(() => { run.stop() })
  const result = await run
  await during
  return { result, tally, connErrors }
}

/** One call outside the load (smoke test, retries after the run). */
export async function call (url: string, org: LocalOrg, operationId: string, body: unknown, username = 'rep1@acme.local'): Promise<{ status: number, json: Rec }> {
  const res = await fetch(`${url}${actionPath(operationId)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-client-context': org.mintContext(username) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000)
  })
  const text = await res.text()
  let json: Rec = {}
  try { json = JSON.parse(text) as Rec } catch { json = { text } }
  return { status: res.status, json }
}

export function percentile (values: number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}
