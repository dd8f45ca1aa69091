import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'

const HealthBody = Type.Object({
  status: Type.Enum(['ok', 'degraded']),
  database: Type.Object({
    ok: Type.Boolean(),
    latencyMs: Type.Optional(Type.Number()),
    error: Type.Optional(Type.String())
  })
})

/**
 * `/healthcheck`: the service mesh lets it through without authentication. It needs no
 * Salesforce context and says separately whether the database answers.
 */
export default async function healthRoutes (app: FastifyInstance): Promise<void> {
  app.get('/healthcheck', {
    schema: { hide: true, response: { 200: HealthBody, 503: HealthBody } },
    handler: async (_request, reply) => {
      if (!app.hasDecorator('pg')) return { status: 'ok', database: { ok: false, error: 'not configured' } }
      const started = performance.now()
      try {
        await app.pg.query('SELECT 1')
        return { status: 'ok', database: { ok: true, latencyMs: Math.round(performance.now() - started) } }
      } catch {
        return reply.status(503).send({ status: 'degraded', database: { ok: false, error: 'database unreachable' } })
      }
    }
  })
}
