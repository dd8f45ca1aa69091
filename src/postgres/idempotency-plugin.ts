import fp from 'fastify-plugin'
import { IdempotencyWriter } from './idempotency.ts'
import { countQueries } from './query-count.ts'
import { genericPlanPool, logIdleClientErrors } from './pool.ts'

declare module 'fastify' {
  interface FastifyInstance {
    idempotency: IdempotencyWriter
  }
}

/**
 * The pool's idempotency writer (claims and answers batched across requests), its batched
 * statements on a connection of their own (see genericPlanPool). On close, after the in-flight
 * requests finished and before the pg plugin ends the pool (a child's onClose runs before its
 * parent's, and this plugin is registered after pg), it writes the answers still queued.
 */
export default fp(async (app) => {
  const statements = genericPlanPool(app.pg)
  countQueries(statements)
  logIdleClientErrors(statements, app.log)
  const writer = new IdempotencyWriter(app.pg, statements)
  app.decorate('idempotency', writer)
  app.addHook('onClose', async () => {
    await writer.close()
    await statements.end()
  })
}, { name: 'idempotency', dependencies: ['pg'] })
