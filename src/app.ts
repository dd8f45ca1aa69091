import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Config } from './config.ts'
import type { ActionDefinition } from './actions/define.ts'
import configPlugin from './plugins/config.ts'
import errorHandler from './plugins/error-handler.ts'
import gracefulClose from './plugins/graceful-close.ts'
import requestLimits from './plugins/request-limits.ts'
import pgPlugin from './postgres/plugin.ts'
import idempotencyPlugin from './postgres/idempotency-plugin.ts'
import mirrorPlugin from './postgres/mirror-plugin.ts'
import jobsPlugin from './jobs/plugin.ts'
import swaggerPlugin from './plugins/swagger.ts'
import docsPlugin, { docsEnabled } from './plugins/docs.ts'
import salesforcePlugin from './salesforce/plugin.ts'
import healthRoutes from './routes/health.ts'
import actionRoutes from './routes/actions.ts'
import mcpRoutes from './mcp/routes.ts'
import { actions, agentTopic } from './actions/index.ts'

export interface AppOptions {
  config: Config
  /** false only for spec generation, which needs no database. */
  database?: boolean
  /** The actions to serve; the registry unless a test brings its own. */
  actions?: ActionDefinition[]
}

/**
 * The whole service as one plugin: outside concerns, then services, then routes. Plugins that
 * decorate the root (config, pg, mirror, jobs, salesforce, swagger) use fastify-plugin; the routes
 * and their hooks stay encapsulated.
 */
async function app (instance: FastifyInstance, opts: AppOptions): Promise<void> {
  const served = opts.actions ?? actions
  await instance.register(configPlugin, { config: opts.config })
  await instance.register(errorHandler, { actionNames: served.map((action) => action.operationId) })
  await instance.register(gracefulClose)
  await instance.register(requestLimits)
  if (opts.database !== false) {
    await instance.register(pgPlugin)
    await instance.register(idempotencyPlugin)
    await instance.register(mirrorPlugin)
    await instance.register(jobsPlugin)
  }
  await instance.register(salesforcePlugin)
  await instance.register(swaggerPlugin, { actions: served, agentTopic })
  if (docsEnabled(opts.config)) await instance.register(docsPlugin)
  await instance.register(healthRoutes)
  await instance.register(actionRoutes, { actions: served })
  // The same actions as MCP tools; they run as an org's AppLink authorization, on the app's services.
  if (opts.database !== false) await instance.register(mcpRoutes, { actions: served })
}

/** Not encapsulated, so the server and tests see its decorators (`pg`, `config`, …). */
export default fp(app, { name: 'app' })
