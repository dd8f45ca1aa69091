import type { CallerMirror } from './caller-mirror.ts'
import type { OrgScope } from './org-scope.ts'
import type { AccountFacts } from '../domain/insights.ts'

/**
 * Everything accountInsights says about one account, counting only the records the caller can read
 * in Salesforce: the mirror has no sharing. Undefined when the account is not in the mirror (no API
 * call) or the caller cannot read it.
 *
 * The account, its opportunities and its open cases (the rows the figures add up) go through
 * the caller's `readable` in one batch; the figures are then computed over the readable ones only. Line items
 * follow their opportunity: OpportunityLineItem has no sharing of its own (no share object, no
 * organization-wide default; the Object Reference's only access rule for it names the opportunity),
 * so that its access is its opportunity's is inferred. Products and web orders (an app table keyed by
 * the account) are shown to whoever may read the account: Product2 has no record-level sharing.
 */
export async function visibleAccountFacts (
  db: OrgScope, mirror: CallerMirror, accountId: string
): Promise<AccountFacts | undefined> {
  const { rows: [candidates] } = await db.query<{ account: boolean, children: string[] }>({
    name: `account-children-${mirror.schema}`,
    text: `
      SELECT EXISTS (SELECT 1 FROM ${mirror.table('account')} WHERE sfid = $1 AND isdeleted IS NOT TRUE) AS account,
             ARRAY(SELECT sfid FROM ${mirror.table('opportunity')} WHERE accountid = $1 AND isdeleted IS NOT TRUE
                   UNION ALL
                   SELECT sfid FROM ${mirror.table('case')}
                    WHERE accountid = $1 AND isdeleted IS NOT TRUE AND isclosed IS NOT TRUE) AS children`,
    values: [accountId]
  })
  if (candidates?.account !== true) return undefined
  const visible = await mirror.readable([accountId, ...candidates.children])
  if (!visible.has(accountId)) return undefined
  const children = candidates.children.filter((id) => visible.has(id))
  return await accountFacts(db, mirror, accountId, children)
}

/**
 * The figures over the account's opportunities and open cases whose ids are in `visible`, in one
 * round trip. Not exported: only visibleAccountFacts, which filters by sharing first, calls it.
 */
async function accountFacts (
  db: OrgScope, mirror: CallerMirror, accountId: string, visible: string[]
): Promise<AccountFacts> {
  const account = mirror.table('account')
  const opportunity = mirror.table('opportunity')
  const lineItem = mirror.table('opportunitylineitem')
  const product = mirror.table('product2')
  const cases = mirror.table('case')
  const { rows } = await db.query<AccountFacts>({
    name: `visible-account-facts-${mirror.schema}`,
    text: `
      WITH opp AS (
        SELECT sfid, stagename, amount, isclosed, iswon, closedate, lastmodifieddate
          FROM ${opportunity} WHERE accountid = $1 AND sfid = ANY($2::text[]) AND isdeleted IS NOT TRUE
      ), open_case AS (
        SELECT priority, systemmodstamp FROM ${cases}
         WHERE accountid = $1 AND sfid = ANY($2::text[]) AND isdeleted IS NOT TRUE AND isclosed IS NOT TRUE
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
           FROM web_orders WHERE org_id = $3 AND account_sfid = $1 AND ordered_at >= now() - interval '12 months') AS "webOrders"`,
    values: [accountId, visible, db.orgId]
  })
  return rows[0] as AccountFacts
}
