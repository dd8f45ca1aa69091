// A test file for test/scripts/test-runner.test.ts: a promise nobody awaits rejects.
import t from 'tap'
t.test('forgets a promise', async (t) => {
  void Promise.reject(new Error('rejected, unhandled'))
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.pass('never reached')
})
