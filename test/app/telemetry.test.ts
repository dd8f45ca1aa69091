// OpenTelemetry as a user turns it on: `npm run dev` with the standard OTEL_* variables pointing at
// an OTLP/HTTP receiver. A generateQuote call is one trace (server span, org calls without ids, SQL,
// the idempotency claim); a rescore job's spans join the call that queued it; its log lines carry
// the trace's ids; the metrics arrive. And with --traces the stack prints each call's waterfall.
import t, { type Test } from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { spawnDev, testDatabase, until } from '../helper.ts'
import { startOtlpReceiver } from '../../scripts/otlp-receiver.ts'

const SERVER = 2
const CLIENT = 3

/** `npm run dev -- --orgs acme` on a database of its own, with `args` and `env`: what it prints, once ready. */
async function startDev (t: Test, name: string, args: string[], env: Record<string, string>) {
  const dataDir = await mkdtemp(path.join(tmpdir(), `applink-${name}-`))
  // Watched and never written: the org's journal in dataDir would restart the service on a new port.
  const quiet = await mkdtemp(path.join(tmpdir(), `applink-${name}-watch-`))
  t.teardown(() => Promise.all([dataDir, quiet].map(async (dir) => {
    await rm(dir, { recursive: true, force: true })
  })))
  const { url } = await testDatabase(t, name)
  const dev = spawnDev(t, ['--orgs', 'acme', ...args, '--data-dir', dataDir, '--watch', quiet], {
    env: { ...process.env, DATABASE_URL: url, APP_PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'ignore']
  })
  const printed: string[] = []
  createInterface({ input: dev.stdout }).on('line', (text) => { printed.push(text) })
  const value = (prefix: string) => printed.find((l) => l.startsWith(prefix))?.slice(prefix.length)
  await until('the dev stack to be ready', () => value('CONTEXT rep1@acme.local ') !== undefined, 120_000, 200)
  return { printed, value }
}

