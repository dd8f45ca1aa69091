// The local AppLink add-on API: what `getAuthorization` of @heroku/applink asks for a worker's
// token, beside the local org. Production code never imports this folder.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { randomBytes, randomUUID } from 'node:crypto'
import type { LocalOrg } from '@applink-actions/local-org'

/** An authorization's run-as user in an org of its own (one app connects several orgs). */
export interface OrgAuthorization { org: LocalOrg, username: string }

export interface LocalAppLinkOptions {
  /** The org whose users the authorizations given by username run as, and whose tokens they hand out. */
  org: LocalOrg
  /**
   * Developer name → local-org username (of `org`), or an org and username, as
   * `heroku salesforce:authorizations:add` would record for each org connected to the app.
   */
  authorizations: Record<string, string | OrgAuthorization>
  port?: number
  host?: string
  /** The org URL handed out (default the org's own; tests put a recording proxy in front). */
  instanceUrl?: string
}

export interface AuthorizationRequest { developerName: string, status: number }

export interface LocalAppLink {
  /** `HEROKU_APPLINK_API_URL`: the add-on's API base, `…/addons/<add-on id>`. */
  apiUrl: string
  /** The environment the SDK reads: HEROKU_APP_ID, HEROKU_APPLINK_API_URL, HEROKU_APPLINK_TOKEN. */
  env: { HEROKU_APP_ID: string, HEROKU_APPLINK_API_URL: string, HEROKU_APPLINK_TOKEN: string }
  /** Every authorization request, in order, with the status it got. */
  readonly requests: AuthorizationRequest[]
  /** Adds an authorization running as the user of `org` (default the options' org). */
  addAuthorization: (developerName: string, username: string, org?: LocalOrg) => void
  close: () => Promise<void>
}

/**
 * Error bodies: the SDK throws `${title} - ${detail}` for a body with both
 * (node_modules/@heroku/applink/dist/add-ons/heroku-applink.js), and its own test uses
 * `{"title":"Not Found","detail":"Authorization not found"}` for a 404; the other statuses follow
 * the same form (inferred).
 */
function problem (res: ServerResponse, status: number, title: string, detail: string): void {
  const body = { id: title.toLowerCase().replaceAll(' ', '_'), title, status, detail }
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

/** A developer name from the path; a malformed escape (`%zz`) stays as sent rather than crash the server. */
function decodedName (encoded: string): string {
  try {
    return decodeURIComponent(encoded)
  } catch {
    return encoded
  }
}

export async function startLocalAppLink (opts: LocalAppLinkOptions): Promise<LocalAppLink> {
  const addonId = randomUUID()
  const appId = randomUUID()
  const token = randomBytes(24).toString('base64url')
  const authorizations = new Map<string, { id: string, username: string, org: LocalOrg }>()
  const addAuthorization = (developerName: string, username: string, org = opts.org): void => {
    authorizations.set(developerName, { id: randomUUID(), username, org })
  }
  for (const [developerName, runAs] of Object.entries(opts.authorizations)) {
    if (typeof runAs === 'string') addAuthorization(developerName, runAs)
    else addAuthorization(developerName, runAs.username, runAs.org)
  }
  const requests: AuthorizationRequest[] = []
  const createdAt = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
  const prefix = `/addons/${addonId}/authorizations/`

  const answer = (req: IncomingMessage, res: ServerResponse): number => {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    if (req.method !== 'GET' || !path.startsWith(prefix)) {
      problem(res, 404, 'Not Found', 'Resource not found')
      return 404
    }
    if (req.headers.authorization !== `Bearer ${token}`) {
      problem(res, 401, 'Unauthorized', 'Invalid credentials provided')
      return 401
    }
    if (req.headers['x-app-uuid'] !== appId) {
      problem(res, 403, 'Forbidden', 'The app is not attached to this add-on')
      return 403
    }
    const developerName = decodedName(path.slice(prefix.length))
    const authorization = authorizations.get(developerName)
    if (authorization === undefined) {
      problem(res, 404, 'Not Found', `Authorization ${developerName} not found`)
      return 404
    }
    const context = authorization.org.contextFor(authorization.username)
    // The recording proxy of `instanceUrl` stands in front of the options' org only.
    const instanceUrl = authorization.org === opts.org ? opts.instanceUrl ?? opts.org.url : authorization.org.url
    // The answer of the Heroku AppLink API (Dev Center, "Heroku AppLink API": the Org object's id,
    // instance_url, developer_name, type, api_version) as the SDKs read it (@heroku/applink and
    // heroku-applink-python: org.user_auth.{username, user_id, access_token}, status, created_*).
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      id: authorization.id,
      status: 'authorized',
      org: {
        id: context.orgId,
        developer_name: developerName,
        instance_url: instanceUrl,
        type: 'SalesforceOrg',
        api_version: context.apiVersion,
        user_auth: {
          username: context.userContext.username,
          user_id: context.userContext.userId,
          access_token: context.accessToken
        }
      },
      created_at: createdAt,
      created_by: 'developer@localhost',
      created_via_app: 'applink-actions-local',
      last_modified_at: createdAt,
      last_modified_by: 'developer@localhost',
      redirect_uri: null
    }))
    return 200
  }

  const server = createServer((req, res) => {
    req.resume()
    const developerName = decodedName((req.url ?? '').split('/authorizations/')[1]?.split('?')[0] ?? '')
    requests.push({ developerName, status: answer(req, res) })
  })
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const apiUrl = `http://${opts.host ?? '127.0.0.1'}:${port}/addons/${addonId}`
  return {
    apiUrl,
    env: { HEROKU_APP_ID: appId, HEROKU_APPLINK_API_URL: apiUrl, HEROKU_APPLINK_TOKEN: token },
    requests,
    addAuthorization,
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  }
}
