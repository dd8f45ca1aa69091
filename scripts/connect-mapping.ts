// npm run connect:mapping [-- --out FILE]: rewrites connect/mapping.json, the file
// `heroku connect:import` reads, from the mapping declared in src/postgres/mapping.ts.
import { readFile, writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { connectMappingFile } from '../src/postgres/mapping.ts'

const { values: args } = parseArgs({
  options: { out: { type: 'string', default: new URL('../connect/mapping.json', import.meta.url).pathname } }
})
const text = connectMappingFile()
const before = await readFile(args.out, 'utf8').catch(() => undefined)
await writeFile(args.out, text)
process.stdout.write(`${before === text ? 'unchanged' : 'wrote'} ${args.out}\n`)
