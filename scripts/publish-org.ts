// npm run publish:org -- --app <heroku app> --client-name <name> --connection-name <org>
//   [--external-client-app <name> | --connected-app <name>] [--dry-run]
// Generates and lints the spec, says what the org will get, then publishes it with the Heroku AppLink
// CLI plugin. --help for the options; --dry-run writes nothing and runs nothing.
import { spawnSync } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { parse } from 'yaml'
import { authorizationOf } from '../src/spec/lint-authorization.ts'
import { formatIssue, hasErrors, lintSpecText } from '../src/spec/lint-file.ts'
import { isObject, operations, type Obj } from '../src/spec/lint-walk.ts'
import { publicationSummary } from '../src/spec/publication.ts'

const DEFAULT_SPEC = 'openapi/api-spec.yaml'
const USAGE = `usage: npm run publish:org -- --app <heroku app> --client-name <name> --connection-name <org>
         [--external-client-app <name> | --connected-app <name>] [--dry-run] [--skip-spec | --spec <file>]

Generates ${DEFAULT_SPEC} from the routes, lints it, prints what the org will get (External Service,
Apex class, Flow and agent actions with their topic, permission sets, authorization app), and runs
heroku salesforce:publish. Needs the Heroku CLI with the AppLink plugin (@heroku-cli/plugin-applink).
Walk-through: docs/publishing.md.

  --app                  Heroku app with the heroku-applink add-on
  --client-name          name of the External Service and the Apex class HerokuAppLink.<name> (AppLinkActions)
  --connection-name      AppLink connection of the org (heroku salesforce:connect <name>)
  --external-client-app  External Client App AppLink authenticates through (the default kind since Spring '26)
  --connected-app        legacy: an existing Connected App created before Spring '26
  --dry-run              lint and summarize the spec as it would be published, print the heroku command,
                         and stop: writes no file, runs no heroku command
  --skip-spec            publish ${DEFAULT_SPEC} as it is, without generating it from the routes first
  --spec                 publish this file as it is (implies --skip-spec), relative to the project
  -h, --help             this text`

// Heroku Dev Center, "Getting Started with Heroku AppLink and Salesforce": "You must have the Heroku CLI
// installed before adding the Heroku AppLink CLI plugin", then `heroku plugins:install @heroku-cli/plugin-applink`.
// Install commands from Heroku Dev Center, "The Heroku CLI".
const INSTALL_CLI = `Install the Heroku CLI (https://devcenter.heroku.com/articles/heroku-cli), for example:
  npm install -g heroku                                 # any OS with Node.js
  brew tap heroku/brew && brew install heroku           # macOS
  curl https://cli-assets.heroku.com/install.sh | sh    # Linux
then log in and add the AppLink plugin:
  heroku login
  heroku plugins:install @heroku-cli/plugin-applink`
const INSTALL_PLUGIN = `Add the Heroku AppLink CLI plugin (salesforce:connect, salesforce:publish, salesforce:authorizations:add):
  heroku plugins:install @heroku-cli/plugin-applink`

const root = fileURLToPath(new URL('..', import.meta.url))
const metadataDir = `${root}salesforce/force-app/main/default`

function fail (message: string, code: number): never {
  process.stderr.write(`${message}\n`)
  process.exit(code)
}

