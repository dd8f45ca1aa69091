// The local stack's three orgs on one service (scripts/local-orgs.ts): acme and globex each read only
// their own mirror, acme's sandbox (acme's record ids, its own org) reads none, and each org's
// background work runs under its own org's AppLink authorization.
import t from 'tap'
import { startStack, type StackOrg } from '../stack.ts'
import { assertError, until } from '../helper.ts'

type Rec = Record<string, unknown>

// Fast enough job polling for a test; the rest as the stack sets it.
const JOBS = { JOB_POLL_SECONDS: '0.5', JOB_SUPERVISE_SECONDS: '1', JOB_RETRY_DELAY_SECONDS: '1' }

t.test('three orgs, one service', async (t) => {
  const s = await startStack(t, { orgs: ['acme', 'acme-sandbox', 'globex'], env: JOBS })
  const acme = s.orgs.acme as StackOrg
  const sandbox = s.orgs['acme-sandbox'] as StackOrg
  const globex = s.orgs.globex as StackOrg
  t.same([acme.schema, sandbox.schema, globex.schema], ['salesforce', undefined, 'globex'], 'two mirrors, one each')
  t.equal(new Set([acme.org.orgId, sandbox.org.orgId, globex.org.orgId]).size, 3, 'three org ids')

  const priceOf = (org: StackOrg, code: string) =>
    org.org.records('PricebookEntry').find((e) => e.ProductCode === code)?.UnitPrice
  const codes = acme.org.records('Product2').filter((p) => p.IsActive === true).slice(0, 5).map((p) => String(p.ProductCode))

  t.test('globex\'s users see globex\'s products and prices; acme\'s see acme\'s', async (t) => {
    const items = codes.map((productCode) => ({ productCode, quantity: 1 }))
    const asGlobex = await s.call('checkAvailability', { items }, 'rep1@globex.local')
    t.equal(asGlobex.statusCode, 200)
    const globexIds = new Set(globex.org.records('Product2').map((p) => p.Id))
    for (const [i, code] of codes.entries()) {
      const item = asGlobex.json().items[i]
      t.ok(globexIds.has(item.productId), `${code}: globex's product`)
      t.equal(item.unitPrice, priceOf(globex, code), `${code}: globex's price`)
    }
    t.ok(codes.some((code) => priceOf(globex, code) !== priceOf(acme, code)), 'which are not acme\'s')
    const asAcme = await s.call('checkAvailability', { items }, 'rep1@acme.local')
    t.same(asAcme.json().items.map((i: Rec) => i.unitPrice), codes.map((code) => priceOf(acme, code)), 'acme reads acme\'s')
  })

  t.test('acme-sandbox\'s users: 403 ORG_NOT_MIRRORED for mirror reads, even of ids acme has', async (t) => {
    const rep = 'rep1@acme.local.uat'
    const account = sandbox.org.records('Account').find((a) => a.OwnerId === sandbox.org.user(rep).id) as Rec
    t.ok(acme.org.getRecord(String(account.Id)), 'the account\'s id is acme\'s too')
    const mirrorReads = [
      ['accountInsights', { accountId: account.Id }],
      ['checkAvailability', { items: [{ productCode: codes[0], quantity: 1 }] }],
      ['startAccountRescore', { industry: 'Finance' }]
    ] as const
    for (const [operationId, body] of mirrorReads) {
      const refused = assertError(t, await s.call(operationId, body, rep), 403, 'ORG_NOT_MIRRORED')
      t.match(refused.message, sandbox.org.orgId, `${operationId}: refused, naming the sandbox org`)
      t.notMatch(JSON.stringify(refused), String(acme.org.getRecord(String(account.Id))?.Name), 'no acme data in it')
    }

    const who = await s.call('whoAmI', {}, rep)
    t.equal(who.statusCode, 200, 'whoAmI works')
    t.match(who.json(), { orgId: sandbox.org.orgId })
    const opportunity = sandbox.org.records('Opportunity')
      .find((o) => o.OwnerId === sandbox.org.user(rep).id && o.HasOpportunityLineItem === true) as Rec
    const quotesBefore = acme.org.records('Quote').length
    const quote = await s.call('generateQuote', { opportunityId: opportunity.Id, idempotencyKey: 'sandbox-1' }, rep)
    t.equal(quote.statusCode, 200, 'generateQuote works')
    t.ok(sandbox.org.getRecord(String(quote.json().quoteId)), 'the quote is in the sandbox')
    t.equal(acme.org.records('Quote').length, quotesBefore, 'not in acme')
  })

  t.test('each org\'s rescore runs under its own org\'s authorization', async (t) => {
    const start = async (username: string) => {
      const res = await s.call('startAccountRescore', { industry: 'Finance' }, username)
      t.equal(res.statusCode, 202, `${username}: accepted`)
      return res.json().jobId as string
    }
    const settled = async (username: string, jobId: string) => await until(`${username}'s job to end`, async () => {
      const body = (await s.call('getJobStatus', { jobId }, username)).json()
      return body.state === 'completed' || body.state === 'failed' ? body : undefined
    }, 60_000, 200)
    const globexJob = await start('admin@globex.local')
    const acmeJob = await start('admin@acme.local')
    const { rows } = await s.pool.query<{ id: string, data: Rec }>('SELECT id, data FROM pgboss.job WHERE id = ANY($1)',
      [[globexJob, acmeJob]])
    const named = Object.fromEntries(rows.map((r) => [r.id, r.data.authorization]))
    t.same(named, { [globexJob]: globex.authorization, [acmeJob]: acme.authorization }, 'each job names its org\'s')

    const globexStatus = await settled('admin@globex.local', globexJob)
    const acmeStatus = await settled('admin@acme.local', acmeJob)
    t.equal(globexStatus.state, 'completed', 'globex\'s completed')
    t.equal(acmeStatus.state, 'completed', 'acme\'s completed')
    const finance = (org: StackOrg) => org.org.records('Account').filter((a) => a.Industry === 'Finance').length
    t.match(globexStatus.result, { total: finance(globex) }, 'globex\'s accounts')
    t.match(acmeStatus.result, { total: finance(acme) }, 'acme\'s accounts')
    const asked = (s.applink?.requests ?? []).map((r) => [r.developerName, r.status])
    // Once an attempt: on a busy machine a job may be retried, and each attempt asks when it starts.
    const once = (org: StackOrg, attempts: number) => Array.from({ length: attempts }, () => [org.authorization, 200])
    t.same(asked.filter(([name]) => name === globex.authorization), once(globex, Number(globexStatus.attempts)),
      'the add-on handed out globex\'s authorization once an attempt')
    t.same(asked.filter(([name]) => name === acme.authorization), once(acme, Number(acmeStatus.attempts)), 'and acme\'s')
    t.notOk(asked.some(([name]) => name === sandbox.authorization), 'the sandbox\'s never')
    t.ok((globex.org.stats.byUser['integration@globex.local'] ?? 0) > 0, 'globex\'s integration user did globex\'s work')
    t.equal(acme.org.stats.byUser['integration@globex.local'], undefined, 'no globex user ever called acme')
    t.equal(globex.org.stats.byUser['integration@acme.local'], undefined, 'no acme user ever called globex')
  })
})

