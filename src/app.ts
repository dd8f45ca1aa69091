import fp from 'fastify-plugin'
import { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Config } from './config.ts'
import type { ActionDefinition } from './actions/define.ts'
import configPlugin from './plugins/config.ts'
import errorHandler from './plugins/error-handler.ts'
import gracefulClose from './plugins/graceful-close.ts'
import pgPlugin from './postgres/plugin.ts'
import mirrorPlugin from './postgres/mirror-plugin.ts'
import jobsPlugin from './jobs/plugin.ts'
import swaggerPlugin from './spec/swagger.ts'
import docsPlugin, { docsEnabled } from './spec/docs.ts'
import callerContext, { requestIdFrom } from './salesforce/plugin.ts'
import healthRoutes from './routes/health.ts'
import actionRoutes from './routes/actions.ts'
import { actions } from './actions/index.ts'

export interface AppOptions {
  config: Config
  /** false only for spec generation, which needs no database. */
  database?: boolean
  /** The actions to serve; the registry unless a test brings its own. */
  actions?: ActionDefinition[]
}

/** Fastify options shared by the server and the tests, so both run the same app. */
export function serverOptions (config: Config, logger: FastifyServerOptions['logger'] = { level: config.LOG_LEVEL }): FastifyServerOptions {
  return {
    logger,
    genReqId: requestIdFrom,
    // No "incoming request"/"request completed" lines: each is a synchronous write to stdout,
    // and together they took a third of whoAmI's CPU (docs/performance.md). An action logs one
    // line with its outcome; errors are logged by the error handler; and Heroku's router already
    // logs every request ("HTTP Routing", Heroku Dev Center: "at=info method=GET path=/ ...
    // service=18ms status=200 bytes=13").
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    bodyLimit: config.BODY_LIMIT_BYTES,
    return503OnClosing: true,
    ajv: {
      customOptions: {
        // Agentforce and External Services metadata rides along in the schemas.
        keywords: ['x-sfdc'],
        // Callers get told about a wrong or extra field instead of having it coerced or dropped.
        coerceTypes: false,
        removeAdditional: false,
        allErrors: false
      }
    }
  }
}

/** The whole service as one plugin: outside concerns, then services, then routes. */
async function app (instance: FastifyInstance, opts: AppOptions): Promise<void> {
  await instance.register(configPlugin, { config: opts.config })
  await instance.register(errorHandler)
  await instance.register(gracefulClose)
  if (opts.database !== false) {
    await instance.register(pgPlugin)
    await instance.register(mirrorPlugin)
    await instance.register(jobsPlugin)
  }
  await instance.register(swaggerPlugin)
  if (docsEnabled(opts.config)) await instance.register(docsPlugin)
  await instance.register(callerContext)
  await instance.register(healthRoutes)
  await instance.register(actionRoutes, { actions: opts.actions ?? actions })
}

/** Not encapsulated, so the server and tests see its decorators (`pg`, `config`, …). */
export default fp(app, { name: 'app' })
