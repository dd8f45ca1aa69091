// npm run publish:org -- --app <heroku app> --client-name <name> --connection-name <org>
//   [--external-client-app <name> | --connected-app <name>] [--dry-run]
// Regenerates and lints the spec, then publishes it to the org with the Heroku AppLink CLI plugin.
import { spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { parse } from 'yaml'
import { authorizationOf } from '../src/spec/lint-authorization.ts'
import { formatIssue, hasErrors, lintSpecFile } from '../src/spec/lint-file.ts'
import { isObject, operations } from '../src/spec/lint-walk.ts'

const USAGE = `usage: npm run publish:org -- --app <heroku app> --client-name <name> --connection-name <org>
         [--external-client-app <name> | --connected-app <name>] [--dry-run] [--skip-spec] [--spec <file>]
  --external-client-app  External Client App AppLink authenticates through (the default kind since Spring '26)
  --connected-app        legacy: an existing Connected App created before Spring '26
  --dry-run              print the heroku command instead of running it
  --skip-spec            publish the spec as it is, without running npm run spec first
  --spec                 spec file to lint and publish, relative to the project (default openapi/api-spec.yaml)`

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
        spec: { type: 'string', default: 'openapi/api-spec.yaml' },
      },
    })
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

// Run through the npm that started us (npm_execpath) so no shell and no npm.cmd lookup is needed.
function regenerateSpec (): void {
  const npmCli = process.env.npm_execpath
  const [command, args] = npmCli ? [process.execPath, [npmCli, 'run', 'spec']] : ['npm', ['run', 'spec']]
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' })
  if (result.status !== 0) fail('npm run spec failed', result.status ?? 1)
}

type AuthorizationKind = 'permissionSet' | 'externalClientApp' | 'connectedApp'
const AUTHORIZATION_KINDS: AuthorizationKind[] = ['permissionSet', 'externalClientApp', 'connectedApp']

/** The one permission set and app the operations name; the plugin takes one of each per client. */
async function authorizationNames (specFile: string): Promise<Partial<Record<AuthorizationKind, string>>> {
  const doc: unknown = parse(await readFile(specFile, 'utf8'))
  const names = new Map(AUTHORIZATION_KINDS.map((kind) => [kind, new Set<string>()]))
  for (const { operation } of isObject(doc) ? operations(doc) : []) {
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
const specFile = resolve(root, options.spec)
const specArg = relative(root, specFile)
if (!options['skip-spec']) regenerateSpec()

const issues = await lintSpecFile(specFile, metadataDir)
for (const issue of issues) process.stderr.write(`${formatIssue(issue)}\n`)
if (hasErrors(issues)) fail(`${specArg} has lint errors; not publishing`, 1)

const named = await authorizationNames(specFile)
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

if (options['dry-run']) {
  process.stdout.write(`${['heroku', ...args].map(shellQuote).join(' ')}\n`)
} else {
  const result = spawnSync('heroku', args, { cwd: root, stdio: 'inherit' })
  if (result.error) fail(`could not run heroku: ${result.error.message}`, 1)
  process.exitCode = result.status ?? 1
}
