import t from 'tap'
import { execFile } from 'node:child_process'
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { envOutsideTap } from '../helper.ts'

// The README's "Adding an action", step by step, in a copy of the repository (node_modules and
// packages linked, not copied), so the checkout never holds the new action: the command, a handler
// filled in, published to agents with the topic told when to use it, then lint, typecheck,
// `npm run spec` and `spec:lint`, and `npm test -- <its test>` with the README and spec tests.
// Each step is a process of its own, typecheck the slowest: minutes on a busy machine.
t.setTimeout(360_000)

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))

t.test('an action added as the README says passes lint, typecheck, spec and its test', async (t) => {
  const copy = await mkdtemp(path.join(tmpdir(), 'adding-an-action-'))
  t.teardown(() => rm(copy, { recursive: true, force: true }))
  const skip = new Set(['node_modules', 'packages', '.git', '.data', '.tap'])
  await cp(root, copy, { recursive: true, filter: (src) => !skip.has(path.relative(root, src)) })
  await symlink(path.join(root, 'node_modules'), path.join(copy, 'node_modules'))
  await symlink(path.join(root, 'packages'), path.join(copy, 'packages'))
  const env = envOutsideTap()
  const npm = async (...args: string[]) => await run('npm', args, { cwd: copy, env, maxBuffer: 1 << 26 })
  const edit = async (file: string, from: string, to: string) => {
    const text = await readFile(path.join(copy, file), 'utf8')
    if (!text.includes(from)) throw new Error(`${file} no longer holds ${JSON.stringify(from)}`)
    await writeFile(path.join(copy, file), text.replace(from, to))
  }

  const { stdout } = await npm('run', 'new:action', 'shipOrder')
  t.match(stdout, /created src\/actions\/ship-order\.ts/)
  t.match(stdout, /npm test -- test\/actions\/ship-order\.test\.ts/, 'it says how to run its test')
  await t.rejects(npm('run', 'new:action', 'shipOrder'), /already exists/, 'a second time: refused')

  // A trivial handler of our own, as an agent action, and the topic's instruction for it.
  await edit('src/actions/ship-order.ts', '({ message: `', '({ message: `Shipping ')
  await edit('src/actions/ship-order.ts', '}, for ${', '} for ${')
  await edit('src/actions/ship-order.ts', 'sfdc: flowAction', 'sfdc: agentAction')
  await edit('src/actions/ship-order.ts', 'import { defineAction, flowAction }', 'import { agentAction, defineAction }')
  await edit('test/actions/ship-order.test.ts', "'A subject, for rep1@acme.local'", "'Shipping A subject for rep1@acme.local'")
  await edit('src/actions/index.ts', "    'Never invent record ids",
    "    'Use shipOrder when the user asks to ship an order.',\n    'Never invent record ids")

  const changed = ['src/actions/ship-order.ts', 'src/schemas/ship-order.ts', 'test/actions/ship-order.test.ts',
    'src/actions/index.ts']
  const checks = [
    t.resolves(run('node_modules/.bin/eslint', changed, { cwd: copy, env }), 'lint'),
    t.resolves(npm('run', 'typecheck'), 'typecheck'),
    (async () => {
      await t.resolves(npm('run', 'spec'), 'npm run spec')
      t.match(await readFile(path.join(copy, 'openapi/api-spec.yaml'), 'utf8'), 'operationId: shipOrder', 'the spec has it')
      await t.resolves(npm('run', 'spec:lint'), 'npm run spec:lint')
      await t.resolves(npm('test', '--', 'test/actions/ship-order.test.ts', 'test/app/readme.test.ts',
        'test/spec/generated.test.ts'), 'npm test -- test/actions/ship-order.test.ts, with the README and spec tests')
    })()
  ]
  await Promise.all(checks)
})
