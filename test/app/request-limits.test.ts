import type { Test } from 'tap'
import t from 'tap'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Type } from 'typebox'
import { defineAction } from '../../src/actions/define.ts'
import { assertError, buildApp, clientContext, encodeContext, testConfig } from '../helper.ts'

// These actions test how requests arrive, not who sends them: their fake contexts name no org that
// could confirm the token, so they take the context as given.
const testActions = [
  defineAction({
    operationId: 'echoInput',
    summary: 'echo',
    description: 'Echoes its validated input',
    request: Type.Object({ name: Type.String() }, { additionalProperties: false }),
    response: Type.Object({ name: Type.String() }),
    identity: 'from-context',
    handler: async (input) => ({ name: input.name })
  }),
  defineAction({
    operationId: 'slowWork',
    summary: 'slow',
    description: 'Answers after 1.5 s, as an action waiting on the org does',
    request: Type.Object({}),
    response: Type.Object({ done: Type.Boolean() }),
    identity: 'from-context',
    handler: async () => { await sleep(1500); return { done: true } }
  })
]

/** Builds the app on a real socket; returns its port and its log lines. */
async function listening (t: Test, env: Record<string, string> = {}): Promise<{ port: number, logs: string[] }> {
  const { app, logs } = await buildApp(t, { database: false, actions: testActions, env })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { port: (app.server.address() as net.AddressInfo).port, logs }
}

const head = (path: string, headers: Record<string, string | number>): string =>
  `POST ${path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n` +
  `x-client-context: ${encodeContext(clientContext())}\r\n` +
  Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n'

interface Answer { status: number, headers: Record<string, string>, body: string }

/**
 * A raw HTTP/1.1 connection: what a proxy sees, with no client library smoothing over a reset.
 * It reads all the time, including while it writes, and goes on writing after the service has
 * said its last word, as a proxy streaming a body does.
 */
class RawConnection {
  readonly socket: net.Socket
  received = Buffer.alloc(0)
  error: NodeJS.ErrnoException | undefined
  written = 0
  readonly closed: Promise<void>
  private waiters: Array<() => void> = []

  constructor (port: number) {
    this.socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true })
    this.socket.on('data', (chunk: Buffer) => { this.received = Buffer.concat([this.received, chunk]); this.wake() })
    this.socket.on('error', (err) => { this.error ??= err })
    this.closed = new Promise((resolve) => this.socket.on('close', () => { this.wake(); resolve() }))
  }

  private wake (): void { for (const w of this.waiters.splice(0)) w() }
  private async changed (): Promise<void> { await new Promise<void>((resolve) => this.waiters.push(resolve)) }

  /** Writes with backpressure; stops quietly at the first error, which stays in `error`. */
  async write (data: string | Buffer): Promise<void> {
    if (this.socket.destroyed || this.socket.writableEnded) return
    const ok = this.socket.write(data, (err) => { if (err === null || err === undefined) this.written += data.length })
    if (!ok) {
      await new Promise<void>((resolve) => {
        const done = (): void => { this.socket.off('drain', done); this.socket.off('close', done); resolve() }
        this.socket.on('drain', done)
        this.socket.on('close', done)
      })
    }
  }

  /** `bytes` of filler in 64 KiB pieces, each wrapped by `frame` (chunked encoding). */
  async writeBody (bytes: number, frame: (chunk: Buffer) => Buffer = (chunk) => chunk): Promise<void> {
    const piece = Buffer.alloc(65_536, 0x20)
    for (let left = bytes; left > 0 && this.error === undefined && !this.socket.destroyed; left -= piece.length) {
      await this.write(frame(piece.subarray(0, Math.min(left, piece.length))))
    }
  }

  /** The next whole answer (headers and a Content-Length body), or undefined once the connection closes. */
  async answer (): Promise<Answer | undefined> {
    for (;;) {
      const end = this.received.indexOf('\r\n\r\n')
      if (end >= 0) {
        const [statusLine = '', ...lines] = this.received.subarray(0, end).toString('latin1').split('\r\n')
        const headers = Object.fromEntries(lines.map((line) => {
          const colon = line.indexOf(':')
          return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]
        }))
        const length = Number(headers['content-length'] ?? 0)
        if (this.received.length >= end + 4 + length) {
          const body = this.received.subarray(end + 4, end + 4 + length).toString('utf8')
          this.received = this.received.subarray(end + 4 + length)
          return { status: Number(statusLine.split(' ')[1]), headers, body }
        }
      }
      if (this.socket.destroyed || this.socket.readableEnded) return undefined
      await this.changed()
    }
  }
}

