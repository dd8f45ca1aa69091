import { LogController, type FastifyServerOptions } from 'fastify'
import type { Config } from './config.ts'
import { requestIdFrom } from './salesforce/context.ts'

/** Fastify options shared by the server, the worker and the tests, so all run the same way. */
export function serverOptions (
  config: Config,
  logger: FastifyServerOptions['logger'] = { level: config.LOG_LEVEL }
): FastifyServerOptions {
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
