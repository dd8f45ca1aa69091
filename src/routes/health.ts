import type { FastifyInstance } from 'fastify'
import { Type, type Static } from 'typebox'
import { mirrorReadiness } from '../postgres/mirror-readiness.ts'

const MirrorHealth = Type.Object({
  ready: Type.Boolean(),
  message: Type.Optional(Type.String()),
  orgs: Type.Array(Type.Object({
    orgId: Type.String(),
    schema: Type.String(),
    ready: Type.Boolean(),
    missingTables: Type.Array(Type.String()),
    lastSyncAt: Type.Union([Type.String(), Type.Null()])
  }))
})

const HealthBody = Type.Object({
  status: Type.Enum(['ok', 'degraded']),
  database: Type.Object({
    ok: Type.Boolean(),
    latencyMs: Type.Optional(Type.Number()),
    error: Type.Optional(Type.String())
  }),
  mirror: Type.Optional(MirrorHealth)
})

/** The mirror's readiness is read at most this often: a router may ask for the health every second. */
const MIRROR_HEALTH_TTL_MS = 30_000

/**
 * `/healthcheck`: the service mesh lets it through without authentication. It needs no
 * Salesforce context and says separately whether the database answers (503 when it does not) and
 * whether each org's mirror has its tables and when it last changed. A mirror Heroku Connect has not
 * filled yet does not fail the health: the dyno is fine, and the actions that need the mirror say
 * MIRROR_NOT_READY or ORG_NOT_MIRRORED themselves.
 */
export default async function healthRoutes (app: FastifyInstance): Promise<void> {
  let mirror: { read: number, health: Promise<Static<typeof MirrorHealth>> } | undefined
  const mirrorHealth = async (): Promise<Static<typeof MirrorHealth>> => {
    const orgs = await mirrorReadiness(app.pg, app.mirrors.schemas)
    if (orgs.length === 0) {
      return {
        ready: false,
        message: 'No Heroku Connect schema holds an org yet: Connect records its org in <schema>._hcmeta once its ' +
          'connection is authorized (or set MIRROR_SCHEMAS)',
        orgs
      }
    }
    const missing = orgs.filter((org) => !org.ready)
    return {
      ready: missing.length === 0,
      ...(missing.length === 0
        ? {}
        : { message: `Tables missing in ${missing.map((org) => org.schema).join(', ')}: import connect/mapping.json (heroku connect:import)` }),
      orgs
    }
  }

  app.get('/healthcheck', {
    schema: { hide: true, response: { 200: HealthBody, 503: HealthBody } },
    handler: async (_request, reply) => {
      if (!app.hasDecorator('pg')) return { status: 'ok', database: { ok: false, error: 'not configured' } }
      const started = performance.now()
      try {
        await app.pg.query('SELECT 1')
      } catch {
        return reply.status(503).send({ status: 'degraded', database: { ok: false, error: 'database unreachable' } })
      }
      const database = { ok: true, latencyMs: Math.round(performance.now() - started) }
      if (mirror === undefined || Date.now() - mirror.read > MIRROR_HEALTH_TTL_MS) {
        const read = { read: Date.now(), health: mirrorHealth() }
        mirror = read
        // Only a ready mirror is remembered: while Connect sets up, each check sees its progress.
        read.health.then((health) => { if (!health.ready && mirror === read) mirror = undefined },
          () => { if (mirror === read) mirror = undefined })
      }
      const health = await mirror.health.catch(() => undefined)
      return { status: 'ok', database, ...(health === undefined ? {} : { mirror: health }) }
    }
  })
}
