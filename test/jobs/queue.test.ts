import t from 'tap'
import { verdictFor, JobInterrupted } from '../../src/jobs/queue.ts'
import { CredentialsError } from '../../src/jobs/credentials.ts'
import { SalesforceApiError } from '../../src/salesforce/errors.ts'
import { Unavailable } from '../../src/errors.ts'

const sf = (status: number, errorCode: string, retryAfter?: number) => new SalesforceApiError(status, [{ errorCode, message: `${errorCode} message`, fields: [] }], retryAfter)

t.test('transient Salesforce failures are retried, the rest fail at once with their reason', async (t) => {
  t.match(verdictFor(sf(503, 'SERVER_UNAVAILABLE')), { status: 'failed', counts: true, output: { errorCode: 'SERVER_UNAVAILABLE' } })
  t.match(verdictFor(sf(400, 'UNABLE_TO_LOCK_ROW')), { status: 'failed', counts: true })
  t.match(verdictFor(new Unavailable('ORG_TIMEOUT', 'slow', 5)), { status: 'failed', output: { errorCode: 'ORG_TIMEOUT' } })
  const limit = verdictFor(sf(403, 'REQUEST_LIMIT_EXCEEDED'))
  t.match(limit, { status: 'failed', retryAfterSeconds: 300 }, 'the API limit waits out its window')
  t.match(verdictFor(sf(403, 'REQUEST_LIMIT_EXCEEDED', 60)), { retryAfterSeconds: 60 }, 'or the Retry-After Salesforce gave')
  t.match(verdictFor(sf(401, 'INVALID_SESSION_ID')), { status: 'deadletter', output: { errorCode: 'INVALID_SESSION_ID', message: /expired/ } })
  t.match(verdictFor(sf(400, 'INVALID_FIELD')), { status: 'deadletter', output: { errorCode: 'INVALID_FIELD' } }, 'a refusal that a retry cannot fix')
  t.match(verdictFor(new CredentialsError('bad')), { status: 'deadletter', output: { errorCode: 'CREDENTIALS_UNREADABLE' } })
  t.match(verdictFor(new JobInterrupted()), { status: 'failed', counts: false, retryAfterSeconds: 0 }, 'a shutdown does not count and retries at once')
  const unknown = verdictFor(new Error('connect ECONNREFUSED 10.0.0.1:5432 password=hunter2'))
  t.match(unknown, { status: 'failed', output: { errorCode: 'JOB_ERROR' } })
  t.notMatch(unknown.output.message, /ECONNREFUSED|hunter2/, 'internals stay in the log')
})
