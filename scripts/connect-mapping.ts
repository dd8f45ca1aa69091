// npm run connect:mapping: rewrites connect/mapping.json (what `heroku connect:import` reads) from
// src/postgres/mapping.ts, the one declaration of what Heroku Connect mirrors.
import { writeFile } from 'node:fs/promises'
import { connectMappingJson } from '../src/postgres/mapping.ts'

const target = new URL('../connect/mapping.json', import.meta.url)
await writeFile(target, connectMappingJson())
process.stdout.write(`wrote ${target.pathname}\n`)
