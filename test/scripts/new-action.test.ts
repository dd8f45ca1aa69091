import t from 'tap'
import { execFile } from 'node:child_process'
import { cp, mkdtemp, readFile, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { actions } from '../../src/actions/index.ts'
import { addToReadme, addToRegistry, refusal } from '../../scripts/new-action.ts'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))

t.test('refuses a name that is no Apex identifier or is taken, reading only', async (t) => {
  t.match(await refusal(root, 'ship-order'), /not a lowerCamelCase Apex identifier/)
  t.match(await refusal(root, 'ShipOrder'), /not a lowerCamelCase Apex identifier/)
  t.match(await refusal(root, 'ship_order'), /not a lowerCamelCase Apex identifier/)
  t.match(await refusal(root, 'a'.repeat(41)), /not a lowerCamelCase Apex identifier/)
  t.match(await refusal(root, 'trigger'), /reserved word/)
  for (const action of actions) t.ok(await refusal(root, action.operationId), `${action.operationId} is taken`)
  t.equal(await refusal(root, 'shipOrder'), undefined)
})

t.test('registry and README edits append after the last entry', async (t) => {
  const registry = addToRegistry(await readFile(path.join(root, 'src/actions/index.ts'), 'utf8'), 'shipOrder')
  t.match(registry, /import getJobStatus from '\.\/get-job-status\.ts'\nimport shipOrder from '\.\/ship-order\.ts'\n/)
  t.match(registry, / {2}getJobStatus,\n {2}shipOrder\n\]/)
  const readme = addToReadme(await readFile(path.join(root, 'README.md'), 'utf8'), 'shipOrder')
  t.match(readme, /\| `getJobStatus` \|[^\n]*\n\| `shipOrder` \| TODO/)
})

// The whole chain in a copy of the repository (node_modules and packages linked, not copied), so
// the worktree never holds the scaffold: the command, then lint and typecheck of the result and
// the scaffolded action's own test and the README test, each as a reader would run them.
t.test('a scaffolded action passes lint, typecheck and its own test', async (t) => {
  const copy = await mkdtemp(path.join(tmpdir(), 'new-action-'))
  t.teardown(() => rm(copy, { recursive: true, force: true }))
  const skip = new Set(['node_modules', 'packages', '.git', '.data', '.tap'])
  await cp(root, copy, { recursive: true, filter: (src) => !skip.has(path.relative(root, src)) })
  await symlink(path.join(root, 'node_modules'), path.join(copy, 'node_modules'))
  await symlink(path.join(root, 'packages'), path.join(copy, 'packages'))
  const inCopy = (file: string, args: string[]) => run(file, args, { cwd: copy, env: process.env, maxBuffer: 1 << 24 })

  const { stdout } = await inCopy(process.execPath, ['scripts/new-action.ts', 'shipOrder'])
  t.match(stdout, /created src\/actions\/ship-order\.ts/)
  t.match(stdout, /npm run spec/)
  await t.rejects(inCopy(process.execPath, ['scripts/new-action.ts', 'shipOrder']), /already exists/, 'a second time: refused')

  const files = ['src/actions/ship-order.ts', 'src/schemas/ship-order.ts', 'test/actions/ship-order.test.ts',
    'src/actions/index.ts', 'scripts/new-action.ts']
  await t.resolves(inCopy('node_modules/.bin/eslint', files), 'lint')
  await t.resolves(inCopy('node_modules/.bin/tsc', ['--noEmit']), 'typecheck')
  await t.resolves(inCopy(process.execPath, ['test/actions/ship-order.test.ts']), 'the scaffolded test')
  await t.resolves(inCopy(process.execPath, ['test/app/readme.test.ts']), 'the README lists it')
})
