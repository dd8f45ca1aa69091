// The service's Bulk API 2.0 client for a local-org user, as a job builds it from its credentials.
import type { LocalOrg } from '@applink-actions/local-org'
import { BulkIngest, sdkBulkApi } from '../../src/salesforce/bulk.ts'
import { OrgClient } from '../../src/salesforce/org-client.ts'

/** `renewed`: the client renews a refused session as an AppLink authorization's does (a new token from the org). */
export function bulkClientFor (
  org: LocalOrg, username: string, opts: { renewed?: boolean } = {}
): { bulk: BulkIngest, rest: OrgClient } {
  const { accessToken, userContext } = org.contextFor(username)
  const { url: instanceUrl, apiVersion, orgId } = org
  const access = { instanceUrl, apiVersion, orgId, userId: userContext.userId }
  const renewal = opts.renewed === true ? { renewAccessToken: async () => org.refreshToken(username) } : {}
  const rest = new OrgClient({ ...access, accessToken, timeoutMs: 5000, retries: 0, ...renewal })
  return { bulk: new BulkIngest(rest, sdkBulkApi(access)), rest }
}
