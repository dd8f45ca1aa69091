import type { OrgClient, QueryPage } from './org-client.ts'
import { soql, toId18 } from './soql.ts'

export interface OpportunityLine {
  Id: string
  PricebookEntryId: string
  Product2Id: string
  Quantity: number
  UnitPrice: number
  Product2: { Name: string, Family: string | null } | null
}

export interface OpportunityWithLines {
  Id: string
  Name: string
  Pricebook2Id: string | null
  Account: { BillingCountry: string | null } | null
  OpportunityLineItems: { totalSize: number, done: boolean, records: OpportunityLine[], nextRecordsUrl?: string } | null
}

/**
 * The opportunity and all its lines, as the caller sees them, in one query (one API call).
 * Undefined when the caller cannot see it. Salesforce pages a long child list: the rest is
 * fetched (an API call per further page), so no line is left out.
 *
 * Only the fields the quote uses: each one the caller cannot read fails the whole query ("Get
 * Field Values from a Standard Object Record", REST API Developer Guide: "If you specify fields
 * that don't exist or are inaccessible to you by field-level security, a 400 error response is
 * returned"; that SOQL answers the same, INVALID_FIELD "No such column", is inferred from it).
 */
export async function opportunityWithLines (
  org: OrgClient,
  opportunityId: string
): Promise<OpportunityWithLines | undefined> {
  const page = await org.query<OpportunityWithLines>(soql`
    SELECT Id, Name, Pricebook2Id, Account.BillingCountry,
      (SELECT Id, PricebookEntryId, Product2Id, Quantity, UnitPrice, Product2.Name, Product2.Family
         FROM OpportunityLineItems ORDER BY Id)
    FROM Opportunity WHERE Id = ${toId18(opportunityId)}`.replace(/\s+/g, ' ').trim())
  const opportunity = page.records[0]
  await fetchAllChildren(org, opportunity?.OpportunityLineItems)
  return opportunity
}

type ChildList<R> = { done: boolean, records: R[], nextRecordsUrl?: string } | null | undefined

/** Salesforce pages a long child list of a subquery: fetches the rest into `records`. */
async function fetchAllChildren<R> (org: OrgClient, children: ChildList<R>): Promise<void> {
  if (children == null) return
  let page: ChildList<R> = children
  while (page != null && !page.done && page.nextRecordsUrl !== undefined) {
    const more: QueryPage<R> = await org.queryMore(page.nextRecordsUrl)
    children.records.push(...more.records)
    page = more
  }
}

export interface StoredQuoteLine {
  Id: string
  Idempotency_Key__c: string
  Product2Id: string
  Quantity: number
  UnitPrice: number
  Discount: number | null
  Product2: { Name: string } | null
}

export interface StoredQuote {
  Id: string
  Name: string
  QuoteLineItems: { totalSize: number, done: boolean, records: StoredQuoteLine[], nextRecordsUrl?: string } | null
}

/** The quote carrying an idempotency key, with its lines, as the caller sees it (undefined: none). */
export async function quoteByIdempotencyKey (org: OrgClient, key: string): Promise<StoredQuote | undefined> {
  const page = await org.query<StoredQuote>(soql`
    SELECT Id, Name,
      (SELECT Id, Idempotency_Key__c, Product2Id, Quantity, UnitPrice, Discount, Product2.Name FROM QuoteLineItems)
    FROM Quote WHERE Idempotency_Key__c = ${key}`.replace(/\s+/g, ' ').trim())
  const quote = page.records[0]
  await fetchAllChildren(org, quote?.QuoteLineItems)
  return quote
}

export interface RecordAccess { read: boolean, edit: boolean }

/** "Up to 200 record IDs can be queried." (Object Reference, UserRecordAccess) */
const USER_RECORD_ACCESS_MAX_IDS = 200

/**
 * What the user may do with each of `recordIds`, one query per 200 ids, asked as the user or
 * through another user's connection (an AppLink run-as user). The Object Reference
 * (UserRecordAccess): "When the running user is querying a user's access to a set of records,
 * records that the running user doesn't have read access to are filtered out of the results" — a
 * record missing from the answer counts as neither readable nor editable. Keys are 15-character ids.
 */
export async function accessOf (
  org: OrgClient, userId: string, recordIds: string[]
): Promise<Map<string, RecordAccess>> {
  const access = new Map<string, RecordAccess>()
  for (let i = 0; i < recordIds.length; i += USER_RECORD_ACCESS_MAX_IDS) {
    const ids = recordIds.slice(i, i + USER_RECORD_ACCESS_MAX_IDS).map((id) => toId18(id))
    const page = await org.query<{ RecordId: string, HasReadAccess: boolean, HasEditAccess: boolean }>(
      soql`SELECT RecordId, HasReadAccess, HasEditAccess
      FROM UserRecordAccess WHERE UserId = ${toId18(userId)} AND RecordId IN ${ids}`.replace(/\s+/g, ' '))
    for (const row of page.records) {
      access.set(row.RecordId.slice(0, 15), { read: row.HasReadAccess, edit: row.HasEditAccess })
    }
  }
  return access
}

/** What selects the accounts a rescore writes (src/jobs/account-health.ts applies it to the mirror). */
export interface AccountSelection { segment?: string, industry?: string, ownerId?: string }

/**
 * The accounts of the selection the running user can see among the ids from `first` to `last`
 * (inclusive), as 15-character ids: a query through the REST API runs as its user, with sharing
 * ("The platform uses the security sharing permissions of the user currently logged in, rather than
 * granting full access to all records", Apex Developer Guide, "Data Access Control"; that the REST
 * API's query does the same is inferred from it and from the local org's recorded answers). A rescore
 * asks page by page of its mirror read, bounded by ids as Salesforce's own PK chunking does ("PK
 * chunking works by adding record ID boundaries to the query with a WHERE clause", Bulk API Developer
 * Guide, "PK Chunking": `WHERE Id >= 001300000000000 AND Id < 00130000000132G`). 2,000 ids a call.
 */
export async function visibleAccountIds (
  org: OrgClient, selection: AccountSelection, range: { first: string, last: string }
): Promise<Set<string>> {
  const conditions = [
    ...(selection.segment === undefined ? [] : [soql`Type = ${selection.segment}`]),
    ...(selection.industry === undefined ? [] : [soql`Industry = ${selection.industry}`]),
    ...(selection.ownerId === undefined ? [] : [soql`OwnerId = ${toId18(selection.ownerId, 'ownerId')}`]),
    soql`Id >= ${toId18(range.first)}`,
    soql`Id <= ${toId18(range.last)}`
  ]
  const rows = await org.queryAllPages<{ Id: string }>(`SELECT Id FROM Account WHERE ${conditions.join(' AND ')}`)
  return new Set(rows.map((row) => row.Id.slice(0, 15)))
}