t.test('an authorization mapped to the wrong org: the job fails, and nothing reaches the other org', async (t) => {
  // globex's jobs mapped, by mistake, to acme's authorization.
  const s = await startStack(t, {
    orgs: ['acme', 'globex'],
    env: (_, orgs) => ({ ...JOBS, APPLINK_AUTHORIZATIONS: `${String(orgs.globex?.org.orgId)}:LocalIntegration` })
  })
  const acme = s.orgs.acme as StackOrg
  const started = await s.call('startAccountRescore', { industry: 'Finance' }, 'admin@globex.local')
  t.equal(started.statusCode, 202)
  const jobId = started.json().jobId as string
  const status = await until('the job to end', async () => {
    const body = (await s.call('getJobStatus', { jobId }, 'admin@globex.local')).json()
    return body.state === 'completed' || body.state === 'failed' ? body : undefined
  }, 60_000, 200)
  t.equal(status.state, 'failed', 'the job fails')
  t.match(status.error, { errorCode: 'AUTHORIZATION_FAILED', message: /another org/ }, 'refused by its session')
  t.notMatch(status.error.message, acme.org.orgId, 'without naming the other org')
  const acmeWrites = Object.entries(acme.org.stats.byPath).filter(([path]) => !path.startsWith('GET'))
  t.same(acmeWrites, [], 'acme got no write')
  // acme's own sync keeps reading as its integration user; the job's run-as work would ask for access.
  t.same(acme.org.soqlLog.filter((e) => /UserRecordAccess/.test(e.soql)), [], 'nor any query of the job')
})
