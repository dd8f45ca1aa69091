import fp from 'fastify-plugin'
import type pg from 'pg'
import { createPool, logIdleClientErrors } from './pool.ts'
import { startEmbeddedPostgres } from './embedded.ts'
import { migrate } from './migrate.ts'
import { countQueries } from './query-count.ts'

declare module 'fastify' {
  interface FastifyInstance {
    pg: pg.Pool
  }
}

/**
 * The PostgreSQL pool: DATABASE_URL when set, else an embedded PostgreSQL (development only;
 * config refuses production without a URL). Runs the app's migrations before the app is ready
 * and closes the pool (and the embedded server) on close.
 */
export default fp(async (app) => {
  const { config } = app
  let url = config.DATABASE_URL
  let stopEmbedded: (() => Promise<void>) | undefined
  if (url === undefined) {
    const embedded = await startEmbeddedPostgres(config.EMBEDDED_PG_DIR, (line) => {
      app.log.debug({ embeddedPostgres: line })
    })
    url = embedded.url
    stopEmbedded = embedded.stop
    app.log.info({ dataDir: config.EMBEDDED_PG_DIR }, 'DATABASE_URL unset: started embedded PostgreSQL')
  }
  const pool = createPool(url, config)
  countQueries(pool)
  logIdleClientErrors(pool, app.log)
  app.decorate('pg', pool)
  app.addHook('onClose', async () => {
    await pool.end()
    await stopEmbedded?.()
  })
  const applied = await migrate(pool)
  if (applied.length > 0) app.log.info({ applied }, 'applied database migrations')
}, { name: 'pg', dependencies: ['config'] })
