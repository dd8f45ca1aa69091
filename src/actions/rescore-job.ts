import type { ActionContext } from './define.ts'
import { rescoreAccountsJob, type RescorePayload } from '../jobs/rescore.ts'
import type { JobState } from '../jobs/queue.ts'

/**
 * Queues a rescore job for the caller, with what the job needs to write as them once the request
 * has ended. The one start of both rescore actions: rescoreAccounts (Apex, with a callback) and
 * startAccountRescore (Flow, announced by a platform event).
 */
export async function startRescoreJob (
  { jobs, mirror, log }: Pick<ActionContext, 'jobs' | 'mirror' | 'log'>,
  payload: RescorePayload
): Promise<{ jobId: string, state: JobState }> {
  // The job scores from the caller's org's mirror: reading it here refuses an org without one (403)
  // before anything is queued.
  log.debug({ schema: mirror.schema }, 'the rescore job will read this mirror')
  return await jobs.start(rescoreAccountsJob, payload)
}