/** Asserts the service's error body; gives it back. */
function errorBody (t: Test, answer: Answer | undefined, status: number, errorCode: string): Record<string, unknown> {
  t.equal(answer?.status, status, `HTTP ${status}`)
  const body = JSON.parse(answer?.body ?? '{}') as Record<string, unknown>
  t.equal(body.errorCode, errorCode)
  t.type(body.message, 'string')
  t.same(body.fields, [])
  t.type(body.requestId, 'string')
  return body
}

t.test('a body sent a byte at a time gets 408 once the request timeout has passed', async (t) => {
  const { port, logs } = await listening(t, { REQUEST_TIMEOUT_MS: '1000' })
  const conn = new RawConnection(port)
  const started = Date.now()
  await conn.write(head('/actions/echoInput', { 'content-length': 100 }))
  const dribble = (async () => {
    while (!conn.socket.destroyed && Date.now() - started < 6000) { await conn.write(' '); await sleep(200) }
  })()
  const answer = await Promise.race([conn.answer(), sleep(6000).then(() => undefined)])
  errorBody(t, answer, 408, 'REQUEST_TIMEOUT')
  await Promise.race([conn.closed, sleep(6000)])
  const elapsed = Date.now() - started
  t.ok(conn.socket.destroyed, 'the connection is closed')
  t.ok(elapsed >= 1000 && elapsed < 3000, `answered and closed after the 1 s timeout (${elapsed} ms)`)
  conn.socket.destroy()
  await dribble
  await sleep(100)
  t.notMatch(logs.join(''), /"stack"|"level":50/, 'a slow client is no error of the service\'s')
  t.match(logs.join(''), /"errorCode":"REQUEST_TIMEOUT","status":408/, 'the 408 is logged with its request id')
})

t.test('the request timeout counts neither a slow handler nor a kept-alive connection\'s idle time', async (t) => {
  const { port } = await listening(t, { REQUEST_TIMEOUT_MS: '1000' })
  const conn = new RawConnection(port)
  await conn.write(head('/actions/slowWork', { 'content-length': 2 }) + '{}')
  const slow = await conn.answer()
  t.equal(slow?.status, 200, 'a handler slower than the request timeout still answers')
  await sleep(1500)
  await conn.write(head('/actions/echoInput', { 'content-length': 12 }) + '{"name":"a"}')
  const next = await conn.answer()
  t.equal(next?.status, 200, 'a kept-alive connection idle longer than the timeout takes the next request')
  t.same(JSON.parse(next?.body ?? '{}'), { name: 'a' })
  conn.socket.destroy()
})

t.test('the connection timeout must outlast the org budget, or it would cut a slow handler', async (t) => {
  t.throws(() => testConfig({ CONNECTION_TIMEOUT_MS: '25000' }),
    /CONNECTION_TIMEOUT_MS must be longer than REQUEST_BUDGET_MS/)
  t.equal(testConfig({ CONNECTION_TIMEOUT_MS: '6000', REQUEST_BUDGET_MS: '5000' }).CONNECTION_TIMEOUT_MS, 6000)
})

const MB = 1_048_576
const LIMIT = MB

/** A raw client writes the whole body while it reads, as a proxy does. */
async function oversized (port: number, bytes: number): Promise<{ conn: RawConnection, answer: Answer | undefined }> {
  const conn = new RawConnection(port)
  await conn.write(head('/actions/echoInput', { 'content-length': bytes }))
  const answer = conn.answer()
  await conn.writeBody(bytes)
  conn.socket.end()
  return { conn, answer: await answer }
}

t.test('a body over the limit gets its 413 while the caller is still sending', async (t) => {
  const { port, logs } = await listening(t)
  for (const bytes of [LIMIT + 1, 10 * MB]) {
    const { conn, answer } = await oversized(port, bytes)
    errorBody(t, answer, 413, 'REQUEST_TOO_LARGE')
    t.equal(answer?.headers.connection, 'close', 'the connection is closed after the answer')
    await conn.closed
    t.equal(conn.error?.code, undefined, `${bytes} bytes: no reset (${conn.error?.code})`)
    t.ok(conn.written > bytes, 'the whole request is taken')
  }
  const { conn, answer } = await oversized(port, 100 * MB)
  errorBody(t, answer, 413, 'REQUEST_TOO_LARGE')
  await conn.closed
  const read = Math.round(conn.written / MB)
  t.ok(conn.written >= 32 * MB, `100 MB: the service reads on for a bounded amount (${read} MB) before it closes`)
  t.notMatch(logs.join(''), /"stack"|"level":50/, 'no error of the service\'s is logged')
})

