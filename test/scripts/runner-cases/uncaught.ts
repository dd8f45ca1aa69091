// A test file for test/scripts/test-runner.test.ts: a timer throws while its test waits.
import t from 'tap'
t.test('waits', async (t) => {
  setTimeout(() => { throw new Error('thrown by a timer') }, 10)
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.pass('never reached')
})
