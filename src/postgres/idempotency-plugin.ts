import fp from 'fastify-plugin'
import { IdempotencyWriter } from './idempotency.ts'

declare module 'fastify' {
  interface FastifyInstance {
    idempotency: IdempotencyWriter
  }
}

/**
 * The pool's idempotency writer (claims and answers batched across requests). On close, after
 * the in-flight requests finished and before the pg plugin ends the pool (a child's onClose runs
 * before its parent's, and this plugin is registered after pg), it writes the answers still queued.
 */
export default fp(async (app) => {
  const writer = new IdempotencyWriter(app.pg)
  app.decorate('idempotency', writer)
  app.addHook('onClose', async () => { await writer.close() })
}, { name: 'idempotency', dependencies: ['pg'] })