function readOptions () {
  try {
    const { values } = parseArgs({
      options: {
        app: { type: 'string' },
        'client-name': { type: 'string' },
        'connection-name': { type: 'string' },
        'external-client-app': { type: 'string' },
        'connected-app': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        'skip-spec': { type: 'boolean', default: false },
        spec: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
    if (values.help) {
      process.stdout.write(`${USAGE}\n`)
      process.exit(0)
    }
    const { app, 'client-name': clientName, 'connection-name': connectionName } = values
    if (!app || !clientName || !connectionName) fail(`missing --app, --client-name or --connection-name\n${USAGE}`, 2)
    if (values['external-client-app'] !== undefined && values['connected-app'] !== undefined) {
      fail(`--external-client-app and --connected-app exclude each other\n${USAGE}`, 2)
    }
    return { ...values, app, clientName, connectionName }
  } catch (err) {
    return fail(`${(err as Error).message}\n${USAGE}`, 2)
  }
}

/** What is missing to run `heroku salesforce:publish`, or undefined when nothing is. */
function missingTools (): string | undefined {
  const cli = spawnSync('heroku', ['--version'], { cwd: root, encoding: 'utf8' })
  if (cli.error !== undefined) {
    const code = (cli.error as NodeJS.ErrnoException).code
    return code === 'ENOENT'
      ? `The Heroku CLI (heroku) is not on PATH. ${INSTALL_CLI}`
      : `could not run heroku: ${cli.error.message}`
  }
  const plugin = spawnSync('heroku', ['plugins:inspect', '@heroku-cli/plugin-applink'], { cwd: root, encoding: 'utf8' })
  return plugin.status === 0 ? undefined : `The Heroku CLI has no AppLink plugin. ${INSTALL_PLUGIN}`
}

type AuthorizationKind = 'permissionSet' | 'externalClientApp' | 'connectedApp'
const AUTHORIZATION_KINDS: AuthorizationKind[] = ['permissionSet', 'externalClientApp', 'connectedApp']

/** The one permission set and app the operations name; the plugin takes one of each per client. */
function authorizationNames (doc: Obj): Partial<Record<AuthorizationKind, string>> {
  const names = new Map(AUTHORIZATION_KINDS.map((kind) => [kind, new Set<string>()]))
  for (const { operation } of operations(doc)) {
    const authorization = authorizationOf(operation)
    for (const kind of AUTHORIZATION_KINDS) {
      const name = authorization?.[kind]
      if (typeof name === 'string') names.get(kind)?.add(name)
    }
  }
  for (const [kind, set] of names) {
    if (set.size > 1) fail(`the spec names several ${kind}s (${[...set].join(', ')}); heroku salesforce:publish takes one`, 1)
  }
  return Object.fromEntries([...names].flatMap(([kind, set]) => [...set].map((name) => [kind, name])))
}

function shellQuote (arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`
}

const options = readOptions()
const dryRun = options['dry-run']
const generate = !options['skip-spec'] && options.spec === undefined
const specFile = resolve(root, options.spec ?? DEFAULT_SPEC)
const specArg = relative(root, specFile)

// Before anything is generated or written: a run that cannot publish changes nothing.
const missing = missingTools()
if (missing !== undefined && !dryRun) fail(`${missing}\nNothing was published.`, 1)

const onDisk = await readFile(specFile, 'utf8').catch(() => undefined)
let yamlText = onDisk
if (generate) {
  const { generateSpec } = await import('../src/spec/generate.ts')
  yamlText = await generateSpec()
}
if (yamlText === undefined) fail(`${specArg} does not exist`, 1)

const issues = await lintSpecText(yamlText, metadataDir)
for (const issue of issues) process.stderr.write(`${formatIssue(issue)}\n`)
if (hasErrors(issues)) fail(`${specArg} has lint errors; not publishing`, 1)

const parsed: unknown = parse(yamlText)
const doc = isObject(parsed) ? parsed : {}
const named = authorizationNames(doc)
const externalClientApp = options['external-client-app'] ??
  (options['connected-app'] === undefined ? named.externalClientApp : undefined)
const connectedApp = options['connected-app'] ?? (externalClientApp === undefined ? named.connectedApp : undefined)
if (connectedApp !== undefined) {
  // Heroku Dev Center, "Heroku AppLink and External Client Apps": "As of the Salesforce Spring '26 release,
  // you can no longer create new connected apps in Salesforce." The plugin warns the flag is deprecated too.
  process.stderr.write(`--connected-app ${connectedApp}: legacy; an org on Spring '26 or later takes only an existing ` +
    'Connected App. Use --external-client-app for a new one.\n')
}
// Flag names as the plugin declares them (heroku/heroku-cli-plugin-applink, src/commands/salesforce/publish.ts):
// 'authorization-external-client-app-name': "specifies the external client connected app name", and
// 'authorization-connected-app-name', which it warns "is a deprecated flag".
const args = [
  'salesforce:publish', specArg,
  '--app', options.app,
  '--client-name', options.clientName,
  '--connection-name', options.connectionName,
  // The plugin creates these from its templates; `sf project deploy start` then adds our grants.
  ...(named.permissionSet ? ['--authorization-permission-set-name', named.permissionSet] : []),
  ...(externalClientApp ? ['--authorization-external-client-app-name', externalClientApp] : []),
  ...(connectedApp ? ['--authorization-connected-app-name', connectedApp] : []),
]

const target = { ...options, externalClientApp, connectedApp }
process.stdout.write(`${publicationSummary(doc, target)}\n\n`)

if (dryRun) {
  if (generate && yamlText !== onDisk) {
    process.stdout.write(`${specArg} is not what the routes generate now: a run without --dry-run rewrites it first.\n`)
  }
  if (missing !== undefined) process.stderr.write(`Before publishing: ${missing}\n`)
  const command = ['heroku', ...args].map(shellQuote).join(' ')
  process.stdout.write(`Dry run: nothing written, nothing published. The command:\n${command}\n`)
} else {
  if (generate && yamlText !== onDisk) {
    await writeFile(specFile, yamlText)
    process.stdout.write(`wrote ${specArg}\n`)
  }
  const result = spawnSync('heroku', args, { cwd: root, stdio: 'inherit' })
  if (result.error) fail(`could not run heroku: ${result.error.message}`, 1)
  process.exitCode = result.status ?? 1
}
