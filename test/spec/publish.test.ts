import { spawnSync } from 'node:child_process'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { stringify } from 'yaml'
import { validSpec } from './fixtures.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const script = join(root, 'scripts/publish-org.ts')

function publish (...args: string[]) {
  const { status, stdout, stderr } = spawnSync(process.execPath, [script, ...args], { cwd: root, encoding: 'utf8' })
  return { status, stdout, stderr }
}

const required = ['--app', 'acme-actions', '--client-name', 'AppLinkActions', '--connection-name', 'acme-prod']

t.test('--dry-run prints the exact heroku command, with the permission set the spec names', async (t) => {
  const dir = t.testdir({ 'spec.yaml': stringify(validSpec()) })
  const specArg = relative(root, join(dir, 'spec.yaml'))
  const { status, stdout } = publish(...required, '--dry-run', '--skip-spec', '--spec', specArg)
  t.equal(status, 0)
  t.equal(stdout, `heroku salesforce:publish ${specArg} --app acme-actions --client-name AppLinkActions` +
    ' --connection-name acme-prod --authorization-permission-set-name AppLinkActions_User\n')
})

t.test('a spec with lint errors is not published', async (t) => {
  const spec = validSpec()
  delete spec['x-sfdc'].agent.topic.scope
  const dir = t.testdir({ 'spec.yaml': stringify(spec) })
  const { status, stdout, stderr } = publish(...required, '--dry-run', '--skip-spec', '--spec', relative(root, join(dir, 'spec.yaml')))
  t.equal(status, 1)
  t.equal(stdout, '')
  t.match(stderr, /agent-topic-field-missing/)
  t.match(stderr, /not publishing/)
})

for (const missing of ['--app', '--client-name', '--connection-name']) {
  t.test(`without ${missing}: usage and exit code 2`, async (t) => {
    const i = required.indexOf(missing)
    const args = required.filter((_, j) => j !== i && j !== i + 1)
    const { status, stdout, stderr } = publish(...args, '--dry-run', '--skip-spec')
    t.equal(status, 2)
    t.equal(stdout, '')
    t.match(stderr, /usage: npm run publish:org/)
  })
}

t.test('an unknown option: usage and exit code 2', async (t) => {
  const { status, stderr } = publish(...required, '--dry-run', '--skip-spec', '--org', 'x')
  t.equal(status, 2)
  t.match(stderr, /Unknown option '--org'[\s\S]*usage:/)
})

t.test('--external-client-app passes the External Client App flag of salesforce:publish', async (t) => {
  const dir = t.testdir({ 'spec.yaml': stringify(validSpec()) })
  const specArg = relative(root, join(dir, 'spec.yaml'))
  const { status, stdout, stderr } = publish(...required, '--dry-run', '--skip-spec', '--spec', specArg, '--external-client-app', 'AppLinkActions_ECA')
  t.equal(status, 0)
  t.match(stdout, / --authorization-permission-set-name AppLinkActions_User --authorization-external-client-app-name AppLinkActions_ECA\n$/)
  t.notMatch(stdout, /connected-app/)
  t.notMatch(stderr, /legacy/)
})

t.test('--connected-app is the legacy flag, with a warning; both at once is a usage error', async (t) => {
  const dir = t.testdir({ 'spec.yaml': stringify(validSpec()) })
  const specArg = relative(root, join(dir, 'spec.yaml'))
  const legacy = publish(...required, '--dry-run', '--skip-spec', '--spec', specArg, '--connected-app', 'OldApp')
  t.equal(legacy.status, 0)
  t.match(legacy.stdout, / --authorization-connected-app-name OldApp\n$/)
  t.match(legacy.stderr, /legacy.*Spring '26/)
  const both = publish(...required, '--dry-run', '--skip-spec', '--spec', specArg, '--connected-app', 'OldApp', '--external-client-app', 'New')
  t.equal(both.status, 2)
  t.match(both.stderr, /exclude each other/)
})
