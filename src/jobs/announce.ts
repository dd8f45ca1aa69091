import type { OrgScope } from '../postgres/org-scope.ts'
import type { FastifyBaseLogger } from 'fastify'
import { SalesforceApiError } from '../salesforce/errors.ts'
import { OrgUnreachable, answerLost, type OrgClient } from '../salesforce/org-client.ts'
import { publishPlatformEvent, type PlatformEventFields } from '../salesforce/platform-events.ts'

/** How announcing a job's end went: the job's result reports it. */
export type AnnounceState = 'published' | 'refused' | 'unknown'

/**
 * Publishes the platform event that announces the end of a job, at most once per job, however
 * often the job's attempts (or its dead-letter handling) get here:
 *
 * - the job claims the announcement (`job_events`, state `sending`) before the POST; a claim
 *   already there means an earlier attempt got this far, and nothing is sent again;
 * - an answer that never came back (timeout, dropped connection) may hide a published event: the
 *   claim stays and the outcome is `unknown`;
 * - Salesforce answering "not now" (503, UNABLE_TO_LOCK_ROW, the API limit) or an org that
 *   cannot be reached published nothing: the claim is released and the error thrown, so the
 *   job's retry announces it;
 * - any other refusal (the event or a field is not deployed, no permission to publish, an expired
 *   session) is recorded and logged: the job's own work is done and stays done.
 */
export async function announceOnce (
  db: OrgScope, jobId: string, org: OrgClient, eventType: string, fields: PlatformEventFields, log: FastifyBaseLogger
): Promise<AnnounceState> {
  const claimed = await db.query(
    `INSERT INTO job_events (job_id, event_type, state) VALUES ($1, $2, 'sending')
     ON CONFLICT (job_id) DO NOTHING`, [jobId, eventType])
  if (claimed.rowCount !== 1) {
    const { rows } = await db.query<{ state: 'sending' | 'published' | 'refused' }>(
      'SELECT state FROM job_events WHERE job_id = $1', [jobId])
    const state = rows[0]?.state
    return state === 'published' || state === 'refused' ? state : 'unknown'
  }
  let published: Awaited<ReturnType<typeof publishPlatformEvent>>
  try {
    published = await publishPlatformEvent(org, eventType, fields)
  } catch (err) {
    const notNow = err instanceof SalesforceApiError && (err.transient || err.errorCode === 'REQUEST_LIMIT_EXCEEDED')
    if (notNow || (err instanceof OrgUnreachable && !answerLost(err))) {
      await db.query("DELETE FROM job_events WHERE job_id = $1 AND state = 'sending'", [jobId])
      throw err
    }
    if (!(err instanceof SalesforceApiError)) {
      const errorCode = (err as { errorCode?: string }).errorCode
      log.warn({ eventType, errorCode }, 'no answer to the platform event publish; it is not sent again')
      return 'unknown'
    }
    await db.query("UPDATE job_events SET state = 'refused', error_code = $2, updated_at = now() WHERE job_id = $1",
      [jobId, err.errorCode])
    log.warn({ eventType, errorCode: err.errorCode, message: err.message }, 'Salesforce refused the platform event')
    return 'refused'
  }
  await db.query(
    "UPDATE job_events SET state = 'published', event_id = $2, event_uuid = $3, updated_at = now() WHERE job_id = $1",
    [jobId, published.id, published.eventUuid ?? null])
  log.info({ eventType, eventUuid: published.eventUuid }, 'platform event published')
  return 'published'
}
