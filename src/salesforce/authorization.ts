import { AppError } from '../errors.ts'
import { applink } from './applink-sdk.ts'

/** What an AppLink authorization gives a worker: the org and a fresh token of its run-as user. */
export interface OrgAuthorization {
  orgId: string
  instanceUrl: string
  apiVersion: string
  /** Never log or store it. */
  accessToken: string
  userId: string
  username: string
}

/**
 * The add-on refused or could not answer. `permanent` when asking again cannot help (unknown
 * developer name, a token the add-on refuses, missing add-on settings); otherwise worth a retry.
 */
export class AuthorizationError extends AppError {
  readonly permanent: boolean
  constructor (developerName: string, reason: string, permanent: boolean) {
    super(permanent ? 502 : 503, permanent ? 'AUTHORIZATION_FAILED' : 'AUTHORIZATION_UNAVAILABLE',
      `The AppLink authorization ${developerName} could not be used: ${reason}`,
      { retryAfterSeconds: permanent ? undefined : 30 })
    this.permanent = permanent
  }
}

/**
 * Reasons the SDK gives that no retry fixes. Its messages are the only signal it passes on
 * (node_modules/@heroku/applink/dist/add-ons/heroku-applink.js): `<title> - <detail>` from an
 * error body with both, else `Unable to get connection <name>: HTTP Error Response: <status>: …`,
 * and addon-config.js's `Heroku Applink … not found` when its settings are missing. A problem body's
 * title is the HTTP reason phrase (the SDK's own test: `{"title":"Not Found","detail":"Authorization
 * not found"}` on a 404), so a client-error phrase is read as that status — inferred from that test.
 */
const CLIENT_ERROR_TITLE = /^(Bad Request|Unauthorized|Forbidden|Not Found|Gone|Unprocessable Entity) - /
const SETTINGS_MISSING = /^(Heroku Applink .* not found|Developer name not provided)/

function isPermanent (message: string): boolean {
  if (SETTINGS_MISSING.test(message) || CLIENT_ERROR_TITLE.test(message)) return true
  const status = /HTTP Error Response: (\d{3})/.exec(message)
  if (status === null) return false
  const code = Number(status[1])
  return code >= 400 && code < 500 && code !== 408 && code !== 429
}

/**
 * Asks the AppLink add-on for the authorization's org and a fresh token, through the SDK's
 * `getAuthorization` (`GET {<ATTACHMENT>_API_URL}/authorizations/{developerName}` with
 * `Authorization: Bearer <ATTACHMENT>_TOKEN` and `X-App-UUID: HEROKU_APP_ID`; the settings are
 * checked at start by src/config.ts). The SDK sets no timeout: `timeoutMs` bounds the wait.
 */
export async function fetchAuthorization (
  developerName: string,
  attachment: string,
  timeoutMs: number
): Promise<OrgAuthorization> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new AuthorizationError(developerName, `the add-on did not answer within ${timeoutMs} ms`, false))
    }, timeoutMs)
  })
  try {
    const org = await Promise.race([applink().addons.applink.getAuthorization(developerName, attachment), timeout])
    const accessToken = (org as { accessToken?: unknown }).accessToken
    if (typeof accessToken !== 'string' || accessToken === '') {
      throw new AuthorizationError(developerName, 'the add-on answered without an access token', false)
    }
    return {
      orgId: org.id,
      instanceUrl: org.domainUrl.replace(/\/+$/, ''),
      apiVersion: org.apiVersion.replace(/^v/, ''),
      accessToken,
      userId: org.user.id,
      username: org.user.username
    }
  } catch (err) {
    if (err instanceof AuthorizationError) throw err
    const message = err instanceof Error ? err.message : String(err)
    throw new AuthorizationError(developerName, message, isPermanent(message))
  } finally {
    clearTimeout(timer)
  }
}
