import fp from 'fastify-plugin'
import { OrgMirrors, parseMirrorSchemas } from './org-mirrors.ts'
import { mirrorReadiness, pendingWrites } from './mirror-readiness.ts'
import { observeFromDatabase } from '../telemetry/metrics.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** Each org's mirror, found from Heroku Connect's `_hcmeta`: handlers get their caller's as `mirror`. */
    mirrors: OrgMirrors
  }
}

/** An org not found is looked for again at most this often, as schemas appear while the app runs. */
const MISS_REFRESH_MS = 5000

/** Typed access to the tables Heroku Connect mirrors, one schema per org. */
export default fp(async (app) => {
  const mirrors = new OrgMirrors(app.pg, {
    overrides: parseMirrorSchemas(app.config.MIRROR_SCHEMAS),
    refreshMs: app.config.MIRROR_REFRESH_SECONDS * 1000,
    missRefreshMs: MISS_REFRESH_MS,
    onError: (err) => { app.log.warn({ err }, 'reading which org each mirror holds failed') }
  })
  await mirrors.start()
  app.decorate('mirrors', mirrors)
  app.addHook('onClose', async () => { mirrors.stop() })
  // Each org's mirror freshness and Connect's pending write-backs, read when metrics are exported.
  const stopObserving = observeFromDatabase({
    'applink.mirror.age': {
      unit: 's', description: 'Age of the newest change an org\'s mirror holds (its newest SystemModstamp)'
    },
    'applink.mirror.pending_writes': {
      description: 'Rows written to an org\'s read-write mirror tables that Heroku Connect has not sent yet'
    }
  }, async () => {
    const schemas = mirrors.schemas
    const [readiness, pending] = await Promise.all([mirrorReadiness(app.pg, schemas), pendingWrites(app.pg, schemas)])
    const now = Date.now()
    return readiness.flatMap(({ orgId, schema, lastSyncAt }) => {
      const attributes = { 'salesforce.org_id': orgId }
      const age = lastSyncAt === null ? [] : [{ gauge: 'applink.mirror.age', value: (now - Date.parse(lastSyncAt)) / 1000, attributes }]
      return [...age, { gauge: 'applink.mirror.pending_writes', value: pending.get(schema) ?? 0, attributes }]
    })
  })
  app.addHook('preClose', async () => { stopObserving() })
}, { name: 'mirror', dependencies: ['pg', 'config'] })
