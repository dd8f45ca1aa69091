// The local org: a Salesforce REST API stand-in for development, tests and benchmarks.
// Production code never imports this folder.
import { randomUUID } from 'node:crypto'
import type { Profile, UserInfo } from './access.ts'
import { IdGenerator, idChecksum as idChecksumLocal } from './ids.ts'
import { OrgCore } from './org.ts'
import type { PublishedEvent } from './org.ts'
import type { ObjectSpec } from './schema.ts'
import { prng, seedOrg, seedUsers } from './seed.ts'
import type { Dataset } from './seed.ts'
import { OrgServer } from './server.ts'
import type { Faults, SoqlLogEntry, Stats } from './server.ts'
import { loadSnapshot, saveChanges, saveSnapshot, snapshotExists } from './snapshot.ts'
import type { Rec, Value } from './store.ts'
import type { ClientContext } from '@applink-actions/platform/client-context'

export type { Faults, SoqlLogEntry, Stats } from './server.ts'
export { PUBLISHED_EVENTS_PATH } from './server.ts'
export { FAULTS_USAGE, formatFaults, parseFaultSpec } from './faults.ts'
export type { PublishedEvent } from './org.ts'
export type { ObjectSpec, FieldSpec } from './schema.ts'
export type { Dataset } from './seed.ts'
export { isValidId, idChecksum, normalizeId, to18 } from './ids.ts'
export type { ClientContext } from '@applink-actions/platform/client-context'

export interface LocalOrgOptions {
  port?: number
  host?: string
  seed?: number
  dataset?: Dataset
  /** Accounts of the `large` data set (default 1,000,000): 10k, 100k, 1M for a scale curve. */
  accounts?: number
  latencyMs?: number | [number, number]
  faults?: Faults
  snapshotDir?: string
  /** Extra objects (custom objects for tests), e.g. the conformance suite's Movie__c. */
  extraObjects?: ObjectSpec[]
  /** The org id (default: derived from the seed, and for a sandbox from the seed and its name). */
  orgId?: string
  /** The users' domain: `admin@<domain>`, `rep1@<domain>`, … (default acme.local). */
  userDomain?: string
  /**
   * Makes the org a sandbox copy, by this name, of the org the same seed makes: the same record ids,
   * its own org id, users (`rep1@acme.local.<sandbox>`) and tokens, and values changed so that data
   * read from the wrong org shows (account names suffixed ` (<sandbox>)`, prices and amounts 10 % up).
   */
  sandbox?: string
  /** The 2 characters after each record id's key prefix (default Lo): another customer's org has other ids. */
  pod?: string
  /** Called during seeding with (accounts done, accounts total). Default: a bar on a TTY stderr for 'large'. */
  progress?: (done: number, total: number) => void
}

export interface LocalOrgUser {
  id: string
  username: string
  name: string
  profile: Profile
  /** The user's current token (changes after expireToken + mintContext or refreshToken). */
  readonly accessToken: string
}

export interface LocalOrg {
  url: string
  orgId: string
  apiVersion: string
  users: LocalOrgUser[]
  close: () => Promise<void>
  /** base64 x-client-context for the user; issues a fresh token when the current one no longer works. */
  mintContext: (username: string, overrides?: Partial<ClientContext>) => string
  /** The decoded form of mintContext. */
  contextFor: (username: string, overrides?: Partial<ClientContext>) => ClientContext
  user: (username: string) => LocalOrgUser
  readonly stats: Stats
  resetStats: () => void
  readonly soqlLog: SoqlLogEntry[]
  clearSoqlLog: () => void
  readonly faults: Faults
  setFaults: (partial: Partial<Faults>) => void
  expireToken: (username: string) => void
  /** Issues a new token for the user and returns it. */
  refreshToken: (username: string) => string
  records: (sobjectType: string) => Array<Record<string, Value>>
  getRecord: (id: string) => Record<string, Value> | undefined
  insertRecord: (type: string, fields: Record<string, unknown>, asUser?: string) => Record<string, Value>
  updateRecord: (id: string, fields: Record<string, unknown>) => Record<string, Value>
  deleteRecord: (id: string) => void
  /** Platform event messages published so far, oldest first; only those of `type` when given. */
  publishedEvents: (type?: string) => PublishedEvent[]
  /** Counts of live (not deleted) records by type. */
  counts: () => Record<string, number>
  /** Writes the snapshot now (no-op without snapshotDir). */
  saveSnapshot: () => void
  /** The in-process core, for advanced tests. */
  core: OrgCore
}

export const API_VERSION = '62.0'

