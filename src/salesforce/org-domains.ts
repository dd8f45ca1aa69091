// Which hosts a caller's `orgDomainUrl` may name: the service sends the caller's token there (every
// org call) and asks it who the token belongs to, so a context naming any other host is refused.
//
// AppLink's context carries the org's My Domain URL. Salesforce Help, "My Domain Login and Application
// URL Formats with Enhanced Domains": production `<name>.my.salesforce.com`, sandboxes
// `<name>--<sandbox>.sandbox.my.salesforce.com`, and scratch, Developer Edition, demo and patch orgs
// with their own label before `my.salesforce.com`; all end in `.my.salesforce.com`, the default
// (DEFAULT_ORG_DOMAINS in src/config.ts).
// An org whose My Domain URL ends otherwise adds its suffix, and the local stack adds its local org's
// origin.
/** A cache this size holds every org a service ever sees; past it, answers are computed, not kept. */
const MAX_REMEMBERED = 1000

export class OrgDomains {
  /** Host suffixes (`.my.salesforce.com`), reached over https only. */
  readonly #suffixes: string[]
  /** Exact origins (`http://127.0.0.1:41563`), or every port of a host (`http://127.0.0.1:*`). */
  readonly #origins: Set<string>
  readonly #anyPort: Set<string>
  readonly #seen = new Map<string, boolean>()

  constructor (list: string) {
    const entries = list.split(',').map((entry) => entry.trim().toLowerCase()).filter((entry) => entry !== '')
    this.#suffixes = entries.filter((entry) => entry.startsWith('.'))
    const origins = entries.filter((entry) => !entry.startsWith('.'))
    this.#anyPort = new Set(origins.filter((o) => o.endsWith(':*')).map((o) => o.slice(0, -2)))
    this.#origins = new Set(origins.filter((o) => !o.endsWith(':*')).map((o) => new URL(o).origin))
  }

  /**
   * Whether an org URL is one of the listed hosts, written as its origin (`https://host[:port]`):
   * a path, query, fragment, stray whitespace or upper case is not an org's My Domain URL as AppLink
   * sends it, and would make the token go to, or be checked at, another place than the one listed.
   */
  allows (domainUrl: string): boolean {
    let allowed = this.#seen.get(domainUrl)
    if (allowed === undefined) {
      allowed = this.#check(domainUrl)
      if (this.#seen.size < MAX_REMEMBERED) this.#seen.set(domainUrl, allowed)
    }
    return allowed
  }

  /** Listed by its exact origin (a local stand-in), not by a public suffix. */
  listsOrigin (origin: string): boolean {
    const url = URL.parse(origin)
    return url !== null && (this.#origins.has(url.origin) || this.#anyPort.has(`${url.protocol}//${url.hostname}`))
  }

  #check (domainUrl: string): boolean {
    const url = URL.parse(domainUrl)
    if (url === null || url.origin !== domainUrl) return false
    if (this.listsOrigin(url.origin)) return true
    return url.protocol === 'https:' && url.port === '' &&
      this.#suffixes.some((suffix) => url.hostname.endsWith(suffix) && url.hostname.length > suffix.length)
  }
}
