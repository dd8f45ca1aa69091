import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { ActionContext, CallerJobs } from '../actions/define.ts'
import { callerMirror, type CallerMirror } from '../postgres/caller-mirror.ts'
import { runOnce } from '../postgres/idempotency.ts'
import { OrgNotMirrored } from '../postgres/org-mirrors.ts'
import type { Mirror } from '../postgres/mirror.ts'
import { orgScope, type OrgScope } from '../postgres/org-scope.ts'
import { allowedCallbackOrigins, callbackTarget } from '../salesforce/callback-url.ts'
import type { SalesforceRequestContext } from '../salesforce/plugin.ts'
import { idempotentReplays } from '../telemetry/metrics.ts'

/**
 * The one context a handler gets: each part bound to the caller (their org's mirror filtered by
 * their sharing, their org's app data, their jobs, their idempotency keys), built lazily so an
 * action pays only for what it uses.
 */
export function actionContext (
  app: FastifyInstance,
  operationId: string,
  { caller, org }: SalesforceRequestContext,
  mirror: Mirror | undefined,
  log: FastifyBaseLogger
): ActionContext {
  const owner = { orgId: caller.org.id, userId: caller.user.id }
  let visible: CallerMirror | undefined
  let jobs: CallerJobs | undefined
  // Made on first use, as the mirror: most actions start no job, and this runs on every call.
  const callerJobs = (): CallerJobs => ({
    start: async (kind, payload) => await app.jobs.enqueue(kind, payload, {
      instanceUrl: caller.org.domainUrl,
      apiVersion: caller.org.apiVersion,
      accessToken: org.accessToken,
      ...owner
    }),
    status: async (jobId, kind) => await app.jobs.status(jobId, owner, kind),
    allowsCallback: (url) => callbackTarget(url, caller.org.domainUrl, allowedCallbackOrigins(app.config)).allowed
  })
  return {
    caller,
    org,
    log,
    get jobs (): CallerJobs {
      jobs ??= callerJobs()
      return jobs
    },
    get mirror (): CallerMirror {
      if (mirror === undefined) throw new OrgNotMirrored(caller.org.id)
      visible ??= callerMirror(mirror, app.accessCache.readableBy(owner, org))
      return visible
    },
    get appData (): OrgScope { return orgScope(app.pg, caller.org.id) },
    once: async (input, work) => {
      const { idempotencyKey, ...request } = input
      const { config } = app
      const { result, replayed } = await runOnce(app.idempotency,
        { ...owner, operationId, key: idempotencyKey ?? caller.requestId, request },
        {
          retentionMs: config.IDEMPOTENCY_RETENTION_MS,
          waitMs: config.IDEMPOTENCY_WAIT_MS,
          leaseMs: config.IDEMPOTENCY_LEASE_MS
        },
        work)
      if (replayed) idempotentReplays.add(1, { 'applink.operation_id': operationId })
      return { ...result, replayed }
    }
  }
}
