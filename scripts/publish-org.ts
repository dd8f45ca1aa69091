// npm run publish:org -- --app <heroku app> --client-name <name> --connection-name <org> [--dry-run]
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
         [--dry-run] [--skip-spec] [--spec <file>]
  --dry-run    print the heroku command instead of running it
  --skip-spec  publish the spec as it is, without running npm run spec first
  --spec       spec file to lint and publish, relative to the project (default openapi/api-spec.yaml)`

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
        'dry-run': { type: 'boolean', default: false },
        'skip-spec': { type: 'boolean', default: false },
        spec: { type: 'string', default: 'openapi/api-spec.yaml' },
      },
    })
    const { app, 'client-name': clientName, 'connection-name': connectionName } = values
    if (!app || !clientName || !connectionName) fail(`missing --app, --client-name or --connection-name\n${USAGE}`, 2)
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

/** The one permission set (and connected app) the operations name; the plugin takes one of each per client. */
async function authorizationNames (specFile: string): Promise<{ permissionSet?: string, connectedApp?: string }> {
  const doc: unknown = parse(await readFile(specFile, 'utf8'))
  const names = { permissionSet: new Set<string>(), connectedApp: new Set<string>() }
  for (const { operation } of isObject(doc) ? operations(doc) : []) {
    const authorization = authorizationOf(operation)
    for (const kind of ['permissionSet', 'connectedApp'] as const) {
      const name = authorization?.[kind]
      if (typeof name === 'string') names[kind].add(name)
    }
  }
  for (const [kind, set] of Object.entries(names)) {
    if (set.size > 1) fail(`the spec names several ${kind}s (${[...set].join(', ')}); heroku salesforce:publish takes one`, 1)
  }
  return { permissionSet: [...names.permissionSet][0], connectedApp: [...names.connectedApp][0] }
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

const { permissionSet, connectedApp } = await authorizationNames(specFile)
const args = [
  'salesforce:publish', specArg,
  '--app', options.app,
  '--client-name', options.clientName,
  '--connection-name', options.connectionName,
  // The plugin creates these from its templates; `sf project deploy start` then adds our grants.
  ...(permissionSet ? ['--authorization-permission-set-name', permissionSet] : []),
  ...(connectedApp ? ['--authorization-connected-app-name', connectedApp] : []),
]

if (options['dry-run']) {
  process.stdout.write(`${['heroku', ...args].map(shellQuote).join(' ')}\n`)
} else {
  const result = spawnSync('heroku', args, { cwd: root, stdio: 'inherit' })
  if (result.error) fail(`could not run heroku: ${result.error.message}`, 1)
  process.exitCode = result.status ?? 1
}
