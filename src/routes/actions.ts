import type { FastifyInstance } from 'fastify'
import { Type, type Static, type TObject, type TSchema } from 'typebox'
import { actionPath, type ActionDefinition } from '../actions/define.ts'
import { actionContext } from './action-context.ts'
import { recordActionCall } from '../telemetry/metrics.ts'
import { traceRequests } from '../telemetry/tracing.ts'
import { ErrorBody } from '../schemas/common.ts'
import { queryCount } from '../postgres/query-count.ts'
import type { SalesforceRequestContext } from '../salesforce/plugin.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The caller and an org client on their token: set by the actions plugin's onRequest hook on
     * its routes only; null before it, and when it refused the call (401).
     */
    salesforce: SalesforceRequestContext | null
    /**
     * The database queries of the action's invocation, for its log line; null until its handler
     * runs. A request property rather than a WeakMap entry, which cost more per request (issue 16).
     */
    dbUsage: { queries: number } | null
  }
}

const errorResponse = (description: string) => Type.Ref('ErrorBody', { description })

/** Error answers every action can give, documented once for all. */
const ERROR_RESPONSES = {
  400: errorResponse('Invalid input: the body names the field at fault'),
  401: errorResponse('Missing or invalid caller context, or the Salesforce session expired'),
  403: errorResponse('The caller lacks access in Salesforce, or the caller\'s org has no mirror in this service (ORG_NOT_MIRRORED)'),
  404: errorResponse('The record does not exist or the caller cannot see it'),
  409: errorResponse('The same request (idempotency key) is still being processed, or its outcome is unknown'),
  413: errorResponse('The request body is too large'),
  415: errorResponse('The body is not application/json'),
  422: errorResponse('A business rule refused the request; the body says which and names the field'),
  429: errorResponse('Too much work at once for the org (jobs queued or running); retry after the Retry-After delay'),
  500: errorResponse('Unexpected failure; the body carries the request id'),
  502: errorResponse('Salesforce failed to answer properly'),
  503: errorResponse('A dependency is unavailable or the org\'s API limit is near; retry after the Retry-After delay')
}

export interface ActionRoutesOptions { actions: ActionDefinition[] }

/**
 * The action routes, encapsulated: every route of this scope needs the caller's context, so the
 * hook that reads it lives here and nowhere else (not on /healthcheck or /docs). One POST route
 * per action; the handler gets the validated body and the caller.
 */
export default async function actionRoutes (app: FastifyInstance, { actions }: ActionRoutesOptions): Promise<void> {
  app.addSchema(ErrorBody)
  app.decorateRequest('salesforce', null)
  app.decorateRequest('dbUsage', null)
  // First, so the span covers the context hook, and its refusals (401) are traced too.
  traceRequests(app)
  // The hooks of every action call take a callback: an async hook costs a promise and a turn of
  // the microtask queue per request (issue 16).
  app.addHook('onRequest', (request, _reply, done) => {
    try {
      request.salesforce = app.salesforceContext(request)
    } catch (err) {
      done(err as Error)
      return
    }
    done()
  })
  // Absent only when the app is built without a database (spec generation serves no request).
  const mirrors = app.hasDecorator('mirrors') ? app.mirrors : undefined
  for (const action of actions) actionRoute(app, action, mirrors)
}

/** One action's route, generic over its schemas so its handler's input and answer keep their types. */
function actionRoute<Req extends TObject, Res extends TSchema> (
  app: FastifyInstance,
  action: ActionDefinition<Req, Res>,
  mirrors: FastifyInstance['mirrors'] | undefined
): void {
  const successStatus = action.successStatus ?? 200
  const verified = action.identity !== 'from-context'
  app.post(actionPath(action.operationId), {
    schema: {
      operationId: action.operationId,
      summary: action.summary,
      description: action.description,
      body: action.request,
      response: { [successStatus]: action.response, ...ERROR_RESPONSES }
    },
    handler: async (request, reply) => {
      const usage = { queries: 0 }
      request.dbUsage = usage
      // Set by the onRequest hook, which refuses the call when it cannot.
      if (request.salesforce === null) throw new Error('The action routes\' context hook did not run')
      const { caller, org } = request.salesforce
      request.serverSpan?.setAttributes({
        'applink.operation_id': action.operationId,
        'salesforce.org_id': caller.org.id,
        'applink.request_id': caller.requestId
      })
      if (verified) await app.identity.verify(caller, org.accessToken)
      // The caller's org picks the mirror; an org without one reads none (see ActionContext.mirror).
      // A known org costs no await (whoAmI's budget per request is a few microseconds, issue 16).
      const mirror = mirrors === undefined
        ? undefined
        : mirrors.lookup(caller.org.id) ?? await mirrors.mirrorFor(caller.org.id)
      const context = actionContext(app, action.operationId, request.salesforce, mirror, request.log)
      // Fastify validated the body against action.request (the schema above) before this handler.
      const input = request.body as Static<Req>
      const result = await queryCount.run(usage, () => action.handler(input, context))
      return reply.status(successStatus).send(result)
    },
    // One line per invocation, for people reading `heroku logs` and for log-based metrics.
    onResponse: (request, reply, done) => {
      // Null when the context hook refused the call (401).
      const salesforce = request.salesforce
      recordActionCall(action.operationId, reply.statusCode, reply.elapsedTime / 1000,
        salesforce?.caller.org.id, salesforce?.org.apiCalls ?? 0)
      request.log.info({
        operationId: action.operationId,
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
        orgApiCalls: salesforce?.org.apiCalls ?? 0,
        dbQueries: request.dbUsage?.queries ?? 0,
        orgId: salesforce?.caller.org.id,
        userId: salesforce?.caller.user.id
      }, 'action')
      done()
    }
  })
}
