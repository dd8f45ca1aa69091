import fp from 'fastify-plugin'
import { OrgMirrors, parseMirrorSchemas } from './org-mirrors.ts'

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
}, { name: 'mirror', dependencies: ['pg', 'config'] })
