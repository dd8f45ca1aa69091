// A test file for test/scripts/test-runner.test.ts: its process is killed mid-test.
import t from 'tap'
t.test('is killed', async (t) => {
  t.pass('one')
  setTimeout(() => { process.kill(process.pid, 'SIGKILL') }, 10)
  await new Promise((resolve) => setTimeout(resolve, 1000))
})