export async function startLocalOrg (opts: LocalOrgOptions = {}): Promise<LocalOrg> {
  const seed = opts.seed ?? 42
  const dataset: Dataset = opts.dataset ?? 'small'
  if (opts.sandbox !== undefined && !/^[A-Za-z][A-Za-z0-9]{0,9}$/.test(opts.sandbox)) {
    throw new Error('local org: a sandbox name is 1-10 letters and digits, starting with a letter')
  }
  if (opts.accounts !== undefined && (!Number.isInteger(opts.accounts) || opts.accounts < 1 || dataset !== 'large')) {
    throw new Error('local org: accounts is a positive integer, for the large data set')
  }
  if (opts.pod !== undefined && !/^[A-Za-z0-9]{2}$/.test(opts.pod)) throw new Error('local org: a pod is 2 letters or digits')
  // A sandbox's org id is its own (Salesforce gives each sandbox one), still derived from the seed.
  const orgId = opts.orgId ?? new IdGenerator(seed + 1, opts.sandbox === undefined ? 'Lo' : 'Sb').next('00D')
  const core = new OrgCore({ extraObjects: opts.extraObjects, orgId, apiVersion: API_VERSION, idPod: opts.pod })
  const seedUserList = seedUsers(opts.userDomain, opts.sandbox)

  const progress = opts.progress ?? (dataset === 'large' && process.stderr.isTTY ? ttyProgress() : undefined)
  if (opts.snapshotDir && snapshotExists(opts.snapshotDir)) {
    loadSnapshot(core, opts.snapshotDir)
    for (const u of seedUserList) {
      const rec = core.store.lookup('User', 'Username', u.username)[0]
      if (rec) core.addUser({ id: rec.f.Id as string, username: u.username, name: String(rec.f.Name ?? ''), profile: u.profile })
    }
  } else {
    seedOrg(core, { seed, dataset, accounts: opts.accounts, progress, users: seedUserList, sandbox: opts.sandbox })
  }

  const faults: Faults = { ...(opts.faults ?? {}) }
  if (opts.latencyMs !== undefined) faults.latencyMs = opts.latencyMs
  const server = new OrgServer(core, faults, prng(seed ^ 0x5eed))
  const url = await server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1')

  // Snapshot persistence: what changed, every 2 s and on close.
  let timer: NodeJS.Timeout | undefined
  const persist = (): void => {
    if (opts.snapshotDir) saveChanges(core, opts.snapshotDir, { seed, dataset })
  }
  if (opts.snapshotDir) {
    core.store.trackChanges = true
    if (!snapshotExists(opts.snapshotDir)) saveSnapshot(core, opts.snapshotDir, { seed, dataset })
    timer = setInterval(persist, 2000)
    timer.unref()
  }

  const admin = core.users.find(u => u.profile === 'admin') as UserInfo
  const userOf = (username: string): UserInfo => {
    const u = core.userByName(username)
    if (!u) throw new Error(`local org: no user ${username}`)
    return u
  }
  const users: LocalOrgUser[] = core.users.map(u => ({
    id: u.id,
    username: u.username,
    name: u.name,
    profile: u.profile,
    get accessToken () { return server.tokenFor(u.username) }
  }))
  const plain = (r: Rec | undefined): Record<string, Value> | undefined => (r ? { ...r.f } : undefined)

  const contextFor = (username: string, overrides: Partial<ClientContext> = {}): ClientContext => {
    const u = userOf(username)
    return {
      accessToken: server.validTokenFor(u.username),
      apiVersion: API_VERSION,
      requestId: `${orgId.slice(0, 15)}-${randomUUID()}`,
      namespace: '',
      orgId,
      orgDomainUrl: url,
      userContext: { userId: u.id, username: u.username },
      ...overrides
    }
  }

  const org: LocalOrg = {
    url,
    orgId,
    apiVersion: API_VERSION,
    users,
    core,
    async close () {
      if (timer) clearInterval(timer)
      await server.close()
      persist()
    },
    contextFor,
    mintContext: (username, overrides) => Buffer.from(JSON.stringify(contextFor(username, overrides))).toString('base64'),
    user: (username) => {
      const u = users.find(x => x.username === username.toLowerCase())
      if (!u) throw new Error(`local org: no user ${username}`)
      return u
    },
    get stats () { return server.stats },
    resetStats: () => server.resetStats(),
    get soqlLog () { return server.soqlLog },
    clearSoqlLog: () => { server.soqlLog.length = 0 },
    get faults () { return server.faults },
    setFaults: (partial) => { server.setFaults(partial) },
    expireToken: (username) => server.expireToken(userOf(username).username),
    refreshToken: (username) => server.issueToken(userOf(username).username),
    records: (type) => {
      const def = core.schema.get(type)
      if (!def) throw new Error(`local org: no object ${type}`)
      const out: Array<Record<string, Value>> = []
      for (const r of core.store.all(def.name)) if (r.f.IsDeleted !== true) out.push({ ...r.f })
      return out
    },
    getRecord: (id) => {
      const r = core.store.get(to18Safe(id))
      return plain(r)
    },
    insertRecord: (type, fields, asUser) => {
      const u = asUser ? userOf(asUser) : admin
      return { ...core.create(u, type, fields, { system: true }).f }
    },
    updateRecord: (id, fields) => {
      const r = core.store.get(to18Safe(id))
      if (!r) throw new Error(`local org: no record ${id}`)
      return { ...core.update(admin, r.type, r.f.Id as string, fields, { system: true }).f }
    },
    deleteRecord: (id) => {
      const r = core.store.get(to18Safe(id))
      if (!r) throw new Error(`local org: no record ${id}`)
      core.delete(admin, r.type, r.f.Id as string, { system: true })
    },
    publishedEvents: (type) => core.eventsOf(type).map(e => ({ ...e, fields: { ...e.fields } })),
    counts: () => {
      const out: Record<string, number> = {}
      for (const o of core.schema.all()) {
        let n = 0
        for (const r of core.store.all(o.name)) if (r.f.IsDeleted !== true) n++
        if (n > 0) out[o.name] = n
      }
      return out
    },
    saveSnapshot: persist
  }
  return org
}

function to18Safe (id: string): string {
  if (id.length === 15) return id + idChecksumLocal(id)
  return id.length === 18 ? id.slice(0, 15) + idChecksumLocal(id.slice(0, 15)) : id
}

function ttyProgress (): (done: number, total: number) => void {
  const started = Date.now()
  return (done, total) => {
    const pct = total ? Math.floor((done / total) * 100) : 100
    const width = 30
    const fill = Math.round((pct / 100) * width)
    process.stderr.write(`\rlocal org: seeding [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${pct}% ${done}/${total} accounts ${((Date.now() - started) / 1000).toFixed(1)}s`)
    if (done >= total) process.stderr.write('\n')
  }
}