t.test('traces, correlated logs and metrics of a dev stack, over OTLP/HTTP JSON', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(receiver.close)
  const { printed, value } = await startDev(t, 'otel', [], {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_SERVICE_NAME: 'applink-actions-test',
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_METRIC_EXPORT_INTERVAL: '1000'
  })
  const serviceUrl = value('SERVICE_URL=') as string
  const context = value('CONTEXT rep1@acme.local ') as string
  const orgUrl = value('LOCAL_ORG_URL=') as string
  const token = (JSON.parse(Buffer.from(context, 'base64').toString('utf8')) as { accessToken: string }).accessToken
  const call = async (operationId: string, body: unknown, headers: Record<string, string> = {}) =>
    await fetch(`${serviceUrl}/actions/${operationId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-client-context': context, ...headers },
      body: JSON.stringify(body)
    })
  const query = await fetch(`${orgUrl}/services/data/v62.0/query?q=${encodeURIComponent(
    'SELECT Id FROM Opportunity WHERE HasOpportunityLineItem = true AND IsClosed = false AND Owner.Username = \'rep1@acme.local\' LIMIT 1')}`,
  { headers: { authorization: `Bearer ${token}` } })
  const opportunityId = ((await query.json()) as { records: Array<{ Id: string }> }).records[0]?.Id ?? ''
  const quote = await call('generateQuote', { opportunityId })
  t.equal(quote.status, 200)

  const serverSpan = await until('the quote\'s server span', () => receiver.spans.find((s) =>
    s.kind === SERVER && s.attributes['applink.operation_id'] === 'generateQuote'), 20_000, 100)
  t.equal(serverSpan.service, 'applink-actions-test', 'OTEL_SERVICE_NAME names the service')
  t.equal(serverSpan.name, 'POST /actions/generateQuote', 'the server span named by its method and route')
  t.match(serverSpan.attributes, { 'http.request.method': 'POST', 'http.route': '/actions/generateQuote' })
  t.match(serverSpan.attributes, { 'salesforce.org_id': /^00D/, 'applink.request_id': /^00D/, 'http.response.status_code': 200 })
  // The server span, the claim and the two org calls (the pricing statement only when its cache is cold).
  await until('the whole trace', () => receiver.spans.filter((s) => s.traceId === serverSpan.traceId).length >= 4, 10_000, 100)
  const trace = receiver.spans.filter((s) => s.traceId === serverSpan.traceId)
  const orgCalls = trace.filter((s) => s.kind === CLIENT && s.name.startsWith('salesforce '))
  t.same(orgCalls.map((s) => s.name).sort(), ['salesforce GET /query', 'salesforce POST /composite/graph'],
    'a client span per org call, its path a template')
  for (const span of orgCalls) {
    t.match(span.attributes, { 'http.response.status_code': 200, 'salesforce.api_usage.used': Number, 'salesforce.api_usage.max': Number })
  }
  t.ok(trace.some((s) => s.name === 'idempotency claim'), 'the idempotency claim')
  t.ok(trace.some((s) => s.name.startsWith('pg.query')), 'SQL statements')
  t.notOk(trace.some((s) => s.name.startsWith('handler')), 'no handler span doubling the server span')
  t.ok(trace.filter((s) => s.parentSpanId === serverSpan.spanId).length >= 3, 'the work hangs under the server span')
  t.notOk(trace.some((s) => /^pg\.query:(BEGIN|COMMIT)/.test(s.name)), 'no span for the BEGIN and COMMIT scoping a statement to the org')
  t.notOk(trace.some((s) => s.name.startsWith('pg.query:idempotency')),
    'the batched claim statement (it may carry other calls\' claims) is not filed under this call')
  const everything = JSON.stringify(trace.map((s) => [s.name, s.attributes]))
  t.notOk(everything.includes(token), 'no token in any span')
  t.notOk(everything.includes('rep1@acme.local'), 'no username')
  t.notOk(everything.includes(opportunityId), 'no record id')

  // A caller that sends W3C trace context gets its call traced as a child of its own span.
  const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736'
  const callerSpan = '00f067aa0ba902b7'
  t.equal((await call('whoAmI', {}, { traceparent: `00-${callerTrace}-${callerSpan}-01` })).status, 200)
  const continued = await until('the call continuing the caller\'s trace', () => receiver.spans.find((s) =>
    s.kind === SERVER && s.attributes['applink.operation_id'] === 'whoAmI'), 20_000, 100)
  t.same([continued.traceId, continued.parentSpanId], [callerTrace, callerSpan], 'a child of the caller\'s span')

  // The rescore job's spans join the call that queued it.
  const started = await call('startAccountRescore', { segment: 'Customer' })
  t.equal(started.status, 202)
  const startSpan = await until('the start\'s server span', () => receiver.spans.find((s) =>
    s.kind === SERVER && s.attributes['applink.operation_id'] === 'startAccountRescore'), 20_000, 100)
  const jobSpan = await until('the job\'s span', () => receiver.spans.find((s) => s.name === 'job rescore-accounts'), 60_000, 200)
  t.equal(jobSpan.traceId, startSpan.traceId, 'the job\'s span is in the trace of the call that queued it')
  await until('the job\'s org calls', () => receiver.spans.some((s) =>
    s.traceId === startSpan.traceId && s.kind === CLIENT && s.parentSpanId !== '' && s.startNs > jobSpan.startNs), 60_000, 200)

  // Log lines written during the call carry its trace.
  const logs = printed.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
  const actionLine = logs.find((l) => l.msg === 'action' && l.operationId === 'generateQuote')
  t.equal(actionLine?.trace_id, serverSpan.traceId, 'the action\'s log line has its trace id')
  t.type(actionLine?.span_id, 'string')
  t.ok(logs.some((l) => l.msg === 'job started' && l.trace_id === startSpan.traceId), 'and the job\'s lines the job\'s')

  // A tool call over MCP: its server span carries the action, as the REST route's does.
  const mcpUrl = value('MCP_URL=') as string
  const issued = await fetch(`${mcpUrl.replace(/\/mcp$/, '')}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: value('MCP_CLIENT_ID=') ?? '', client_secret: value('MCP_CLIENT_SECRET=') ?? '' })
  })
  const { access_token: mcpToken } = await issued.json() as { access_token: string }
  const tool = await fetch(mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${mcpToken}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'checkAvailability', arguments: { items: [{ productCode: 'HW-0001', quantity: 1 }] } } })
  })
  t.equal(tool.status, 200)
  const toolSpan = await until('the tool call\'s server span', () => receiver.spans.find((s) =>
    s.kind === SERVER && s.attributes['applink.mcp_client'] !== undefined), 20_000, 100)
  t.match(toolSpan.attributes, { 'applink.operation_id': 'checkAvailability', 'salesforce.org_id': /^00D/, 'applink.request_id': String })
  t.ok(receiver.spans.some((s) => s.traceId === toolSpan.traceId && s.name.startsWith('pg.query')), 'its statements beneath it')

  const metric = async (name: string) => await until(`the metric ${name}`, () => receiver.points.find((p) => p.metric === name), 20_000, 200)
  t.match((await metric('applink.action.duration')).attributes, { 'applink.operation_id': String, 'applink.outcome': String })
  // Only over MCP was checkAvailability called: a tool call is an action call in the metrics too.
  await until('the tool call\'s duration', () => receiver.points.find((p) => p.metric === 'applink.action.duration' &&
    p.attributes['applink.operation_id'] === 'checkAvailability' && p.attributes['applink.outcome'] === 'ok'), 20_000, 200)
  t.match((await metric('applink.org.api_remaining')).attributes, { 'salesforce.org_id': /^00D/ })
  const apiCalls = await until('org API calls counted for the org', () => receiver.points.find((p) =>
    p.metric === 'applink.org.api_calls' && p.attributes['salesforce.org_id'] !== undefined && p.value >= 2), 20_000, 200)
  t.match(apiCalls.attributes, { 'salesforce.org_id': /^00D\w{12}$/ }, 'by the org id\'s 15 characters')
  await metric('applink.jobs.waiting')
  await metric('applink.jobs.oldest_waiting_age')
  t.ok((await metric('applink.mirror.age')).value >= 0, 'the mirror\'s age per org')
  await metric('applink.mirror.pending_writes')
})

t.test('npm run dev -- --traces prints each call\'s waterfall', async (t) => {
  const { printed, value } = await startDev(t, 'traces', ['--traces'], {})
  const res = await fetch(`${value('SERVICE_URL=') ?? ''}/actions/checkAvailability`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-client-context': value('CONTEXT rep1@acme.local ') ?? '' },
    body: JSON.stringify({ items: [{ productCode: 'HW-0001', quantity: 1 }] })
  })
  t.equal(res.status, 200)
  await until('the waterfall', () => printed.some((l) => /^ {2}trace \w{32} checkAvailability/.test(l)), 20_000, 100)
  const at = printed.findIndex((l) => /^ {2}trace \w{32} checkAvailability/.test(l))
  t.match(printed[at + 1], /^ {2} +0\.0 ms +[\d.]+ ms \|█+ *\| POST \/actions\/checkAvailability$/,
    'the request first, at 0 ms, with its duration, named by its route')
  t.ok(printed.slice(at + 2, at + 12).some((l) => /ms \|.*\| {3,}pg\.query/.test(l)), 'its statements beneath it, indented')
})
