import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { stringify } from 'yaml'
import { validSpec } from './fixtures.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const script = join(root, 'scripts/publish-org.ts')

/** Runs the script; `path` replaces PATH (a folder with a stand-in heroku, or none at all). */
function publish (args: string[], path?: string) {
  const env = path === undefined ? process.env : { ...process.env, PATH: path }
  const { status, stdout, stderr } = spawnSync(process.execPath, [script, ...args], {
    cwd: root,
    encoding: 'utf8',
    env
  })
  return { status, stdout, stderr }
}

/**
 * A stand-in heroku in `<fixture>/bin` that logs its arguments; `plugin: false` answers as a CLI without
 * the AppLink plugin. (One test has one t.testdir, so it goes next to the spec fixture.)
 */
function fakeHeroku (specArg: string, { plugin }: { plugin: boolean }) {
  const dir = join(root, dirname(specArg), 'bin')
  mkdirSync(dir)
  const log = join(dir, 'calls.log')
  writeFileSync(join(dir, 'heroku'), [
    '#!/bin/sh',
    `echo "$*" >> '${log}'`,
    'if [ "$1" = "--version" ]; then echo "heroku/10.0.0"; exit 0; fi',
    `if [ "$1" = "plugins:inspect" ]; then exit ${plugin ? 0 : 2}; fi`,
    'exit 0',
  ].join('\n'), { mode: 0o755 })
  return { dir, calls: () => readFileSync(log, 'utf8').trim().split('\n') }
}

// The stand-in heroku is a shell script.
const posixOnly = { skip: process.platform === 'win32' }
const required = ['--app', 'acme-actions', '--client-name', 'AppLinkActions', '--connection-name', 'acme-prod']
const lastLine = (text: string) => text.trimEnd().split('\n').at(-1)

function specFixture (t: Test, spec = validSpec()) {
  const dir = t.testdir({ 'spec.yaml': stringify(spec) })
  return relative(root, join(dir, 'spec.yaml'))
}

t.test('--help prints the usage and what the script does, exit code 0', async (t) => {
  for (const flag of ['--help', '-h']) {
    const { status, stdout, stderr } = publish([flag])
    t.equal(status, 0)
    t.equal(stderr, '')
    t.match(stdout, /^usage: npm run publish:org/)
    t.match(stdout, /--dry-run .*writes no file, runs no heroku command/s)
  }
})

t.test('--dry-run prints the exact heroku command, with the permission set the spec names', async (t) => {
  const specArg = specFixture(t)
  const { status, stdout } = publish([...required, '--dry-run', '--spec', specArg])
  t.equal(status, 0)
  t.equal(lastLine(stdout), `heroku salesforce:publish ${specArg} --app acme-actions --client-name AppLinkActions` +
    ' --connection-name acme-prod --authorization-permission-set-name AppLinkActions_User')
  t.match(stdout, /Dry run: nothing written, nothing published/)
})

