// A test file for test/scripts/test-runner.test.ts: it dies loading, before tap reports anything.
import t from 'tap'
// @ts-expect-error: the module does not exist, on purpose
import { missing } from './no-such-module.ts'
t.pass(String(missing))
