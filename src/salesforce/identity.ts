// The second wall behind the AppLink service mesh: before anything is written or queued on a caller's
// behalf, the org itself says whose token the context carries.
//
// Salesforce Help, "Query for User Information": "A connected app can query the UserInfo endpoint for
// information about the user associated with the connected app's access token. [...] This UserInfo
// endpoint provides access to information only for the current user." Its answer names the user
// (`user_id`) and the org (`organization_id`); the endpoint is `/services/oauth2/userinfo` on the
// org's My Domain URL. It does not say when the token expires, so a confirmed token is trusted for
// IDENTITY_CACHE_TTL_MS at most (and an org call that finds the session expired refuses it anyway).
import { createHash } from 'node:crypto'
import { Agent, request } from 'undici'
import { AppError, Unavailable } from '../errors.ts'
import type { Caller } from './context.ts'
import { SALESFORCE_ID_PATTERN, normalizeId } from '@applink-actions/platform/ids'

/** The context's token, org or user is not what the org says. */
export class IdentityRefused extends AppError {
  constructor (errorCode: 'INVALID_SESSION_ID' | 'CONTEXT_MISMATCH', message: string) { super(401, errorCode, message) }
}

interface Confirmed { orgId: string, userId: string, until: number }

/** Past this many tokens, the oldest confirmation is forgotten first. */
const MAX_TOKENS = 10_000
const USERINFO_PATH = '/services/oauth2/userinfo'
const ID = new RegExp(SALESFORCE_ID_PATTERN)
const dispatcher = new Agent({ headersTimeout: 0, bodyTimeout: 0 })

/** The caller as the org knows the token: asked once per token, then remembered by its hash. */
export class IdentityCheck {
  readonly #ttlMs: number
  readonly #timeoutMs: number
  readonly #confirmed = new Map<string, Confirmed>()
  /** One question to the org per token, however many calls arrive with it at once. */
  readonly #asking = new Map<string, Promise<Confirmed>>()

  constructor (opts: { ttlMs: number, timeoutMs: number }) {
    this.#ttlMs = opts.ttlMs
    this.#timeoutMs = opts.timeoutMs
  }

  /** Resolves when the org confirms that the token is the caller's, in the caller's org; throws otherwise. */
  async verify (caller: Caller, accessToken: string): Promise<void> {
    // The host is part of the key: a token the org confirmed is trusted for that org's host only.
    const key = createHash('sha256').update(`${caller.org.domainUrl} ${accessToken}`).digest('base64url')
    let confirmed = this.#confirmed.get(key)
    if (confirmed === undefined || confirmed.until <= Date.now()) {
      this.#confirmed.delete(key)
      let asking = this.#asking.get(key)
      if (asking === undefined) {
        asking = this.#ask(caller.org.domainUrl, accessToken)
        this.#asking.set(key, asking)
        void asking.then((answer) => { this.#remember(key, answer) }, () => {}).finally(() => this.#asking.delete(key))
      }
      confirmed = await asking
    }
    // The caller's ids are canonical (18 characters, checksum checked: callerFrom), the org's too.
    if (normalizeId(confirmed.orgId) !== caller.org.id || normalizeId(confirmed.userId) !== caller.user.id) {
      throw new IdentityRefused('CONTEXT_MISMATCH', 'The caller context names another org or user than its access token belongs to')
    }
  }

  #remember (key: string, answer: Confirmed): void {
    if (this.#confirmed.size >= MAX_TOKENS) {
      const oldest = this.#confirmed.keys().next()
      if (oldest.done !== true) this.#confirmed.delete(oldest.value)
    }
    this.#confirmed.set(key, answer)
  }

  async #ask (domainUrl: string, accessToken: string): Promise<Confirmed> {
    let status: number
    let body: unknown
    try {
      const answer = await request(`${domainUrl}${USERINFO_PATH}`, {
        method: 'GET',
        headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
        dispatcher,
        signal: AbortSignal.timeout(this.#timeoutMs)
      })
      status = answer.statusCode
      body = status === 200 ? await answer.body.json() : await answer.body.dump()
    } catch (err) {
      throw new Unavailable('ORG_UNAVAILABLE', 'Salesforce did not answer who the caller is; retry shortly', 5, err)
    }
    // Refusals of the token itself (an invalid, expired or foreign token) are the caller's fault.
    if (status === 401 || status === 403 || status === 404) {
      throw new IdentityRefused('INVALID_SESSION_ID', 'Salesforce does not accept the caller context\'s access token')
    }
    const claims = body as { user_id?: unknown, organization_id?: unknown } | null
    const userId = claims?.user_id
    const orgId = claims?.organization_id
    if (status !== 200 || typeof userId !== 'string' || typeof orgId !== 'string' || !ID.test(userId) || !ID.test(orgId)) {
      throw new Unavailable('ORG_UNAVAILABLE', `Salesforce answered the identity check with HTTP ${status}; retry shortly`, 5)
    }
    return { orgId, userId, until: Date.now() + this.#ttlMs }
  }
}
