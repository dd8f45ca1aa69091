import type { FastifyBaseLogger } from 'fastify'
import type { Config } from '../config.ts'
import { Unavailable } from '../errors.ts'
import type { ApiLimits } from '../salesforce/api-limits.ts'
import { AuthorizationError, fetchAuthorization } from '../salesforce/authorization.ts'
import { OrgClient } from '../salesforce/org-client.ts'
import type { JobCredentials } from './credentials.ts'

/** The caller a job belongs to: only the same org and user may see it. */
export interface JobOwner { orgId: string, userId: string }

/**
 * How a job reaches the org. `caller-session`: the caller's own session, sealed with the job (the
 * fallback when no authorization is configured; it expires, often within two hours).
 * `authorization`: an AppLink authorization's run-as user, with a token asked for when the job
 * starts and again when Salesforce refuses it; nothing of it is stored.
 */
export type JobAccessMode = 'caller-session' | 'authorization'

/** The org is under the API floor: the job goes back to the queue and resumes after the wait. */
export class JobMustWait extends Unavailable {
  constructor (reading: string, waitSeconds: number) {
    super('API_LIMIT_NEAR', `${reading}; the job waits ${waitSeconds} s and resumes where it stopped`, waitSeconds)
  }
}

/** The same record or org, whether given as 15 or 18 characters. */
export const sameId = (a: string, b: string): boolean => a.slice(0, 15) === b.slice(0, 15)

interface SessionOptions {
  mode: JobAccessMode
  caller: JobOwner | undefined
  credentials: JobCredentials
  config: Config
  apiLimits: ApiLimits
  log: FastifyBaseLogger
  developerName?: string
}
type SessionServices = Pick<SessionOptions, 'config' | 'apiLimits' | 'log'>

/** One run's way into the org: its current token, API-floor check and (authorization mode) renewal. */
export class JobSession {
  readonly mode: JobAccessMode
  /** Whose access the job honours; undefined for a scheduled run, which nobody asked for. */
  readonly caller: JobOwner | undefined
  readonly #opts: SessionOptions
  #credentials: JobCredentials

  private constructor (opts: SessionOptions) {
    this.#opts = opts
    this.mode = opts.mode
    this.caller = opts.caller
    this.#credentials = opts.credentials
  }

  static callerSession (credentials: JobCredentials, opts: SessionServices): JobSession {
    const caller = { orgId: credentials.orgId, userId: credentials.userId }
    return new JobSession({ ...opts, mode: 'caller-session', caller, credentials })
  }

  /**
   * Asks the add-on for the authorization's org and token. A job started by a user must run in that
   * user's org: an authorization of another org is refused.
   */
  static async authorized (
    developerName: string,
    caller: JobOwner | undefined,
    opts: SessionServices
  ): Promise<JobSession> {
    const credentials = await JobSession.#fetch(developerName, opts.config)
    if (caller !== undefined && !sameId(credentials.orgId, caller.orgId)) {
      // The caller learns that the authorization is of another org, not which: that is not theirs to know.
      const reason = 'it belongs to another org than the one of the user who started the job'
      throw new AuthorizationError(developerName, reason, true)
    }
    opts.log.info({ authorization: developerName, runAs: credentials.userId }, 'calling the org as the authorization\'s user')
    return new JobSession({ ...opts, mode: 'authorization', caller, credentials, developerName })
  }

  static async #fetch (developerName: string, config: Config): Promise<JobCredentials> {
    const authorization = await fetchAuthorization(developerName, config.APPLINK_ATTACHMENT, config.ORG_TIMEOUT_MS)
    return {
      instanceUrl: authorization.instanceUrl,
      apiVersion: authorization.apiVersion,
      accessToken: authorization.accessToken,
      orgId: authorization.orgId,
      userId: authorization.userId
    }
  }

  /** The session as it is now (authorization mode: the token may have been renewed). Never log or store it. */
  get credentials (): JobCredentials { return this.#credentials }

  /**
   * An org client on this session: checks the API floor before every call, and in authorization
   * mode asks the add-on for a fresh token when Salesforce answers INVALID_SESSION_ID.
   */
  orgClient (opts: { retries?: number } = {}): OrgClient {
    const { config, apiLimits } = this.#opts
    const { orgId } = this.#credentials
    return new OrgClient({
      instanceUrl: this.#credentials.instanceUrl,
      apiVersion: this.#credentials.apiVersion,
      accessToken: this.#credentials.accessToken,
      timeoutMs: config.ORG_TIMEOUT_MS,
      ...(opts.retries === undefined ? {} : { retries: opts.retries }),
      limits: { check: () => { this.checkApiFloor() }, record: (used, max) => { apiLimits.record(orgId, used, max) } },
      ...(this.mode === 'authorization' ? { renewAccessToken: async () => await this.#renew() } : {})
    })
  }

  async #renew (): Promise<string> {
    const developerName = this.#opts.developerName ?? ''
    const fresh = await JobSession.#fetch(developerName, this.#opts.config)
    this.#credentials = { ...this.#credentials, accessToken: fresh.accessToken }
    this.#opts.log.info({ authorization: developerName }, 'session refused: the AppLink authorization gave a fresh token')
    return fresh.accessToken
  }

  /**
   * Refuses to go on while the org's last reading (Sforce-Limit-Info) is under API_LIMIT_FLOOR_PERCENT:
   * the job waits JOB_LIMIT_WAIT_SECONDS instead of spending the calls the org's users still need.
   */
  checkApiFloor (): void {
    const under = this.#opts.apiLimits.underFloor(this.#credentials.orgId)
    if (under === undefined) return
    throw new JobMustWait(`The org has used ${under.used} of its ${under.max} daily API calls`,
      Math.max(1, under.retryAfterSeconds))
  }
}
