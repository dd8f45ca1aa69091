// The Flow path: startAccountRescore starts the job without a callback, and the worker announces
// the end of every rescore job inside the org as the platform event Account_Rescore__e (published
// through the REST API of the local org), once per job whatever the retries.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { RESCORE_EVENT } from '../../src/jobs/rescore.ts'
import { assertError } from '../helper.ts'
import { METADATA_DIR } from '../spec/fixtures.ts'
import {
  financeAccounts, jobStatus, jobsApp, mirroredDatabase, orgUnderTest, settled, startFlowRescore, startRescore, until
} from './fixtures.ts'

const ADMIN = 'admin@acme.local'
const REP = 'rep1@acme.local'

t.test('started without a callback, the job ends with one Account_Rescore__e carrying its counts', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app } = await jobsApp(t, databaseUrl)
  const { all, own, others } = financeAccounts(ut, REP)
  t.ok(own.length > 1 && others.length > 0, `rep1 owns ${own.length} of ${all.length} Finance accounts`)
  // Deleted in the org after the job planned its run: Salesforce rejects that one. The org's latency
  // holds the write while the test deletes it.
  ut.org.setFaults({ latencyMs: 400 })
  const accepted = await startFlowRescore(app, ut, REP, { industry: 'Finance' })
  t.equal(accepted.statusCode, 202)
  t.equal(accepted.body.state, 'queued')
  await until('the run to be planned', async () =>
    (await jobStatus(app, ut, REP, accepted.body.jobId)).body.progress.total > 0)
  ut.org.deleteRecord(own[0] ?? '')
  const status = await settled(app, ut, REP, accepted.body.jobId)
  t.equal(status.state, 'completed')
  // The accounts the rep cannot see (private sharing) are in no count.
  t.match(status.result, { eventState: 'published', total: own.length, written: own.length - 1, failed: 1, notPermitted: 0 })
  t.notOk('callbackStatus' in (status.result ?? {}), 'no callback status: there was no callback')
  t.equal(ut.callbacks.length, 0, 'nothing was POSTed anywhere but the org')

  const events = ut.org.publishedEvents(RESCORE_EVENT)
  t.equal(events.length, 1, 'one event')
  t.match(events[0]?.fields, {
    Job_Id__c: accepted.body.jobId,
    State__c: 'completed',
    Accounts_Total__c: own.length,
    Accounts_Written__c: own.length - 1,
    Accounts_Rejected__c: 1,
    Accounts_Not_Editable__c: 0,
    Error_Code__c: null,
    Started_By__c: ut.org.user(REP).id,
    CreatedById: ut.org.user(REP).id
  })

  const deployed = readdirSync(join(METADATA_DIR, 'objects', RESCORE_EVENT, 'fields'))
    .map((f) => f.replace('.field-meta.xml', ''))
  const sent = Object.keys(events[0]?.fields ?? {}).filter((name) => name.endsWith('__c'))
  t.same([...sent].sort(), [...deployed].sort(), 'the worker sends exactly the fields salesforce/ deploys')
})

t.test('startAccountRescore takes the filter only: no callbackUrl', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app } = await jobsApp(t, databaseUrl, { WORKER_IN_WEB: 'false' })
  const call = (payload: Record<string, unknown>) => app.inject({
    method: 'POST', url: '/actions/startAccountRescore', headers: { 'x-client-context': ut.context(REP) }, payload
  })
  assertError(t, await call({ callbackUrl: `${ut.url}/callback/x` }), 400, 'INVALID_REQUEST', ['callbackUrl'])
  assertError(t, await call({ segment: 'Enterprise' }), 400, 'INVALID_REQUEST', ['segment'])
  t.equal((await call({})).statusCode, 202, 'no filter: every account')
})

