// The service's Bulk API 2.0 client for a local-org user, as a job builds it from its credentials.
import type { LocalOrg } from '@applink-actions/local-org'
import { BulkIngest, sdkBulkApi } from '../../src/salesforce/bulk.ts'
import { OrgClient } from '../../src/salesforce/org-client.ts'

export function bulkClientFor (org: LocalOrg, username: string): { bulk: BulkIngest, rest: OrgClient } {
  const { accessToken, userContext } = org.contextFor(username)
  const { url: instanceUrl, apiVersion, orgId } = org
  const access = { instanceUrl, apiVersion, accessToken, orgId, userId: userContext.userId }
  const rest = new OrgClient({ ...access, timeoutMs: 5000, retries: 0 })
  return { bulk: new BulkIngest(rest, sdkBulkApi(access)), rest }
}
