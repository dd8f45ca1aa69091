import type { Server } from 'node:http'
import { LogController, type FastifyHttpOptions, type FastifyServerOptions } from 'fastify'
import { SerializerSelector, type SerializerFactory, type Serializer } from '@fastify/fast-json-stringify-compiler'
import type { Config } from './config.ts'
import { traceFields } from './telemetry/tracing.ts'
import { telemetryEnabled } from './telemetry/sdk.ts'
import { requestIdFrom } from './salesforce/context.ts'
import { clientErrorHandler } from './plugins/request-limits.ts'

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

/**
 * How inputs are validated, by the action routes and by MCP tool calls alike (src/mcp), so that both
 * doors refuse the same input with the same fields.
 */
export const AJV_OPTIONS = {
  // Agentforce and External Services metadata rides along in the schemas.
  keywords: ['x-sfdc'],
  // Callers get told about a wrong or extra field instead of having it coerced or dropped.
  coerceTypes: false,
  removeAdditional: false,
  allErrors: false
}

/** Fastify options shared by the server, the worker and the tests, so all run the same way. */
export function serverOptions (
  config: Config,
  logger: FastifyServerOptions['logger'] = {
    level: config.LOG_LEVEL,
    // Trace ids in each line only when traces are exported: a mixin costs every line a call and a merge.
    ...(telemetryEnabled(process.env) ? { mixin: traceFields } : {})
  }
): FastifyHttpOptions<Server> {
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
    // Request Timeout, Heroku Dev Center: "The countdown for this 30 second timeout begins after the
    // entire request (all request headers and, if applicable, the request body) has been sent from
    // the router to the dyno." Node's default (none) let a body sent a byte at a time hold a
    // connection for ever; a request must now arrive in full within REQUEST_TIMEOUT_MS, which does
    // not count the handler's time, nor a kept-alive connection's idle time between requests.
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    // Inactivity while a request is under way; a handler waiting on the org leaves the socket
    // silent for up to REQUEST_BUDGET_MS, which config.ts keeps shorter than this.
    connectionTimeout: config.CONNECTION_TIMEOUT_MS,
    http: {
      requestTimeout: config.REQUEST_TIMEOUT_MS,
      // At most the request timeout (Node refuses more), so the headers count in the same bound.
      headersTimeout: config.REQUEST_TIMEOUT_MS,
      // Node looks for late requests every 30 s by default, which would stretch the bound by as much.
      connectionsCheckingInterval: Math.min(1000, Math.ceil(config.REQUEST_TIMEOUT_MS / 4))
    },
    clientErrorHandler,
    return503OnClosing: true,
    schemaController: { compilersFactory: { buildSerializer: serializerPerSchema() } },
    ajv: { customOptions: AJV_OPTIONS }
  }
}
