// The local stack's orgs, as one app connected to several meets them: `acme` (today's org, mirrored
// into the service's CONNECT_SCHEMA), `acme-sandbox` (a sandbox copy of acme: the same record ids, its
// own org, users and values; not mirrored, so its callers must get ORG_NOT_MIRRORED) and `globex`
// (another customer with its own data, mirrored into a schema of its own by its own sync, as one
// Connect add-on per org). Each has its own AppLink authorization. `npm run dev` and the tests'
// stack start them from here.
import type { LocalOrg, LocalOrgOptions } from '@applink-actions/local-org'

export const ORG_ALIASES = ['acme', 'acme-sandbox', 'globex'] as const
export type OrgAlias = typeof ORG_ALIASES[number]

export interface LocalOrgSpec {
  alias: OrgAlias
  /** The schema its local sync mirrors it into; undefined: not mirrored. `connect` is the service's CONNECT_SCHEMA. */
  schema: 'connect' | 'globex' | undefined
  /** The developer name of its AppLink authorization (run as its integration user). */
  authorization: string
  /** startLocalOrg's options for it, from acme's seed. */
  options: (seed: number) => LocalOrgOptions
}

export const LOCAL_ORGS: Record<OrgAlias, LocalOrgSpec> = {
  acme: { alias: 'acme', schema: 'connect', authorization: 'LocalIntegration', options: (seed) => ({ seed }) },
  'acme-sandbox': {
    alias: 'acme-sandbox',
    schema: undefined,
    authorization: 'LocalIntegrationSandbox',
    // The same seed as acme: a copy of its records, with its own org id, users and values.
    options: (seed) => ({ seed, sandbox: 'uat' })
  },
  globex: {
    alias: 'globex',
    schema: 'globex',
    authorization: 'LocalIntegrationGlobex',
    // Another seed (its own prices), domain and id pod: nothing of it is acme's.
    options: (seed) => ({ seed: seed + 1, userDomain: 'globex.local', pod: 'Gx' })
  }
}

/** `--orgs acme,globex` → the aliases, acme first when named; unknown names are refused. */
export function parseOrgAliases (text: string): OrgAlias[] {
  const names = text.split(',').map((n) => n.trim()).filter((n) => n !== '')
  const unknown = names.filter((n) => !(ORG_ALIASES as readonly string[]).includes(n))
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(`--orgs takes a comma-separated list of ${ORG_ALIASES.join(', ')}; got ${text}`)
  }
  return ORG_ALIASES.filter((alias) => names.includes(alias))
}

/** The org's integration user: its local sync and its AppLink authorization run as this user. */
export function integrationUser (org: LocalOrg): string {
  const user = org.users.find((u) => u.profile === 'integration')
  if (user === undefined) throw new Error(`the org ${org.orgId} has no integration user`)
  return user.username
}

/** APPLINK_AUTHORIZATIONS for the running orgs: each org's jobs under its own authorization. */
export function authorizationsSetting (orgs: Array<{ spec: LocalOrgSpec, org: LocalOrg }>): string {
  return orgs.map(({ spec, org }) => `${org.orgId}:${spec.authorization}`).join(',')
}
