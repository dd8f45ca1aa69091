import { STATUS_CODES, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { requestIdFrom } from '../salesforce/context.ts'
import type { ErrorBodyType } from '../schemas/common.ts'

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
