// Usage:
//   node local/connect/cli.ts export-mapping   rewrite connect/mapping.json from src/postgres/mapping.ts
//   node local/connect/cli.ts                  run the local sync: DATABASE_URL, ORG_URL, ORG_ACCESS_TOKEN,
//                                              optional CONNECT_SCHEMA (salesforce), ORG_API_VERSION (62.0),
//                                              SYNC_INTERVAL_MS (2000)
import { writeFile } from 'node:fs/promises'
import { exportMapping, startLocalSync } from './index.ts'

if (process.argv[2] === 'export-mapping') {
  const target = new URL('../../connect/mapping.json', import.meta.url)
  await writeFile(target, exportMapping())
  process.stdout.write(`wrote ${target.pathname}\n`)
} else {
  const need = (name: string) => {
    const value = process.env[name]
    if (value === undefined || value === '') throw new Error(`${name} is required`)
    return value
  }
  const sync = await startLocalSync({
    databaseUrl: need('DATABASE_URL'),
    orgUrl: need('ORG_URL'),
    accessToken: need('ORG_ACCESS_TOKEN'),
    schema: process.env.CONNECT_SCHEMA ?? 'salesforce',
    apiVersion: process.env.ORG_API_VERSION ?? '62.0',
    intervalMs: Number(process.env.SYNC_INTERVAL_MS ?? 2000)
  })
  process.stdout.write('local sync running; Ctrl-C stops it\n')
  const stop = () => { sync.stop().then(() => process.exit(0), () => process.exit(1)) }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
