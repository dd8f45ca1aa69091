import type pg from 'pg'
import { inTransaction } from '@applink-actions/platform/postgres'
import { queryCount } from './query-count.ts'
import { untraced } from '../telemetry/tracing.ts'

// The org boundary of the app's own tables. Every app table carries the org its rows belong to
// (`org_id`, the 18-character id) and a row-level security policy that shows a transaction only the
// rows of the org it set in `app.org_id` (migration 009_org_scope.sql). Filters in the queries say
// the same; the policy is the second wall, so a query that forgets its filter reads nothing rather
// than another org's rows. It holds for a database user that is neither a superuser nor has
// BYPASSRLS: "Superusers and roles with the BYPASSRLS attribute always bypass the row security
// system when accessing a table" (PostgreSQL, "Row Security Policies",
// https://www.postgresql.org/docs/current/ddl-rowsecurity.html); table owners are held to it by
// FORCE ROW LEVEL SECURITY. On Heroku the app's user is such a role: the default credential
// "corresponds to a permissive role that is one step below the superuser. This credential is the
// owner of the database" (Heroku Dev Center, "Heroku Postgres Credentials",
// https://devcenter.heroku.com/articles/heroku-postgresql-credentials).

/** An org id as the app tables store it: 18 characters, letters and digits only. */
const ORG_ID = /^[a-zA-Z0-9]{18}$/

/**
 * The org of rows that existed before app tables had one, and of work whose org is unknown:
 * Salesforce's empty key, never an org's id (org ids start with the key prefix 00D), so no caller
 * sees them until an operator assigns them (README, "Security").
 */
export const UNASSIGNED_ORG = '000000000000000AAA'

/** Access to the app tables as one org: nothing else is visible through it. */
export interface OrgScope {
  readonly orgId: string
  /** Identifies the database, for caches kept per database and org; not for queries. */
  readonly database: object
  /** One statement in a transaction of its own, as the org (`genericPlan`: see OrgOptions). */
  query: <R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string | pg.QueryConfig, values?: unknown[], options?: OrgOptions
  ) => Promise<pg.QueryResult<R>>
  /** Several statements in one transaction, as the org. */
  transaction: <R>(work: (client: pg.PoolClient) => Promise<R>) => Promise<R>
}

export interface OrgOptions {
  /**
   * The transaction's prepared statements run on their generic plan from the first execution
   * (`plan_cache_mode`, transaction-local like the org). Left to choose, PostgreSQL makes five custom
   * plans of a statement on each connection before it compares them with the generic one ("the first
   * five executions are done with custom plans", PostgreSQL, "PREPARE"). A statement named per
   * mirror schema is prepared once per org on each connection, so with many orgs most of its
   * executions were trial plans (issue 24: 200 orgs, 10 connections). Only for statements whose plan
   * does not depend on their values: lookups by equality on keys, for which PostgreSQL itself settles
   * on the generic plan after its trials.
   */
  genericPlan?: boolean
}

/**
 * Runs `work` in one transaction whose `app.org_id` is `orgId`. The setting is transaction-local
 * (`set_config(…, true)`: "the new value will only apply during the current transaction",
 * PostgreSQL, "System Administration Functions"), so a pooled connection never carries one org's
 * setting to the next borrower. The id is checked to be 18 letters and digits, so it is sent as a
 * literal with BEGIN in one round trip.
 */
export async function withOrg<R> (
  pool: pg.Pool, orgId: string, work: (client: pg.PoolClient) => Promise<R>, options: OrgOptions = {}
): Promise<R> {
  if (!ORG_ID.test(orgId)) throw new Error(`not an 18-character org id: ${orgId.slice(0, 40)}`)
  const store = queryCount.getStore()
  if (store !== undefined) store.queries += 2
  const generic = options.genericPlan === true ? ", set_config('plan_cache_mode', 'force_generic_plan', true)" : ''
  return await inTransaction(pool, work, `BEGIN; SELECT set_config('app.org_id', '${orgId}', true)${generic}`)
}

/** The app tables of one org, over `pool`. */
export function orgScope (pool: pg.Pool, orgId: string): OrgScope {
  return {
    orgId,
    database: pool,
    // A trace shows the statement, not the BEGIN and COMMIT around it that only scope it to the org.
    query: async <R extends pg.QueryResultRow>(
      text: string | pg.QueryConfig, values?: unknown[], options?: OrgOptions
    ) =>
      await untraced(async (traced) => await withOrg(pool, orgId, async (client) => {
        const store = queryCount.getStore()
        if (store !== undefined) store.queries++
        return await traced(async () => await client.query<R>(text, values))
      }, options)),
    transaction: async (work) => await withOrg(pool, orgId, work)
  }
}

/**
 * Runs `work` in one transaction that may read and delete the expired rows of every org (the
 * policies named `housekeeping` in 009_org_scope.sql), for the periodic purge only.
 */
export async function asHousekeeping<R> (pool: pg.Pool, work: (client: pg.PoolClient) => Promise<R>): Promise<R> {
  return await inTransaction(pool, work, 'BEGIN; SELECT set_config(\'app.housekeeping\', \'on\', true)')
}
