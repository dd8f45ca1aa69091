import t from 'tap'
import { verdictFor, JobInterrupted } from '../../src/jobs/queue.ts'
import { CredentialsError } from '../../src/jobs/credentials.ts'
import { SalesforceApiError } from '../../src/salesforce/errors.ts'
import { InvalidRequest, Unavailable } from '../../src/errors.ts'
import { OrgNotMirrored } from '../../src/postgres/org-mirrors.ts'
import { AuthorizationError } from '../../src/salesforce/authorization.ts'
import { JobMustWait } from '../../src/jobs/session.ts'
import { loadConfig } from '../../src/config.ts'

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
  t.match(verdictFor(new InvalidRequest('not a valid Salesforce id', ['ownerId'])),
    { status: 'deadletter', output: { errorCode: 'INVALID_REQUEST' } }, 'a refusal of the job\'s own input is not retried')
  t.match(verdictFor(new OrgNotMirrored('00DLo0000000001AAA')),
    { status: 'deadletter', output: { errorCode: 'ORG_NOT_MIRRORED' } }, 'nor an org without a mirror')
  t.match(verdictFor(new JobInterrupted()), { status: 'failed', counts: false, retryAfterSeconds: 0 }, 'a shutdown does not count and retries at once')
  const unknown = verdictFor(new Error('connect ECONNREFUSED 10.0.0.1:5432 password=hunter2'))
  t.match(unknown, { status: 'failed', output: { errorCode: 'JOB_ERROR' } })
  t.notMatch(unknown.output.message, /ECONNREFUSED|hunter2/, 'internals stay in the log')
})

t.test('under an authorization: the add-on\'s refusals end the job, its outages and the API floor wait', async (t) => {
  t.match(verdictFor(new AuthorizationError('RunAs', 'Not Found - Authorization RunAs not found', true)),
    { status: 'deadletter', output: { errorCode: 'AUTHORIZATION_FAILED', message: /RunAs.*Not Found/ } })
  t.match(verdictFor(new AuthorizationError('RunAs', 'fetch failed', false)),
    { status: 'failed', counts: true, output: { errorCode: 'AUTHORIZATION_UNAVAILABLE' } })
  t.match(verdictFor(new JobMustWait('The org has used 95 of its 100 daily API calls', 120)),
    { status: 'failed', counts: false, retryAfterSeconds: 120, output: { errorCode: 'API_LIMIT_NEAR' } },
    'waiting for the API allowance is no failure')
  t.match(verdictFor(sf(401, 'INVALID_SESSION_ID'), 'authorization'),
    { status: 'deadletter', output: { errorCode: 'INVALID_SESSION_ID', message: /fresh token of the AppLink authorization/ } },
    'even a fresh token refused')
})

t.test('the authorization settings are checked at start', async (t) => {
  const addon = { HEROKU_APP_ID: 'b1f0', HEROKU_APPLINK_API_URL: 'https://applink.example/addons/1', HEROKU_APPLINK_TOKEN: 'x' }
  const authorized = { ...addon, APPLINK_AUTHORIZATION: 'RunAs' }
  t.throws(() => loadConfig({ RESCORE_SCHEDULE_CRON: '0 2 * * *' }), /RESCORE_SCHEDULE_CRON needs APPLINK_AUTHORIZATION/)
  t.throws(() => loadConfig({ APPLINK_AUTHORIZATION: 'RunAs' }),
    /HEROKU_APP_ID and HEROKU_APPLINK_API_URL and HEROKU_APPLINK_TOKEN are not/)
  t.throws(() => loadConfig({ APPLINK_AUTHORIZATION: 'RunAs', HEROKU_APP_ID: 'b1f0', HEROKU_APPLINK_API_URL: 'u' }),
    /HEROKU_APPLINK_API_URL and HEROKU_APPLINK_TOKEN is not/)
  t.throws(() => loadConfig({ ...authorized, RESCORE_SCHEDULE_CRON: 'nightly' }), /RESCORE_SCHEDULE_CRON/)
  t.equal(loadConfig({ ...authorized, RESCORE_SCHEDULE_CRON: '0 2 * * *' }).RESCORE_SCHEDULE_CRON, '0 2 * * *')
  t.equal(loadConfig({ ...authorized, RESCORE_SCHEDULE_CRON: '' }).RESCORE_SCHEDULE_CRON, undefined, 'empty: no schedule')
  const purple = {
    HEROKU_APP_ID: 'b1f0',
    HEROKU_APPLINK_PURPLE_API_URL: 'https://applink.example/addons/2',
    HEROKU_APPLINK_PURPLE_TOKEN: 'y'
  }
  t.equal(loadConfig({ ...purple, APPLINK_AUTHORIZATION: 'RunAs', APPLINK_ATTACHMENT: 'PURPLE' }).APPLINK_ATTACHMENT, 'PURPLE',
    'an attachment by color, as the SDK resolves it')
})
