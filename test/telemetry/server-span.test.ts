// The server span a traced scope opens per request (traceRequests), as OpenTelemetry's HTTP
// conventions want it: named by method and route, a 5xx marked as an error and a 4xx not, a caller's
// W3C traceparent continued. The real SDK, exporting OTLP/HTTP JSON to a local receiver.
import t from 'tap'
import Fastify from 'fastify'
import { startOtlpReceiver } from '../../scripts/otlp-receiver.ts'
import { startTelemetry, stopTelemetry } from '../../src/telemetry/sdk.ts'
import { inSpan, traceRequests } from '../../src/telemetry/tracing.ts'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

const SERVER = 2
const ERROR = 2

t.test('one server span per request of a traced scope', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(receiver.close)
  // The SDK's exporters read their settings from the environment, as in `npm start`.
  Object.assign(process.env, {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_SERVICE_NAME: 'server-span-test'
  })
  t.ok(await startTelemetry(), 'the SDK started')
  const app = Fastify()
  await app.register(async (scope) => {
    traceRequests(scope)
    scope.post('/actions/:name', async (request, reply) => {
      const { name } = request.params as { name: string }
      if (name === 'nested') return await inSpan('nested work', {}, async () => ({ name }))
      if (name === 'broken') return await reply.status(500).send({ errorCode: 'UNEXPECTED' })
      if (name === 'refused') return await reply.status(422).send({ errorCode: 'RULE' })
      return { name }
    })
  })
  app.get('/healthcheck', async () => ({ ok: true }))
  t.teardown(async () => { await app.close() })

  const post = async (name: string, headers: Record<string, string> = {}) =>
    await app.inject({ method: 'POST', url: `/actions/${name}?debug=1`, headers })
  t.equal((await post('fine')).statusCode, 200)
  t.equal((await post('refused')).statusCode, 422)
  t.equal((await post('broken')).statusCode, 500)
  const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736'
  t.equal((await post('continued', { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/healthcheck' })).statusCode, 200)
  // Over a socket, the body a moment after the headers: the handler runs from the body's arrival.
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const socket = connect(Number(new URL(address).port), '127.0.0.1')
  const answered = new Promise<string>((resolve) => {
    let text = ''
    socket.on('data', (chunk: Buffer) => { text += chunk.toString('utf8') })
    socket.on('end', () => { resolve(text) })
  })
  socket.write('POST /actions/nested HTTP/1.1\r\nhost: x\r\nconnection: close\r\n' +
    'content-type: application/json\r\ncontent-length: 2\r\n\r\n')
  await sleep(50)
  socket.write('{}')
  t.match(await answered, /^HTTP\/1\.1 200/, 'the late body answered')
  await stopTelemetry()

  const nested = receiver.spans.find((s) => s.name === 'nested work')
  const nestedServer = receiver.spans.find((s) => s.attributes['url.path'] === '/actions/nested')
  t.ok(nested !== undefined && nestedServer !== undefined, 'both spans exported')
  t.same([nested?.traceId, nested?.parentSpanId], [nestedServer?.traceId, nestedServer?.spanId],
    'the handler\'s work beneath the server span, though its body came after the headers')
  const spans = receiver.spans.filter((s) => s.service === 'server-span-test' && s !== nested && s !== nestedServer)
  t.equal(spans.length, 4, 'one span per request of the scope, none for /healthcheck outside it')
  for (const span of spans) {
    t.equal(span.kind, SERVER)
    t.equal(span.name, 'POST /actions/:name', 'named by method and route, not by the path')
    t.match(span.attributes, {
      'http.request.method': 'POST', 'http.route': '/actions/:name', 'url.scheme': 'http', 'url.path': /^\/actions\/\w+$/
    }, 'the path without its query string')
  }
  const byStatus = (status: number) => spans.filter((s) => s.attributes['http.response.status_code'] === status)
  t.equal(byStatus(200).length, 2)
  t.same(byStatus(500).map((s) => [s.status.code, s.attributes['error.type']]), [[ERROR, '500']], 'a 5xx is an error')
  t.same(byStatus(422).map((s) => [s.status.code ?? 0, s.attributes['error.type']]), [[0, undefined]],
    'a 4xx is the caller\'s doing, not the server\'s: status left unset')
  const continued = spans.find((s) => s.attributes['url.path'] === '/actions/continued')
  t.same([continued?.traceId, continued?.parentSpanId], [callerTrace, '00f067aa0ba902b7'], 'a child of the caller\'s span')
  const own = spans.filter((s) => s !== continued)
  t.equal(new Set(own.map((s) => s.traceId)).size, 3, 'without traceparent, each request its own trace')
  t.ok(own.every((s) => s.parentSpanId === ''), 'as its root')
})
