import { STATUS_CODES, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { requestIdFrom } from '../salesforce/context.ts'
import type { ErrorBodyType } from '../schemas/common.ts'
import { InvalidRequest } from '../errors.ts'

interface ClientErrorAnswer { status: number, errorCode: string, message: string }

/** Node's errors about the connection itself (no route saw the request), in the shared error body's terms. */
function clientErrorAnswer (code: string | undefined): ClientErrorAnswer {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return {
      status: 408,
      errorCode: 'REQUEST_TIMEOUT',
      message: 'The request did not arrive in full in the time this service allows'
    }
  }
  if (code === 'HPE_HEADER_OVERFLOW') {
    return {
      status: 431,
      errorCode: 'REQUEST_HEADERS_TOO_LARGE',
      message: 'The request headers are larger than this service accepts'
    }
  }
  return { status: 400, errorCode: 'INVALID_REQUEST', message: 'The request is not valid HTTP' }
}

/** What Node keeps on a socket with a request in flight (lib/_http_server.js reads the same). */
interface HttpSocket extends Socket { _httpMessage?: { headersSent: boolean, req?: IncomingMessage } | null }

/**
 * Fastify's `clientErrorHandler` (bound to the instance): a request timeout, an oversized header or
 * bad HTTP get the shared error body instead of Fastify's own, so a caller sees one shape. Like
 * Node's default it answers only when no answer has started on the connection, then closes it once
 * the answer is written.
 */
export function clientErrorHandler (this: FastifyInstance, err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  // Already answered (a lingering close after a 413 is reading the rest): that close ends the connection.
  if (socket.writableEnded) {
    if (err.code !== 'ERR_HTTP_REQUEST_TIMEOUT') socket.destroy()
    return
  }
  const inFlight = (socket as HttpSocket)._httpMessage
  if (inFlight?.headersSent === true) {
    socket.destroy()
    return
  }
  const { status, errorCode, message } = clientErrorAnswer(err.code)
  const requestId = inFlight?.req === undefined ? randomUUID() : requestIdFrom(inFlight.req)
  // Info, not error: a slow or broken client is the caller's problem, and its stack says nothing.
  this.log.info({ requestId, errorCode, status, code: err.code }, message)
  const body: ErrorBodyType = { errorCode, message, fields: [], requestId }
  const json = JSON.stringify(body)
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\n` +
    `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`,
  () => { socket.destroy() })
}

/**
 * How long, and how much, a connection answered before its body arrived in full is still read
 * and thrown away before it is closed. Closing a socket with data still coming makes the kernel
 * answer with a reset, and the reset makes the caller's side drop the answer it has not read yet:
 * curl shows 000, a proxy a 502, never the 413. A caller that sees the answer stops sending within
 * a round trip or two, and what is in flight is at most the two sides' socket buffers (some MB);
 * the bounds only stop a caller that never stops from holding the connection.
 */
const LINGER_MS = 5000
const LINGER_BYTES = 32 * 1_048_576

/**
 * Answered before the whole body came: the answer says `Connection: close` and, once it is written,
 * the rest of the body is read and dropped (a lingering close) until it ends or the bounds run out.
 * Node ends such a connection with `socket.destroySoon()` (lib/_http_server.js, resOnFinish), which
 * would close the socket at once; this socket's own method takes its place.
 */
function closeAfterBody (request: FastifyRequest): void {
  const { raw } = request
  const socket = raw.socket
  let dropped = 0
  // Reading on keeps the body flowing (Node would otherwise drop it unread, uncounted).
  raw.on('data', (chunk: Buffer) => {
    dropped += chunk.length
    if (dropped > LINGER_BYTES) socket.destroy()
  })
  socket.destroySoon = () => {
    socket.end()
    const timer = setTimeout(() => { socket.destroy() }, LINGER_MS).unref()
    socket.once('close', () => { clearTimeout(timer) })
    const close = (): void => {
      if (socket.writableFinished) socket.destroy()
      else socket.once('finish', () => { socket.destroy() })
    }
    if (raw.complete) close()
    else raw.once('end', close)
  }
}

/**
 * For the answers that can go out before the body has come in full: errors (413, 415, a refused
 * context) and unknown routes, which the error handlers send. A handler's own answer comes after
 * its body was read, so no hook on every answer is needed (a hook costs each request, issue 16).
 */
export function closeIfBodyPending (request: FastifyRequest, reply: FastifyReply): void {
  if (request.raw.complete) return
  void reply.header('connection', 'close')
  closeAfterBody(request)
}

/**
 * Deepest nesting of objects and arrays a body may have. No action's input nests deeper than 4;
 * JSON.parse on a 1 MB body of nothing but brackets held the event loop 240–410 ms.
 */
const MAX_DEPTH = 32
const QUOTE = 0x22
const BACKSLASH = 0x5c

/** Whether the JSON text nests objects and arrays deeper than MAX_DEPTH; stops at the first level too many. */
export function nestedTooDeep (text: string): boolean {
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      // Brackets inside a string do not count: skip to its closing quote, one not escaped by an odd run of backslashes.
      let end = text.indexOf('"', i + 1)
      while (end !== -1 && escaped(text, end)) end = text.indexOf('"', end + 1)
      if (end === -1) return false // unterminated: the JSON parser says so
      i = end
    } else if (c === 0x5b || c === 0x7b) { // [ {
      if (++depth > MAX_DEPTH) return true
    } else if (c === 0x5d || c === 0x7d) { // ] }
      depth--
    }
  }
  return false
}

function escaped (text: string, quoteAt: number): boolean {
  let backslashes = 0
  while (text.charCodeAt(quoteAt - 1 - backslashes) === BACKSLASH) backslashes++
  return backslashes % 2 === 1
}

/**
 * Bodies over the limit get their 413 in every case: a caller asking `Expect: 100-continue` gets the
 * 413 instead of the 100, and one already sending gets it with a lingering close (see above).
 * JSON bodies nested deeper than MAX_DEPTH get 400 before they are parsed.
 */
export default fp(async (app) => {
  const limit = app.config.BODY_LIMIT_BYTES
  // Without a 100 the caller keeps its body; Fastify's body parser then answers 413 from the
  // declared length alone. Anything else goes on as Node would have let it.
  app.server.on('checkContinue', (req: IncomingMessage, res) => {
    if (!(Number(req.headers['content-length']) > limit)) res.writeContinue()
    app.server.emit('request', req, res)
  })
  // Fastify's JSON parser with its prototype-poisoning checks, behind a depth check that costs a
  // pass over the text (no allocation) and refuses deep nesting before the parser spends time on it.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  // Every action takes JSON: a text/plain body (Fastify parses it by default) is 415, as any other type.
  app.removeContentTypeParser('text/plain')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string // parseAs: 'string'
    if (nestedTooDeep(text)) {
      done(new InvalidRequest(`The request body is nested deeper than ${MAX_DEPTH} levels of objects and arrays`))
      return
    }
    parseJson(request, text, done)
  })
}, { name: 'request-limits', dependencies: ['config'] })
