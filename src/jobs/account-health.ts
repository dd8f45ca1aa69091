import type pg from 'pg'
import { borrow } from '@applink-actions/platform/postgres'
import type { Mirror } from '../postgres/mirror.ts'
import type { INDUSTRIES, SEGMENTS } from '../schemas/jobs.ts'

export interface AccountFilter {
  segment?: typeof SEGMENTS[number]
  industry?: typeof INDUSTRIES[number]
  ownerId?: string
}

/**
 * An account's new score. `editable: false` when the caller who started the job may read the account
 * but not edit it (UserRecordAccess, asked when the job plans its work): it is not sent, and counts
 * as not permitted. Accounts the caller may not read are not in the plan at all.
 */
export interface AccountScore { id: string, score: number, editable?: false }

/** What a job reports for a record the caller may not edit (it is not sent). */
export const CALLER_MAY_NOT_EDIT = {
  errorCode: 'INSUFFICIENT_ACCESS_OR_READONLY',
  message: 'The user who started the job may not edit this record'
}

/**
 * How the 0–100 health score is made: up to 30 points of open pipeline, 30 of revenue won in the
 * last 12 months, 20 for few open cases (high priority ones weigh double) and 20 for recent
 * activity on the account's opportunities and cases. Each part saturates, so one giant deal
 * cannot carry an account with nothing else going on.
 */
export const HEALTH_WEIGHTS = {
  pipeline: { points: 30, saturatesAt: 500_000 },
  wonLast12Months: { points: 30, saturatesAt: 1_000_000 },
  openCases: { points: 20, penaltyPerCase: 4, highPriorityFactor: 2 },
  recency: { points: 20, zeroAfterDays: 180 }
} as const

/**
 * How long the plan's cursor statements may take. The first FETCH runs the query up to its sort, over
 * the whole selection: on a segment of a million accounts that can outlast the pool's timeouts
 * (DATABASE_TIMEOUT_MS × 4), which are meant for the actions' reads.
 */
const CURSOR_TIMEOUT_MS = 300_000

/**
 * Scores every live account of the mirror that matches the filter, in pages of `pageSize` (what a
 * worker holds of the mirror at a time) ordered by id byte for byte (`COLLATE "C"`, the order of
 * Salesforce's base-62 ids, whatever the database's collation), from the account after `after` when
 * given. Reads the tables Heroku Connect mirrors through a server-side cursor, so the worker holds one
 * page, never the result set; the cursor's transaction lasts as long as the pages are read. `now`
 * makes the recency part reproducible.
 */
export async function * scoredPages (
  pool: pg.Pool, mirror: Pick<Mirror, 'table'>, filter: AccountFilter, now: Date,
  page: { pageSize: number, after?: string | undefined }
): AsyncGenerator<AccountScore[]> {
  const w = HEALTH_WEIGHTS
  const sql = `
WITH accounts AS (
  SELECT sfid FROM ${mirror.table('account')}
   WHERE isdeleted IS NOT TRUE AND sfid IS NOT NULL
     AND ($1::text IS NULL OR type = $1)
     AND ($2::text IS NULL OR industry = $2)
     AND ($3::text IS NULL OR left(ownerid, 15) = left($3, 15))
     AND ($5::text IS NULL OR sfid COLLATE "C" > $5)
),
opportunities AS (
  SELECT o.accountid,
         coalesce(sum(o.amount) FILTER (WHERE o.isclosed IS NOT TRUE), 0) AS pipeline,
         coalesce(sum(o.amount) FILTER (WHERE o.iswon AND o.closedate >= ($4::timestamp - interval '12 months')::date), 0) AS won,
         max(greatest(o.systemmodstamp, o.lastmodifieddate)) AS touched
    FROM ${mirror.table('opportunity')} o JOIN accounts a ON a.sfid = o.accountid
   WHERE o.isdeleted IS NOT TRUE
   GROUP BY o.accountid
),
cases AS (
  SELECT c.accountid,
         count(*) FILTER (WHERE c.isclosed IS NOT TRUE) AS open_cases,
         count(*) FILTER (WHERE c.isclosed IS NOT TRUE AND c.priority = 'High') AS high_cases,
         max(c.systemmodstamp) AS touched
    FROM ${mirror.table('case')} c JOIN accounts a ON a.sfid = c.accountid
   WHERE c.isdeleted IS NOT TRUE
   GROUP BY c.accountid
)
SELECT a.sfid AS id,
       round(
         ${w.pipeline.points} * least(1, coalesce(o.pipeline, 0) / ${w.pipeline.saturatesAt})
       + ${w.wonLast12Months.points} * least(1, coalesce(o.won, 0) / ${w.wonLast12Months.saturatesAt})
       + greatest(0, ${w.openCases.points} - ${w.openCases.penaltyPerCase} * (coalesce(c.open_cases, 0) + (${w.openCases.highPriorityFactor} - 1) * coalesce(c.high_cases, 0)))
       + ${w.recency.points} * greatest(0, least(1, 1 - extract(epoch FROM ($4::timestamp - greatest(o.touched, c.touched))) / 86400 / ${w.recency.zeroAfterDays}))
       )::int AS score
  FROM accounts a
  LEFT JOIN opportunities o ON o.accountid = a.sfid
  LEFT JOIN cases c ON c.accountid = a.sfid
 ORDER BY a.sfid COLLATE "C"`
  // Connect stores UTC in timestamp without time zone: compare in UTC.
  const nowUtc = now.toISOString().replace('T', ' ').replace('Z', '')
  const { client, release } = await borrow(pool)
  let ended = false
  try {
    await client.query(`BEGIN READ ONLY; SET LOCAL statement_timeout = ${CURSOR_TIMEOUT_MS}`)
    await client.query(`DECLARE scores NO SCROLL CURSOR FOR ${sql}`,
      [filter.segment ?? null, filter.industry ?? null, filter.ownerId ?? null, nowUtc, page.after ?? null])
    // pg's own read timeout is per query (`query_timeout`, not in its QueryConfig type).
    const fetch = { text: `FETCH ${page.pageSize} FROM scores`, query_timeout: CURSOR_TIMEOUT_MS }
    for (;;) {
      const { rows } = await client.query<{ id: string, score: number | null }>(fetch)
      if (rows.length > 0) yield rows.map((r) => ({ id: r.id, score: Math.min(100, Math.max(0, r.score ?? 0)) }))
      if (rows.length < page.pageSize) break
    }
    await client.query('COMMIT')
    ended = true
  } finally {
    if (!ended) await client.query('ROLLBACK').catch(() => {})
    release()
  }
}
