import type pg from 'pg'
import type { Mirror } from './mirror.ts'
import type { AccountFacts } from '../domain/insights.ts'

/**
 * Everything accountInsights says about one account, from the mirror and the app's web orders,
 * in one round trip. The caller's access is checked before this runs: the mirror has no sharing.
 */
export async function accountFacts (pool: pg.Pool, mirror: Mirror, accountId: string): Promise<AccountFacts> {
  const account = mirror.table('account')
  const opportunity = mirror.table('opportunity')
  const lineItem = mirror.table('opportunitylineitem')
  const product = mirror.table('product2')
  const cases = mirror.table('case')
  const { rows } = await pool.query<AccountFacts>({
    name: `account-facts-${mirror.schema}`,
    text: `
      WITH opp AS (
        SELECT sfid, stagename, amount, isclosed, iswon, closedate, lastmodifieddate
          FROM ${opportunity} WHERE accountid = $1 AND isdeleted IS NOT TRUE
      ), open_case AS (
        SELECT priority, systemmodstamp FROM ${cases} WHERE accountid = $1 AND isdeleted IS NOT TRUE AND isclosed IS NOT TRUE
      )
      SELECT
        (SELECT json_build_object('name', a.name, 'type', a.type, 'industry', a.industry, 'billingCountry', a.billingcountry)
           FROM ${account} a WHERE a.sfid = $1 AND a.isdeleted IS NOT TRUE) AS account,
        (SELECT coalesce(json_agg(json_build_object('stage', stagename, 'count', n, 'amount', total) ORDER BY total DESC, stagename), '[]')
           FROM (SELECT stagename, count(*)::int AS n, coalesce(sum(amount), 0)::float8 AS total FROM opp WHERE isclosed IS NOT TRUE GROUP BY stagename) s) AS pipeline,
        (SELECT coalesce(sum(amount), 0)::float8 FROM opp WHERE iswon IS TRUE AND closedate >= (now() AT TIME ZONE 'UTC' - interval '12 months')::date) AS "wonRevenue12Months",
        (SELECT coalesce(json_agg(json_build_object('priority', priority, 'count', n) ORDER BY n DESC, priority), '[]')
           FROM (SELECT coalesce(priority, 'None') AS priority, count(*)::int AS n FROM open_case GROUP BY 1) c) AS "openCases",
        (SELECT to_char(greatest((SELECT max(lastmodifieddate) FROM opp), (SELECT max(systemmodstamp) FROM open_case)), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) AS "lastActivityAt",
        (SELECT coalesce(json_agg(json_build_object('name', name, 'productCode', productcode, 'revenue', revenue) ORDER BY revenue DESC, name), '[]')
           FROM (SELECT p.name, p.productcode, sum(li.totalprice)::float8 AS revenue
                   FROM ${lineItem} li JOIN opp ON opp.sfid = li.opportunityid AND opp.iswon IS TRUE
                   JOIN ${product} p ON p.sfid = li.product2id
                  WHERE li.isdeleted IS NOT TRUE
                  GROUP BY p.name, p.productcode ORDER BY revenue DESC, p.name LIMIT 3) t) AS "topProducts",
        (SELECT json_build_object('count12Months', count(*)::int, 'total12Months', coalesce(sum(total), 0)::float8,
                                  'lastOrderAt', to_char(max(ordered_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
           FROM web_orders WHERE account_sfid = $1 AND ordered_at >= now() - interval '12 months') AS "webOrders"`,
    values: [accountId]
  })
  return rows[0] as AccountFacts
}
