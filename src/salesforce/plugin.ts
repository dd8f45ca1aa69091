import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import { callerFrom, decodeOnce, type Caller } from './context.ts'
import { OrgClient } from './org-client.ts'
import { AccessCache } from './access-cache.ts'
import { ApiLimits } from './api-limits.ts'
import { InvalidContext } from '../errors.ts'
import { OrgDomains } from './org-domains.ts'
import { IdentityCheck } from './identity.ts'

/** What an action request knows of its caller. */
export interface SalesforceRequestContext {
  caller: Caller
  /** The org's REST API as the caller: timeouts, the request's budget, the API floor, call counting. */
  org: OrgClient
}

declare module 'fastify' {
  interface FastifyInstance {
    /** UserRecordAccess answers, reused for ACCESS_CACHE_TTL_MS. */
    accessCache: AccessCache
    /** Each org's API usage from Sforce-Limit-Info; refuses calls under the floor. */
    apiLimits: ApiLimits
    /** Asks the org whose token a context carries (once per token, then remembered). */
    identity: IdentityCheck
    /** The caller of a request from its `x-client-context`; throws InvalidContext (401) without one. */
    salesforceContext: (request: FastifyRequest) => SalesforceRequestContext
    /**
     * An org client on a session of the org `orgId`, for one request: its API floor checked and its
     * usage recorded per org, no call started past REQUEST_BUDGET_MS. `renewAccessToken` (an AppLink
     * authorization's run-as user) gives a fresh token when Salesforce refuses the session.
     */
    orgClientFor: (orgId: string, session: OrgSession, renewAccessToken?: () => Promise<string>) => OrgClient
  }
}

/** Where and as whom an org client calls. */
export interface OrgSession { instanceUrl: string, apiVersion: string, accessToken: string }

/**
 * The Salesforce side of the service: per-org API limits, the access cache, and the caller's
 * context with an org client on the caller's token. Which routes need a caller is decided by the
 * actions plugin's scope, not here.
 */
export default fp(async (app) => {
  app.decorate('accessCache', new AccessCache(app.config.ACCESS_CACHE_TTL_MS))
  app.decorate('apiLimits', new ApiLimits(app.config.API_LIMIT_FLOOR_PERCENT))
  app.decorate('identity', new IdentityCheck({ ttlMs: app.config.IDENTITY_CACHE_TTL_MS, timeoutMs: app.config.ORG_TIMEOUT_MS }))
  const orgDomains = new OrgDomains(app.config.ORG_DOMAINS)
  const orgClientFor = (orgId: string, session: OrgSession, renewAccessToken?: () => Promise<string>): OrgClient =>
    new OrgClient({
      ...session,
      timeoutMs: app.config.ORG_TIMEOUT_MS,
      // Heroku's router gives up at 30 s; leave time to answer.
      deadline: Date.now() + app.config.REQUEST_BUDGET_MS,
      limits: {
        check: () => { app.apiLimits.check(orgId) },
        record: (used, max) => { app.apiLimits.record(orgId, used, max) }
      },
      ...(renewAccessToken === undefined ? {} : { renewAccessToken })
    })
  app.decorate('orgClientFor', orgClientFor)
  app.decorate('salesforceContext', (request: FastifyRequest): SalesforceRequestContext => {
    const context = decodeOnce(request.raw)
    if (context instanceof InvalidContext) throw context
    const caller = callerFrom(context, String(request.id))
    // The token goes to this host with every org call: only a Salesforce host (ORG_DOMAINS) gets it.
    if (!orgDomains.allows(caller.org.domainUrl)) {
      throw new InvalidContext('INVALID_CONTEXT', 'The x-client-context header names an orgDomainUrl that is not a ' +
        'Salesforce org\'s My Domain URL (ORG_DOMAINS)')
    }
    const org = orgClientFor(caller.org.id, {
      instanceUrl: caller.org.domainUrl,
      apiVersion: caller.org.apiVersion,
      accessToken: context.accessToken
    })
    return { caller, org }
  })
}, { name: 'salesforce', dependencies: ['config'] })