t.test('a dead-lettered job publishes a failed event with its reason and what it wrote', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app } = await jobsApp(t, databaseUrl, { JOB_RETRY_LIMIT: '0' })
  ut.org.setFaults({ failPaths: /^\/composite\/sobjects/ })
  const accepted = await startFlowRescore(app, ut, ADMIN, { segment: 'Customer' })
  const status = await settled(app, ut, ADMIN, accepted.body.jobId)
  t.equal(status.state, 'failed')
  t.equal(status.error?.errorCode, 'SERVER_UNAVAILABLE')
  const events = ut.org.publishedEvents(RESCORE_EVENT)
  t.equal(events.length, 1, 'one event')
  t.match(events[0]?.fields, {
    Job_Id__c: accepted.body.jobId,
    State__c: 'failed',
    Error_Code__c: 'SERVER_UNAVAILABLE',
    Message__c: /^Gave up after 1 failed attempts/,
    Accounts_Written__c: 0,
    Accounts_Total__c: ut.org.records('Account').filter((a) => a.Type === 'Customer' && a.IsDeleted !== true).length
  })
})

t.test('a retried job does not publish twice, nor again as failed once it was announced', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app } = await jobsApp(t, databaseUrl, { JOB_RETRY_LIMIT: '1' })

  // The callback's host answers 503 once: the job retries after its event went out.
  ut.callbackAnswers.push(503)
  const retried = await startRescore(app, ut, ADMIN, { segment: 'Partner' }, 'retried')
  const status = await settled(app, ut, ADMIN, retried.body.jobId)
  t.equal(status.state, 'completed')
  t.equal(status.attempts, 2, 'in two attempts')
  t.equal(ut.callbacks.length, 2, 'the callback was sent again')
  t.match(status.result, { eventState: 'published', callbackStatus: 200 })
  const retriedEvents = ut.org.publishedEvents(RESCORE_EVENT).filter((e) => e.fields.Job_Id__c === retried.body.jobId)
  t.equal(retriedEvents.length, 1, 'the event was not')

  // The callback's host stays down: the job is dead-lettered after its completion was announced.
  ut.callbackAnswers.push(503, 503)
  const dead = await startRescore(app, ut, ADMIN, { segment: 'Partner' }, 'dead')
  const failed = await settled(app, ut, ADMIN, dead.body.jobId)
  t.equal(failed.state, 'failed')
  t.equal(failed.error?.errorCode, 'CALLBACK_UNAVAILABLE')
  const deadEvents = ut.org.publishedEvents(RESCORE_EVENT).filter((e) => e.fields.Job_Id__c === dead.body.jobId)
  t.same(deadEvents.map((e) => e.fields.State__c), ['completed'], 'one event, the completion: the end was announced')
})

t.test('a publish whose answer was lost is not sent again, even by a retry of the job', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app } = await jobsApp(t, databaseUrl)
  ut.loseEventAnswers = 1
  ut.callbackAnswers.push(503)
  const accepted = await startRescore(app, ut, ADMIN, { segment: 'Partner' })
  const status = await settled(app, ut, ADMIN, accepted.body.jobId)
  t.equal(status.state, 'completed')
  t.equal(status.attempts, 2, 'the callback made the job run again')
  t.match(status.result, { eventState: 'unknown' })
  t.equal(ut.org.publishedEvents(RESCORE_EVENT).length, 1, 'the event reached the org once and was not sent again')
})

t.test('an event Salesforce refuses does not undo or fail the job: the result says so', async (t) => {
  const ut = await orgUnderTest(t)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app } = await jobsApp(t, databaseUrl)
  // The read-only user may start a job (its writes are refused) but not publish the event.
  const accepted = await startFlowRescore(app, ut, 'readonly@acme.local', { segment: 'Partner' })
  const status = await settled(app, ut, 'readonly@acme.local', accepted.body.jobId)
  t.equal(status.state, 'completed')
  t.match(status.result, { eventState: 'refused', written: 0 })
  t.equal(ut.org.publishedEvents(RESCORE_EVENT).length, 0)
})