t.test('a chunked body that grows past the limit gets its 413', async (t) => {
  const { port } = await listening(t)
  const conn = new RawConnection(port)
  await conn.write(head('/actions/echoInput', { 'transfer-encoding': 'chunked' }))
  const answer = conn.answer()
  const chunked = (chunk: Buffer): Buffer =>
    Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])
  await conn.writeBody(20 * MB, chunked)
  await conn.write('0\r\n\r\n')
  conn.socket.end()
  errorBody(t, await answer, 413, 'REQUEST_TOO_LARGE')
  await conn.closed
  t.equal(conn.error?.code, undefined, 'the whole body is taken, with no reset')
})

t.test('Expect: 100-continue with a declared length over the limit gets 413, not 100', async (t) => {
  const { port } = await listening(t)
  const conn = new RawConnection(port)
  await conn.write(head('/actions/echoInput', { 'content-length': 10 * MB, expect: '100-continue' }))
  const answer = await conn.answer()
  errorBody(t, answer, 413, 'REQUEST_TOO_LARGE')
  t.notMatch(conn.received.toString('latin1'), /100 Continue/)
  conn.socket.destroy()

  const small = new RawConnection(port)
  await small.write(head('/actions/echoInput', { 'content-length': 12, expect: '100-continue' }))
  const goOn = await small.answer()
  t.equal(goOn?.status, 100, 'a body within the limit is asked for')
  await small.write('{"name":"a"}')
  const done = await small.answer()
  t.equal(done?.status, 200)
  t.same(JSON.parse(done?.body ?? '{}'), { name: 'a' })
  small.socket.destroy()
})

t.test('a normal request on a kept-alive connection still works', async (t) => {
  const { port } = await listening(t)
  const conn = new RawConnection(port)
  for (const name of ['a', 'b']) {
    await conn.write(head('/actions/echoInput', { 'content-length': 12 }) + `{"name":"${name}"}`)
    const answer = await conn.answer()
    t.equal(answer?.status, 200)
    t.not(answer?.headers.connection, 'close', 'the connection stays open')
    t.same(JSON.parse(answer?.body ?? '{}'), { name })
  }
  conn.socket.destroy()
})

t.test('deeply nested JSON is refused before it is parsed, without holding the event loop', async (t) => {
  const { app } = await buildApp(t, { database: false, actions: testActions })
  const post = async (payload: string): Promise<Awaited<ReturnType<typeof app.inject>>> => app.inject({
    method: 'POST',
    url: '/actions/echoInput',
    headers: { 'content-type': 'application/json', 'x-client-context': encodeContext(clientContext()) },
    payload
  })
  const depth = 500_000
  const nested = `{"name":${'['.repeat(depth)}${']'.repeat(depth)}}`
  t.ok(nested.length < LIMIT, 'within the body limit')
  await post(nested) // warm-up: the first request compiles the route's validator
  // What parsing this body costs on this machine now (240–410 ms when idle; other test files may
  // share its cores): the depth scan stops at level 33, so the answer takes a fraction of it. The
  // best of three tries, as one try may be descheduled for as long.
  const parsing = performance.now()
  JSON.parse(nested)
  const parseMs = performance.now() - parsing
  let took = Infinity
  let blocked = Infinity
  for (let i = 0; i < 3; i++) {
    const delay = monitorEventLoopDelay({ resolution: 5 })
    delay.enable()
    const started = performance.now()
    const res = await post(nested)
    took = Math.min(took, performance.now() - started)
    await sleep(20) // the monitor records a stall when its timer finally runs
    delay.disable()
    blocked = Math.min(blocked, delay.max / 1e6)
    if (i === 0) t.match(assertError(t, res, 400, 'INVALID_REQUEST', []).message, /nested deeper than 32/)
  }
  t.ok(took < parseMs / 4 && blocked < parseMs / 4,
    `answered in ${took.toFixed(1)} ms, event loop held at most ${blocked.toFixed(1)} ms; parsing takes ${parseMs.toFixed(1)} ms`)

  t.equal((await post(`{"name":"${'['.repeat(40)}"}`)).statusCode, 200, 'brackets inside a string do not count')
  t.equal((await post('{"name":"\\\\"}')).statusCode, 200, 'an escaped backslash ends before the closing quote')
  const deep = (n: number): string => `{"name":"a","x":${'['.repeat(n)}${']'.repeat(n)}}`
  assertError(t, await post(deep(31)), 400, 'INVALID_REQUEST', ['x'])
  t.match((await post(deep(32))).json(), { message: /nested deeper than 32/ }, 'one level more is refused by depth')
  t.match((await post('{"name":"__proto__", "__proto__": {"a": 1}}')).json(), { errorCode: 'INVALID_REQUEST' },
    'prototype poisoning is still refused')
})
