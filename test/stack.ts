import { MAPPING } from '../src/postgres/mapping.ts'
import type { Test } from 'tap'
import type pg from 'pg'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { startLocalOrg, type LocalOrg } from '@applink-actions/local-org'
import { startLocalSync, type LocalSync } from '@applink-actions/local-connect'
import { startLocalAppLink, type LocalAppLink } from '@applink-actions/local-applink'
import { seedAppData } from '../scripts/app-data.ts'
import {
  LOCAL_ORGS, authorizationsSetting, integrationUser, type LocalOrgSpec, type OrgAlias
} from '../scripts/local-orgs.ts'
import { actionPath } from '../src/actions/define.ts'
import { DEFAULT_ORG_DOMAINS } from '../src/config.ts'
import { buildApp, testDatabase } from './helper.ts'

/** The stack's mirror schema of acme (the service's CONNECT_SCHEMA in tests). */
const CONNECT_SCHEMA = 'salesforce'

/** One org of the stack: its local org, the schema its own sync mirrors it into (none: not mirrored). */
export interface StackOrg {
  alias: OrgAlias
  org: LocalOrg
  schema: string | undefined
  sync: LocalSync | undefined
  /** Its AppLink authorization's developer name (set up only when the stack was given `orgs`). */
  authorization: string
}

export interface Stack {
  app: FastifyInstance
  /** acme's local org. */
  org: LocalOrg
  pool: pg.Pool
  /** acme's local sync. */
  sync: LocalSync
  /** Every org started, by alias (only acme unless `orgs` was given). */
  orgs: Partial<Record<OrgAlias, StackOrg>>
  /** The local AppLink add-on with an authorization per org; only when `orgs` was given. */
  applink: LocalAppLink | undefined
  logs: string[]
  /** Calls an action as a local-org user (of whichever org has that username), through the real context header. */
  call: (operationId: string, body: unknown, username?: string) => Promise<LightMyRequestResponse>
}

/**
 * The whole thing for an end-to-end test: a local org, a fresh database with the mirror filled
 * by the local sync, the app's tables seeded, and the real app on top. With `orgs`, several orgs
 * as `npm run dev` starts them (scripts/local-orgs.ts): each mirrored one by its own sync into its
 * own schema, each origin in ORG_DOMAINS, and one local AppLink add-on with an authorization per org
 * (APPLINK_AUTHORIZATIONS; acme's is APPLINK_AUTHORIZATION).
 */
export interface StackOptions {
  /** A function gets acme's org, and every org of the stack, for settings made from them. */
  env?: Record<string, string> | ((org: LocalOrg, orgs: Partial<Record<OrgAlias, StackOrg>>) => Record<string, string>)
  seed?: number
  /** The orgs to start, acme among them; default acme alone, with no AppLink add-on. */
  orgs?: OrgAlias[]
}

export async function startStack (t: Test, opts: StackOptions = {}): Promise<Stack> {
  const aliases = opts.orgs ?? ['acme']
  if (!aliases.includes('acme')) throw new Error('startStack: acme is always one of the orgs')
  const seed = opts.seed ?? 7
  const { url, pool } = await testDatabase(t, 'stack')
  const orgs: Partial<Record<OrgAlias, StackOrg>> = {}
  for (const alias of aliases) orgs[alias] = await startOrg(t, LOCAL_ORGS[alias], seed, pool)
  const acme = orgs.acme as StackOrg & { sync: LocalSync }
  const org = acme.org

  let applink: LocalAppLink | undefined
  let orgsEnv: Record<string, string> = {}
  if (opts.orgs !== undefined) {
    const running = Object.values(orgs).map((o) => ({ spec: LOCAL_ORGS[o.alias], org: o.org }))
    applink = await startLocalAppLink({
      org,
      authorizations: Object.fromEntries(running.map(({ spec, org }) =>
        [spec.authorization, { org, username: integrationUser(org) }]))
    })
    t.teardown(applink.close)
    // The SDK reads its settings from process.env (each test file is its own process).
    Object.assign(process.env, applink.env)
    orgsEnv = {
      ...applink.env,
      APPLINK_AUTHORIZATION: LOCAL_ORGS.acme.authorization,
      APPLINK_AUTHORIZATIONS: authorizationsSetting(running),
      // Each org's own origin, not every loopback port: only the stack's orgs are callers' orgs.
      ORG_DOMAINS: [DEFAULT_ORG_DOMAINS, ...running.map(({ org }) => org.url)].join(',')
    }
  }
  // A function gets the running org, for settings minted from it (contexts).
  const env = typeof opts.env === 'function' ? opts.env(org, orgs) : opts.env
  const { app, logs } = await buildApp(t, { env: { DATABASE_URL: url, ...orgsEnv, ...env } })
  // Each mirrored org's own app data, seeded from its mirror; an unmirrored org has none.
  for (const o of Object.values(orgs)) if (o.schema !== undefined) await seedAppData(pool, o.schema)
  for (const o of Object.values(orgs)) o.org.resetStats()
  const byUsername = (username: string): LocalOrg =>
    Object.values(orgs).find((o) => o.org.users.some((u) => u.username === username.toLowerCase()))?.org ?? org
  return {
    app,
    org,
    pool,
    sync: acme.sync,
    orgs,
    applink,
    logs,
    call: async (operationId, body, username = 'rep1@acme.local') => await app.inject({
      method: 'POST',
      url: actionPath(operationId),
      headers: { 'x-client-context': byUsername(username).mintContext(username) },
      payload: body as object
    })
  }
}

async function startOrg (t: Test, spec: LocalOrgSpec, seed: number, pool: pg.Pool): Promise<StackOrg> {
  const org = await startLocalOrg({ port: 0, dataset: 'small', ...spec.options(seed) })
  t.teardown(() => org.close())
  const schema = spec.schema === 'connect' ? CONNECT_SCHEMA : spec.schema
  const sync = schema === undefined
    ? undefined
    : await startLocalSync({
      mapping: MAPPING,
      pool,
      schema,
      orgUrl: org.url,
      accessToken: org.user(integrationUser(org)).accessToken,
      intervalMs: 300
    })
  if (sync !== undefined) t.teardown(() => sync.stop())
  return { alias: spec.alias, org, schema, sync, authorization: spec.authorization }
}
