// The local org's own CPU per answer, for the query generateQuote sends and the one Heroku's
// sample sends, under HTTP load from a child process (this process then only runs the org).
import type { LocalOrg } from '@applink-actions/local-org'
import { httpLoad, type LoadResult } from './measure.ts'
import { ownCpuMs } from './processes.ts'

export interface OrgQueryCpu { soql: string, load: LoadResult, cpuMsPerAnswer: number }

/** The SOQL the sample (bench/sample-server.ts) sends: the opportunity's lines, no relationships. */
export const sampleQuery = (opportunityId: string): string =>
  'SELECT Id, Product2Id, Quantity, UnitPrice, PricebookEntryId FROM OpportunityLineItem ' +
  `WHERE OpportunityId = '${opportunityId}'`

/** CPU of this process per answer to `GET /query?q=soql` as `username`, over `seconds` of load. */
export async function orgCpuPerAnswer (
  org: LocalOrg, username: string, soql: string, seconds: number
): Promise<OrgQueryCpu> {
  const url = `${org.url}/services/data/v${org.apiVersion}/query?q=${encodeURIComponent(soql)}`
  const headers = { authorization: `Bearer ${org.user(username).accessToken}` }
  await httpLoad({ url, headers, connections: 8, durationS: 1 })
  const cpu0 = ownCpuMs()
  const load = await httpLoad({ url, headers, connections: 8, durationS: seconds })
  return { soql, load, cpuMsPerAnswer: (ownCpuMs() - cpu0) / load.requests }
}

/**
 * The SOQL engine alone (compiled-query cache hit, execution, projection, JSON), in µs of this
 * process's CPU per answer over `iterations` runs: no HTTP, so little noise from other processes.
 */
export function engineCpuPerAnswer (org: LocalOrg, username: string, soql: string, iterations: number): number {
  const user = org.core.userByName(username)
  if (user === undefined) throw new Error(`no user ${username}`)
  const answer = () => {
    const result = org.core.query(user, soql, false)
    return result.json(result.recs, org.apiVersion).length
  }
  // Warmed up until V8 has optimized it: fewer runs measured the compiler as much as the engine.
  for (let i = 0; i < 2_000; i++) answer()
  const cpu0 = ownCpuMs()
  for (let i = 0; i < iterations; i++) answer()
  return (ownCpuMs() - cpu0) * 1000 / iterations
}
