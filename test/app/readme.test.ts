import t from 'tap'
import { readFile } from 'node:fs/promises'
import { ConfigSchema } from '../../src/config.ts'
import { actions } from '../../src/actions/index.ts'

const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8')

t.test('the README documents every setting', async (t) => {
  for (const key of Object.keys(ConfigSchema.properties)) t.match(readme, `\`${key}\``, key)
})

t.test('the README\'s action table lists every action', async (t) => {
  // A short message, not the whole README as a diff: the row to add.
  for (const { operationId } of actions) {
    t.ok(readme.includes(`| \`${operationId}\` |`), `README.md, table of "The actions": ${operationId} has a row ` +
      `(add "| \`${operationId}\` | what it does | who calls it | reads | writes |")`)
  }
})

t.test('the README gives the two set-up commands literally', async (t) => {
  t.match(readme, 'npm ci && npm run dev')
  t.match(readme, 'npm test')
})
