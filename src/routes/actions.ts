import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { actionPath, type ActionDefinition } from '../actions/define.ts'
import { ErrorBody } from '../schemas/common.ts'
import { queryCount } from '../postgres/query-count.ts'

const errorResponse = (description: string) => Type.Ref('ErrorBody', { description })

/** Error answers every action can give, documented once for all. */
const ERROR_RESPONSES = {
  400: errorResponse('Invalid input: the body names the field at fault'),
  401: errorResponse('Missing or invalid caller context, or the Salesforce session expired'),
  403: errorResponse('The caller lacks access in Salesforce'),
  404: errorResponse('The record does not exist or the caller cannot see it'),
  409: errorResponse('The same request (idempotency key) is still being processed, or its outcome is unknown'),
  413: errorResponse('The request body is too large'),
  415: errorResponse('The body is not application/json'),
  422: errorResponse('A business rule refused the request; the body says which and names the field'),
  500: errorResponse('Unexpected failure; the body carries the request id'),
  502: errorResponse('Salesforce failed to answer properly'),
  503: errorResponse('A dependency is unavailable or the org\'s API limit is near; retry after the Retry-After delay')
}

const dbUsage = new WeakMap<FastifyRequest, { queries: number }>()

/** One POST route per action in the registry; handlers get the validated body and the caller. */
export default fp<{ actions: ActionDefinition[] }>(async (app, { actions }) => {
  app.addSchema(ErrorBody)
  for (const action of actions) {
    const successStatus = action.successStatus ?? 200
    app.post(actionPath(action.operationId), {
      schema: {
        operationId: action.operationId,
        summary: action.summary,
        description: action.description,
        body: action.request,
        response: { [successStatus]: action.response, ...ERROR_RESPONSES }
      },
      config: { requiresCaller: true },
      handler: async (request, reply) => {
        const salesforce = request.salesforce
        if (salesforce === null) throw new Error('caller context hook did not run')
        const usage = { queries: 0 }
        dbUsage.set(request, usage)
        const result = await queryCount.run(usage, () => action.handler(request.body as never, { ...salesforce, app, log: request.log }))
        return reply.status(successStatus).send(result)
      },
      // One line per invocation, for people reading `heroku logs` and for log-based metrics.
      onResponse: async (request, reply) => {
        request.log.info({
          operationId: action.operationId,
          status: reply.statusCode,
          durationMs: Math.round(reply.elapsedTime * 10) / 10,
          orgApiCalls: request.salesforce?.org.apiCalls ?? 0,
          dbQueries: dbUsage.get(request)?.queries ?? 0,
          orgId: request.salesforce?.caller.org.id,
          userId: request.salesforce?.caller.user.id
        }, 'action')
      }
    })
  }
}, { name: 'action-routes', dependencies: ['caller-context', 'error-handler'] })