t.test('the summary says what the org gets: service, Apex class, actions, topic, permission sets, app', async (t) => {
  const ecaArgs = ['--external-client-app', 'AppLinkActions_ECA']
  const { status, stdout } = publish([...required, '--dry-run', '--spec', specFixture(t), ...ecaArgs])
  t.equal(status, 0)
  t.match(stdout, /External Service +AppLinkActions, 3 operations: whoAmI, generateQuote, rescoreAccounts\n/)
  t.match(stdout, /Apex class +HerokuAppLink\.AppLinkActions, one method per operation/)
  t.match(stdout, /Agent actions +whoAmI, generateQuote, in the topic sales_operations\n/)
  t.match(stdout, /Permission sets +AppLinkActions \(created by publishing[^\n]*\n +AppLinkActions_User \(session-based/)
  t.match(stdout, /Authenticates via +External Client App AppLinkActions_ECA\n/)
  t.match(stdout, /heroku salesforce:authorizations:add/)
})

t.test('callback operations are summarized as Apex-only, not as Flow actions', async (t) => {
  const spec = validSpec()
  spec.paths['/actions/generateQuote'].post.callbacks = { done: {} }
  delete spec.paths['/actions/generateQuote'].post['x-sfdc'].agent
  const { stdout } = publish([...required, '--dry-run', '--spec', specFixture(t, spec)])
  t.match(stdout, /Flow actions +whoAmI, rescoreAccounts \(not generateQuote: callbacks are Apex-only\)\n/)
  t.match(stdout, /Agent actions +whoAmI, in the topic sales_operations\n/)
})

t.test('--dry-run generates the spec in memory and writes no file', async (t) => {
  const spec = join(root, 'openapi/api-spec.yaml')
  const before = { text: readFileSync(spec, 'utf8'), mtime: statSync(spec).mtimeMs }
  const { status, stdout } = publish([...required, '--dry-run'])
  t.equal(status, 0)
  t.match(stdout, /External Service +AppLinkActions, \d+ operations/)
  t.equal(lastLine(stdout)?.startsWith('heroku salesforce:publish openapi/api-spec.yaml '), true)
  t.equal(readFileSync(spec, 'utf8'), before.text)
  t.equal(statSync(spec).mtimeMs, before.mtime, 'the spec file was not rewritten')
})

t.test('without the Heroku CLI: how to install it and the plugin, exit 1, nothing written', async (t) => {
  const empty = t.testdir({})
  const spec = join(root, 'openapi/api-spec.yaml')
  const mtime = statSync(spec).mtimeMs
  const { status, stdout, stderr } = publish(required, empty)
  t.equal(status, 1)
  t.equal(stdout, '')
  t.notMatch(stderr, /ENOENT/)
  t.match(stderr, /Heroku CLI \(heroku\) is not on PATH/)
  t.match(stderr, /devcenter\.heroku\.com\/articles\/heroku-cli/)
  t.match(stderr, /heroku plugins:install @heroku-cli\/plugin-applink/)
  t.match(stderr, /Nothing was published/)
  t.equal(statSync(spec).mtimeMs, mtime)
  // A dry run still works without it, and says what publishing will need.
  const dry = publish([...required, '--dry-run', '--spec', specFixture(t)], empty)
  t.equal(dry.status, 0)
  t.match(dry.stderr, /Before publishing: The Heroku CLI/)
})

t.test('a Heroku CLI without the AppLink plugin: how to add it, exit 1', posixOnly, async (t) => {
  const specArg = specFixture(t)
  const heroku = fakeHeroku(specArg, { plugin: false })
  const { status, stderr } = publish([...required, '--spec', specArg], heroku.dir)
  t.equal(status, 1)
  t.match(stderr, /no AppLink plugin[\s\S]*heroku plugins:install @heroku-cli\/plugin-applink/)
  t.same(heroku.calls(), ['--version', 'plugins:inspect @heroku-cli/plugin-applink'])
})

t.test('with the CLI and the plugin: summary, then heroku salesforce:publish', posixOnly, async (t) => {
  const specArg = specFixture(t)
  const heroku = fakeHeroku(specArg, { plugin: true })
  const { status, stdout } = publish([...required, '--spec', specArg], heroku.dir)
  t.equal(status, 0)
  t.match(stdout, /External Service +AppLinkActions/)
  t.equal(heroku.calls().at(-1), `salesforce:publish ${specArg} --app acme-actions --client-name AppLinkActions` +
    ' --connection-name acme-prod --authorization-permission-set-name AppLinkActions_User')
})

t.test('a spec with lint errors is not published', async (t) => {
  const spec = validSpec()
  delete spec['x-sfdc'].agent.topic.scope
  const dir = t.testdir({ 'spec.yaml': stringify(spec) })
  const { status, stdout, stderr } = publish([...required, '--dry-run', '--spec', relative(root, join(dir, 'spec.yaml'))])
  t.equal(status, 1)
  t.equal(stdout, '')
  t.match(stderr, /agent-topic-field-missing/)
  t.match(stderr, /not publishing/)
})

for (const missing of ['--app', '--client-name', '--connection-name']) {
  t.test(`without ${missing}: usage and exit code 2`, async (t) => {
    const i = required.indexOf(missing)
    const args = required.filter((_, j) => j !== i && j !== i + 1)
    const { status, stdout, stderr } = publish([...args, '--dry-run', '--skip-spec'])
    t.equal(status, 2)
    t.equal(stdout, '')
    t.match(stderr, /usage: npm run publish:org/)
  })
}

t.test('an unknown option: usage and exit code 2', async (t) => {
  const { status, stderr } = publish([...required, '--dry-run', '--skip-spec', '--org', 'x'])
  t.equal(status, 2)
  t.match(stderr, /Unknown option '--org'[\s\S]*usage:/)
})

t.test('--external-client-app passes the External Client App flag of salesforce:publish', async (t) => {
  const specArg = specFixture(t)
  const { status, stdout, stderr } = publish([...required, '--dry-run', '--spec', specArg, '--external-client-app', 'AppLinkActions_ECA'])
  t.equal(status, 0)
  t.match(stdout, / --authorization-permission-set-name AppLinkActions_User --authorization-external-client-app-name AppLinkActions_ECA\n$/)
  t.notMatch(stdout, /connected-app/)
  t.notMatch(stderr, /legacy/)
})

t.test('--connected-app is the legacy flag, with a warning; both at once is a usage error', async (t) => {
  const specArg = specFixture(t)
  const legacy = publish([...required, '--dry-run', '--spec', specArg, '--connected-app', 'OldApp'])
  t.equal(legacy.status, 0)
  t.match(legacy.stdout, / --authorization-connected-app-name OldApp\n$/)
  t.match(legacy.stderr, /legacy.*Spring '26/)
  const both = publish([...required, '--dry-run', '--spec', specArg, '--connected-app', 'OldApp', '--external-client-app', 'New'])
  t.equal(both.status, 2)
  t.match(both.stderr, /exclude each other/)
})
