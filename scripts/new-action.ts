// npm run new:action <name>: scaffolds an action that already passes lint, typecheck and its test,
// so an author starts from a working call and changes it, rather than copying another action.
import { access, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { isApexReserved } from '../src/spec/lint-apex.ts'

/** lowerCamelCase, letters and digits: External Services derives `<name>_Request` and such from it. */
const NAME = /^[a-z][A-Za-z0-9]{0,39}$/

export const kebabCase = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
const pascalCase = (name: string): string => name.charAt(0).toUpperCase() + name.slice(1)

const exists = async (file: string): Promise<boolean> => access(file).then(() => true, () => false)

/** Why `name` cannot be a new action in the repository at `root`, or undefined when it can. */
export async function refusal (root: string, name: string): Promise<string | undefined> {
  if (!NAME.test(name)) {
    return `"${name}" is not a lowerCamelCase Apex identifier (a letter, then letters and digits, ≤ 40): ` +
      'it becomes the operationId and the Apex class names, for example shipOrder'
  }
  if (isApexReserved(name)) return `"${name}" is an Apex reserved word`
  const kebab = kebabCase(name)
  for (const file of [`src/actions/${kebab}.ts`, `src/schemas/${kebab}.ts`, `test/actions/${kebab}.test.ts`]) {
    if (await exists(path.join(root, file))) return `${file} already exists`
  }
  const registry = await readFile(path.join(root, 'src/actions/index.ts'), 'utf8')
  if (new RegExp(`^\\s*${name},?$`, 'm').test(registry)) return `src/actions/index.ts already lists ${name}`
  const readme = await readFile(path.join(root, 'README.md'), 'utf8')
  if (readme.includes(`| \`${name}\` |`)) return `README.md already has a row for ${name}`
  return undefined
}

function schemaFile (name: string): string {
  const type = pascalCase(name)
  return `import { Type } from 'typebox'
import { Text } from './common.ts'
import { agentInput, agentOutput } from './agent-flags.ts'

// Inline (no $id), with the agent flags on each field: ready for sfdc: agentAction (README, "Adding an action").
export const ${type}Request = Type.Object({
  subject: Text({ minLength: 1, maxLength: 255, description: 'TODO: what the caller gives', ...agentInput })
}, { additionalProperties: false })

export const ${type}Response = Type.Object({
  message: Type.String({ description: 'TODO: what the caller gets back', ...agentOutput })
}, { additionalProperties: false, description: 'TODO: the answer as a whole' })
`
}

function actionFile (name: string): string {
  const type = pascalCase(name)
  return `import { defineAction, flowAction } from './define.ts'
import { ${type}Request, ${type}Response } from '../schemas/${kebabCase(name)}.ts'

/** TODO: what the action is for, and what it reads and writes (README, "The actions"). */
export default defineAction({
  operationId: '${name}',
  summary: 'TODO: a short summary',
  description: 'TODO: what the action does, for admins in Flow and for the agent planner (at most 1,333 characters).',
  request: ${type}Request,
  response: ${type}Response,
  sfdc: flowAction,
  handler: async (input, { caller }) => ({ message: \`\${input.subject}, for \${caller.user.username}\` })
})
`
}

function testFile (name: string): string {
  return `import t from 'tap'
import { startStack } from '../stack.ts'
import { assertError } from '../helper.ts'

t.test('${name}', async (t) => {
  const s = await startStack(t)

  t.test('answers the caller', async (t) => {
    const res = await s.call('${name}', { subject: 'A subject' })
    t.equal(res.statusCode, 200)
    t.same(res.json(), { message: 'A subject, for rep1@acme.local' })
  })

  t.test('refuses an invalid input, naming the field', async (t) => {
    assertError(t, await s.call('${name}', { subject: '' }), 400, 'INVALID_REQUEST', ['subject'])
  })
})
`
}

/** The registry with the action imported after the others and appended to the list. */
export function addToRegistry (registry: string, name: string): string {
  const imports = [...registry.matchAll(/^import \w+ from '\.\/[\w-]+\.ts'\n/gm)].at(-1)
  const list = /(export const actions\b[^=]*= \[\n)([\s\S]*?)(\n\])/.exec(registry)
  if (imports === undefined || list === null) throw new Error('src/actions/index.ts: no action imports or list found')
  const withList = registry.slice(0, list.index) + list[1] + list[2] + `,\n  ${name}` + list[3] +
    registry.slice(list.index + list[0].length)
  const at = imports.index + imports[0].length
  return withList.slice(0, at) + `import ${name} from './${kebabCase(name)}.ts'\n` + withList.slice(at)
}

/** The README with a row for the action at the end of the action table. */
export function addToReadme (readme: string, name: string): string {
  const lines = readme.split('\n')
  const header = lines.findIndex((l) => l.startsWith('| action | what it does |'))
  if (header === -1) throw new Error('README.md: no action table found')
  let last = header
  while (lines[last + 1]?.startsWith('|') === true) last++
  lines.splice(last + 1, 0, `| \`${name}\` | TODO: what it does | Flow, Apex | TODO | — |`)
  return lines.join('\n')
}

/** Writes the action's files and registrations under `root`; returns the files it created or changed. */
export async function scaffoldAction (root: string, name: string): Promise<{ created: string[], changed: string[] }> {
  const why = await refusal(root, name)
  if (why !== undefined) throw new Error(why)
  const kebab = kebabCase(name)
  const created: Array<[string, string]> = [
    [`src/schemas/${kebab}.ts`, schemaFile(name)],
    [`src/actions/${kebab}.ts`, actionFile(name)],
    [`test/actions/${kebab}.test.ts`, testFile(name)]
  ]
  // Edits computed before any write, so a registry or README it cannot read leaves nothing behind.
  const registry = addToRegistry(await readFile(path.join(root, 'src/actions/index.ts'), 'utf8'), name)
  const readme = addToReadme(await readFile(path.join(root, 'README.md'), 'utf8'), name)
  for (const [file, text] of created) await writeFile(path.join(root, file), text, { flag: 'wx' })
  await writeFile(path.join(root, 'src/actions/index.ts'), registry)
  await writeFile(path.join(root, 'README.md'), readme)
  return { created: created.map(([file]) => file), changed: ['src/actions/index.ts', 'README.md'] }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const name = process.argv[2]
  if (name === undefined || process.argv.length > 3) {
    process.stderr.write('usage: npm run new:action <name>   (lowerCamelCase, for example shipOrder)\n')
    process.exit(2)
  }
  const root = fileURLToPath(new URL('..', import.meta.url))
  try {
    const { created, changed } = await scaffoldAction(root, name)
    const kebab = kebabCase(name)
    process.stdout.write([
      ...created.map((f) => `created ${f}`),
      ...changed.map((f) => `changed ${f}`),
      '',
      'Next:',
      `  1. fill src/schemas/${kebab}.ts and the handler in src/actions/${kebab}.ts (and its README row)`,
      '  2. npm run spec && npm run spec:lint   (openapi/api-spec.yaml; a test fails when it is stale)',
      `  3. npm test -- test/actions/${kebab}.test.ts test/app/readme.test.ts`,
      ''
    ].join('\n'))
  } catch (err) {
    process.stderr.write(`new:action: ${(err as Error).message}\n`)
    process.exit(1)
  }
}
