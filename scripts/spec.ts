// npm run spec: writes openapi/api-spec.yaml from the action routes.
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { SPEC_PATH, generateSpec } from '../src/spec/generate.ts'

await writeFile(SPEC_PATH, await generateSpec())
process.stdout.write(`wrote ${fileURLToPath(SPEC_PATH)}\n`)
