import type { Static } from 'typebox'
import { flowAction, defineAction } from './define.ts'
import { NotFound } from '../errors.ts'
import { GetJobStatusRequest, JobStatusResponse } from '../schemas/jobs.ts'

/** A job is visible only to the user of the org who started it; to anyone else it does not exist. */
export default defineAction({
  operationId: 'getJobStatus',
  summary: 'State and progress of a job',
  description: 'Returns the state (queued, running, retrying, completed, failed), the number of attempts, the progress and, once finished, the result or the reason of failure of a job started by an asynchronous action such as rescoreAccounts. Only the user who started the job can see it.',
  request: GetJobStatusRequest,
  response: JobStatusResponse,
  sfdc: flowAction,
  handler: async ({ jobId }, { caller, app }) => {
    const status = await app.jobs.status(jobId, { orgId: caller.org.id, userId: caller.user.id })
    if (status === null) throw new NotFound(`No job ${jobId} of yours`, ['jobId'])
    // The stored result of a rescore job is a RescoreResult (the only kind of job so far).
    return status as Static<typeof JobStatusResponse>
  }
})
