// Who an MCP tool call acts as. A client registered in Agentforce authenticates itself, not the person
// the agent speaks for (Salesforce Help, "Register a Third-Party MCP Server in Agentforce Registry":
// "We support no authentication and OAuth 2.0 client credential."), so a call carries no user: it acts
// as the org's AppLink authorization, the run-as user the jobs of that org already run as
// (README, "Long-running work"), with a token the AppLink add-on gives.
import type { FastifyInstance } from 'fastify'
import { AuthorizationError, fetchAuthorization, type OrgAuthorization } from '../salesforce/authorization.ts'
import type { Caller } from '../salesforce/context.ts'
import type { SalesforceRequestContext } from '../salesforce/plugin.ts'
import { normalizeId } from '@applink-actions/platform/ids'

/**
 * How long a token of the add-on is used before it is asked for again. The add-on does not say when
 * its token expires; Salesforce refuses an expired one with INVALID_SESSION_ID, which asks again at
 * once (OrgClient's renewAccessToken). Inferred: well inside the default session timeout of two hours.
 */
const REUSE_MS = 15 * 60_000

interface Held { until: number, authorization: Promise<OrgAuthorization> }

/** One authorization's run-as user, for many tool calls: its token asked for once, then reused. */
export class RunAs {
  readonly #app: FastifyInstance
  readonly #held = new Map<string, Held>()

  constructor (app: FastifyInstance) {
    this.#app = app
  }

  /**
   * The caller and org client of one tool call, as the authorization `developerName`. With `orgId`,
   * an authorization of another org is refused: a client of one org never reads another org's data.
   */
  async context (
    developerName: string,
    orgId: string | undefined,
    requestId: string
  ): Promise<SalesforceRequestContext> {
    const authorization = await this.#authorization(developerName, false)
    if (orgId !== undefined && normalizeId(authorization.orgId) !== normalizeId(orgId)) {
      // The client learns that the mapping is wrong, not which org the authorization is of.
      throw new AuthorizationError(developerName, 'it belongs to another org than the one this MCP client acts for', true)
    }
    const caller: Caller = {
      org: {
        id: normalizeId(authorization.orgId) ?? authorization.orgId,
        domainUrl: authorization.instanceUrl,
        apiVersion: authorization.apiVersion,
        namespace: ''
      },
      user: { id: normalizeId(authorization.userId) ?? authorization.userId, username: authorization.username },
      requestId
    }
    const org = this.#app.orgClientFor(caller.org.id, authorization,
      async () => (await this.#authorization(developerName, true)).accessToken)
    return { caller, org }
  }

  /** The held authorization, or a fresh one when it is old, was refused (`renew`), or failed. */
  async #authorization (developerName: string, renew: boolean): Promise<OrgAuthorization> {
    const held = this.#held.get(developerName)
    if (held !== undefined && !renew && held.until > Date.now()) return await held.authorization
    const { APPLINK_ATTACHMENT, ORG_TIMEOUT_MS } = this.#app.config
    const authorization = fetchAuthorization(developerName, APPLINK_ATTACHMENT, ORG_TIMEOUT_MS)
    this.#held.set(developerName, { until: Date.now() + REUSE_MS, authorization })
    // A failure is not kept: the next call asks again.
    authorization.catch(() => {
      if (this.#held.get(developerName)?.authorization === authorization) this.#held.delete(developerName)
    })
    return await authorization
  }
}
