// Where the summary of an asynchronous action may be POSTed, and whether the caller's session goes
// with it.
//
// Salesforce Help, "Asynchronous Callback Operations Using Apex": "Salesforce creates a callback URL
// on the asynchronous callout (initial callout) that's read-only." Neither that page nor "Callouts
// and Callbacks: Limits and Usage" says on which host that URL lives or how the external system
// authenticates to it, and Heroku's AppLink samples (org-action, org-job) use no callbacks. So the
// rule cannot be matched to a documented endpoint; instead it allows:
// - the caller's own org: its My Domain URL as the context gives it (orgDomainUrl), and the other
//   Salesforce host names of the same My Domain. Salesforce Help, "My Domain": "That My Domain name
//   is used as your org-specific subdomain in Salesforce login and application URLs. For example,
//   https://mycompany.my.salesforce.com and https://mycompany.my.site.com." The caller's session is
//   sent there: it is the org that issued it.
// - origins an administrator lists in CALLBACK_ALLOWED_ORIGINS. They get the summary without the
//   caller's session: a session must not leave the org that issued it.
import type { Config } from '../config.ts'

export interface CallbackTarget {
  allowed: boolean
  /** Send the caller's session as `Authorization: Bearer` (only to the caller's own org). */
  withSession: boolean
}

const REFUSED: CallbackTarget = { allowed: false, withSession: false }

// Host formats as Salesforce Help, "My Domain Login and Application URL Formats with Enhanced Domains"
// lists them: production <name>.my.salesforce.com, sandbox <name>--<sandbox>.sandbox.my.salesforce.com,
// and scratch, Developer Edition, demo and patch orgs with their own label before my.salesforce.com.
const ORG_KINDS = 'sandbox|scratch|develop|demo|patch|trailblaze'
const MY_DOMAIN = new RegExp(`^(?<name>[a-z0-9-]+)\\.(?<kind>(?:${ORG_KINDS})\\.)?my\\.salesforce\\.com$`)
/** The application host names that carry the same My Domain name and org kind label. */
const ORG_HOST_SUFFIXES = ['my.salesforce.com', 'lightning.force.com', 'my.site.com', 'my.salesforce-sites.com']

function orgHosts (orgDomainUrl: URL): Set<string> {
  const hosts = new Set([orgDomainUrl.host])
  const match = MY_DOMAIN.exec(orgDomainUrl.hostname)
  if (match?.groups !== undefined && orgDomainUrl.port === '') {
    const { name, kind = '' } = match.groups
    for (const suffix of ORG_HOST_SUFFIXES) hosts.add(`${name}.${kind}${suffix}`)
  }
  return hosts
}

/** The configured extra origins, normalised (`https://host[:port]`). */
export function allowedCallbackOrigins (config: Pick<Config, 'CALLBACK_ALLOWED_ORIGINS'>): string[] {
  return (config.CALLBACK_ALLOWED_ORIGINS ?? '').split(',').flatMap((raw) => {
    const url = URL.parse(raw.trim())
    return url === null ? [] : [url.origin]
  })
}

export function callbackTarget (
  callbackUrl: string,
  orgDomainUrl: string,
  allowedOrigins: readonly string[]
): CallbackTarget {
  const target = URL.parse(callbackUrl)
  const org = URL.parse(orgDomainUrl)
  if (target === null || org === null || target.username !== '' || target.password !== '') return REFUSED
  // The org's own URL as AppLink gives it (http only for the local stand-in org).
  if (target.origin === org.origin) return { allowed: true, withSession: true }
  if (target.protocol === 'https:' && org.protocol === 'https:' && orgHosts(org).has(target.host)) {
    return { allowed: true, withSession: true }
  }
  if (allowedOrigins.includes(target.origin)) return { allowed: true, withSession: false }
  return REFUSED
}
