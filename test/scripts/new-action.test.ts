import t from 'tap'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { actions } from '../../src/actions/index.ts'
import { addToReadme, addToRegistry, refusal } from '../../scripts/new-action.ts'

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
