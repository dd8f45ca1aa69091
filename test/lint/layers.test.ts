import t from 'tap'
import { ESLint } from 'eslint'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const eslint = new ESLint({ cwd: root })

/** The layer messages ESLint gives a file at `filePath` (never written) that imports `target`. */
async function layerErrors (filePath: string, target: string): Promise<string[]> {
  const [result] = await eslint.lintText(`import '${target}'\n`, { filePath })
  return (result?.messages ?? []).filter((m) => m.ruleId === 'import-x/no-restricted-paths').map((m) => m.message)
}

t.test('every folder of src/ is held below what sits above it', async (t) => {
  const refused: Array<[string, string]> = [
    ['src/schemas/probe.ts', '../spec/lint.ts'],
    ['src/domain/probe.ts', '../app.ts'],
    ['src/postgres/probe.ts', '../spec/lint.ts'],
    ['src/salesforce/probe.ts', '../server-options.ts'],
    ['src/jobs/probe.ts', '../spec/generate.ts'],
    ['src/actions/probe.ts', '../spec/lint.ts'],
    ['src/actions/probe.ts', '../plugins/config.ts'],
    ['src/routes/probe.ts', '../plugins/config.ts'],
    ['src/plugins/probe.ts', '../routes/health.ts'],
    ['src/plugins/probe.ts', '../app.ts'],
    ['src/spec/probe.ts', '../server.ts']
  ]
  for (const [file, target] of refused) {
    t.match(await layerErrors(file, target), [/dependencies point one way/], `${file} may not import ${target}`)
  }
})

t.test('what the layers allow stays allowed', async (t) => {
  const allowed: Array<[string, string]> = [
    ['src/spec/probe.ts', '../app.ts'],
    ['src/routes/probe.ts', '../actions/define.ts'],
    ['src/plugins/probe.ts', '../actions/define.ts'],
    ['src/jobs/probe.ts', '../plugins/config.ts']
  ]
  for (const [file, target] of allowed) t.same(await layerErrors(file, target), [], `${file} may import ${target}`)
})
