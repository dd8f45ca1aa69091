import t from 'tap'
import { jobStatus, jobsApp, mirroredDatabase, orgUnderTest, settled, startRescore, until } from './fixtures.ts'

const ADMIN = 'admin@acme.local'

t.test('under the API floor a job waits rather than spend the org\'s last calls, then resumes', async (t) => {
  const ut = await orgUnderTest(t, 3000)
  const databaseUrl = await mirroredDatabase(t, ut.org)
  const { app } = await jobsApp(t, databaseUrl, {
    API_LIMIT_FLOOR_PERCENT: '50',
    JOB_LIMIT_WAIT_SECONDS: '5',
    // The collections path, batch by batch: the floor is checked before each.
    RESCORE_BULK_THRESHOLD: '100000'
  })
  const expected = ut.org.records('Account')
    .filter((a) => a.Type === 'Customer' && a.Industry === 'Technology' && a.IsDeleted !== true)
    .map((a) => String(a.Id))
  // The plan first asks which accounts the caller may see (2,000 a page); then the floor (half the
  // day's calls) is reached after 10 batches, long before the job's 15+.
  const planning = Math.ceil(expected.length / 2000)
  const limit = 2 * (planning + 9)
  ut.org.resetStats()
  ut.org.setFaults({ dailyApiLimit: limit })

  const accepted = await startRescore(app, ut, ADMIN, { segment: 'Customer', industry: 'Technology' })
  const waiting = await until('the job to wait', async () => {
    const { body } = await jobStatus(app, ut, ADMIN, accepted.body.jobId)
    return body.state === 'retrying' ? body : undefined
  })
  t.equal(waiting.error?.errorCode, 'API_LIMIT_NEAR', 'it says why it waits')
  t.match(waiting.error?.message, new RegExp(`used ${limit / 2 + 1} of its ${limit} daily API calls.*waits \\d+ s and resumes`))
  t.equal(ut.patchCalls, 10, `it stopped once ${limit / 2 + 1} of the ${limit} calls were used`)
  const { done } = waiting.progress
  t.ok(done > 0 && done < expected.length, `progress kept: ${done} of ${expected.length}`)
  await new Promise((resolve) => setTimeout(resolve, 2000))
  t.equal(ut.patchCalls, 10, 'no call while waiting')

  // The org's allowance grows (a new day): after the wait the job spends one call to read it again and goes on.
  ut.org.setFaults({ dailyApiLimit: 1_000_000 })
  const status = await settled(app, ut, ADMIN, accepted.body.jobId)
  t.equal(status.state, 'completed', 'completed')
  t.equal(status.attempts, 2, 'in a second attempt')
  t.same([...ut.written].sort(), [...expected].sort(), 'every record written once')
})
