import { flowAction, defineAction, readOnlyTool } from './define.ts'
import { NotFound } from '../errors.ts'
import { GetJobStatusRequest, JobStatusResponse } from '../schemas/jobs.ts'
import { rescoreAccountsJob } from '../jobs/rescore.ts'

/** A job is visible only to the user of the org who started it; to anyone else it does not exist. */
export default defineAction({
  operationId: 'getJobStatus',
  summary: 'State and progress of a job',
  description: 'Returns the state (queued, running, retrying, completed, failed), the number of attempts, the progress and, once finished, the result or the reason of failure of a job started by an asynchronous action such as rescoreAccounts. Only the user who started the job can see it.',
  request: GetJobStatusRequest,
  response: JobStatusResponse,
  sfdc: flowAction,
  tool: readOnlyTool,
  handler: async ({ jobId }, { jobs }) => {
    // The rescore is the only kind of job so far: the answer's `result` is its RescoreResult.
    const status = await jobs.status(jobId, rescoreAccountsJob)
    if (status === null) throw new NotFound(`No job ${jobId} of yours`, ['jobId'])
    return status
  }
})
