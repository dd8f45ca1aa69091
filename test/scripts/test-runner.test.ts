import t from 'tap'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { envOutsideTap } from '../helper.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const cases = 'test/scripts/runner-cases'

t.test('npm test names each failed file and why, and exits non-zero', async (t) => {
  const files = ['passes', 'uncaught', 'rejected', 'import-fails', 'killed'].map((f) => `${cases}/${f}.ts`)
  // A database URL nothing connects to: the cases need none, and the runner starts no embedded one.
  const env = envOutsideTap({ DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused' })
  const { code, stdout } = await new Promise<{ code: number | null, stdout: string }>((resolve) => {
    execFile(process.execPath, ['scripts/test.ts', ...files], { cwd: root, env, maxBuffer: 1 << 24 },
      (err, stdout) => { resolve({ code: err === null ? 0 : (err.code as number | null), stdout }) })
  })
  t.equal(code, 1, 'exit code 1')
  const report = stdout.slice(stdout.lastIndexOf('test file(s) failed:'))
  const line = (file: string): string => /^ {2}\S+: (.*)$/m.exec(report.split('\n').find((l) => l.includes(`/${file}.ts:`)) ?? '')?.[1] ?? ''
  t.match(line('uncaught'), 'waits: uncaught exception: thrown by a timer')
  t.match(line('rejected'), 'forgets a promise: unhandled rejection: rejected, unhandled')
  t.match(line('import-fails'), /exited with code 1 before it reported a test; its stderr: Error \[ERR_MODULE_NOT_FOUND\]: Cannot find module .*no-such-module\.ts/)
  t.match(line('killed'), 'its process was killed by SIGKILL')
  t.notOk(report.includes('passes.ts'), 'a passing file is not named')
  t.match(stdout, /\n4 test file\(s\) failed:\n/)
  t.match(stdout, /\n\d+ passed, [1-9]\d* failed\n$/, 'the last line CI reads')
  if (!t.passing()) t.comment(stdout)
})
