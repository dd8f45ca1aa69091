import { SalesforceApiError } from './errors.ts'
import type { OrgClient } from './org-client.ts'

/** A platform event's custom field values, as the REST API takes them. */
export type PlatformEventFields = Record<string, string | number | boolean | null>

export interface PublishedEvent {
  /** The publish result's Id: "not used to identify an event message, and it isn't always unique". */
  id: string
  /** The event's UUID, when Salesforce returned it (high-volume events). */
  eventUuid?: string
}

interface PublishAnswer {
  id?: string
  success?: boolean
  errors?: Array<{ statusCode?: string, message?: string, fields?: string[] }>
}

/**
 * Publishes one platform event message through the REST API, as the org client's user.
 *
 * Salesforce, Platform Events Developer Guide, "Publish Event Messages with Salesforce APIs":
 * "Publish events by inserting events in the same way that you insert sObjects" — "send a POST
 * request to this endpoint. /services/data/v63.0/sobjects/Event_Name__e/". "If the success field
 * is true, the publish request is queued in Salesforce and the event message is published
 * asynchronously." "To indicate that the publish operation is asynchronous, the
 * OPERATION_ENQUEUED status code is returned for a successful call in the response's error
 * field, in addition to the event UUID" (the entry's `message`). A refused publish is an ordinary
 * REST error (the org client throws SalesforceApiError).
 *
 * A create is never retried by the org client: a lost answer could mean the event went out.
 */
export async function publishPlatformEvent (
  org: OrgClient, eventType: string, fields: PlatformEventFields
): Promise<PublishedEvent> {
  const answer = await org.request<PublishAnswer>('POST', `/sobjects/${encodeURIComponent(eventType)}`, fields)
  const errors = answer?.errors ?? []
  const enqueued = errors.find((e) => e.statusCode === 'OPERATION_ENQUEUED')
  if (answer?.success !== true || typeof answer.id !== 'string') {
    const refusals = errors.filter((e) => e !== enqueued).map((e) => ({
      errorCode: e.statusCode ?? 'UNKNOWN_EXCEPTION',
      message: e.message ?? 'Salesforce did not publish the event',
      fields: e.fields ?? []
    }))
    throw new SalesforceApiError(400, refusals)
  }
  return { id: answer.id, ...(typeof enqueued?.message === 'string' ? { eventUuid: enqueued.message } : {}) }
}
