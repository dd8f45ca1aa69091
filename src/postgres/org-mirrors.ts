// Which schema holds which org's mirror. One app may serve several orgs (production and its
// sandboxes, or an ISV's customers, each synced by its own Heroku Connect add-on into a schema of its
// own), and a sandbox keeps production's record ids: reading another org's schema would answer with
// that org's data. So the caller's org picks the schema, and an org with none reads nothing.
//
// Heroku Connect records the org of each schema it manages in the schema's `_hcmeta` table, column
// `org_id` (public database dumps of Connect-managed schemas, e.g. Rails schema files:
// `create_table "_hcmeta" ... t.string "org_id", limit: 50`); that its value is the org id, 15 or 18
// characters, is inferred from the name and the column's size: ids are compared by their first 15.
import type pg from 'pg'
import { quoteIdent } from '@applink-actions/platform/postgres'
import { AppError } from '../errors.ts'
import { createMirror, type Mirror } from './mirror.ts'

/** The caller's org has no mirror in this database: actions that need one refuse. */
export class OrgNotMirrored extends AppError {
  constructor (orgId: string) {
    super(403, 'ORG_NOT_MIRRORED', `The org ${orgId} has no Heroku Connect mirror in this service's database: ` +
      'actions that read mirrored data are not available to it')
  }
}

/** `orgId:schema,…` (MIRROR_SCHEMAS): explicit entries win over what `_hcmeta` says. */
export function parseMirrorSchemas (setting: string | undefined): Map<string, string> {
  const entries = (setting ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '')
  return new Map(entries.map((entry) => {
    const [orgId = '', schema = ''] = entry.split(':')
    return [orgId.slice(0, 15), schema]
  }))
}

export interface OrgMirrorsOptions {
  /** Entries that override discovery (MIRROR_SCHEMAS). */
  overrides: Map<string, string>
  /** How often the schemas are looked at again, so a new or moved mirror is found without a restart. */
  refreshMs: number
  /** A miss looks again at most this often (an unmirrored org's calls must not each scan the catalog). */
  missRefreshMs: number
  onError: (err: unknown) => void
}

/** The org → mirror map, found from Connect's `_hcmeta` in every schema and kept fresh. */
export class OrgMirrors {
  readonly #pool: pg.Pool
  readonly #opts: OrgMirrorsOptions
  /** 15-character org id → its mirror. */
  #byOrg = new Map<string, Mirror>()
  /** One Mirror per schema, kept across refreshes (it holds prepared statement names). */
  readonly #bySchema = new Map<string, Mirror>()
  #refreshedAt = 0
  #refreshing: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined

  constructor (pool: pg.Pool, opts: OrgMirrorsOptions) {
    this.#pool = pool
    this.#opts = opts
  }

  /** Reads the map once, then keeps it fresh in the background. */
  async start (): Promise<void> {
    await this.refresh()
    this.#timer = setInterval(() => { this.refresh().catch(this.#opts.onError) }, this.#opts.refreshMs).unref()
  }

  stop (): void {
    clearInterval(this.#timer)
  }

  /** The org's mirror as last read, or undefined. */
  lookup (orgId: string): Mirror | undefined {
    return this.#byOrg.get(orgId.slice(0, 15))
  }

  /** The org's mirror; an org not found is looked for again (at most every missRefreshMs) before it is refused. */
  async mirrorFor (orgId: string): Promise<Mirror | undefined> {
    const found = this.lookup(orgId)
    if (found !== undefined || Date.now() - this.#refreshedAt < this.#opts.missRefreshMs) return found
    await this.refresh()
    return this.lookup(orgId)
  }

  /** Which orgs have a mirror, and where (for /healthcheck and logs). */
  get schemas (): Map<string, string> {
    return new Map([...this.#byOrg].map(([org, mirror]) => [org, mirror.schema]))
  }

  async refresh (): Promise<void> {
    this.#refreshing ??= this.#read().finally(() => { this.#refreshing = undefined })
    await this.#refreshing
  }

  async #read (): Promise<void> {
    const { rows: schemas } = await this.#pool.query<{ schema: string }>(
      `SELECT n.nspname AS schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relname = '_hcmeta' AND c.relkind IN ('r', 'p') ORDER BY 1`)
    // Every schema's latest org id in one statement, however many orgs (a query each cost one round
    // trip per schema on every refresh). Schema names come from the catalog and are quoted.
    const latest = schemas.map(({ schema }, i) =>
      `(SELECT ${i} AS i, org_id FROM ${quoteIdent(schema)}._hcmeta WHERE org_id IS NOT NULL ORDER BY id DESC LIMIT 1)`)
    const { rows } = latest.length === 0
      ? { rows: [] }
      : await this.#pool.query<{ i: number, org_id: string }>(latest.join(' UNION ALL '))
    const found = new Map<string, string[]>()
    for (const row of rows.sort((a, b) => a.i - b.i)) {
      const schema = schemas[row.i]?.schema
      const orgId = row.org_id.trim().slice(0, 15)
      if (schema !== undefined && orgId !== '') found.set(orgId, [...(found.get(orgId) ?? []), schema])
    }
    const byOrg = new Map<string, Mirror>()
    for (const [orgId, claimed] of found) {
      // Two schemas claiming one org cannot be told apart: neither is used until MIRROR_SCHEMAS says.
      if (claimed.length > 1 && !this.#opts.overrides.has(orgId)) {
        this.#opts.onError(new Error(`schemas ${claimed.join(', ')} all hold org ${orgId}: set MIRROR_SCHEMAS`))
        continue
      }
      const schema = claimed[0]
      if (schema !== undefined) byOrg.set(orgId, this.#mirrorOf(schema))
    }
    for (const [orgId, schema] of this.#opts.overrides) byOrg.set(orgId, this.#mirrorOf(schema))
    this.#byOrg = byOrg
    this.#refreshedAt = Date.now()
  }

  #mirrorOf (schema: string): Mirror {
    let mirror = this.#bySchema.get(schema)
    if (mirror === undefined) {
      mirror = createMirror(this.#pool, schema)
      this.#bySchema.set(schema, mirror)
    }
    return mirror
  }
}
