import t from 'tap'
import { parseQuery } from '@jetstreamapp/soql-parser-js'
import { actions } from '../../src/actions/index.ts'
import { actionPath } from '../../src/actions/define.ts'
import { startStack } from '../stack.ts'
import { databaseText } from '../helper.ts'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/** A small seeded PRNG (mulberry32): the same run throws the same inputs. */
function prng (seed: number): () => number {
  return () => {
    seed = (seed + 0x6D2B79F5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

const ADVERSARIAL_STRINGS = [
  "'", "\\'", '\\', '"', "' OR Id != null OR Name = '", "'; DROP TABLE salesforce.product2; --", '%', '_', '\\%',
  // eslint-disable-next-line no-template-curly-in-string -- a literal '${7*7}', as an attacker would send it
  '\u0000', '\n\r\t', '😀'.repeat(50), '\u202e\u200b', 'a'.repeat(70_000), '${7*7}', '{{7*7}}', '<script>alert(1)</script>',
  '006000000000000', '006000000000000AAA', '001Lo000000003bIAA\' OR \'1\'=\'1', '0'.repeat(18), 'null', 'undefined', '-1', '1e309',
  'SELECT Id FROM User', '\') OR (Name LIKE \'%', '../../etc/passwd', 'x'.repeat(2_000_000)
]
const KEYS = ['__proto__', 'constructor', 'prototype', 'items', 'opportunityId', 'accountId', 'productCode', 'quantity', 'rating', 'feedbackId', 'x', '']

function randomValue (rand: () => number, depth = 0): Json {
  const pick = rand()
  if (depth > 3 || pick < 0.3) {
    const leaf = rand()
    if (leaf < 0.1) return randomId(rand)
    if (leaf < 0.35) return ADVERSARIAL_STRINGS[Math.floor(rand() * ADVERSARIAL_STRINGS.length)] as string
    if (leaf < 0.5) return [0, -1, 1.5, 2 ** 53, -(2 ** 31), 1e308, 51, 5][Math.floor(rand() * 8)] as number
    if (leaf < 0.6) return rand() < 0.5
    if (leaf < 0.7) return null
    return String.fromCharCode(...Array.from({ length: Math.floor(rand() * 30) }, () => Math.floor(rand() * 0xffff)))
  }
  if (pick < 0.6) return Array.from({ length: Math.floor(rand() * 5) }, () => randomValue(rand, depth + 1))
  const object: Record<string, Json> = {}
  for (let i = Math.floor(rand() * 4); i > 0; i--) {
    object[KEYS[Math.floor(rand() * KEYS.length)] as string] = randomValue(rand, depth + 1)
  }
  return object
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
/** Well-formed but random record ids: they pass validation and reach the org. */
function randomId (rand: () => number): string {
  const prefix = ['006', '001', '005', 'a01', '0Q0'][Math.floor(rand() * 5)] as string
  return prefix + Array.from({ length: rand() < 0.5 ? 12 : 15 }, () => ALPHANUMERIC[Math.floor(rand() * ALPHANUMERIC.length)]).join('')
}

function deeplyNested (depth: number): Json {
  let value: Json = 1
  for (let i = 0; i < depth; i++) value = { items: [value] }
  return value
}

/** A valid body, then one field replaced: goes past validation more often than pure noise. */
function mutate (rand: () => number, valid: Record<string, Json>): Json {
  const keys = Object.keys(valid)
  const copy: Record<string, Json> = { ...valid }
  const key = keys[Math.floor(rand() * keys.length)]
  if (key !== undefined && rand() < 0.3) copy[key] = randomId(rand)
  else if (key !== undefined && rand() < 0.8) copy[key] = randomValue(rand)
  else copy[KEYS[Math.floor(rand() * KEYS.length)] as string] = randomValue(rand)
  return copy
}

const DOCUMENTED = new Set([200, 202, 400, 401, 403, 404, 409, 413, 415, 422, 429, 502, 503])
const EXPECTED_SOQL = [
  // accountInsights: the account and its opportunities and open cases, at most 200 a query.
  /^SELECT RecordId, HasReadAccess, HasEditAccess FROM UserRecordAccess WHERE UserId = '[A-Za-z0-9]{18}' AND RecordId IN \('[A-Za-z0-9]{18}'(, '[A-Za-z0-9]{18}'){0,199}\)$/,
  // A rescore's plan: the accounts of its filter the caller may see.
  // A rescore's visibility check: the selection's conditions, then its page's id range (PK chunking's form).
  /^SELECT Id FROM Account WHERE ((Type|Industry) = '[A-Za-z ]+' AND )?(Industry = '[A-Za-z ]+' AND )?(OwnerId = '[A-Za-z0-9]{18}' AND )?Id >= '[A-Za-z0-9]{18}' AND Id <= '[A-Za-z0-9]{18}'$/,
  /^SELECT Id, Name, Pricebook2Id, Account\.BillingCountry, \(SELECT Id, PricebookEntryId, Product2Id, Quantity, UnitPrice, Product2\.Name, Product2\.Family FROM OpportunityLineItems ORDER BY Id\) FROM Opportunity WHERE Id = '[A-Za-z0-9]{18}'$/
]

// 75 s on an idle machine, over 180 s (tap's default for a file) when other test files share its cores.
t.setTimeout(420_000)

t.test('10,000 hostile requests: no undocumented status, no injection, no leak, still up', async (t) => {
  const s = await startStack(t)
  await s.sync.stop()
  const rand = prng(20261121)
  const rejections: unknown[] = []
  const onRejection = (reason: unknown) => { rejections.push(reason) }
  process.on('unhandledRejection', onRejection)
  t.teardown(() => { process.off('unhandledRejection', onRejection) })

  const rep = s.org.user('rep1@acme.local')
  const opp = s.org.records('Opportunity').find((o) => o.OwnerId === rep.id)
  const valid: Record<string, Record<string, Json>> = {
    whoAmI: {},
    generateQuote: { opportunityId: String(opp?.Id), discountPercent: 5 },
    checkAvailability: { items: [{ productCode: String(s.org.records('Product2')[0]?.ProductCode), quantity: 2 }] },
    accountInsights: { accountId: String(s.org.records('Account').find((a) => a.OwnerId === rep.id)?.Id) },
    logProductFeedback: { productCode: String(s.org.records('Product2')[1]?.ProductCode), rating: 3, comment: 'ok' },
    getSyncStatus: { feedbackId: 1 }
  }
  const tokens = s.org.users.map((u) => u.accessToken)
  const goodContext = () => s.org.mintContext('rep1@acme.local')
  const forgedContexts = [
    () => undefined,
    () => 'not base64 at all!',
    () => Buffer.from('{"accessToken":').toString('base64'),
    () => Buffer.from(JSON.stringify(randomValue(rand))).toString('base64'),
    () => Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(goodContext(), 'base64').toString()), accessToken: 'forged-token' })).toString('base64'),
    () => Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(goodContext(), 'base64').toString()), orgDomainUrl: 'http://127.0.0.1:9' })).toString('base64'),
    () => Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(goodContext(), 'base64').toString()), userContext: { userId: "005' OR '1'='1", username: 'x' } })).toString('base64'),
    () => Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(goodContext(), 'base64').toString()), requestId: 'r'.repeat(10_000), __proto__: { admin: true } })).toString('base64'),
    () => 'A'.repeat(30_000)
  ]
  const statuses = new Map<number, number>()
  const bodies: string[] = []
  const total = 10_000
  const countsBefore = await s.pool.query('SELECT (SELECT count(*) FROM salesforce.product2)::int AS products, (SELECT count(*) FROM warehouse_stock)::int AS stock')
  for (let i = 0; i < total; i++) {
    const action = actions[i % actions.length]
    if (action === undefined) continue
    const roll = rand()
    let payload: string
    if (roll < 0.45) payload = JSON.stringify(mutate(rand, valid[action.operationId] ?? {}))
    else if (roll < 0.85) payload = JSON.stringify(randomValue(rand))
    else if (roll < 0.9) payload = JSON.stringify(deeplyNested(2000))
    else if (roll < 0.95) payload = '{"items": [' // broken JSON
    else payload = `{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}, ${JSON.stringify(valid[action.operationId] ?? {}).slice(1)}`
    const context = rand() < 0.75
      ? goodContext()
      : (forgedContexts[Math.floor(rand() * forgedContexts.length)] as () => string | undefined)()
    const headers: Record<string, string> = { 'content-type': rand() < 0.97 ? 'application/json' : 'text/plain' }
    if (context !== undefined) headers['x-client-context'] = context
    const res = await s.app.inject({ method: 'POST', url: actionPath(action.operationId), headers, payload })
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    if (!DOCUMENTED.has(res.statusCode) || res.statusCode === 500) {
      t.fail(`${action.operationId} answered ${res.statusCode}: ${res.body.slice(0, 300)} for ${payload.slice(0, 200)}`)
    }
    if (res.statusCode >= 400) bodies.push(res.body)
  }
  t.comment(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`)
  t.equal([...statuses.values()].reduce((a, b) => a + b, 0), total, `${total} requests answered`)
  t.notOk(statuses.has(500), 'no 500')
  t.same(rejections, [], 'no unhandled rejection')
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution')

  const received = s.org.soqlLog.filter((e) => e.username !== 'integration@acme.local')
  // accountInsights asks the org only about accounts the mirror holds: random ids stop before the org.
  t.ok(received.length > 30, `${received.length} SOQL queries reached the org`)
  const unexpected = received.filter((e) => !EXPECTED_SOQL.some((shape) => shape.test(e.soql)))
  t.same(unexpected.map((e) => e.soql), [], 'every SOQL has the intended shape with literal ids only')
  for (const e of received.slice(0, 200)) t.doesNotThrow(() => parseQuery(e.soql), 'parses as SOQL')

  const countsAfter = await s.pool.query('SELECT (SELECT count(*) FROM salesforce.product2)::int AS products, (SELECT count(*) FROM warehouse_stock)::int AS stock')
  t.same(countsAfter.rows, countsBefore.rows, 'no table changed by injection')

  const health = await s.app.inject({ method: 'GET', url: '/healthcheck' })
  t.equal(health.statusCode, 200, 'still up')

  t.test('no token in any log line, error body or table', async (t) => {
    const logs = s.logs.join('\n')
    const answers = bodies.join('\n')
    const dump = await databaseText(s.pool)
    for (const token of tokens) {
      t.notOk(logs.includes(token), 'not in the logs')
      t.notOk(answers.includes(token), 'not in error bodies')
      t.notOk(dump.includes(token), 'not in any table')
    }
    t.notOk(logs.includes('forged-token'), 'a forged token is not logged either')
    t.notMatch(answers, /at \w+ \(|\.ts:\d+/, 'no stack trace in answers')
  })
})
