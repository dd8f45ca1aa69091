// autocannon ships no types; loaded through require so this file's types do not merge with the
// ambient declaration bench/ keeps for the narrower part of the API it uses.
import { createRequire } from 'node:module'
import type { EventEmitter } from 'node:events'

export interface CannonRequest {
  method?: string
  path?: string
  headers?: Record<string, string>
  body?: string
}

export interface CannonRequestSpec {
  /** Builds the request just before it is written; `context` is per connection. */
  setupRequest: (req: CannonRequest, context: Record<string, unknown>) => CannonRequest
  onResponse: (status: number, body: string, context: Record<string, unknown>) => void
}

export interface CannonOptions {
  url: string
  connections: number
  duration: number
  /** Seconds a request may take before autocannon drops the connection. */
  timeout: number
  requests: CannonRequestSpec[]
}

export interface CannonHistogram { average: number, p50: number, p90: number, p99: number, max: number, total: number }

export interface CannonResult {
  requests: CannonHistogram
  latency: CannonHistogram
  errors: number
  timeouts: number
  non2xx: number
  resets: number
  duration: number
  statusCodeStats: Record<string, { count: number }>
}

export interface CannonRun extends EventEmitter, PromiseLike<CannonResult> {
  stop: () => void
}

const require = createRequire(import.meta.url)
export const autocannon = require('autocannon') as (opts: CannonOptions) => CannonRun
