import { LogController, type FastifyServerOptions } from 'fastify'
import { SerializerSelector, type SerializerFactory, type Serializer } from '@fastify/fast-json-stringify-compiler'
import type { Config } from './config.ts'
import { requestIdFrom } from './salesforce/context.ts'

/**
 * Fastify's own serializer compiler, building each response schema once per scope rather than
 * once per route and status: every action route shares the same error-response schema objects
 * (routes/actions.ts), and compiling them again for each route was about 100 of the 112
 * compilations at start-up (issue 16). A serializer depends only on its schema and the scope's
 * shared schemas, both the same here.
 */
function serializerPerSchema (): SerializerFactory {
  const build = SerializerSelector()
  return (externalSchemas, options) => {
    const compile = build(externalSchemas, options)
    const built = new WeakMap<object, Serializer>()
    return (route) => {
      const { schema } = route
      if (typeof schema !== 'object' || schema === null) return compile(route)
      let serializer = built.get(schema)
      if (serializer === undefined) {
        serializer = compile(route)
        built.set(schema, serializer)
      }
      return serializer
    }
  }
}

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
    schemaController: { compilersFactory: { buildSerializer: serializerPerSchema() } },
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
